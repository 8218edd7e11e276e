// Extraction on worker threads against inline extraction. Workers import compiled JavaScript, so this test drives the
// built SDK and AWS plugin in dist/ (`npm test` builds first).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createExtractor, prewarmExtractor } from "../../dist/src/collection/extract.js";
import type { ExtractedBatch, Extractor, ExtractSpec } from "../../dist/src/collection/types.js";
import { pooledBuffers, takeBuffer } from "../../dist/src/collection/batch-buffers.js";
import { Code, TailkitError } from "../../dist/src/errors/index.js";
import type { LocalArtifact } from "../../dist/src/contract/source.js";
import { isEncodedLines } from "../../dist/src/writer/index.js";
import { awsPlugin } from "../../dist/plugins/aws/src/index.js";

const PLUGIN_MODULE = awsPlugin.module!;
const table = (name: string) => awsPlugin.tables.find((t) => t.name === name)!;

let dir: string;
const extractors: Extractor[] = [];

beforeAll(async () => {
  dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), "tailkit-worker-"));
});
afterAll(async () => {
  await Promise.all(extractors.map((e) => e.close()));
  await fs.promises.rm(dir, { recursive: true, force: true });
});

function spec(tableName: string): ExtractSpec {
  return { table: table(tableName), tableConfig: {}, partition: "default", sourceType: "file", sourceName: "file" };
}

function extractor(tableName: string, workers: number, extra: { maxBatchesInFlight?: number; pluginModule?: string } = {}): Extractor {
  const e = createExtractor(spec(tableName), {
    pluginModule: extra.pluginModule ?? PLUGIN_MODULE,
    pluginName: awsPlugin.name,
    workers,
    maxBatchesInFlight: extra.maxBatchesInFlight,
  });
  extractors.push(e);
  return e;
}

async function artifact(name: string, content: string | Buffer, gzip = true): Promise<LocalArtifact> {
  const file = path.join(dir, name);
  const data = gzip ? zlib.gzipSync(content) : content;
  await fs.promises.writeFile(file, data);
  return { info: { name, location: file, properties: {} }, path: file, bytes: data.length, release: async () => undefined };
}

function cloudTrailDoc(records: number, seed: number): string {
  const Records = Array.from({ length: records }, (_, i) => ({
    eventVersion: "1.09",
    userIdentity: { type: "IAMUser", arn: `arn:aws:iam::123456789012:user/u${i % 7}`, userName: `u${i % 7}` },
    // Every 50th record has no eventTime: a "validate" row error in the middle of the batch.
    ...(i % 50 === 49 ? {} : { eventTime: new Date(Date.UTC(2024, 0, 1, 0, 0, seed + i)).toISOString().replace(".000", "") }),
    eventSource: "ec2.amazonaws.com",
    eventName: i % 3 ? "DescribeInstances" : "RunInstances",
    sourceIPAddress: i % 4 ? `10.0.${i % 256}.${seed % 256}` : "ec2.amazonaws.com",
    recipientAccountId: "123456789012",
    // Non-ASCII text takes the UTF-8 paths of the loader and the encoder.
    requestParameters: { note: i % 10 === 0 ? `héllo ✓ ${i}` : `plain ${i}`, quote: 'a "quoted" \\ value' },
  }));
  return JSON.stringify({ Records });
}

function vpcText(lines: number): string {
  const out = ["version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"];
  for (let i = 0; i < lines; i++) {
    // Every 97th line has a field missing: a "map" row error.
    if (i % 97 === 96) out.push(`2 123456789012 eni-${i} 10.0.0.1 10.0.0.2 443`);
    else
      out.push(
        `2 123456789012 eni-${i % 13} 10.0.${i % 256}.1 10.1.0.${i % 200} ${1000 + (i % 5000)} 443 6 ${i % 90} ${i * 7} ${1704067200 + i} ${1704067260 + i} ${i % 5 ? "ACCEPT" : "REJECT"} OK`,
      );
  }
  return out.join("\n") + "\n";
}

/**
 * Everything a batch stream says, with the one field that differs by run (the ingest time) made constant. `each` is
 * called with every batch once it is recorded, as a writer would be.
 */
async function drain(it: AsyncIterable<ExtractedBatch>, each?: (out: ExtractedBatch) => void) {
  const batches = [];
  for await (const out of it) {
    const lines = out.batch.lines;
    expect(isEncodedLines(lines)).toBe(true);
    const text = Buffer.from((lines as { bytes: Uint8Array }).bytes).toString("utf8");
    batches.push({
      from: out.batch.from,
      to: out.batch.to,
      count: lines.length,
      indexes: [...out.batch.indexes],
      text: text.replace(/"tp_ingest_timestamp":"[^"]+"/g, '"tp_ingest_timestamp":"T"'),
      rowErrors: out.rowErrors,
      rowsReceived: out.rowsReceived,
    });
    each?.(out);
  }
  return batches;
}

function bytesOf(out: ExtractedBatch): Uint8Array {
  return (out.batch.lines as { bytes: Uint8Array }).bytes;
}

/**
 * Marks the end of a batch's buffer, past its bytes, so that a later batch can tell that it was given the same buffer
 * (buffers cannot be compared across threads).
 */
const MARK = 32;
function mark(bytes: Uint8Array, label: string): void {
  const end = bytes.buffer.byteLength;
  expect(bytes.byteOffset + bytes.byteLength).toBeLessThanOrEqual(end - MARK);
  Buffer.from(bytes.buffer).write(`reused:${label}`.padEnd(MARK), end - MARK, "latin1");
}
function markOf(bytes: Uint8Array): string | undefined {
  const end = bytes.buffer.byteLength;
  if (bytes.byteOffset + bytes.byteLength > end - MARK) return undefined;
  const text = Buffer.from(bytes.buffer).toString("latin1", end - MARK, end);
  return text.startsWith("reused:") ? text.trimEnd() : undefined;
}

async function failure(it: AsyncIterable<ExtractedBatch>): Promise<TailkitError> {
  try {
    for await (const _ of it) {
      // Batches before the fault are valid; only the error matters here.
    }
  } catch (err) {
    expect(err).toBeInstanceOf(TailkitError);
    return err as TailkitError;
  }
  throw new Error("extraction did not fail");
}

describe("worker extraction", () => {
  it("gives the same batches, lines, positions and row errors as inline extraction", async () => {
    const inline = extractor("aws_cloudtrail_log", 0);
    const workers = extractor("aws_cloudtrail_log", 2);
    const arts = await Promise.all([1, 2, 3].map((k) => artifact(`ct-${k}.json.gz`, cloudTrailDoc(300 * k, k))));
    for (const a of arts) {
      const expected = await drain(inline.extract(a));
      expect(expected.reduce((n, b) => n + b.count, 0)).toBeGreaterThan(0);
      expect(expected.flatMap((b) => b.rowErrors).length).toBeGreaterThan(0);
      expect(await drain(workers.extract(a))).toEqual(expected);
    }
    expect(inline.stats().mode).toBe("inline");
    expect(workers.stats()).toMatchObject({ mode: "worker", jobs: 3 });

    const vpcInline = extractor("aws_vpc_flow_log", 0);
    const vpcWorkers = extractor("aws_vpc_flow_log", 2);
    const vpc = await artifact("flows.log.gz", vpcText(7000));
    const expected = await drain(vpcInline.extract(vpc));
    expect(expected.length).toBeGreaterThan(1);
    expect(await drain(vpcWorkers.extract(vpc))).toEqual(expected);
    expect(vpcWorkers.stats().mode).toBe("worker");
  });

  it("runs artifacts concurrently on the pool and keeps each artifact's batches apart", async () => {
    const workers = extractor("aws_vpc_flow_log", 2);
    const inline = extractor("aws_vpc_flow_log", 0);
    const arts = await Promise.all([1, 2, 3, 4].map((k) => artifact(`par-${k}.log.gz`, vpcText(2500 * k))));
    const viaWorkers = await Promise.all(arts.map((a) => drain(workers.extract(a))));
    for (const [i, a] of arts.entries()) expect(viaWorkers[i]).toEqual(await drain(inline.extract(a)));
    expect(workers.stats().workersStarted).toBeLessThanOrEqual(2);
  });

  it("reports a corrupt artifact as the same TailkitError as inline, naming the file, operation load", async () => {
    const good = zlib.gzipSync(cloudTrailDoc(200, 9));
    const file = path.join(dir, "truncated.json.gz");
    await fs.promises.writeFile(file, good.subarray(0, good.length >> 1));
    const a: LocalArtifact = {
      info: { name: "truncated.json.gz", location: file, properties: {} },
      path: file,
      bytes: good.length >> 1,
      release: async () => undefined,
    };
    const inlineErr = await failure(extractor("aws_cloudtrail_log", 0).extract(a));
    const workerErr = await failure(extractor("aws_cloudtrail_log", 1).extract(a));
    expect(workerErr.message).toContain("truncated.json.gz");
    expect(workerErr.details).toMatchObject({ artifact: "truncated.json.gz", operation: "load" });
    expect({ code: workerErr.code, message: workerErr.message, details: workerErr.details }).toEqual({
      code: inlineErr.code,
      message: inlineErr.message,
      details: inlineErr.details,
    });
    expect(workerErr.code).toBe(Code.DataLoss);

    const notJson = await artifact("not-json.json.gz", "{ this is not json");
    const e2 = await failure(extractor("aws_cloudtrail_log", 1).extract(notJson));
    expect(e2.message).toMatch(/^not-json\.json\.gz: malformed JSON/);
  });

  it("stops a worker job when the signal aborts, and the worker takes the next artifact", async () => {
    const e = extractor("aws_vpc_flow_log", 1, { maxBatchesInFlight: 1 });
    const big = await artifact("abort.log.gz", vpcText(60_000));
    const controller = new AbortController();
    let batches = 0;
    const err = await failure(
      (async function* () {
        for await (const out of e.extract(big, controller.signal)) {
          batches++;
          controller.abort();
          yield out;
        }
      })(),
    );
    expect(err.code).toBe(Code.Canceled);
    expect(err.details).toMatchObject({ artifact: "abort.log.gz", operation: "load" });
    expect(batches).toBe(1);
    // One worker only: the next artifact runs only if the aborted job released it.
    const small = await artifact("after-abort.log.gz", vpcText(100));
    const rows = (await drain(e.extract(small))).reduce((n, b) => n + b.count, 0);
    expect(rows).toBe(99);
    expect(e.stats()).toMatchObject({ mode: "worker", workersStarted: 1 });
  });

  it("bounds batches in flight when the consumer does not take them: the worker waits for credits", async () => {
    const e = extractor("aws_vpc_flow_log", 1, { maxBatchesInFlight: 2 });
    const big = await artifact("slow-writer.log.gz", vpcText(80_000)); // 40 batches of 2,000 lines
    const it = e.extract(big)[Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.done).toBe(false);
    // The consumer now stalls (a writer that never drains); the worker must stop at its credits.
    await vi.waitFor(() => expect(e.stats().stalls).toBeGreaterThan(0), { timeout: 30_000, interval: 20 });
    expect(e.stats().batchesQueued).toBeLessThanOrEqual(2);
    let rows = (first.value as ExtractedBatch).batch.lines.length;
    for (let r = await it.next(); !r.done; r = await it.next()) rows += r.value.batch.lines.length;
    const s = e.stats();
    expect(s.maxBatchesQueued).toBeLessThanOrEqual(2);
    expect(s.maxBytesQueued).toBeLessThan(2 * 2000 * 1024);
    expect(s.batchesQueued).toBe(0);
    expect(rows).toBe(80_000 - Math.floor(80_000 / 97));
  });

  it("falls back to inline extraction, and says why, when a worker cannot load the plugin's table", async () => {
    const stub = path.join(dir, "not-a-plugin.mjs");
    await fs.promises.writeFile(stub, "export const nothing = 1;\n");
    const e = extractor("aws_vpc_flow_log", 2, { pluginModule: new URL(`file://${stub}`).href });
    const a = await artifact("fallback.log.gz", vpcText(500));
    const expected = await drain(extractor("aws_vpc_flow_log", 0).extract(a));
    expect(await drain(e.extract(a))).toEqual(expected);
    expect(e.stats().mode).toBe("inline");
    expect(e.stats().fallbackReason).toMatch(/exports no plugin definition named aws/);
  });

  it("sends a written batch's buffer back to its worker, transferred, and the worker makes later batches in it", async () => {
    const e = extractor("aws_vpc_flow_log", 1);
    const a = await artifact("reuse.log.gz", vpcText(30_000)); // 15 batches of 2,000 lines and one of 1 (the header is a line)
    const expected = await drain(extractor("aws_vpc_flow_log", 0).extract(a));
    const marks: string[] = [];
    let n = 0;
    const got = await drain(e.extract(a), (out) => {
      // The last batch is one line: a copy (see the next test).
      if (out.release === undefined) return;
      const bytes = bytesOf(out);
      const m = markOf(bytes);
      if (m !== undefined) marks.push(m);
      mark(bytes, String(n++));
      out.release();
      // Gone back to the worker, with the mark.
      expect(bytes.buffer.byteLength).toBe(0);
      out.release();
    });
    expect(got).toEqual(expected);
    expect(n).toBe(got.length - 1);
    expect(e.stats().buffersReturned).toBe(n);
    expect(marks.length).toBeGreaterThan(0);
    expect(new Set(marks).size).toBe(marks.length);
  });

  it("sends a small batch as a copy of its bytes, which has nothing to give back", async () => {
    const e = extractor("aws_vpc_flow_log", 1);
    const a = await artifact("small.log.gz", vpcText(3));
    const got = await drain(e.extract(a), (out) => {
      const bytes = bytesOf(out);
      expect(bytes.byteLength).toBeGreaterThan(0);
      // Not the worker's whole buffer, which a view would have cloned with it.
      expect(bytes.buffer.byteLength).toBe(bytes.byteLength);
      expect("release" in out && out.release !== undefined).toBe(false);
    });
    expect(got.map((b) => b.count)).toEqual([3]);
    expect(e.stats().buffersReturned).toBe(0);
  });

  it("gives back the buffers of batches queued but never taken when the consumer stops early", async () => {
    const e = extractor("aws_vpc_flow_log", 1, { maxBatchesInFlight: 2 });
    const it = e.extract(await artifact("stop-early.log.gz", vpcText(20_000)))[Symbol.asyncIterator]();
    expect((await it.next()).done).toBe(false);
    await vi.waitFor(() => expect(e.stats().batchesQueued).toBe(2), { timeout: 30_000, interval: 20 });
    await it.return!(undefined);
    expect(e.stats()).toMatchObject({ batchesQueued: 0, buffersReturned: 2 });
  });

  it("keeps a buffer released after the extractor closed: its worker is gone", async () => {
    const e = createExtractor(spec("aws_vpc_flow_log"), { pluginModule: PLUGIN_MODULE, pluginName: awsPlugin.name, workers: 1 });
    const it = e.extract(await artifact("after-close.log.gz", vpcText(4000)))[Symbol.asyncIterator]();
    const first = (await it.next()).value as ExtractedBatch;
    await it.return!(undefined);
    const returned = e.stats().buffersReturned;
    await e.close();
    first.release!();
    expect(bytesOf(first).byteLength).toBeGreaterThan(0);
    expect(e.stats().buffersReturned).toBe(returned);
  });

  it("inline: a released batch's buffer goes back to this thread's pool once, and later batches are made in it", async () => {
    const e = extractor("aws_vpc_flow_log", 0);
    const a = await artifact("reuse-inline.log.gz", vpcText(30_000));
    const released = new Set<ArrayBufferLike>();
    let reused = 0;
    let first = true;
    const got = await drain(e.extract(a), (out) => {
      const bytes = bytesOf(out);
      if (released.has(bytes.buffer)) reused++;
      if (first) {
        // Empty the pool, so that it counts this batch's buffer only.
        while (pooledBuffers() > 0) takeBuffer(0);
        out.release!();
        out.release!();
        expect(pooledBuffers()).toBe(1);
        first = false;
      } else {
        out.release!();
      }
      released.add(bytes.buffer);
    });
    expect(got.length).toBe(16);
    expect(reused).toBeGreaterThan(0);
  });

  it("takes workers started ahead (warm) and gives them the spec; they extract what fresh workers do", async () => {
    const a = await artifact("warm.log.gz", vpcText(5_000));
    const expected = await drain(extractor("aws_vpc_flow_log", 0).extract(a));
    expect(prewarmExtractor({ pluginModule: PLUGIN_MODULE, pluginName: awsPlugin.name, workers: 2 })).toBe(2);
    // A TypeScript module would run inline: nothing is started for it.
    expect(prewarmExtractor({ pluginModule: "file:///x/plugins/aws/src/index.ts", pluginName: "aws", workers: 2 })).toBe(0);
    const e = createExtractor(spec("aws_vpc_flow_log"), { pluginModule: PLUGIN_MODULE, pluginName: awsPlugin.name, workers: 2, prestart: true });
    extractors.push(e);
    expect(e.stats()).toMatchObject({ mode: "worker", workersStarted: 2, warmWorkersUsed: 2 });
    const got = await drain(e.extract(a));
    expect(got.map((b) => ({ ...b, text: b.text.replace(/"tp_ingest_timestamp":"[^"]+"/g, "") }))).toEqual(
      expected.map((b) => ({ ...b, text: b.text.replace(/"tp_ingest_timestamp":"[^"]+"/g, "") })),
    );
    // The warm set is used up: the next extractor starts its own.
    const next = createExtractor(spec("aws_vpc_flow_log"), { pluginModule: PLUGIN_MODULE, pluginName: awsPlugin.name, workers: 1, prestart: true });
    extractors.push(next);
    expect(next.stats()).toMatchObject({ workersStarted: 1, warmWorkersUsed: 0 });
  });

  it("extracts inline when the plugin module is TypeScript source, which a worker cannot import", () => {
    const e = createExtractor(spec("aws_vpc_flow_log"), { pluginModule: "file:///x/plugins/aws/src/index.ts", pluginName: "aws", workers: 2 });
    expect(e.stats()).toMatchObject({ mode: "inline", fallbackReason: "the plugin module is TypeScript" });
  });
});
