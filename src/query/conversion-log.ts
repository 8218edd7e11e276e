import { existsSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join } from "node:path";
import type BetterSqlite3 from "better-sqlite3";
import { Code, TailkitError } from "../errors/index.js";

// No DuckDB here: src/state reads this log from the plugin process, which must not load DuckDB.
const require = createRequire(import.meta.url);

/** The folder under a data folder that holds the conversion log, staging files and collection state. */
export const TAILKIT_DIR = ".tailkit";

/** The folder under a data folder where refused rows are kept: one JSONL file per unit that refused any. */
export const REJECTED_DIR = "rejected";

/** The conversion log's file under a data folder. */
export function conversionLogPath(dataDir: string): string {
  return join(dataDir, TAILKIT_DIR, "convert.sqlite");
}

/** A Parquet file the log records as live, relative to the data folder. */
export interface LiveFile {
  path: string;
  table: string;
  rows: number;
  bytes: number;
}

/**
 * The record of what was converted: chunks whose rows are durable in Parquet, and the Parquet files that are live.
 * SQLite (synchronous=FULL), so that "these chunks became these files" and "these files replaced those" are each
 * one transaction: a file on disk that the log does not list is not live, whatever state a crash left.
 */
export class ConversionLog {
  private constructor(private readonly db: BetterSqlite3.Database) {}

  /** Opens (creating) the log of a data folder. */
  static open(dataDir: string): ConversionLog {
    const path = conversionLogPath(dataDir);
    try {
      mkdirSync(dirname(path), { recursive: true });
      const Database = require("better-sqlite3") as typeof BetterSqlite3;
      const db = new Database(path);
      db.pragma("journal_mode = WAL");
      db.pragma("synchronous = FULL");
      db.pragma("busy_timeout = 10000");
      db.exec(`
        CREATE TABLE IF NOT EXISTS chunks (name TEXT PRIMARY KEY, unit TEXT NOT NULL, errors INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, tbl TEXT NOT NULL, unit TEXT NOT NULL, rows INTEGER NOT NULL, bytes INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS schemas (tbl TEXT PRIMARY KEY, schema TEXT NOT NULL);
      `);
      return new ConversionLog(db);
    } catch (err) {
      throw new TailkitError(Code.Unavailable, `conversion log ${path}: ${(err as Error).message}`, { operation: "convert" }, { cause: err });
    }
  }

  /** Whether the chunk (by file name) was converted. */
  converted(chunk: string): boolean {
    return this.db.prepare("SELECT 1 FROM chunks WHERE name = ?").get(chunk) !== undefined;
  }

  /** Names of every converted chunk. */
  convertedChunks(): Set<string> {
    return new Set((this.db.prepare("SELECT name FROM chunks").all() as { name: string }[]).map((r) => r.name));
  }

  /** Names of every unit that converted chunks. */
  units(): Set<string> {
    return new Set((this.db.prepare("SELECT DISTINCT unit FROM chunks").all() as { unit: string }[]).map((r) => r.unit));
  }

  /** Live Parquet files, optionally of one table. */
  files(table?: string): LiveFile[] {
    const rows = (
      table === undefined
        ? this.db.prepare("SELECT path, tbl, rows, bytes FROM files ORDER BY path").all()
        : this.db.prepare("SELECT path, tbl, rows, bytes FROM files WHERE tbl = ? ORDER BY path").all(table)
    ) as { path: string; tbl: string; rows: number; bytes: number }[];
    return rows.map((r) => ({ path: r.path, table: r.tbl, rows: r.rows, bytes: r.bytes }));
  }

  /** Records, in one transaction, that `chunks` were converted into `files` (already durable and in place). */
  recordConversion(unit: string, chunks: readonly { name: string; errors: number }[], files: readonly LiveFile[]): void {
    const addChunk = this.db.prepare("INSERT INTO chunks (name, unit, errors) VALUES (?, ?, ?)");
    const addFile = this.db.prepare("INSERT INTO files (path, tbl, unit, rows, bytes) VALUES (?, ?, ?, ?, ?)");
    this.db.transaction(() => {
      for (const c of chunks) addChunk.run(c.name, unit, c.errors);
      for (const f of files) addFile.run(f.path, f.table, unit, f.rows, f.bytes);
    })();
  }

  /** Records, in one transaction, that `replaced` are no longer live and `merged` (durable, in place) is. */
  recordCompaction(unit: string, replaced: readonly string[], merged: LiveFile): void {
    const drop = this.db.prepare("DELETE FROM files WHERE path = ?");
    const add = this.db.prepare("INSERT INTO files (path, tbl, unit, rows, bytes) VALUES (?, ?, ?, ?, ?)");
    this.db.transaction(() => {
      for (const p of replaced) {
        if (drop.run(p).changes !== 1) throw new TailkitError(Code.Aborted, `compaction: ${p} is no longer live`, { operation: "compact", artifact: p });
      }
      add.run(merged.path, merged.table, unit, merged.rows, merged.bytes);
    })();
  }

  /** Keeps a table's row schema (from Describe), so that a later `tailkit convert` types its leftover chunks the same. */
  saveSchema(table: string, schema: Record<string, unknown>): void {
    this.db
      .prepare("INSERT INTO schemas (tbl, schema) VALUES (?, ?) ON CONFLICT(tbl) DO UPDATE SET schema = excluded.schema")
      .run(table, JSON.stringify(schema));
  }

  /** A table's saved row schema, or undefined. */
  schema(table: string): Record<string, unknown> | undefined {
    const row = this.db.prepare("SELECT schema FROM schemas WHERE tbl = ?").get(table) as { schema: string } | undefined;
    return row ? (JSON.parse(row.schema) as Record<string, unknown>) : undefined;
  }

  /** Closes the log. */
  close(): void {
    this.db.close();
  }
}

/**
 * Whether a chunk file that is not on disk was converted (and then deleted) by the host. Collection state asks this
 * when it resolves a pending chunk after a crash: a missing chunk is "never renamed into place" only if no
 * conversion record holds it.
 */
export function chunkWasConverted(chunkPath: string): boolean {
  const logPath = conversionLogPath(dirname(chunkPath));
  if (!existsSync(logPath)) return false;
  const log = ConversionLog.open(dirname(chunkPath));
  try {
    return log.converted(basename(chunkPath));
  } finally {
    log.close();
  }
}

/**
 * A chunk of this execution id that the host converted (and deleted) in dataDir, or undefined: an id whose chunks
 * are gone into Parquet is still in use there, and its new chunks would take the same names and units.
 */
export function convertedChunkOf(dataDir: string, executionId: string): string | undefined {
  if (!existsSync(conversionLogPath(dataDir))) return undefined;
  const log = ConversionLog.open(dataDir);
  try {
    const prefix = `${executionId}-`;
    for (const name of log.convertedChunks()) {
      if (name.startsWith(prefix) && /^\d+\.jsonl$/.test(name.slice(prefix.length))) return name;
    }
    return undefined;
  } finally {
    log.close();
  }
}
