import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FakeCloudWatchLogs } from "../support/cloudwatch-logs-server.js";
import { readChunks, runCli, scratchDirs } from "./helpers.js";

const scratch = scratchDirs();
let fake: FakeCloudWatchLogs;
beforeEach(async () => {
  fake = await FakeCloudWatchLogs.start({ eventsPerPage: 50 });
});
afterEach(() => fake.close());

// The plugin process resolves no credentials or region of its own: all are in --config, and the metadata lookup is off.
const env = { AWS_EC2_METADATA_DISABLED: "true" };

describe("tailkit collect aws from a CloudWatch Logs group", () => {
  it("collects CloudTrail records from the group's streams, and a second collection writes nothing", async () => {
    const at = Date.parse("2024-05-01T10:00:00Z");
    const record = (i: number) =>
      JSON.stringify({
        eventTime: new Date(at + i * 1000).toISOString(),
        eventSource: "iam.amazonaws.com",
        eventName: "ListUsers",
        eventID: `e-${i}`,
        recipientAccountId: "123456789012",
      });
    for (const stream of ["123456789012_CloudTrail_us-east-1", "123456789012_CloudTrail_eu-west-1"])
      fake.put(
        "trail",
        stream,
        Array.from({ length: 120 }, (_, i) => ({ timestamp: at + i * 1000, message: record(i) })),
      );
    const config = { log_group_name: "trail", endpoint: fake.endpoint, region: "us-east-1", access_key: "AKIDTEST", secret_key: "test" };
    const out = scratch();
    const args = [
      "collect",
      "--no-convert",
      "aws",
      "--table",
      "aws_cloudtrail_log",
      "--source",
      "aws_cloudwatch_log_group",
      "--config",
      JSON.stringify(config),
      "--out",
      out,
      "--output",
      "json",
    ];

    const first = await runCli(args, env);
    expect(first.stderr).not.toMatch(/error/i);
    expect(first.code).toBe(0);
    expect((JSON.parse(first.stdout) as { rows: number }).rows).toBe(240);
    const rows = readChunks(out).flatMap((c) => c.rows);
    expect(rows).toHaveLength(240);
    expect(new Set(rows.map((r) => r["tp_id"])).size).toBe(240);
    expect(rows[0]).toMatchObject({ eventName: "ListUsers", tp_source_type: "aws_cloudwatch_log_group", tp_index: "123456789012" });

    const second = await runCli(args, env);
    expect(second.code).toBe(0);
    expect((JSON.parse(second.stdout) as { rows: number }).rows).toBe(0);
  });

  it("describe shows the source's config", async () => {
    const res = await runCli(["describe", "aws"], env);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain("aws_cloudwatch_log_group");
    expect(res.stdout).toContain("log_group_name");
  });
});
