#!/usr/bin/env node
// Baseline: the least a single-threaded Node script must do to turn VPC flow log files into JSONL.
// Numeric fields become numbers and "-" becomes null, as any typed reader (DuckDB, tailkit) does.
// usage: node bench/baselines/node-vpc.mjs <dir> <out.jsonl>

import { createReadStream, createWriteStream } from "node:fs";
import { once } from "node:events";
import { createGunzip } from "node:zlib";
import { walk } from "./walk.mjs";

const [dir, outPath] = process.argv.slice(2);
if (!dir || !outPath) {
  console.error("usage: node-vpc.mjs <dir> <out.jsonl>");
  process.exit(2);
}

const FIELDS = [
  "version",
  "account_id",
  "interface_id",
  "srcaddr",
  "dstaddr",
  "srcport",
  "dstport",
  "protocol",
  "packets",
  "bytes",
  "start",
  "end",
  "action",
  "log_status",
];
const NUMERIC = new Set(["version", "srcport", "dstport", "protocol", "packets", "bytes", "start", "end"]);

const out = createWriteStream(outPath, { highWaterMark: 1 << 20 });
let rows = 0;
let failed = 0;

/** @param {string} line */
function toJson(line) {
  const parts = line.split(" ");
  /** @type {Record<string, string | number | null>} */
  const row = {};
  for (let i = 0; i < FIELDS.length; i++) {
    const v = parts[i];
    row[FIELDS[i]] = v === undefined || v === "-" ? null : NUMERIC.has(FIELDS[i]) ? Number(v) : v;
  }
  return JSON.stringify(row);
}

for (const file of await walk(dir, ".log.gz")) {
  let rest = "";
  let header = true;
  try {
    for await (const buf of createReadStream(file).pipe(createGunzip())) {
      const lines = (rest + buf.toString("utf8")).split("\n");
      rest = lines.pop() ?? "";
      let chunk = "";
      for (const line of lines) {
        if (header) {
          header = false;
          continue;
        }
        if (line === "") continue;
        chunk += toJson(line) + "\n";
        rows++;
      }
      if (chunk && !out.write(chunk)) await once(out, "drain");
    }
    if (rest !== "" && !header) {
      rows++;
      if (!out.write(toJson(rest) + "\n")) await once(out, "drain");
    }
  } catch (err) {
    failed++;
    console.error(`skip ${file}: ${err instanceof Error ? err.message : err}`);
  }
}
out.end();
await once(out, "finish");
console.error(`node-vpc: ${rows} rows, ${failed} files failed`);
