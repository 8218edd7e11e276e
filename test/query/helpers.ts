import { DuckDBInstance } from "@duckdb/node-api";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";

/**
 * Runs SQL over every Parquet file on disk under a data folder's tp_table=* folders (as view `t`), read straight
 * from the files: a file left behind that the conversion log does not list would show up here as extra rows.
 */
export async function parquetQuery(dir: string, sql: string): Promise<Record<string, unknown>[]> {
  const inst = await DuckDBInstance.create(":memory:", { threads: "2", memory_limit: "256MB" });
  const c = await inst.connect();
  try {
    const hasFiles = existsSync(dir) && readdirSync(dir).some((n) => n.startsWith("tp_table="));
    const source = hasFiles
      ? `read_parquet('${join(dir, "tp_table=*", "**", "*.parquet")}', hive_partitioning = true, union_by_name = true, hive_types = {'tp_index': VARCHAR, 'tp_date': DATE})`
      : "(SELECT NULL::VARCHAR AS tp_id WHERE false)";
    await c.run(`CREATE VIEW t AS SELECT * FROM ${source}`);
    const r = await c.runAndReadAll(sql);
    return r.getRowObjectsJS();
  } finally {
    c.closeSync();
    inst.closeSync();
  }
}

/** The tp_id of every row in Parquet under dir, sorted (duplicates kept). */
export async function parquetIds(dir: string): Promise<string[]> {
  return (await parquetQuery(dir, "SELECT tp_id FROM t ORDER BY tp_id")).map((r) => r["tp_id"] as string);
}
