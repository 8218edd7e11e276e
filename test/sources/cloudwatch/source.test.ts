import { describe, expect, it } from "vitest";
import { scratchDirs } from "../../e2e/helpers.js";
import { THROTTLED } from "../../support/cloudwatch-logs-server.js";
import { createCloudWatchLogsSourceFactory } from "../../../src/index.js";
import { collect, errors, fakeServer, sorted } from "./helpers.js";

const scratch = scratchDirs();
const server = fakeServer();
const T = Date.parse("2024-05-01T10:00:00Z");

/** `n` events stamped from `at`, `perMs` of them sharing each millisecond. */
const burst = (label: string, at: number, n: number, perMs: number) =>
  Array.from({ length: n }, (_, i) => ({ timestamp: at + Math.floor(i / perMs), message: `${label} ${i}` }));

describe("the aws_cloudwatch_log_group source", () => {
  it("collects every event of several streams and pages exactly once, many sharing a millisecond, while throttled", async () => {
    const fake = server();
    const ids = [
      // 7 to a millisecond, 5 to a page: pages end in the middle of a millisecond.
      ...fake.put("app", "web-1", burst("web-1", T, 30, 7)),
      ...fake.put("app", "web-2", burst("web-2", T, 13, 13)),
      ...fake.put("app", "worker-1", burst("worker-1", T + 500, 22, 3)),
    ];
    // Each call is refused twice, then answered, however the calls of the streams read at once interleave.
    const seen = new Map<string, number>();
    fake.inject = (op, body) => {
      const key = op + JSON.stringify(body);
      seen.set(key, (seen.get(key) ?? 0) + 1);
      return seen.get(key)! % 3 === 0 ? undefined : THROTTLED;
    };

    const run = await collect(fake, scratch(), { log_group_name: "app" });

    expect(run.complete.error).toBeUndefined();
    expect(sorted(run.rows.map((r) => r["eventId"]))).toEqual(sorted(ids));
    expect(new Set(run.rows.map((r) => r["tp_id"])).size).toBe(ids.length);
    expect(run.rows.find((r) => r["stream"] === "web-2")).toMatchObject({
      tp_source_type: "aws_cloudwatch_log_group",
      tp_source_location: "cloudwatch://us-east-1/app/web-2",
    });
    // Each refused request was followed by one more, after a backoff: no retries of the client's own on top.
    const refused = fake.requests.filter((r) => r.status === 400).length;
    const answered = fake.requests.filter((r) => r.status === 200).length;
    expect(refused).toBe(2 * answered);
  });

  it("fails with an error naming the operation once a call stays throttled for all its attempts", async () => {
    const fake = server();
    fake.put("app", "web-1", burst("e", T, 3, 1));
    fake.inject = () => THROTTLED;

    const run = await collect(fake, scratch(), { log_group_name: "app" });

    expect(run.complete.error).toMatch(/DescribeLogStreams: still failing after 6 attempts \(ThrottlingException: Rate exceeded\)/);
    expect(fake.requests).toHaveLength(6);
    expect(run.rows).toEqual([]);
  });

  it("collects on the next run the events ingested late, stamped before the newest collected; a run with nothing new writes nothing", async () => {
    const fake = server();
    const out = scratch();
    const first = fake.put("app", "web-1", burst("first", T, 20, 2));
    const run1 = await collect(fake, out, { log_group_name: "app" });
    expect(sorted(run1.rows.map((r) => r["eventId"]))).toEqual(sorted(first));

    const newest = T + 9;
    const late = [
      // Inside the lag window (300 s): earlier than the newest collected, in the newest's own millisecond, and after.
      ...fake.put("app", "web-1", [
        { timestamp: T - 60_000, message: "late by a minute" },
        { timestamp: T + 3, message: "late, among the first ones" },
        { timestamp: newest, message: "same millisecond as the newest" },
        { timestamp: newest + 5_000, message: "new" },
      ]),
      ...fake.put("app", "web-2", [{ timestamp: T, message: "a new stream" }]),
    ];
    const run2 = await collect(fake, out, { log_group_name: "app" });
    expect(run2.complete.error).toBeUndefined();
    expect(sorted(run2.rows.map((r) => r["eventId"]))).toEqual(sorted(late));

    const run3 = await collect(fake, out, { log_group_name: "app" });
    expect(run3.complete.error).toBeUndefined();
    expect(run3.rows).toEqual([]);
    expect(run3.complete.chunks).toBe(0);
    expect(new Set([...run1.rows, ...run2.rows].map((r) => r["tp_id"])).size).toBe(first.length + late.length);
  });

  it("resumes a run that failed midway with every event exactly once", async () => {
    const fake = server();
    const out = scratch();
    const ids = [...fake.put("app", "a", burst("a", T, 23, 4)), ...fake.put("app", "b", burst("b", T, 17, 3))];
    // The service goes down after a few pages: the run fails with some chunks written, some rows not.
    let pages = 0;
    fake.inject = (op) => (op === "FilterLogEvents" && ++pages > 6 ? { status: 500, type: "ServiceUnavailableException", message: "down" } : undefined);
    const failed = await collect(fake, out, { log_group_name: "app" }, { rowsPerChunk: 3 });
    expect(failed.complete.error).toMatch(/FilterLogEvents: still failing after 6 attempts/);
    expect(failed.rows.length).toBeGreaterThan(0);
    expect(failed.rows.length).toBeLessThan(ids.length);

    fake.inject = undefined;
    const resumed = await collect(fake, out, { log_group_name: "app" }, { rowsPerChunk: 3 });
    expect(resumed.complete.error).toBeUndefined();
    const all = [...failed.rows, ...resumed.rows];
    expect(sorted(all.map((r) => r["eventId"]))).toEqual(sorted(ids));
    expect(new Set(all.map((r) => r["tp_id"])).size).toBe(ids.length);
  });

  it("reports a stream deleted midway while others are read at once, and collects the others", async () => {
    const fake = server();
    fake.latencyMs = 5;
    const kept = [...fake.put("app", "a", burst("a", T, 12, 1)), ...fake.put("app", "c", burst("c", T, 12, 1))];
    const b = fake.put("app", "b", burst("b", T, 12, 1));
    // Gone when its second page is asked for, a and c being read meanwhile.
    fake.onRequest = (op, body) => {
      if (op === "FilterLogEvents" && (body["logStreamNames"] as string[])[0] === "b" && body["nextToken"] !== undefined) fake.deleteStream("app", "b");
    };

    const run = await collect(fake, scratch(), { log_group_name: "app", max_concurrency: 3 });

    expect(run.complete.error).toBeUndefined();
    const ofB = run.rows.filter((r) => r["stream"] === "b").map((r) => r["eventId"]);
    expect(ofB).toEqual(b.slice(0, ofB.length));
    expect(ofB.length).toBeLessThan(b.length);
    expect(sorted(run.rows.filter((r) => r["stream"] !== "b").map((r) => r["eventId"]))).toEqual(sorted(kept));
    const reported = errors(run.events).filter((e) => e.artifact === "app/b");
    expect(reported).toHaveLength(1);
    expect(reported[0]).toMatchObject({ operation: "read" });
    expect(reported[0]!.message).toContain("log stream cloudwatch://us-east-1/app/b: gone while it was read (FilterLogEvents: ResourceNotFoundException");
    expect(run.complete.status.artifactsFailed).toBe(1);
  });

  it("reads up to max_concurrency streams at once, never more, each event once", async () => {
    const fake = server();
    fake.latencyMs = 10;
    const ids = Array.from({ length: 10 }, (_, i) => fake.put("app", `s-${i}`, burst(`s-${i}`, T, 12, 2))).flat();

    const run = await collect(fake, scratch(), { log_group_name: "app", max_concurrency: 3 });

    expect(run.complete.error).toBeUndefined();
    expect(sorted(run.rows.map((r) => r["eventId"]))).toEqual(sorted(ids));
    expect(fake.maxInFlight.get("FilterLogEvents")).toBeLessThanOrEqual(3);
    expect(fake.maxInFlight.get("FilterLogEvents")).toBeGreaterThan(1);
  });

  it("refuses a max_concurrency out of range, naming the field", async () => {
    const fake = server();
    await expect(collect(fake, scratch(), { log_group_name: "app", max_concurrency: 0 })).rejects.toThrow(/source\.config\.max_concurrency/);
    expect(() => createCloudWatchLogsSourceFactory().create({ log_group_name: "app", max_concurrency: 33 })).toThrow(
      /^max_concurrency: must be a whole number from 1 to 32, not 33$/,
    );
  });

  it("fails with an error naming log_group_name when the group does not exist", async () => {
    const fake = server();
    fake.put("app", "a", burst("a", T, 2, 1));
    const run = await collect(fake, scratch(), { log_group_name: "nope" });
    expect(run.complete.error).toMatch(
      /^source\.config\.log_group_name: log group "nope" does not exist in us-east-1 \(DescribeLogStreams: ResourceNotFoundException/,
    );
    expect(run.rows).toEqual([]);
  });

  it("reads only the events from --from to --to, and asks the API for that range only", async () => {
    const fake = server();
    const events = Array.from({ length: 20 }, (_, i) => ({ timestamp: T + i * 60_000, message: `minute ${i}` }));
    const ids = fake.put("app", "a", events);
    const from = new Date(T + 5 * 60_000);
    const to = new Date(T + 12 * 60_000);

    const run = await collect(fake, scratch(), { log_group_name: "app" }, { from, to });

    expect(run.complete.error).toBeUndefined();
    expect(sorted(run.rows.map((r) => r["eventId"]))).toEqual(sorted(ids.slice(5, 12)));
    for (const r of fake.calls("FilterLogEvents")) {
      expect(r.body["startTime"]).toBe(from.getTime());
      expect(r.body["endTime"]).toBe(to.getTime() - 1);
    }
  });

  it("reads only the streams log_stream_names names: exact names and globs", async () => {
    const fake = server();
    const wanted = [
      ...fake.put("app", "web-1", burst("w1", T, 3, 1)),
      ...fake.put("app", "web-2", burst("w2", T, 3, 1)),
      ...fake.put("app", "worker-1", burst("k", T, 3, 1)),
    ];
    fake.put("app", "web-10", burst("w10", T, 3, 1));
    fake.put("app", "worker-10", burst("k10", T, 3, 1));
    fake.put("app", "api", burst("api", T, 3, 1));

    const run = await collect(fake, scratch(), { log_group_name: "app", log_stream_names: ["web-?", "worker-1"] });

    expect(run.complete.error).toBeUndefined();
    expect(sorted(run.rows.map((r) => r["eventId"]))).toEqual(sorted(wanted));
  });

  it("lists only the streams of one prefix with the API's own filter", async () => {
    const fake = server();
    const wanted = [...fake.put("app", "web-1", burst("w1", T, 2, 1)), ...fake.put("app", "web-2", burst("w2", T, 2, 1))];
    fake.put("app", "api", burst("api", T, 2, 1));

    const run = await collect(fake, scratch(), { log_group_name: "app", log_stream_names: ["web-*"] });

    expect(sorted(run.rows.map((r) => r["eventId"]))).toEqual(sorted(wanted));
    expect(fake.calls("DescribeLogStreams").every((r) => r.body["logStreamNamePrefix"] === "web-")).toBe(true);
  });

  it("keeps a cursor per log group: two groups collected into one partition each go on from their own", async () => {
    const fake = server();
    const out = scratch();
    const a1 = fake.put("group-a", "s", burst("a", T, 4, 1));
    // An hour older than group-a's: read from group-a's cursor, they would all lie before its lag window.
    const b1 = fake.put("group-b", "s", burst("b", T - 3_600_000, 4, 1));
    expect(sorted((await collect(fake, out, { log_group_name: "group-a" })).rows.map((r) => r["eventId"]))).toEqual(sorted(a1));
    expect(sorted((await collect(fake, out, { log_group_name: "group-b" })).rows.map((r) => r["eventId"]))).toEqual(sorted(b1));

    const a2 = fake.put("group-a", "s", burst("a2", T + 10, 3, 1));
    const b2 = fake.put("group-b", "s", burst("b2", T + 10, 3, 1));
    expect(sorted((await collect(fake, out, { log_group_name: "group-a" })).rows.map((r) => r["eventId"]))).toEqual(sorted(a2));
    expect(sorted((await collect(fake, out, { log_group_name: "group-b" })).rows.map((r) => r["eventId"]))).toEqual(sorted(b2));
  });

  it("collects the new events of a stream that had nothing new in the run before", async () => {
    const fake = server();
    const out = scratch();
    const ids = [...fake.put("app", "a", burst("a", T, 5, 1)), ...fake.put("app", "b", burst("b", T, 5, 1))];
    await collect(fake, out, { log_group_name: "app" });
    // Only a has new events: b gives no page in this run.
    ids.push(...fake.put("app", "a", burst("a2", T + 100, 3, 1)));
    const run2 = await collect(fake, out, { log_group_name: "app" });
    expect(run2.rows).toHaveLength(3);
    const bNew = fake.put("app", "b", burst("b2", T + 100, 3, 1));
    const run3 = await collect(fake, out, { log_group_name: "app" });
    expect(sorted(run3.rows.map((r) => r["eventId"]))).toEqual(sorted(bNew));
  });

  it("refuses a secret key without its access key, naming the field", async () => {
    const fake = server();
    await expect(collect(fake, scratch(), { log_group_name: "app", access_key: undefined })).rejects.toThrow(
      /source\.config\.access_key: is required with secret_key/,
    );
  });
});
