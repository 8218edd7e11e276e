#!/usr/bin/env node
// `tailkit compact` on the CloudTrail bench set: collects it once with conversion (the Parquet files of each unit),
// then times compacting a fresh copy of that folder, several runs, with GNU time's peak RSS.
//   node bench/compact.mjs [runs]     (default 3; run `node bench/run.mjs` first, which generates bench/data)
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BIN = join(ROOT, "bin", "tailkit.js");
const DATA = join(ROOT, "bench", "data", "cloudtrail-f200-r2000-s1");
const runs = Number(process.argv[2] ?? 3);
/** Bytes of the Parquet files under a data folder. @param {string} dir */
const parquetBytes = (dir) =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".parquet"))
    .reduce((n, e) => n + statSync(join(e.parentPath, e.name)).size, 0);
/** @param {number} bytes */
const mb = (bytes) => (bytes / 1e6).toFixed(1);
if (!existsSync(DATA)) {
  console.error(`no ${DATA}: run node bench/run.mjs first (it generates the bench sets)`);
  process.exit(2);
}
const work = mkdtempSync(join(tmpdir(), "tailkit-bench-compact-"));
try {
  const collected = join(work, "collected");
  execFileSync(process.execPath, [BIN, "collect", "aws", "--table", "aws_cloudtrail_log", "--path", DATA, "--out", collected], { stdio: "ignore" });
  for (let i = 1; i <= runs; i++) {
    const out = join(work, `run-${i}`);
    cpSync(collected, out, { recursive: true });
    const timeFile = join(work, "time.txt");
    const summary = execFileSync("/usr/bin/time", ["-f", "%e %U %S %M", "-o", timeFile, process.execPath, BIN, "compact", "--out", out], { encoding: "utf8" });
    const [wall, user, sys, rssKb] = readFileSync(timeFile, "utf8").trim().split("\n").pop().split(" ").map(Number);
    console.log(
      `run ${i}: ${wall.toFixed(2)} s, ${(user + sys).toFixed(2)} CPU s, peak RSS ${Math.round(rssKb / 1024)} MB, ` +
        `Parquet ${mb(parquetBytes(collected))} -> ${mb(parquetBytes(out))} MB: ${summary.trim().split("\n").pop()}`,
    );
    rmSync(out, { recursive: true, force: true });
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
