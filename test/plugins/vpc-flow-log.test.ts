import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ByteBatch } from "../../src/collection/byte-batch.js";
import { RowTail } from "../../src/collection/row-tail.js";
import { LineOutcome, lineFormatOf } from "../../src/collection/line-format.js";
import { vpcFlowLogTable } from "../../plugins/aws/src/vpc-flow-log.js";
import { bothPaths, type RunOptions } from "../tables/line-format-helpers.js";

// The table's line format writes rows as bytes; the reference path (lines loader → mapper → enrich) is the same
// table without it. Every test here runs both on the same file and wants the same result, line for line.
const info = (file: string) => ({ name: `AWSLogs/123456789012/vpcflowlogs/${path.basename(file)}`, location: file, properties: { account: "123456789012" } });
const both = (file: string, opts: RunOptions = {}) => bothPaths(vpcFlowLogTable, file, { ...opts, info: info(file) });

let dir: string;
beforeEach(async () => {
  dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), "tailkit-vpc-"));
});
afterEach(async () => {
  await fs.promises.rm(dir, { recursive: true, force: true });
});

function write(name: string, text: string | Buffer): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

const DEFAULT_LINES = [
  "2 123456789012 eni-0a1b2c3d 10.0.0.1 10.0.0.2 443 49152 6 10 840 1700000000 1700000060 ACCEPT OK",
  "2 123456789012 eni-0a1b2c3d 10.0.0.1 10.0.0.1 443 49152 6 10 840 1700000000 1700000060 REJECT OK",
  "2 - - - - - - - - - 1700000001 1700000061 - NODATA",
  // Numbers whose text is not what JSON.stringify(Number(text)) gives.
  "2 123456789012 eni-1 10.0.0.1 10.0.0.2 0443 00 6 1e3 -0 1700000000.5 1700000060 ACCEPT OK",
  "2 123456789012 eni-1 10.0.0.1 10.0.0.2 12345678901234567890 1 6 1 1 1700000000 1700000060 ACCEPT OK",
  "2 123456789012 eni-1 10.0.0.1 10.0.0.2 Infinity 1 6 1 1 1700000000 1700000060 ACCEPT OK",
  // Strings JSON must escape, and non-ASCII.
  '2 123456789012 eni-"q" 10.0.0.1\\x 10.0.0.2\ty 1 2 6 1 1 1700000000 1700000060 ACCÉPT ✓',
  "2 123456789012 tp_eni 10.0.0.1 10.0.0.2 1 2 6 1 1 1700000000 1700000060 ACCEPT OK",
  // Empty values (two separators in a row), and a time a Date cannot hold.
  "2 123456789012  10.0.0.1 10.0.0.2 1 2 6 1 1 1700000000 1700000060 ACCEPT OK",
  "2 123456789012 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 999999999999999 1700000060 ACCEPT OK",
  // Errors: a field that is not a number, a wrong field count, no start.
  "2 123456789012 eni-1 10.0.0.1 10.0.0.2 http 2 6 1 1 1700000000 1700000060 ACCEPT OK",
  "2 123456789012 eni-1",
  "2 123456789012 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 - 1700000060 ACCEPT OK",
  "",
];

describe("aws_vpc_flow_log: rows written as bytes by the line format", () => {
  it("writes a plain line itself, and gives what the reference path gives for every kind of line", async () => {
    const tail = new RowTail({ table: vpcFlowLogTable, partition: "p", sourceType: "file", sourceName: "s", artifact: info("/x") }, "default");
    tail.startBatch(new Date().toISOString());
    const line = Buffer.from(DEFAULT_LINES[0]!);
    expect(lineFormatOf(vpcFlowLogTable.sources["file"]!)!.open(info("/x")).write(line, 0, line.length, 0, new ByteBatch(), tail)).toBe(LineOutcome.Row);

    const out = await both(write("default.log", DEFAULT_LINES.join("\n")));
    expect(out.lines).toHaveLength(9);
    expect(out.errors).toHaveLength(4);
    expect(out.errors.join("\n")).toContain("line 12: vpc_flow_log: expected 14 space-separated fields, found 3");
    expect(JSON.parse(out.lines[2]!)).toMatchObject({ srcaddr: null, tp_source_ip: null, tp_index: "123456789012", start: 1700000001, tp_ips: [] });
    expect(JSON.parse(out.lines[1]!)).toMatchObject({ tp_ips: ["10.0.0.1"], tp_timestamp: "2023-11-14T22:13:20.000Z", tp_date: "2023-11-14" });
  });

  it("follows a header line (custom format), including names it cannot write in order", async () => {
    const custom = [
      "version account-id srcaddr dstaddr start end pkt-srcaddr tcp-flags",
      "5 123456789012 10.0.0.1 10.0.0.2 1700000000 1700000060 10.1.1.1 19",
      "5 - - - 1700000000 1700000060 - -",
      "account-id interface-id 1 start",
      "123456789012 eni-x 1 1700000000",
      "version srcaddr srcaddr start",
      "5 10.0.0.1 10.0.0.9 1700000000",
      "version __proto__ start",
      "5 x 1700000000",
      "interface-id srcaddr start tp_index",
      "eni-1 10.0.0.1 1700000000 mine",
      "version action",
      "5 ACCEPT",
    ];
    const out = await both(write("custom.log", custom.join("\n") + "\n"));
    expect(out.lines).toHaveLength(6);
    expect(out.errors).toHaveLength(1); // no start in the last format
  });

  it("agrees on generated files: CRLF, blank lines, a byte order mark, over-long lines, lines across reads, gzip, batches, from/to", async () => {
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return Math.floor(seed / 65536) % n;
    };
    const pick = <T>(xs: readonly T[]): T => xs[rand(xs.length)]!;
    const lines: string[] = [];
    for (let i = 0; i < 6000; i++) {
      const r = rand(100);
      if (r < 80) {
        lines.push(
          `2 ${pick(["123456789012", "-", "210987654321"])} eni-${rand(1e6).toString(16)} 10.0.${rand(256)}.${rand(256)} ${pick(["10.0.0.1", "-", "172.16.0.9"])} ` +
            `${rand(65536)} ${pick(["443", "0", "-", "080"])} 6 ${rand(1e4)} ${rand(1e7)} ${1700000000 + rand(7200)} ${1700000100 + rand(7200)} ${pick(["ACCEPT", "REJECT"])} OK`,
        );
      } else if (r < 84) lines.push("");
      else if (r < 87)
        lines.push("x".repeat(150 + rand(300))); // over the 200-byte limit below, or a wrong field count
      else if (r < 90) lines.push(`2 1 eni-é 10.0.0.1 - 1 2 6 1 1 ${1700000000 + rand(100)} 1 ACCEPT OK`);
      else if (r < 92) lines.push("2 1 eni 10.0.0.1");
      else lines.push(`2 123456789012 eni-${i} 10.0.0.1 10.0.0.2 1 2 6 1 1 ${1700000000 + rand(7200)} 1700000060 ACCEPT OK`);
    }
    const text = "\ufeff" + lines.map((l, i) => (i % 5 === 0 ? l + "\r" : l)).join("\n");
    const plain = write("gen.log", text); // over 256 KB: streamed in reads that split lines
    expect(fs.statSync(plain).size).toBeGreaterThan(500_000);
    const gz = write("gen.log.gz", zlib.gzipSync(text));

    const loader = { maxLineBytes: 200, batchSize: 333 };
    const a = await both(plain, { loader });
    expect(a.lines.length).toBeGreaterThan(4000);
    expect(a.errors.some((e) => e.includes("over the limit of 200 bytes"))).toBe(true);
    const b = await both(gz, { loader });
    // The same rows from the gzip file; only the artifact (its location and the id prefix made from its name) differs.
    const same = (l: string) => l.replace(/"tp_id":"[^"]+"/, "").replace(/gen\.log(\.gz)?/, "gen");
    expect(b.lines.map(same)).toEqual(a.lines.map(same));
    const c = await both(gz, { loader: { batchSize: 7 }, from: new Date(1700001000_000), to: new Date(1700004000_000) });
    expect(c.lines.length).toBeGreaterThan(1000);
    expect(c.lines.length).toBeLessThan(a.lines.length);
  });

  it("writes integers beyond 2^53 with the digits they had, on both paths, whatever form the file gives them in", async () => {
    // packets and bytes as files may hold them; each line goes one of the three ways: the line format's bytes, the
    // reference mapper's row object, and the enricher's slow path ("tp_ in a value).
    const forms: [string, string][] = [
      ["9007199254740991", "9007199254740991"],
      ["9007199254740992", "9007199254740992"],
      ["9007199254740993", "9007199254740993"],
      ["18446744073709551615", "18446744073709551615"],
      ["123456789012345678901234567890", "123456789012345678901234567890"],
      ["-9007199254740993", "-9007199254740993"],
      ["09007199254740993", "9007199254740993"],
      ["+9007199254740995", "9007199254740995"],
      ["-0", "0"],
      ["0443", "443"],
    ];
    const lines = forms.flatMap(([text], k) =>
      ["eni-1", "eni-é", "tp_eni"].map((eni) => `2 123456789012 ${eni} 10.0.0.1 10.0.0.2 443 ${k} 6 ${text} ${text} 1700000000 1700000060 ACCEPT OK`),
    );
    const out = await both(write("big.log", lines.join("\n") + "\n"));
    expect(out.errors).toEqual([]);
    expect(out.lines).toHaveLength(lines.length);
    out.lines.forEach((line, i) => {
      const want = forms[Math.floor(i / 3)]![1];
      expect(line).toContain(`"packets":${want},"bytes":${want},"start":1700000000,`);
    });
    // The plain line is the line format's own, not a declined one.
    const tail = new RowTail({ table: vpcFlowLogTable, partition: "p", sourceType: "file", sourceName: "s", artifact: info("/x") }, "default");
    tail.startBatch(new Date().toISOString());
    const line = Buffer.from(lines[6]!);
    expect(lineFormatOf(vpcFlowLogTable.sources["file"]!)!.open(info("/x")).write(line, 0, line.length, 0, new ByteBatch(), tail)).toBe(LineOutcome.Row);
  });

  it("reports a truncated gzip after the good lines, as the reference path does", async () => {
    const text = DEFAULT_LINES.slice(0, 3).join("\n").repeat(1) + "\n" + DEFAULT_LINES[0]!.repeat(1) + "\n";
    const gz = zlib.gzipSync(text.repeat(2000));
    const out = await both(write("cut.log.gz", gz.subarray(0, gz.length - 40)));
    expect(out.errors.at(-1)).toMatch(/^failed: .*cut\.log\.gz: gzip stream is truncated/);
  });
});
