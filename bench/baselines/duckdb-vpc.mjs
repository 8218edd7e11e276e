#!/usr/bin/env node
// Baseline: DuckDB reads the VPC flow log files (read_csv, space-delimited, "-" as null) and writes one
// JSON line per record. DuckDB uses every core.
// usage: node bench/baselines/duckdb-vpc.mjs <dir> <out.jsonl>

import { DuckDBInstance } from "@duckdb/node-api";
import { sqlString } from "./sql.mjs";

const [dir, outPath] = process.argv.slice(2);
if (!dir || !outPath) {
  console.error("usage: duckdb-vpc.mjs <dir> <out.jsonl>");
  process.exit(2);
}

const instance = await DuckDBInstance.create(":memory:");
const connection = await instance.connect();
const glob = sqlString(`${dir.replace(/\/+$/, "")}/**/*.log.gz`);
// account-id stays text: account ids may start with 0.
const result = await connection.run(
  `COPY (
     SELECT version, "account-id" AS account_id, "interface-id" AS interface_id, srcaddr, dstaddr, srcport, dstport,
            protocol, packets, bytes, start, "end", action, "log-status" AS log_status
     FROM read_csv(${glob}, delim = ' ', header = true, nullstr = '-', types = {'account-id': 'VARCHAR'})
   ) TO ${sqlString(outPath)} (FORMAT JSON)`,
);
const rows = await result.getRowObjectsJson();
console.error(`duckdb-vpc: ${rows[0]?.Count ?? "?"} rows`);
connection.closeSync();
