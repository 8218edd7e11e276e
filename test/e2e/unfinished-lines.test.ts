import { appendFileSync, mkdirSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { readChunks, runCli, tempDir } from "./helpers.js";

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

/** A combined-format access log line with its own request path. */
const line = (n: number) => `10.0.0.${n} - - [01/Mar/2024:10:00:${String(n).padStart(2, "0")} +0000] "GET /page/${n} HTTP/1.1" 200 ${100 + n} "-" "curl/8"`;

/** A folder with logs/ and out/ in it. */
function folders(): { logs: string; out: string } {
  const t = tempDir();
  cleanups.push(t.cleanup);
  const logs = join(t.dir, "logs");
  mkdirSync(logs);
  return { logs, out: join(t.dir, "out") };
}

async function collect(logs: string, out: string, config?: Record<string, unknown>): Promise<{ code: number | null; rows: number; rowErrors: number }> {
  const source = config ? ["--config", JSON.stringify({ paths: [logs], ...config })] : ["--path", logs];
  const res = await runCli(["collect", "--no-convert", "nginx", "--table", "nginx_access_log", ...source, "--out", out, "--output", "json"]);
  const summary = JSON.parse(res.stdout) as { rows: number; status: { rowErrors: Record<string, number> } };
  return { code: res.code, rows: summary.rows, rowErrors: Object.values(summary.status.rowErrors).reduce((a, b) => a + b, 0) };
}

/** The request paths of every row collected into out, in no particular order. */
const paths = (out: string) =>
  readChunks(out)
    .flatMap((c) => c.rows.map((r) => r["path"] as string))
    .sort();

describe("a log whose last line is still being written", () => {
  it("leaves that line for the next run, which collects it once finished", async () => {
    const { logs, out } = folders();
    const log = join(logs, "access.log");
    const fourth = line(4);
    writeFileSync(log, `${line(1)}\n${line(2)}\n${line(3)}\n${fourth.slice(0, 30)}`);
    expect(await collect(logs, out)).toEqual({ code: 0, rows: 3, rowErrors: 0 });

    appendFileSync(log, `${fourth.slice(30)}\n${line(5)}\n`);
    expect(await collect(logs, out)).toEqual({ code: 0, rows: 2, rowErrors: 0 });
    expect(paths(out)).toEqual(["/page/1", "/page/2", "/page/3", "/page/4", "/page/5"]);
    const ids = readChunks(out).flatMap((c) => c.rows.map((r) => r["tp_id"]));
    expect(new Set(ids).size).toBe(5);
    expect(await collect(logs, out)).toEqual({ code: 0, rows: 0, rowErrors: 0 });
  });

  it("is taken as finished once the file has not changed for the quiet period, and then collected as it is", async () => {
    const { logs, out } = folders();
    const log = join(logs, "access.log");
    writeFileSync(log, `${line(1)}\n${line(2)}\n${line(3)}`);
    // Within the quiet period the unfinished line waits, and a rerun that finds the file unchanged still waits.
    expect(await collect(logs, out)).toEqual({ code: 0, rows: 2, rowErrors: 0 });
    expect(await collect(logs, out)).toEqual({ code: 0, rows: 0, rowErrors: 0 });
    const tenMinutesAgo = new Date(Date.now() - 10 * 60 * 1000);
    utimesSync(log, tenMinutesAgo, tenMinutesAgo);
    expect(await collect(logs, out)).toEqual({ code: 0, rows: 1, rowErrors: 0 });
    expect(paths(out)).toEqual(["/page/1", "/page/2", "/page/3"]);
  });

  it("is collected at once with quiet_period_seconds 0, and in a compressed file always", async () => {
    const { logs, out } = folders();
    writeFileSync(join(logs, "access.log"), `${line(1)}\n${line(2)}`);
    writeFileSync(join(logs, "access.log.2.gz"), gzipSync(`${line(7)}\n${line(8)}`));
    expect(await collect(logs, out, { quiet_period_seconds: 0 })).toEqual({ code: 0, rows: 4, rowErrors: 0 });
    const { logs: logs2, out: out2 } = folders();
    writeFileSync(join(logs2, "access.log.2.gz"), gzipSync(`${line(7)}\n${line(8)}`));
    expect(await collect(logs2, out2)).toEqual({ code: 0, rows: 2, rowErrors: 0 });
  });
});
