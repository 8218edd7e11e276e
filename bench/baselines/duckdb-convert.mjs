#!/usr/bin/env node
// Baseline for conversion: DuckDB's own COPY of tailkit's chunk files into Parquet, in the same hive layout tailkit
// writes (PARTITION_BY tp_table, tp_partition, tp_index, tp_date), with the host's threads, and no bookkeeping: no
// schema, no staging, no fsync, no log. One COPY of every chunk with inferred STRUCTs runs out of memory at the
// host's 256MB on the 400k-record set, so its memory_limit defaults to 1GB (TAILKIT_BASELINE_MEMORY).
// usage: node bench/baselines/duckdb-convert.mjs <chunk dir> <out dir>

import { DuckDBInstance } from "@duckdb/node-api";
import { availableParallelism } from "node:os";
import { sqlString } from "./sql.mjs";

const [dir, outDir] = process.argv.slice(2);
if (!dir || !outDir) {
  console.error("usage: duckdb-convert.mjs <chunk dir> <out dir>");
  process.exit(2);
}

const instance = await DuckDBInstance.create(":memory:", {
  threads: String(Number(process.env.TAILKIT_DUCKDB_THREADS) || Math.min(4, availableParallelism())),
  memory_limit: process.env.TAILKIT_BASELINE_MEMORY ?? "1GB",
  preserve_insertion_order: "false",
});
const connection = await instance.connect();
const glob = sqlString(`${dir.replace(/\/+$/, "")}/*.jsonl`);
const reader = await connection.runAndReadAll(
  `COPY (SELECT * FROM read_json(${glob}, format = 'newline_delimited', union_by_name = true)) TO ${sqlString(outDir)}
   (FORMAT parquet, PARTITION_BY (tp_table, tp_partition, tp_index, tp_date))`,
);
console.error(`duckdb-convert: ${reader.getRows()[0]?.[0] ?? "?"} rows`);
connection.closeSync();
instance.closeSync();
