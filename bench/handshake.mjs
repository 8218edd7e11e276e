#!/usr/bin/env node
// How long a plugin executable takes to print its handshake line: spawned as a host spawns it (the magic cookie in its
// environment), timed to its first line on stdout, then stopped. Start-up is the fixed cost of every collection.
//   node bench/handshake.mjs [executable] [runs]     (default: the AWS plugin, 6 runs)
import { spawn } from "node:child_process";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

const exe = process.argv[2] ?? fileURLToPath(new URL("../plugins/aws/bin/tailkit-plugin-aws", import.meta.url));
const runs = Number(process.argv[3] ?? 6);
const times = [];
for (let i = 0; i < runs; i++) {
  const t0 = performance.now();
  const child = spawn(process.execPath, [exe], {
    env: { ...process.env, TAILKIT_PLUGIN_MAGIC_COOKIE: "7b0c6d1e-tailkit-plugin-v1" },
    stdio: ["ignore", "pipe", "ignore"],
  });
  await new Promise((resolve) => child.stdout.once("data", resolve));
  times.push(performance.now() - t0);
  child.kill("SIGTERM");
  await new Promise((resolve) => child.once("exit", resolve));
}
const sorted = [...times].sort((a, b) => a - b);
console.log(`${exe}: handshake after ${times.map((t) => t.toFixed(0)).join(", ")} ms; median ${sorted[Math.floor(runs / 2)].toFixed(0)} ms`);
