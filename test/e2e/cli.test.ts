import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { listFiles, ROOT, runCli, tempDir } from "./helpers.js";

const SAMPLE_CLOUDTRAIL = join(ROOT, "sample", "cloudtrail");
const SAMPLE_VPC = join(ROOT, "sample", "vpcflow");

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});
function scratch(): string {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return t.dir;
}

describe("tailkit collect --state", () => {
  it("refuses rediss:// and unknown schemes with exit 2 naming state, and creates no file named after the URL", async () => {
    const out = scratch();
    const cwd = scratch();
    const tls = await runCli(["collect", "aws", "--table", "aws_cloudtrail_log", "--path", SAMPLE_CLOUDTRAIL, "--out", out, "--state", "rediss://127.0.0.1:6380/x"]);
    expect(tls.code).toBe(2);
    expect(tls.stderr).toMatch(/state: rediss:\/\/ \(Redis over TLS\) is not supported yet/);
    const http = await runCli(["collect", "aws", "--table", "aws_cloudtrail_log", "--path", SAMPLE_CLOUDTRAIL, "--out", out, "--state", "http://127.0.0.1/state"], {}, cwd);
    expect(http.code).toBe(2);
    expect(http.stderr).toMatch(/state: unknown scheme "http:\/\/"/);
    expect(readdirSync(cwd)).toEqual([]);
    expect(listFiles(out)).toEqual([]);
  });
});

describe("tailkit collect --execution-id", () => {
  it("refuses an id whose chunks are already in the output folder, with exit 2 naming execution_id, and leaves them as they were", async () => {
    const out = scratch();
    const first = await runCli(["collect", "aws", "--table", "aws_cloudtrail_log", "--path", SAMPLE_CLOUDTRAIL, "--out", out, "--execution-id", "fixed1", "--output", "json"]);
    expect(first.code).toBe(0);
    const before = new Map(readdirSync(out).filter((n) => n.endsWith(".jsonl")).map((n) => [n, readFileSync(join(out, n), "utf8")]));
    expect([...before.keys()]).toContain("fixed1-1.jsonl");

    const second = await runCli(["collect", "aws", "--table", "aws_vpc_flow_log", "--path", SAMPLE_VPC, "--out", out, "--execution-id", "fixed1"]);
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(/execution_id: fixed1 is already in use in .*\(fixed1-1\.jsonl exists\)/);
    const after = new Map(readdirSync(out).filter((n) => n.endsWith(".jsonl")).map((n) => [n, readFileSync(join(out, n), "utf8")]));
    expect(after).toEqual(before);
  });
});

describe("tailkit usage errors", () => {
  it("refuses --path when --config gives paths too, naming the field", async () => {
    const out = scratch();
    const res = await runCli(["collect", "aws", "--table", "aws_cloudtrail_log", "--path", SAMPLE_CLOUDTRAIL, "--config", JSON.stringify({ paths: [SAMPLE_VPC] }), "--out", out]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/source\.config\.paths: --path and "paths" in --config both give it/);
    expect(listFiles(out)).toEqual([]);
  });

  it("prints a malformed --config's message without the whole help", async () => {
    const res = await runCli(["collect", "aws", "--table", "aws_cloudtrail_log", "--config", "{bad", "--out", scratch()]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/^error: --config: malformed JSON: /);
    expect(res.stderr).not.toContain("Options:");
    expect(res.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("with --output json gives usage and config errors as one JSON object on stdout, exit 2", async () => {
    const missing = await runCli(["collect", "aws", "--out", scratch(), "--output", "json"]);
    expect(missing.code).toBe(2);
    expect(JSON.parse(missing.stdout)).toMatchObject({ outcome: "usage", exitCode: 2, error: expect.stringContaining("--table") });
    const malformed = await runCli(["collect", "aws", "--table", "aws_cloudtrail_log", "--config", "[1]", "--out", scratch(), "--output=json"]);
    expect(malformed.code).toBe(2);
    expect(JSON.parse(malformed.stdout)).toEqual({ outcome: "usage", error: "--config: must be a JSON object", field: "config", exitCode: 2 });
    const unknownTable = await runCli(["collect", "aws", "--table", "aws_nope", "--path", SAMPLE_CLOUDTRAIL, "--out", scratch(), "--output", "json"]);
    expect(unknownTable.code).toBe(2);
    expect(JSON.parse(unknownTable.stdout)).toMatchObject({ outcome: "usage", field: "table" });
  });
});

describe("tailkit describe", () => {
  it("shows in text form each table's columns, tp_* fields included, and each source's config fields", async () => {
    const res = await runCli(["describe", "aws"]);
    expect(res.code).toBe(0);
    const lines = res.stdout.split("\n").map((l) => l.trim().replace(/ {2,}/g, " | "));
    expect(lines).toContain("eventTime | string (date-time) | required");
    expect(lines.some((l) => l.startsWith("tp_ingest_timestamp | string (date-time) | required | "))).toBe(true);
    expect(lines.some((l) => l.startsWith("tp_destination_ip | string|null | optional | "))).toBe(true);
    expect(lines.some((l) => l.startsWith("paths | string[] | required | Root directories"))).toBe(true);
    expect(lines.some((l) => l.startsWith("extensions | string[] | optional | Only collect files"))).toBe(true);
  });

  it("publishes the tp_* fields in the JSON row schema, and collect refuses an unknown table config field", async () => {
    const json = await runCli(["describe", "aws", "--output", "json"]);
    const d = JSON.parse(json.stdout) as { tables: { rowSchema: { properties: Record<string, unknown>; required: string[] } }[] };
    expect(d.tables[0]!.rowSchema.required).toEqual(expect.arrayContaining(["tp_ingest_timestamp", "tp_date", "tp_source_location"]));
    const res = await runCli(["collect", "aws", "--table", "aws_cloudtrail_log", "--path", SAMPLE_CLOUDTRAIL, "--table-config", '{"bogus":1}', "--out", scratch()]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("table_config.bogus: unknown field");
  });
});
