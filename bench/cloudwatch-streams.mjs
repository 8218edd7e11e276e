#!/usr/bin/env node
// Wall time of reading a CloudWatch Logs group of many streams, by how many streams are read at once (max_concurrency),
// against the tests' loopback CloudWatch Logs with a delay on every answer, as a far endpoint has. Two measures:
//   read:    the aws_cloudwatch_log_group source's read() alone (dist/), every page taken at once;
//   collect: `tailkit collect aws --table aws_cloudtrail_log` end to end (CLI, plugin process, chunks), into a fresh folder.
//   node bench/cloudwatch-streams.mjs [streams=40] [pages=3] [latencyMs=30] [runs=2]     (after npm run build)
// Nothing leaves this machine: the client is given the loopback endpoint and dummy credentials, and the instance
// metadata lookup is off.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { performance } from "node:perf_hooks";
import ts from "typescript";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BIN = join(ROOT, "bin", "tailkit.js");
const DIST = join(ROOT, "dist", "src", "index.js");
const [streams = 40, pages = 3, latencyMs = 30, runs = 2] = process.argv.slice(2).map(Number);
const EVENTS_PER_PAGE = 50;
process.env.AWS_EC2_METADATA_DISABLED = "true";
if (!existsSync(DIST)) {
  console.error(`no ${DIST}: run npm run build first`);
  process.exit(2);
}

const work = mkdtempSync(join(tmpdir(), "tailkit-bench-cw-"));
// The fake server is the tests' TypeScript module; it imports only node:http and node:crypto, so it is transpiled on
// its own here rather than kept twice.
const serverTs = readFileSync(join(ROOT, "test", "support", "cloudwatch-logs-server.ts"), "utf8");
const serverJs = join(work, "cloudwatch-logs-server.mjs");
writeFileSync(serverJs, ts.transpileModule(serverTs, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext } }).outputText);
const { FakeCloudWatchLogs } = await import(pathToFileURL(serverJs).href);
const { createCloudWatchLogsSourceFactory } = await import(pathToFileURL(DIST).href);

// DescribeLogStreams gives 50 streams a page, as the API does; FilterLogEvents 50 events a page.
const fake = await FakeCloudWatchLogs.start({ eventsPerPage: EVENTS_PER_PAGE, namesPerPage: 50 });
const AT = Date.parse("2024-05-01T10:00:00Z");
for (let s = 0; s < streams; s++) {
  const n = EVENTS_PER_PAGE * pages;
  fake.put(
    "trail",
    `123456789012_CloudTrail_s${String(s).padStart(3, "0")}`,
    Array.from({ length: n }, (_, i) => ({
      timestamp: AT + i * 1000 + s,
      message: JSON.stringify({
        eventTime: new Date(AT + i * 1000).toISOString(),
        eventSource: "iam.amazonaws.com",
        eventName: "ListUsers",
        eventID: `${s}-${i}`,
        recipientAccountId: "123456789012",
      }),
    })),
  );
}
fake.latencyMs = latencyMs;
const config = (concurrency) => ({
  log_group_name: "trail",
  endpoint: fake.endpoint,
  region: "us-east-1",
  access_key: "AKIDBENCH",
  secret_key: "bench",
  max_concurrency: concurrency,
});

/** Median of the runs' times, in ms. */
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timeRead(concurrency) {
  const source = createCloudWatchLogsSourceFactory().create(config(concurrency));
  const t0 = performance.now();
  let events = 0;
  for await (const page of source.read(undefined, { signal: new globalThis.AbortController().signal })) events += page.items.length;
  const ms = performance.now() - t0;
  await source.close();
  if (events !== streams * pages * EVENTS_PER_PAGE) throw new Error(`read ${events} events, not ${streams * pages * EVENTS_PER_PAGE}`);
  return ms;
}

// Not execFileSync: the fake server answers from this process's event loop.
async function timeCollect(concurrency, run) {
  const out = join(work, `out-${concurrency}-${run}`);
  const args = ["collect", "--no-convert", "aws", "--table", "aws_cloudtrail_log", "--source", "aws_cloudwatch_log_group"];
  const t0 = performance.now();
  const { stdout } = await promisify(execFile)(process.execPath, [
    BIN,
    ...args,
    "--config",
    JSON.stringify(config(concurrency)),
    "--out",
    out,
    "--output",
    "json",
  ]);
  const summary = JSON.parse(stdout);
  const ms = performance.now() - t0;
  rmSync(out, { recursive: true, force: true });
  if (summary.rows !== streams * pages * EVENTS_PER_PAGE) throw new Error(`collected ${summary.rows} rows, not ${streams * pages * EVENTS_PER_PAGE}`);
  return ms;
}

try {
  console.log(`${streams} streams x ${pages} pages of ${EVENTS_PER_PAGE} events, ${latencyMs} ms per request, median of ${runs} runs`);
  const read = new Map();
  for (const c of [1, 2, 4, 8]) {
    const times = [];
    for (let r = 0; r < runs; r++) times.push(await timeRead(c));
    read.set(c, median(times));
    console.log(`read    max_concurrency ${c}: ${(read.get(c) / 1000).toFixed(2)} s  (x${(read.get(1) / read.get(c)).toFixed(2)} faster than 1)`);
  }
  const collect = new Map();
  for (const c of [1, 4]) {
    const times = [];
    for (let r = 0; r < runs; r++) times.push(await timeCollect(c, r));
    collect.set(c, median(times));
    console.log(`collect max_concurrency ${c}: ${(collect.get(c) / 1000).toFixed(2)} s  (x${(collect.get(1) / collect.get(c)).toFixed(2)} faster than 1)`);
  }
} finally {
  await fake.close();
  rmSync(work, { recursive: true, force: true });
}
