#!/usr/bin/env node
// Regenerates the committed sample data with fixed seeds; the output is byte-for-byte the same on every run.
// usage: node sample/generate.mjs

import { rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { generate } from "../bench/gen/generate.mjs";

const HERE = fileURLToPath(new URL(".", import.meta.url));

/** The two sample sets: the same 2 accounts (same seed) × 2 regions, files spread over 3 days. */
export const SAMPLES = [
  { kind: /** @type {const} */ ("cloudtrail"), dir: "cloudtrail", files: 24, recordsPerFile: 64, seed: 20240301 },
  { kind: /** @type {const} */ ("vpc"), dir: "vpcflow", files: 12, recordsPerFile: 500, seed: 20240301 },
];

for (const s of SAMPLES) {
  const out = join(HERE, s.dir);
  // Only the generated tree is replaced, so a change of layout leaves no stale files behind.
  await rm(join(out, "AWSLogs"), { recursive: true, force: true });
  const summary = await generate({
    kind: s.kind,
    out,
    files: s.files,
    recordsPerFile: s.recordsPerFile,
    seed: s.seed,
    accounts: 2,
    regions: ["us-east-1", "eu-west-1"],
    start: "2024-03-01T00:00:00Z",
    days: 3,
  });
  console.log(`sample/${s.dir}: ${summary.files} files, ${summary.records} records, ${(summary.rawBytes / 1e3).toFixed(0)} kB raw, ${(summary.gzBytes / 1e3).toFixed(0)} kB gz`);
}
