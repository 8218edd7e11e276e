#!/usr/bin/env node
// Data-source bench (part of `npm run bench`): VPC flow-log collection with tp_domains looked up in tailkit/dns for
// every row's destination, against the same collection without the lookup. Both run in one plugin runtime with its
// extraction workers, from generated files; the resolver logs that fill tailkit/dns are collected first.
//
// Environment:
//   BENCH_SCALE   multiplies the flow files (default 1: 40 files × 10,000 lines; resolver logs answer for half of the
//                 2,000 destination addresses)
//   BENCH_RUNS    rounds, each collecting with and without the lookup in turn; the median of each is reported (default 3)
//   BENCH_KEEP    1 keeps the generated files and stores (the folder is printed)
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { gzipSync } from "node:zlib";
import { PluginRuntime } from "../dist/src/plugin/runtime.js";
import { extractArtifact } from "../dist/src/collection/extract-artifact.js";
import { registryFor } from "../dist/src/datasources/setup.js";
import { benchDnsPlugin } from "./dns-plugin.mjs";

const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const RUNS = Math.max(1, Math.floor(Number(process.env.BENCH_RUNS ?? 3)));
const FILES = Math.max(1, Math.round(40 * SCALE));
const LINES = 10_000;
const ADDRESSES = 2_000;
const ACCOUNT = "123456789012";
const DAY = Date.parse("2024-03-01T00:00:00Z") / 1000;

/** A small deterministic generator, so every run collects the same bytes. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const addr = (i) => `198.${18 + ((i >> 16) & 1)}.${(i >> 8) & 255}.${i & 255}`;

function put(root, rel, text) {
  const file = join(root, rel);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, gzipSync(text));
}

function generate(root) {
  const r = rng(1);
  // Resolver answers for the even addresses, at the start of the day: with a day's TTL they hold for every flow.
  const answers = [];
  for (let i = 0; i < ADDRESSES; i += 2) {
    answers.push(
      JSON.stringify({
        version: "1.100000",
        account_id: ACCOUNT,
        region: "us-east-1",
        vpc_id: "vpc-0abc123",
        query_timestamp: new Date((DAY + (i % 600)) * 1000).toISOString(),
        query_name: `svc${i}.example.com.`,
        query_type: "A",
        query_class: "IN",
        rcode: "NOERROR",
        answers: [{ Rdata: addr(i), Type: "A", Class: "IN" }],
        srcaddr: "10.0.1.5",
        srcport: "53000",
        transport: "UDP",
      }),
    );
  }
  put(
    root,
    `r53/AWSLogs/${ACCOUNT}/vpcdnsquerylogs/vpc-0abc123/2024/03/01/${ACCOUNT}_vpcdnsquerylogs_vpc-0abc123_20240301T0000Z_0.log.gz`,
    answers.join("\n") + "\n",
  );
  for (let f = 0; f < FILES; f++) {
    const lines = [];
    for (let k = 0; k < LINES; k++) {
      const start = DAY + 3600 + Math.floor(r() * 80_000);
      const dst = addr(Math.floor(r() * ADDRESSES));
      lines.push(
        `2 ${ACCOUNT} eni-0a1b2c3d 10.0.${f & 255}.${k & 255} ${dst} ${1024 + (k % 50000)} 443 6 ${1 + (k % 90)} ${40 * (1 + (k % 900))} ${start} ${start + 60} ACCEPT OK`,
      );
    }
    put(
      root,
      `vpc/AWSLogs/${ACCOUNT}/vpcflowlogs/us-east-1/2024/03/01/${ACCOUNT}_vpcflowlogs_us-east-1_fl-${f}_20240301T0000Z_h.log.gz`,
      lines.join("\n") + "\n",
    );
  }
}

/** Collects `table` from `paths` into a fresh folder; resolves to its rows and wall time. */
async function collect(runtime, table, paths, out) {
  let id;
  const done = new Promise((resolve) => {
    const sub = runtime.observe().subscribe((e) => {
      if (e.type === "complete" && e.executionId === id) {
        sub.unsubscribe();
        resolve(e);
      }
    });
  });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  id = runtime.collect({ table, source: { type: "file", config: { paths } }, outputDir: out });
  const complete = await done;
  const ms = performance.now() - t0;
  // The whole process: this thread and the extraction workers.
  const cpu = process.cpuUsage(cpu0);
  if (complete.error) throw new Error(`${table}: ${complete.error}`);
  return { rows: complete.rows, ms, cpuMs: (cpu.user + cpu.system) / 1000 };
}

/**
 * The lookup's own cost: extractArtifact (the worker's share: read, map, enrich, encode) run on this thread over the
 * flow files with and without it, CPU µs a row, median of BENCH_RUNS rounds. Less disturbed by other load than the
 * whole collection, whose writer and fsyncs are the same either way.
 */
async function inlineExtraction(dir, dsPath) {
  const registry = await registryFor({ plugin: benchDnsPlugin.name, storage: { backend: "sqlite", path: dsPath }, dns: { defaultTtlSeconds: 86_400 } });
  const files = readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
  const runs = { on: [], off: [] };
  for (let round = 0; round < RUNS; round++) {
    for (const [name, into] of [
      ["aws_vpc_flow_log_no_dns", runs.off],
      ["aws_vpc_flow_log", runs.on],
    ]) {
      const spec = {
        table: benchDnsPlugin.tables.find((t) => t.name === name),
        tableConfig: {},
        partition: "default",
        sourceType: "file",
        sourceName: "file",
        registry,
      };
      let rows = 0;
      const c0 = process.cpuUsage();
      for (const f of files) {
        const local = { info: { name: f, location: f, properties: {} }, path: f, bytes: statSync(f).size, release: async () => undefined };
        for await (const b of extractArtifact(local, spec)) {
          rows += b.batch.lines.length;
          b.release?.();
        }
      }
      const c = process.cpuUsage(c0);
      into.push((c.user + c.system) / rows);
    }
  }
  return { on: median(runs.on), off: median(runs.off) };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const root = mkdtempSync(join(tmpdir(), "tailkit-bench-ds-"));
try {
  generate(root);
  const runtime = new PluginRuntime(benchDnsPlugin, { dataSources: { storage: join(root, "ds.sqlite"), dns: { defaultTtlSeconds: 86_400 } } });
  await runtime.loadDataSources();
  const r53 = await collect(runtime, "aws_route53_resolver_query_log", [join(root, "r53")], join(root, "out-r53"));
  const on = [];
  const off = [];
  const cpuOn = [];
  const cpuOff = [];
  let n = 0;
  for (let round = 0; round < RUNS; round++) {
    const pair = [
      ["aws_vpc_flow_log_no_dns", off, cpuOff],
      ["aws_vpc_flow_log", on, cpuOn],
    ];
    // Each goes first in every other round, so that neither always runs on a cache (or a machine) the other warmed.
    for (const [table, into, cpuInto] of round % 2 === 0 ? pair : pair.reverse()) {
      const res = await collect(runtime, table, [join(root, "vpc")], join(root, `out-${n++}`));
      into.push((res.rows / res.ms) * 1000);
      cpuInto.push((res.cpuMs * 1000) / res.rows);
    }
  }
  await runtime.shutdown();
  const inline = await inlineExtraction(join(root, "vpc"), join(root, "ds.sqlite"));
  const rowsOn = median(on);
  const rowsOff = median(off);
  console.log(
    `data sources: ${FILES * LINES} VPC flow rows in ${FILES} files, ${r53.rows} resolver answers in tailkit/dns (SQLite), ` +
      `${cpus().length} cores, load ${loadavg()[0].toFixed(2)}, ${RUNS} rounds`,
  );
  const us = (xs) => `${median(xs).toFixed(2)} µs CPU/row`;
  console.log(`  tp_domains off  ${Math.round(rowsOff).toLocaleString("en")} rows/s  ${us(cpuOff)}   (runs: ${off.map((x) => Math.round(x)).join(", ")})`);
  console.log(`  tp_domains on   ${Math.round(rowsOn).toLocaleString("en")} rows/s  ${us(cpuOn)}   (runs: ${on.map((x) => Math.round(x)).join(", ")})`);
  console.log(`  on / off        ${(rowsOn / rowsOff).toFixed(2)}x rows/s, ${(median(cpuOff) / median(cpuOn)).toFixed(2)}x by CPU   (target >= 0.80x)`);
  console.log(
    `  extraction alone (one thread, inline): off ${inline.off.toFixed(2)} µs/row, on ${inline.on.toFixed(2)} µs/row: ` +
      `the lookup costs ${(inline.on - inline.off).toFixed(2)} µs an enriched row`,
  );
} finally {
  if (process.env.BENCH_KEEP) console.log(`kept ${root}`);
  else rmSync(root, { recursive: true, force: true });
}
