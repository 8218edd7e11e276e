import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { Code, TailkitError } from "../errors/index.js";
import { ConversionLog, conversionLogPath, REJECTED_DIR } from "./conversion-log.js";
import { walkFiles } from "./durable.js";
import { openDuckDB, type DuckDB, type DuckDBLimits } from "./duckdb.js";
import { sqlIdent, sqlString } from "./schema.js";

/** A query's answer: column names and types, and rows as display text and as JSON values. */
export interface QueryResult {
  columns: string[];
  types: string[];
  /** Each value as text for a table or CSV (null stays null). */
  text: (string | null)[][];
  /** Each value as JSON: integers that fit as numbers, the rest of the 64-bit ones as strings, times as ISO text. */
  json: unknown[][];
}

/** An open query session over a data folder: one view per collected table. */
export interface QuerySession {
  /** The tables (views) the session has. */
  tables: string[];
  run(sql: string): Promise<QueryResult>;
  close(): void;
}

/**
 * The view over the rows conversion refused: chunk, line, column, message, and the row as JSON (or, for a line that
 * was not JSON, its text).
 */
export const REJECTED_VIEW = "tailkit_rejected";

// The partition path's values: tp_index is text even when it looks like a number (an AWS account id).
const HIVE_TYPES = "{'tp_table': VARCHAR, 'tp_partition': VARCHAR, 'tp_index': VARCHAR, 'tp_date': DATE}";

function toJson(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === "bigint") return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map(toJson);
  if (typeof v === "object") return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, e]) => [k, toJson(e)]));
  return v;
}

function toText(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return JSON.stringify(v);
}

/**
 * Opens DuckDB over a data folder: each table in the conversion log becomes a view over its live Parquet files
 * (listed from the log, so a file a crash left unrecorded is never read), with the hive partition columns, so that
 * `where tp_date = ...` reads only the files of that date. The views follow the log: before each statement they are
 * made again if conversion or compaction changed the live files since (a prompt left open sees new rows, and a file
 * compaction replaced is not read), and a statement that still finds a file gone (replaced meanwhile) runs once more.
 */
export async function openQuerySession(dataDir: string, limits: DuckDBLimits = {}): Promise<QuerySession> {
  const dir = resolve(dataDir);
  if (!existsSync(conversionLogPath(dir))) {
    throw new TailkitError(Code.NotFound, `out: ${dir} holds no converted data (no ${conversionLogPath(dir)}); collect into it first`, { field: "out" });
  }
  const db: DuckDB = await openDuckDB(limits);
  const tables: string[] = [];
  let seen = "";
  const refresh = async (): Promise<void> => {
    const log = ConversionLog.open(dir);
    const files = log.files();
    log.close();
    // Rows conversion refused, kept whole with their errors (src/query/convert.ts): a view too, for finding out why.
    const rejected = walkFiles(join(dir, REJECTED_DIR))
      .filter((f) => f.endsWith(".jsonl"))
      .sort();
    const state = JSON.stringify([files.map((f) => f.path), rejected]);
    if (state === seen) return;
    const byTable = new Map<string, string[]>();
    for (const f of files) byTable.set(f.table, [...(byTable.get(f.table) ?? []), join(dir, f.path)]);
    for (const gone of tables.filter((t) => !byTable.has(t) && t !== REJECTED_VIEW)) await db.connection.run(`DROP VIEW IF EXISTS ${sqlIdent(gone)}`);
    for (const [table, paths] of byTable) {
      await db.connection.run(
        `CREATE OR REPLACE VIEW ${sqlIdent(table)} AS SELECT * FROM read_parquet([${paths.map(sqlString).join(", ")}], ` +
          `hive_partitioning = true, hive_types = ${HIVE_TYPES}, union_by_name = true)`,
      );
    }
    if (rejected.length > 0) {
      await db.connection.run(
        `CREATE OR REPLACE VIEW ${REJECTED_VIEW} AS SELECT * FROM read_json([${rejected.map(sqlString).join(", ")}], format = 'newline_delimited', ` +
          `columns = {chunk: 'VARCHAR', line: 'BIGINT', "column": 'VARCHAR', message: 'VARCHAR', "row": 'JSON', text: 'VARCHAR'})`,
      );
    } else await db.connection.run(`DROP VIEW IF EXISTS ${REJECTED_VIEW}`);
    tables.splice(0, tables.length, ...[...byTable.keys()].sort(), ...(rejected.length > 0 ? [REJECTED_VIEW] : []));
    seen = state;
  };
  await refresh();
  const bad = (err: unknown) => new TailkitError(Code.InvalidArgument, (err as Error).message, { field: "sql", operation: "query" }, { cause: err });
  return {
    get tables() {
      return [...tables];
    },
    async run(sql) {
      await refresh();
      let reader;
      try {
        reader = await db.connection.runAndReadAll(sql);
      } catch (err) {
        // A file listed a moment ago and replaced since (a compaction that finished between listing and reading).
        if (!/No files found|No such file/i.test((err as Error).message)) throw bad(err);
        await refresh();
        reader = await db.connection.runAndReadAll(sql).catch((again: unknown) => {
          throw bad(again);
        });
      }
      const js = reader.getRowsJS();
      return {
        columns: reader.columnNames(),
        types: reader.columnTypes().map((t) => t.toString()),
        json: js.map((r) => r.map(toJson)),
        text: (reader.getRowsJson() as unknown[][]).map((r) => r.map(toText)),
      };
    },
    close: () => db.close(),
  };
}

/** Output formats of `tailkit query`. */
export type QueryOutput = "table" | "csv" | "json" | "jsonl";

function csvField(v: string | null): string {
  if (v === null) return "";
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

function isNumeric(type: string): boolean {
  return /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL)/.test(type);
}

/** Formats a result: an aligned table (numbers right-aligned), CSV with a header, a JSON array, or JSON lines. */
export function formatResult(r: QueryResult, output: QueryOutput): string {
  switch (output) {
    case "csv":
      return [r.columns, ...r.text].map((row) => row.map(csvField).join(",")).join("\n") + "\n";
    case "json":
      return `${JSON.stringify(r.json.map((row) => Object.fromEntries(r.columns.map((c, i) => [c, row[i]]))))}\n`;
    case "jsonl":
      return r.json.map((row) => JSON.stringify(Object.fromEntries(r.columns.map((c, i) => [c, row[i]])))).join("\n") + (r.json.length ? "\n" : "");
    case "table": {
      const cells = r.text.map((row) => row.map((v) => (v === null ? "NULL" : v.replace(/\n/g, "\\n"))));
      const widths = r.columns.map((c, i) => Math.min(60, Math.max(c.length, ...cells.map((row) => row[i]!.length))));
      const fit = (v: string, i: number) => {
        const w = widths[i]!;
        const s = v.length > w ? `${v.slice(0, w - 1)}…` : v;
        return isNumeric(r.types[i]!) ? s.padStart(w) : s.padEnd(w);
      };
      const line = (row: string[]) => row.map(fit).join(" │ ").trimEnd();
      const rule = widths.map((w) => "─".repeat(w)).join("─┼─");
      const count = `(${r.text.length} row${r.text.length === 1 ? "" : "s"})`;
      return [line(r.columns), rule, ...cells.map(line), count].join("\n") + "\n";
    }
  }
}
