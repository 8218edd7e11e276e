import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { parseTimeLocal } from "../../plugins/nginx/src/index.js";
import { readChunks, runCli, tempDir } from "./helpers.js";

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

interface Summary {
  rows: number;
  status: { rowErrors: Record<string, number> };
  errors: { message: string; artifact: string | null; operation: string | null }[];
}

/** The chunk files' text, line by line: JSON.parse would round the very numbers under test. */
function chunkLines(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith(".jsonl"))
    .flatMap((n) =>
      readFileSync(join(dir, n), "utf8")
        .split("\n")
        .filter((l) => l !== ""),
    );
}

describe("values are kept exactly, end to end", () => {
  it("writes a flow log's integers beyond 2^53 with the digits they had", async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const day = join(t.dir, "logs", "AWSLogs", "123456789012", "vpcflowlogs", "us-east-1", "2024", "02", "29");
    mkdirSync(day, { recursive: true });
    const lines = [
      "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status",
      // The line format writes these; the é and the tp_ send the same numbers the reference mapper's and the slow way.
      "2 123456789012 eni-1 10.0.0.1 10.0.0.2 443 1 6 9007199254740993 18446744073709551615 1709164800 1709164860 ACCEPT OK",
      "2 123456789012 eni-é 10.0.0.1 10.0.0.2 443 2 6 9007199254740993 18446744073709551615 1709164800 1709164860 ACCEPT OK",
      "2 123456789012 tp_eni 10.0.0.1 10.0.0.2 443 3 6 9007199254740993 18446744073709551615 1709164800 1709164860 ACCEPT OK",
      "2 123456789012 eni-1 10.0.0.1 10.0.0.2 443 4 6 -9007199254740993 09007199254740993 1709164800 1709164860 ACCEPT OK",
    ];
    writeFileSync(join(day, "123456789012_vpcflowlogs_us-east-1_fl-1_20240229T0000Z_abcd.log.gz"), gzipSync(lines.join("\n") + "\n"));
    const out = join(t.dir, "out");
    const res = await runCli([
      "collect",
      "--no-convert",
      "aws",
      "--table",
      "aws_vpc_flow_log",
      "--path",
      join(t.dir, "logs"),
      "--out",
      out,
      "--output",
      "json",
    ]);
    expect(res.code, res.stderr).toBe(0);
    const rows = chunkLines(out).sort((a, b) => /"dstport":(\d+)/.exec(a)![1]!.localeCompare(/"dstport":(\d+)/.exec(b)![1]!));
    expect(rows).toHaveLength(4);
    for (const row of rows.slice(0, 3)) expect(row).toContain('"packets":9007199254740993,"bytes":18446744073709551615,');
    expect(rows[3]).toContain('"packets":-9007199254740993,"bytes":9007199254740993,');
  });

  it("makes an impossible day in an access log a row error naming the value, not the days after it", async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const logs = join(t.dir, "logs");
    mkdirSync(logs);
    const line = (time: string, path: string, bytes = "12") => `10.0.0.1 - alice [${time}] "GET /${path} HTTP/1.1" 200 ${bytes} "-" "curl/8"`;
    writeFileSync(
      join(logs, "access.log"),
      [
        line("29/Feb/2024:10:00:00 +0000", "leap"),
        line("31/Feb/2024:10:00:00 +0000", "feb31"),
        line("29/Feb/2023:10:00:00 +0000", "feb29"),
        line("31/Apr/2024:23:30:00 -0200", "apr31"),
        line("30/Apr/2024:23:30:00 -0200", "apr30"),
        // A body size beyond 2^53, which a double would round, and which was a row error before.
        line("01/Mar/2024:00:00:00 +0000", "big", "9007199254740993"),
      ].join("\n") + "\n",
    );
    const out = join(t.dir, "out");
    const res = await runCli(["collect", "--no-convert", "nginx", "--table", "nginx_access_log", "--path", logs, "--out", out, "--output", "json"]);
    expect(res.code, res.stderr).toBe(3);
    const summary = JSON.parse(res.stdout) as Summary;
    const rows = readChunks(out).flatMap((c) => c.rows);
    expect(rows.map((r) => [r["path"], r["tp_timestamp"], r["tp_date"]])).toEqual([
      ["/leap", "2024-02-29T10:00:00.000Z", "2024-02-29"],
      ["/apr30", "2024-05-01T01:30:00.000Z", "2024-05-01"],
      ["/big", "2024-03-01T00:00:00.000Z", "2024-03-01"],
    ]);
    expect(chunkLines(out).find((l) => l.includes('"/big"'))).toContain('"body_bytes_sent":9007199254740993,');
    expect(summary.status.rowErrors).toEqual({ enrich: 3 });
    const messages = summary.errors.map((e) => e.message).join("\n");
    for (const time of ["31/Feb/2024:10:00:00 +0000", "29/Feb/2023:10:00:00 +0000", "31/Apr/2024:23:30:00 -0200"]) {
      expect(messages).toContain(`time_local "${time}" is not a valid time`);
    }
  });

  it("reads nginx's $time_local on every month's last day and refuses the day after, leap years right", () => {
    // The reference: the days of a month by the leap-year rule, written here on its own.
    const leap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
    const days = (y: number, m: number) => [31, leap(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]!;
    const names = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    const two = (n: number) => String(n).padStart(2, "0");
    for (const y of [1900, 1999, 2000, 2023, 2024, 2100, 2400]) {
      for (let m = 1; m <= 12; m++) {
        const last = days(y, m);
        const iso = parseTimeLocal(`${two(last)}/${names[m - 1]}/${y}:23:59:59 +0130`);
        expect(iso).toBe(`${y}-${two(m)}-${two(last)}T23:59:59+01:30`);
        expect(new Date(iso!).toISOString()).toBe(`${y}-${two(m)}-${two(last)}T22:29:59.000Z`);
        expect(parseTimeLocal(`${two(last + 1)}/${names[m - 1]}/${y}:00:00:00 +0000`), `${last + 1} ${names[m - 1]} ${y}`).toBeUndefined();
      }
    }
    for (const bad of [
      "00/Jan/2024:00:00:00 +0000",
      "01/Jan/2024:24:00:00 +0000",
      "01/Jan/2024:00:60:00 +0000",
      "01/Jan/2024:00:00:60 +0000",
      "01/Jan/2024:00:00:00 +0060",
    ]) {
      expect(parseTimeLocal(bad), bad).toBeUndefined();
    }
  });
});
