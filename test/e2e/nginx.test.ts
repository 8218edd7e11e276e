import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { COMBINED_PATTERN, parseTimeLocal } from "../../plugins/nginx/src/index.js";
import { ROOT, listFiles, readChunks, runCli, tempDir } from "./helpers.js";

const SAMPLE = join(ROOT, "sample", "nginx");
const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

describe("nginx plugin", () => {
  it("parses nginx's $time_local with its offset", () => {
    expect(parseTimeLocal("10/Oct/2000:13:55:36 -0700")).toBe("2000-10-10T13:55:36-07:00");
    expect(new Date(parseTimeLocal("10/Oct/2000:13:55:36 -0700")!).toISOString()).toBe("2000-10-10T20:55:36.000Z");
    expect(parseTimeLocal("10/Foo/2000:13:55:36 -0700")).toBeUndefined();
  });

  it("collects every access log line, rotated and gzipped ones included, and leaves error.log alone", async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const res = await runCli(["collect", "nginx", "--table", "nginx_access_log", "--path", SAMPLE, "--out", t.dir, "--output", "json"]);
    expect(res.code).toBe(0);
    const summary = JSON.parse(res.stdout) as { rows: number; status: { artifactsDiscovered: number } };
    const files = listFiles(SAMPLE).filter((f) => f.includes("access.log"));
    const source = files.flatMap((f) => {
      const raw = readFileSync(join(SAMPLE, f));
      return (f.endsWith(".gz") ? gunzipSync(raw) : raw).toString().split("\n").filter((l) => l.length > 0);
    });
    expect(summary.status.artifactsDiscovered).toBe(files.length);
    const rows = readChunks(t.dir).flatMap((c) => c.rows);
    expect(rows).toHaveLength(source.length);
    expect(summary.rows).toBe(source.length);

    const first = COMBINED_PATTERN.exec(source[0]!)!.groups!;
    const row = rows.find((r) => r["time_local"] === first["time_local"] && r["remote_addr"] === first["remote_addr"])!;
    expect(row).toMatchObject({ status: Number(first["status"]), tp_source_ip: first["remote_addr"], tp_table: "nginx_access_log" });
    expect(row["method"]).toBe(first["request"]!.split(" ")[0]);
    expect(row["tp_timestamp"]).toBe(new Date(parseTimeLocal(first["time_local"]!)!).toISOString());
  });
});
