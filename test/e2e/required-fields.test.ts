import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { readChunks, runCli, scratchDirs } from "./helpers.js";

interface Summary {
  rows: number;
  status: { rowErrors: Record<string, number> };
  errors: { message: string; operation: string | null; rowIndex: number | null }[];
}

const scratch = scratchDirs();

describe("a row without a field its table requires, through the CLI and the plugin process", () => {
  it("is a validate row error naming the field; the file's other records are collected", async () => {
    const dir = scratch();
    const day = join(dir, "trail", "AWSLogs", "123456789012", "CloudTrail", "us-east-1", "2024", "03", "01");
    mkdirSync(day, { recursive: true });
    const record = (i: number) => ({
      eventVersion: "1.08",
      eventTime: `2024-03-01T00:00:0${i}Z`,
      eventSource: "ec2.amazonaws.com",
      eventName: `E${i}`,
      recipientAccountId: "123456789012",
    });
    const { eventSource: _, ...noSource } = record(2);
    writeFileSync(
      join(day, "123456789012_CloudTrail_us-east-1_20240301T0000Z_x.json.gz"),
      gzipSync(JSON.stringify({ Records: [record(1), noSource, record(3), record(4)] })),
    );
    const out = join(dir, "out");
    const r = await runCli(["collect", "--no-convert", "aws", "--table", "aws_cloudtrail_log", "--path", join(dir, "trail"), "--out", out, "--output", "json"]);
    // Exit 3: collected, with row errors.
    expect(r.code).toBe(3);
    const summary = JSON.parse(r.stdout) as Summary;
    expect(summary.rows).toBe(3);
    expect(summary.status.rowErrors).toEqual({ validate: 1 });
    expect(summary.errors).toHaveLength(1);
    expect(summary.errors[0]).toMatchObject({ operation: "validate", rowIndex: 2 });
    expect(summary.errors[0]!.message).toMatch(/_x\.json\.gz: record 2: missing required field "eventSource" \(1 row of this artifact so far\)$/);
    expect(readChunks(out).flatMap((c) => c.rows.map((row) => row["eventName"]))).toEqual(["E1", "E3", "E4"]);
  });
});
