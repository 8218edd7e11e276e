#!/usr/bin/env node
// Writes the Route 53 Resolver sample: query logs of the VPC whose flow logs are in sample/vpcflow, resolving the
// destination addresses of one of its flow log files shortly before each first flow to them, so that flow rows
// collected after these logs carry tp_domains. Deterministic: it reads the committed flow log sample, no randomness.
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync, gzipSync } from "node:zlib";

const here = dirname(fileURLToPath(import.meta.url));
const ACCOUNT = "693748329432";
const VPC = "vpc-0f3c2a1b9d8e7f605";
const flowDir = join(here, "vpcflow", "AWSLogs", ACCOUNT, "vpcflowlogs", "eu-west-1", "2024", "03", "03");
const flowFile = readdirSync(flowDir).sort()[0];
const flows = gunzipSync(readFileSync(join(flowDir, flowFile)))
  .toString("utf8")
  .split("\n")
  .slice(1)
  .filter((l) => l.length > 0)
  .map((l) => l.split(" "));

// The first flow to each destination, in the file's order: one query a few seconds before it.
const firstFlow = new Map();
for (const f of flows) if (!firstFlow.has(f[4])) firstFlow.set(f[4], Number(f[10]));
const destinations = [...firstFlow.entries()].slice(0, 40);
const records = destinations.map(([addr, start], i) =>
  JSON.stringify({
    version: "1.100000",
    account_id: ACCOUNT,
    region: "eu-west-1",
    vpc_id: VPC,
    query_timestamp: new Date((start - 5) * 1000).toISOString().replace(".000Z", "Z"),
    query_name: `svc-${i + 1}.${i % 2 === 0 ? "example.com" : "internal.example"}.`,
    query_type: "A",
    query_class: "IN",
    rcode: "NOERROR",
    answers: [{ Rdata: addr, Type: "A", Class: "IN" }],
    srcaddr: "10.107.0.9",
    srcport: String(40000 + i),
    transport: "UDP",
    srcids: { instance: "i-0a1b2c3d4e5f60718" },
  }),
);
records.sort((a, b) => (JSON.parse(a).query_timestamp < JSON.parse(b).query_timestamp ? -1 : 1));

const root = join(here, "route53");
rmSync(root, { recursive: true, force: true });
const dir = join(root, "AWSLogs", ACCOUNT, "vpcdnsquerylogs", VPC, "2024", "03", "03");
mkdirSync(dir, { recursive: true });
const file = join(dir, `${VPC}_vpcdnsquerylogs_${ACCOUNT}_20240303T0000Z_5e1d2c3b.log.gz`);
// mtime-independent bytes: gzip with no name and a zero time header.
writeFileSync(file, gzipSync(records.join("\n") + "\n", { level: 9 }));
console.log(`wrote ${records.length} records to ${file.slice(here.length + 1)} (from ${flowFile})`);
