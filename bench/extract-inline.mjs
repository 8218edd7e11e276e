#!/usr/bin/env node
// Measures one extraction thread: runs extractArtifact (load → map → enrich → encode) inline over every file under a
// directory and prints rows, bytes, wall and CPU time. No CLI, plugin process, writer or state: the per-row cost of
// the worker's share of the work. Run after `npm run build`; pass --max-semi-space-size=8 to node to match a worker's
// default young generation (24 MB), and --cpu-prof to profile.
// usage: node [--max-semi-space-size=8] bench/extract-inline.mjs <table> <dir>
import fs from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { extractArtifact } from "../dist/src/collection/extract-artifact.js";
import { awsPlugin } from "../dist/plugins/aws/src/index.js";

const [tableName, dir] = process.argv.slice(2);
const table = awsPlugin.tables.find((t) => t.name === tableName);
if (!table || !dir) {
  console.error("usage: extract-inline.mjs <aws_cloudtrail_log|aws_vpc_flow_log> <dir>");
  process.exit(2);
}
const files = [];
(function walk(d) {
  for (const e of fs.readdirSync(d, { withFileTypes: true })) {
    const p = path.join(d, e.name);
    if (e.isDirectory()) walk(p);
    else if (!e.name.endsWith(".json")) files.push(p);
  }
})(dir);
const spec = { table, tableConfig: {}, partition: "p", sourceType: "file", sourceName: "bench" };
const cpu0 = process.cpuUsage();
const wall0 = performance.now();
let rows = 0;
let bytes = 0;
for (const f of files) {
  const local = { info: { name: f, location: f, properties: {} }, path: f, bytes: fs.statSync(f).size, release: async () => undefined };
  for await (const b of extractArtifact(local, spec)) {
    rows += b.batch.lines.length;
    bytes += b.batch.lines.bytes.length;
    // As the collection does once the writer is done with a batch: its buffer serves a later one.
    b.release?.();
  }
}
const cpu = process.cpuUsage(cpu0);
console.log(
  `${files.length} files, ${rows} rows, ${(bytes / 1e6).toFixed(1)} MB out, wall ${((performance.now() - wall0) / 1000).toFixed(2)} s, ` +
    `cpu ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s (${((cpu.user + cpu.system) / rows || 0).toFixed(2)} µs/row)`,
);
