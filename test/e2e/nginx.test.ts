import { appendFileSync, mkdirSync, readFileSync, renameSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
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
    const res = await runCli(["collect", "--no-convert", "nginx", "--table", "nginx_access_log", "--path", SAMPLE, "--out", t.dir, "--output", "json"]);
    expect(res.code).toBe(0);
    const summary = JSON.parse(res.stdout) as { rows: number; status: { artifactsDiscovered: number; artifactsListed: number; discoveryDone: boolean } };
    const files = listFiles(SAMPLE).filter((f) => f.includes("access.log"));
    const source = files.flatMap((f) => {
      const raw = readFileSync(join(SAMPLE, f));
      return (f.endsWith(".gz") ? gunzipSync(raw) : raw)
        .toString()
        .split("\n")
        .filter((l) => l.length > 0);
    });
    expect(summary.status.artifactsDiscovered).toBe(files.length);
    // Discovery listed them all (the progress bar's total) and said it was done.
    expect(summary.status).toMatchObject({ artifactsListed: files.length, discoveryDone: true });
    const rows = readChunks(t.dir).flatMap((c) => c.rows);
    expect(rows).toHaveLength(source.length);
    expect(summary.rows).toBe(source.length);

    const first = COMBINED_PATTERN.exec(source[0]!)!.groups!;
    const row = rows.find((r) => r["time_local"] === first["time_local"] && r["remote_addr"] === first["remote_addr"])!;
    expect(row).toMatchObject({ status: Number(first["status"]), tp_source_ip: first["remote_addr"], tp_table: "nginx_access_log" });
    expect(row["method"]).toBe(first["request"]!.split(" ")[0]);
    expect(row["tp_timestamp"]).toBe(new Date(parseTimeLocal(first["time_local"]!)!).toISOString());
  });

  it("collects each line once as logrotate renames, compresses and truncates the logs between runs", async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const logs = join(t.dir, "logs");
    const out = join(t.dir, "out");
    mkdirSync(logs);
    let n = 0;
    // Lines of about a hundred bytes, each with its own request path: a file of 80 is past the 4 KiB its print covers.
    const lines = (prefix: string, count: number) =>
      Array.from({ length: count }, () => {
        n++;
        return `10.0.0.${n % 250} - - [26/Nov/2026:01:${String(n % 60).padStart(2, "0")}:00 +0000] "GET /${prefix}/${n} HTTP/1.1" 200 ${n} "-" "curl/8"\n`;
      }).join("");
    const log = (name: string) => join(logs, name);
    const collect = async () => {
      const res = await runCli(["collect", "--no-convert", "nginx", "--table", "nginx_access_log", "--path", logs, "--out", out, "--output", "json"]);
      expect(res.code, res.stderr).toBe(0);
      return (JSON.parse(res.stdout) as { rows: number }).rows;
    };
    const written: string[] = [];
    const remember = (text: string) => written.push(...text.split("\n").filter((l) => l !== ""));

    let text = lines("a", 80);
    writeFileSync(log("access.log"), text);
    remember(text);
    expect(await collect()).toBe(80);

    // More lines, then the rename: access.log.1 goes on where access.log stopped, and the new access.log is read whole.
    text = lines("a", 2);
    appendFileSync(log("access.log"), text);
    remember(text);
    renameSync(log("access.log"), log("access.log.1"));
    text = lines("b", 3);
    writeFileSync(log("access.log"), text);
    remember(text);
    expect(await collect()).toBe(5);

    // The next rotation compresses the old one (delaycompress): the .gz is the same log, so nothing of it is new.
    writeFileSync(log("access.log.2.gz"), gzipSync(readFileSync(log("access.log.1"))));
    rmSync(log("access.log.1"));
    renameSync(log("access.log"), log("access.log.1"));
    text = lines("c", 1);
    writeFileSync(log("access.log"), text);
    remember(text);
    expect(await collect()).toBe(1);

    // copytruncate: the file is emptied in place and written again; its new lines are not skipped as already read.
    truncateSync(log("access.log"), 0);
    text = lines("d", 2);
    appendFileSync(log("access.log"), text);
    remember(text);
    expect(await collect()).toBe(2);
    expect(await collect()).toBe(0);

    const paths = readChunks(out).flatMap((c) => c.rows.map((r) => r["request"] as string));
    expect(paths.sort()).toEqual(written.map((l) => /"(GET [^"]+)"/.exec(l)![1]!).sort());
  });
});
