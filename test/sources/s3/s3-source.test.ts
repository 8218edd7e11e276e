import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generate } from "../../../bench/gen/generate.mjs";
import { awsPlugin } from "../../../plugins/aws/src/index.js";
import type { CollectOptions } from "../../../src/index.js";
import { collectInProcess } from "../../../src/testing/index.js";
import { cloudTrailRecords, scratchDirs, tempDir } from "../../e2e/helpers.js";
import { S3_CREDENTIALS, isListing, isObjectGet, startFaultProxy, startS3, type FaultProxy, type S3Server, type SeenRequest } from "./s3-server.js";

// The aws_s3_bucket source against a real S3-compatible server (s3rver) on loopback, through a proxy that counts the
// requests and spoils some on command. Buckets are filled from the generator's CloudTrail files, in AWS's layout.

const scratch = scratchDirs();
const BUCKET = "trail-bucket";

let s3: S3Server;
let proxy: FaultProxy;
let data: string;
let dataCleanup: () => void;
/** Keys in the bucket, all CloudTrail files. */
let keys: string[];

beforeAll(async () => {
  const t = tempDir();
  data = join(t.dir, "logs");
  dataCleanup = t.cleanup;
  // 2,000 objects: 2 accounts x 2 regions over 10 days, 4 records each.
  await generate({ kind: "cloudtrail", out: data, files: 2000, recordsPerFile: 4, accounts: 2, regions: ["us-east-1", "eu-west-1"], days: 10, seed: 5 });
  s3 = await startS3([BUCKET, "other-bucket"]);
  keys = await s3.uploadDir(BUCKET, data);
  proxy = await startFaultProxy(s3.endpoint);
}, 180_000);

afterAll(async () => {
  await proxy?.close();
  await s3?.close();
  dataCleanup?.();
});

function s3Config(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { bucket: BUCKET, endpoint: proxy.endpoint, force_path_style: true, region: "us-east-1", ...S3_CREDENTIALS, ...extra };
}

function collect(out: string, extra: Partial<CollectOptions> & { config?: Record<string, unknown> } = {}) {
  const { config, ...rest } = extra;
  return collectInProcess(awsPlugin, {
    table: "aws_cloudtrail_log",
    source: { type: "aws_s3_bucket", config: s3Config(config) },
    outputDir: out,
    rowsPerChunk: 2000,
    ...rest,
  });
}

/** The event ids of every record in the bucket. */
function recordIds(): string[] {
  return cloudTrailRecords(data)
    .map((r) => String(r["eventID"]))
    .sort();
}

function since(mark: number) {
  return proxy.requests.slice(mark);
}

describe("aws_s3_bucket source", () => {
  it("collects a bucket of 2,000 objects with every record exactly once", async () => {
    const out = scratch();
    const res = await collect(out);
    expect(res.complete.error).toBeUndefined();
    expect(res.complete.status.artifactsDiscovered).toBe(2000);
    const ids = res.rows.map((r) => String(r["eventID"])).sort();
    expect(ids).toEqual(recordIds());
    expect(new Set(res.rows.map((r) => r["tp_id"])).size).toBe(res.rows.length);
    const row = res.rows[0]!;
    expect(row["tp_source_type"]).toBe("aws_s3_bucket");
    expect(String(row["tp_source_location"])).toMatch(new RegExp(`^s3://${BUCKET}/AWSLogs/\\d{12}/CloudTrail/`));
  }, 180_000);

  it("lists only the prefixes of the day asked for, and listing grows with the days, not with the bucket", async () => {
    const day = keys[0]!.split("/").slice(4, 7).join("/"); // yyyy/mm/dd of the first object
    const from = new Date(`${day.replace(/\//g, "-")}T00:00:00Z`);
    const to = new Date(from.getTime() + 86_400_000);
    const mark = proxy.requests.length;
    const res = await collect(scratch(), { from, to });
    expect(res.complete.error).toBeUndefined();
    const listed = since(mark)
      .filter(isListing)
      .map((r) => r.query.get("prefix") ?? "");
    // Every listing is of a level above the day, of the day itself, or of the month that holds it.
    for (const p of listed) {
      const datePart = p.split("/").slice(4).join("/");
      expect(`${day}/`.startsWith(datePart), `listed ${p}`).toBe(true);
    }
    // Objects of that day and only those were read.
    const wanted = keys.filter((k) => k.includes(`/${day}/`));
    const got = since(mark)
      .filter(isObjectGet)
      .map((r) => r.path.slice(BUCKET.length + 2));
    expect(new Set(got)).toEqual(new Set(wanted));
    expect(res.rows.length).toBe(wanted.length * 4);
    // Two days cost a few more listings than one, far fewer than the bucket's ten.
    const mark2 = proxy.requests.length;
    await collect(scratch(), { from, to: new Date(to.getTime() + 86_400_000) });
    const twoDays = since(mark2).filter(isListing).length;
    const mark3 = proxy.requests.length;
    await collect(scratch());
    const all = since(mark3).filter(isListing).length;
    expect(twoDays).toBeGreaterThan(listed.length);
    expect(twoDays).toBeLessThan(all);
    // AWSLogs/ and CloudTrail/ are plain names in the layout: entered without listing their parents.
    expect(listed).not.toContain("");
  }, 180_000);

  it("retries 503 SlowDown, cut bodies and reset connections, and completes with every record once", async () => {
    const out = scratch();
    const prefix = keys[0]!.split("/").slice(0, 4).join("/");
    const inPrefix = keys.filter((k) => k.startsWith(prefix + "/"));
    const getOf = (key: string) => (r: SeenRequest) => isObjectGet(r) && r.path === `/${BUCKET}/${key}`;
    // Each object twice in a row, a different way each; listings answered SlowDown twice.
    proxy.inject("slowdown", 2, getOf(inPrefix[0]!));
    proxy.inject("cut", 2, getOf(inPrefix[1]!));
    proxy.inject("reset", 2, getOf(inPrefix[2]!));
    proxy.inject("slowdown", 2, isListing);
    const mark = proxy.requests.length;
    // The layout is relative to the prefix: one account and region's folder, then its days.
    const res = await collect(out, { config: { prefix, file_layout: "{year}/{month}/{day}/{file}.json.gz" } });
    expect(res.complete.error).toBeUndefined();
    expect(res.events.filter((e) => e.type === "error")).toEqual([]);
    expect(res.complete.status.artifactsFailed).toBe(0);
    expect(res.rows.length).toBe(inPrefix.length * 4);
    expect(new Set(res.rows.map((r) => r["eventID"])).size).toBe(inPrefix.length * 4);
    // Every spoiled request was asked again: three tries for each of the three objects.
    for (const k of inPrefix.slice(0, 3)) expect(since(mark).filter(getOf(k)).length).toBe(3);
    // A body cut midway goes on from where it stopped, not from the start.
    const ranges = since(mark)
      .filter(getOf(inPrefix[1]!))
      .map((r) => r.headers["range"]);
    expect(ranges[0]).toBeUndefined();
    for (const range of ranges.slice(1)) expect(range).toMatch(/^bytes=[1-9]\d*-$/);
  }, 180_000);

  it("fails an object that keeps failing past max_attempts, naming it, and collects the others", async () => {
    const prefix = keys[0]!.split("/").slice(0, 7).join("/");
    const inDay = keys.filter((k) => k.startsWith(prefix + "/"));
    proxy.inject("reset", 100, (r) => isObjectGet(r) && r.path === `/${BUCKET}/${inDay[0]!}`);
    try {
      const res = await collect(scratch(), { config: { prefix, file_layout: "{file}.json.gz", max_attempts: 2 } });
      expect(res.complete.status.artifactsFailed).toBe(1);
      expect(res.rows.length).toBe((inDay.length - 1) * 4);
      const error = res.events.find((e) => e.type === "error");
      expect(error).toMatchObject({ artifact: `${BUCKET}/${inDay[0]!}`, operation: "download" });
    } finally {
      proxy.clearFaults();
    }
  }, 60_000);

  it("downloads nothing on an unchanged rerun, and collects a changed object again from its start", async () => {
    const out = scratch();
    const prefix = keys[0]!.split("/").slice(0, 7).join("/"); // one account, region and day
    const inDay = keys.filter((k) => k.startsWith(prefix + "/"));
    const config = { prefix, file_layout: "{file}.json.gz" };
    const first = await collect(out, { config });
    expect(first.rows.length).toBe(inDay.length * 4);

    let mark = proxy.requests.length;
    const again = await collect(out, { config });
    expect(again.rows.length).toBe(0);
    expect(since(mark).filter(isObjectGet)).toEqual([]);

    // The object is replaced with a bigger one of 6 other records: all are collected from its start, with new ids.
    const key = inDay[0]!;
    const records = [0, 1, 2, 3, 4, 5].map((i) => ({
      eventVersion: "1.08",
      eventTime: "2026-01-01T00:00:00Z",
      eventSource: "s3.amazonaws.com",
      eventName: "GetObject",
      eventID: `replaced-${i}`,
      recipientAccountId: key.split("/")[1],
    }));
    await s3.put(BUCKET, key, gzipSync(JSON.stringify({ Records: records })));
    mark = proxy.requests.length;
    const changed = await collect(out, { config });
    expect(changed.complete.error).toBeUndefined();
    expect(changed.rows.map((r) => r["eventID"]).sort()).toEqual(["replaced-0", "replaced-1", "replaced-2", "replaced-3", "replaced-4", "replaced-5"]);
    expect(
      since(mark)
        .filter(isObjectGet)
        .map((r) => r.path),
    ).toEqual([`/${BUCKET}/${key}`]);
    const oldIds = new Set(first.rows.map((r) => r["tp_id"]));
    for (const r of changed.rows) expect(oldIds.has(r["tp_id"])).toBe(false);
  }, 120_000);

  it("reports an object deleted between listing and download, and collects the rest", async () => {
    const bucket = "other-bucket";
    const body = (id: string) => gzipSync(JSON.stringify({ Records: [{ eventTime: "2026-01-01T00:00:00Z", eventSource: "x", eventName: "y", eventID: id }] }));
    for (const n of ["a", "b", "c"]) await s3.put(bucket, `logs/${n}.json.gz`, body(n));
    proxy.before(
      (r) => isObjectGet(r) && r.path === `/${bucket}/logs/b.json.gz`,
      () => s3.remove(bucket, "logs/b.json.gz"),
    );
    const res = await collect(scratch(), { config: { bucket, prefix: "logs", file_layout: "{file}.json.gz" } });
    expect(res.rows.map((r) => r["eventID"]).sort()).toEqual(["a", "c"]);
    expect(res.complete.status.artifactsFailed).toBe(1);
    const error = res.events.find((e) => e.type === "error");
    expect(error).toMatchObject({ artifact: `${bucket}/logs/b.json.gz`, operation: "download" });
    expect(error?.type === "error" && error.message).toMatch(/s3:\/\/other-bucket\/logs\/b\.json\.gz: the object is gone/);
  }, 60_000);

  it("refuses a listed key that would escape its folder, and collects the rest", async () => {
    const bucket = "other-bucket";
    proxy.rewriteListings((xml) =>
      xml.replace("</ListBucketResult>", `<Contents><Key>logs/../../etc/x.json.gz</Key><Size>10</Size><ETag>"e"</ETag></Contents></ListBucketResult>`),
    );
    try {
      await s3.put(
        bucket,
        "logs/a.json.gz",
        gzipSync(JSON.stringify({ Records: [{ eventTime: "2026-01-01T00:00:00Z", eventSource: "x", eventName: "y", eventID: "a" }] })),
      );
      const res = await collect(scratch(), { config: { bucket, prefix: "logs", file_layout: "**/*.json.gz" } });
      expect(res.rows.map((r) => r["eventID"])).toContain("a");
      const error = res.events.find((e) => e.type === "error" && e.operation === "discover");
      expect(error?.type === "error" && error.message).toMatch(
        /logs\/\.\.\/\.\.\/etc\/x\.json\.gz: key has a "\.\." path segment, which would escape its folder; refused/,
      );
      expect(res.complete.status.artifactsFailed).toBeGreaterThanOrEqual(1);
    } finally {
      proxy.rewriteListings(undefined);
    }
  }, 60_000);

  it("names the bucket when it does not exist, and a half-given credential pair", async () => {
    const res = await collect(scratch(), { config: { bucket: "no-such-bucket" } });
    expect(res.complete.error).toMatch(/bucket no-such-bucket does not exist/);
    await expect(
      collectInProcess(awsPlugin, {
        table: "aws_cloudtrail_log",
        source: { type: "aws_s3_bucket", config: { bucket: BUCKET, access_key: "x" } },
        outputDir: scratch(),
      }),
    ).rejects.toThrow(/source\.config\.secret_key: access_key and secret_key go together/);
  }, 60_000);
});
