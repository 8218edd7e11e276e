#!/usr/bin/env node
// Baseline for collect + conversion end to end: DuckDB reads the raw CloudTrail files (read_json, schema inferred
// from every file) and writes their records to one Parquet file, with the host's threads; memory_limit 1GB
// (TAILKIT_BASELINE_MEMORY), as the nested STRUCTs it infers do not fit the host's 256MB on the 400k-record set.
// usage: node bench/baselines/duckdb-cloudtrail-parquet.mjs <dir> <out.parquet>

import { DuckDBInstance } from "@duckdb/node-api";
import { availableParallelism } from "node:os";
import { sqlString } from "./sql.mjs";

const [dir, outPath] = process.argv.slice(2);
if (!dir || !outPath) {
  console.error("usage: duckdb-cloudtrail-parquet.mjs <dir> <out.parquet>");
  process.exit(2);
}

const instance = await DuckDBInstance.create(":memory:", {
  threads: String(Number(process.env.TAILKIT_DUCKDB_THREADS) || Math.min(4, availableParallelism())),
  memory_limit: process.env.TAILKIT_BASELINE_MEMORY ?? "1GB",
  preserve_insertion_order: "false",
});
const connection = await instance.connect();
const glob = sqlString(`${dir.replace(/\/+$/, "")}/**/*.json.gz`);
const reader = await connection.runAndReadAll(
  `COPY (SELECT unnest(record) FROM (SELECT unnest(Records) AS record
     FROM read_json(${glob}, format = 'auto', maximum_sample_files = -1, sample_size = -1)))
   TO ${sqlString(outPath)} (FORMAT parquet)`,
);
console.error(`duckdb-cloudtrail-parquet: ${reader.getRows()[0]?.[0] ?? "?"} rows`);
connection.closeSync();
instance.closeSync();
