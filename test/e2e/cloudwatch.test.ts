import { spawn } from "node:child_process";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mulberry32 } from "../../bench/gen/generate.mjs";
import { FakeCloudWatchLogs } from "../support/cloudwatch-logs-server.js";
import { CLI, childOf, readChunks, runCli, scratchDirs, sigkill } from "./helpers.js";

const scratch = scratchDirs();
let fake: FakeCloudWatchLogs;
beforeEach(async () => {
  fake = await FakeCloudWatchLogs.start({ eventsPerPage: 50 });
});
afterEach(() => fake.close());

const AT = Date.parse("2024-05-01T10:00:00Z");
/** A CloudTrail record as a CloudWatch message; its eventID names the CloudWatch event it is in. */
const record = (i: number, id = `e-${i}`) =>
  JSON.stringify({
    eventTime: new Date(AT + i * 1000).toISOString(),
    eventSource: "iam.amazonaws.com",
    eventName: "ListUsers",
    eventID: id,
    recipientAccountId: "123456789012",
  });

/** `tailkit collect aws` of aws_cloudtrail_log from the fake with `config` (its endpoint, dummy credentials), as JSON, into `out`. */
const collectArgs = (out: string, config: Record<string, unknown>, more: string[] = []) => [
  "collect",
  "--no-convert",
  "aws",
  "--table",
  "aws_cloudtrail_log",
  "--source",
  "aws_cloudwatch_log_group",
  "--config",
  JSON.stringify({ endpoint: fake.endpoint, region: "us-east-1", access_key: "AKIDTEST", secret_key: "test", ...config }),
  "--out",
  out,
  "--output",
  "json",
  ...more,
];

// The plugin process resolves no credentials or region of its own: all are in --config, and the metadata lookup is off.
const env = { AWS_EC2_METADATA_DISABLED: "true" };

describe("tailkit collect aws from a CloudWatch Logs group", () => {
  it("collects CloudTrail records from the group's streams, and a second collection writes nothing", async () => {
    for (const stream of ["123456789012_CloudTrail_us-east-1", "123456789012_CloudTrail_eu-west-1"])
      fake.put(
        "trail",
        stream,
        Array.from({ length: 120 }, (_, i) => ({ timestamp: AT + i * 1000, message: record(i) })),
      );
    const out = scratch();
    const args = collectArgs(out, { log_group_name: "trail" });

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

  it("ends with every event exactly once after the CLI and its plugin are SIGKILLed midway 6 times, 4 streams read at once", async () => {
    // 12 streams of 130 events, 50 to a page: 3 pages a stream, read 4 streams at once, each answer 4 ms away.
    fake.latencyMs = 4;
    const expected: string[] = [];
    for (let s = 0; s < 12; s++)
      fake.put(
        "trail",
        `123456789012_CloudTrail_s${s}`,
        Array.from({ length: 130 }, (_, i) => {
          expected.push(`${s}-${i}`);
          return { timestamp: AT + i * 500 + s, message: record(i, `${s}-${i}`) };
        }),
      );
    const out = scratch();
    const args = collectArgs(out, { log_group_name: "trail", max_concurrency: 4 }, ["--rows-per-chunk", "25"]);
    // Seeded, so that a failing schedule can be replayed. Each run is killed when the fake gets its nth FilterLogEvents
    // (n from 2 to 21; a run makes at least 12): with reads of other streams in flight, and chunks written before.
    const random = mulberry32(20261201);
    let killed = 0;
    for (let i = 0; i < 6; i++) {
      const killAt = 2 + Math.floor(random() * 20);
      let seen = 0;
      const cli = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: "ignore" });
      const exited = new Promise<NodeJS.Signals | null>((resolve) => cli.once("exit", (_code, signal) => resolve(signal)));
      fake.onRequest = (op) => {
        if (op !== "FilterLogEvents" || ++seen !== killAt) return;
        const plugin = childOf(cli.pid!);
        sigkill(cli.pid!);
        if (plugin !== undefined) sigkill(plugin);
      };
      if ((await exited) === "SIGKILL") killed++;
    }
    fake.onRequest = undefined;
    expect(killed).toBe(6);
    const before = readChunks(out).flatMap((c) => c.rows).length;
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThan(expected.length);

    const last = await runCli(args, env);
    expect(last.stderr).not.toMatch(/error/i);
    expect(last.code).toBe(0);
    const rows = readChunks(out).flatMap((c) => c.rows);
    expect(rows.map((r) => String(r["eventID"])).sort()).toEqual([...expected].sort());
    expect(new Set(rows.map((r) => r["tp_id"])).size).toBe(expected.length);
    expect(fake.maxInFlight.get("FilterLogEvents")).toBeGreaterThan(1);
    expect(fake.maxInFlight.get("FilterLogEvents")).toBeLessThanOrEqual(4);
  }, 120_000);

  it("describe shows the source's config", async () => {
    const res = await runCli(["describe", "aws"], env);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain("aws_cloudwatch_log_group");
    expect(res.stdout).toContain("log_group_name");
    expect(res.stdout).toContain("max_concurrency");
  });
});
