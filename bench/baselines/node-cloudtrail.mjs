#!/usr/bin/env node
// Baseline: the least a single-threaded Node script must do to turn CloudTrail files into JSONL.
// usage: node bench/baselines/node-cloudtrail.mjs <dir> <out.jsonl>

import { createWriteStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { once } from "node:events";
import { gunzipSync } from "node:zlib";
import { walk } from "./walk.mjs";

const [dir, outPath] = process.argv.slice(2);
if (!dir || !outPath) {
  console.error("usage: node-cloudtrail.mjs <dir> <out.jsonl>");
  process.exit(2);
}

const out = createWriteStream(outPath, { highWaterMark: 1 << 20 });
let rows = 0;
let failed = 0;
for (const file of await walk(dir, ".json.gz")) {
  let records;
  try {
    records = JSON.parse(gunzipSync(await readFile(file)).toString("utf8")).Records;
  } catch (err) {
    failed++;
    console.error(`skip ${file}: ${err instanceof Error ? err.message : err}`);
    continue;
  }
  // One write per file keeps the per-call overhead out of the measurement; backpressure still holds.
  let chunk = "";
  for (const record of records) {
    chunk += JSON.stringify(record) + "\n";
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await once(out, "drain");
      chunk = "";
    }
  }
  rows += records.length;
  if (chunk && !out.write(chunk)) await once(out, "drain");
}
out.end();
await once(out, "finish");
console.error(`node-cloudtrail: ${rows} rows, ${failed} files failed`);
