#!/usr/bin/env node
// Baseline: DuckDB reads the CloudTrail files (read_json, schema inferred) and writes one JSON line per
// record. DuckDB uses every core; absent keys come out as null and eventTime as "YYYY-MM-DD hh:mm:ss".
// usage: node bench/baselines/duckdb-cloudtrail.mjs <dir> <out.jsonl>

import { DuckDBInstance } from "@duckdb/node-api";
import { sqlString } from "./sql.mjs";

const [dir, outPath] = process.argv.slice(2);
if (!dir || !outPath) {
  console.error("usage: duckdb-cloudtrail.mjs <dir> <out.jsonl>");
  process.exit(2);
}

const instance = await DuckDBInstance.create(":memory:");
const connection = await instance.connect();
const glob = sqlString(`${dir.replace(/\/+$/, "")}/**/*.json.gz`);
// The inner unnest turns each file's Records list into rows; the outer one spreads a record's fields into columns.
// Schema inference must see every file: by default it samples 32, and a key first seen in another file
// (a rare event such as CreateAccessKey) then fails the read with "unknown key".
const result = await connection.run(
  `COPY (SELECT unnest(record) FROM (SELECT unnest(Records) AS record
     FROM read_json(${glob}, format = 'auto', maximum_sample_files = -1, sample_size = -1)))
   TO ${sqlString(outPath)} (FORMAT JSON)`,
);
const rows = await result.getRowObjectsJson();
console.error(`duckdb-cloudtrail: ${rows[0]?.Count ?? "?"} rows`);
connection.closeSync();
