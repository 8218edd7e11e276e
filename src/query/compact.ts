import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join, posix, resolve } from "node:path";
import { ConversionLog } from "./conversion-log.js";
import { recoverDataDir, stagingDir } from "./convert.js";
import { fileSize, moveDurable, unlinkDurable } from "./durable.js";
import { openDuckDB, PARQUET_ROW_GROUP_ROWS, parquetCompression, type DuckDB, type DuckDBLimits } from "./duckdb.js";
import { sqlString } from "./schema.js";

/** Options of compactDataDir. */
export interface CompactOptions extends DuckDBLimits {
  dir: string;
  /** A file smaller than this is small. Default 64 MiB. */
  smallBytes?: number;
  /** Merge a partition's small files when it has more than this many. Default 1 (any two); automatic runs pass more. */
  maxSmallFiles?: number;
  /** An open DuckDB to use (the converter's); default: one opened for the run. */
  db?: DuckDB;
}

/** What a compaction did. */
export interface CompactSummary {
  partitions: number;
  filesMerged: number;
  filesWritten: number;
  rows: number;
  /** Partitions left unmerged, and why. */
  skipped: { partition: string; message: string }[];
}

/** The default number of small files a partition may hold before collect compacts it. */
export const AUTO_COMPACT_FILES = 16;

/**
 * Merges the small Parquet files of each partition into one. The merged file is written to staging, fsynced and
 * renamed into place, then one transaction of the log swaps the old files for it, then the old files are deleted: a
 * crash before the swap leaves the merged file unrecorded (recovery removes it), after it the old ones (likewise).
 */
export async function compactDataDir(options: CompactOptions): Promise<CompactSummary> {
  const dir = resolve(options.dir);
  const small = options.smallBytes ?? 64 * 1024 * 1024;
  const maxSmall = options.maxSmallFiles ?? 1;
  const log = ConversionLog.open(dir);
  const summary: CompactSummary = { partitions: 0, filesMerged: 0, filesWritten: 0, rows: 0, skipped: [] };
  let db = options.db;
  const own = db === undefined;
  try {
    recoverDataDir(dir, log);
    const groups = new Map<string, { table: string; paths: string[] }>();
    for (const f of log.files()) {
      if (f.bytes >= small) continue;
      const part = posix.dirname(f.path);
      const g = groups.get(part) ?? { table: f.table, paths: [] };
      g.paths.push(f.path);
      groups.set(part, g);
    }
    for (const [part, g] of groups) {
      if (g.paths.length <= maxSmall) continue;
      db ??= await openDuckDB(options);
      const unit = `compact-${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`;
      mkdirSync(stagingDir(dir), { recursive: true });
      const staged = join(stagingDir(dir), `${unit}.parquet`);
      const list = `[${g.paths.map((p) => sqlString(join(dir, p))).join(", ")}]`;
      let res: Awaited<ReturnType<DuckDB["connection"]["runAndReadAll"]>>;
      try {
        // The partition columns live in the path, not in the files: read without them and write without them.
        res = await db.connection.runAndReadAll(
          `COPY (SELECT * FROM read_parquet(${list}, hive_partitioning = false, union_by_name = true)) TO ${sqlString(staged)} (FORMAT parquet, ROW_GROUP_SIZE ${PARQUET_ROW_GROUP_ROWS}, COMPRESSION ${parquetCompression()})`,
        );
      } catch (err) {
        // One partition's files that cannot be merged (their column types conflict) stay as they are.
        summary.skipped.push({ partition: part, message: (err as Error).message });
        continue;
      }
      const rows = Number((res.getRows()[0] as unknown[] | undefined)?.[0] ?? 0);
      const rel = `${part}/${unit}.parquet`;
      const bytes = fileSize(staged);
      moveDurable(dir, staged, join(dir, rel));
      log.recordCompaction(unit, g.paths, { path: rel, table: g.table, rows, bytes });
      unlinkDurable(g.paths.map((p) => join(dir, p)));
      summary.partitions++;
      summary.filesMerged += g.paths.length;
      summary.filesWritten++;
      summary.rows += rows;
    }
    return summary;
  } finally {
    if (own) db?.close();
    log.close();
  }
}
