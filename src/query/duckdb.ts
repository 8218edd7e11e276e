import type { DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { availableParallelism } from "node:os";
import { Code, TailkitError } from "../errors/index.js";

/** Limits DuckDB runs under in the host (conversion and queries). */
export interface DuckDBLimits {
  /** DuckDB's memory_limit, e.g. "256MB". Default: TAILKIT_DUCKDB_MEMORY or 256MB, which keeps the host well under 500 MB. */
  memoryLimit?: string;
  /** DuckDB's threads. Default: TAILKIT_DUCKDB_THREADS or min(4, cores). */
  threads?: number;
}

/**
 * Rows per Parquet row group, in conversion and compaction (TAILKIT_PARQUET_ROW_GROUP overrides). A row group is
 * built in memory before it is written; at DuckDB's default (122,880) rows as wide as CloudTrail's fill the 256MB
 * memory limit and spill: compacting the 400k-record bench set took 4.9 s and 500-550 MB against 1.1 s and 350 MB
 * with 20,000, and conversion kept the host over 500 MB.
 */
export const PARQUET_ROW_GROUP_ROWS = Number(process.env["TAILKIT_PARQUET_ROW_GROUP"]) || 20_000;

const CODECS = ["zstd", "snappy", "gzip", "lz4", "lz4_raw", "brotli", "uncompressed"];

/**
 * The Parquet codec of conversion and compaction: zstd, or TAILKIT_PARQUET_COMPRESSION. On the CloudTrail bench set
 * snappy's files take 80 MB, zstd's 47 MB at its default level 3 and 49 MB at level 1; queries read them as fast.
 * Level 3 costs tailkit convert 0.5 CPU s more per 400k rows than snappy, level 1 0.2 s, so conversion, which shares
 * the cores with the collection, writes level 1 (conversionCompression), and compaction, which rewrites files later,
 * the default.
 */
export function parquetCompression(): string {
  const codec = (process.env["TAILKIT_PARQUET_COMPRESSION"] ?? "zstd").toLowerCase();
  if (!CODECS.includes(codec)) {
    throw new TailkitError(Code.InvalidArgument, `TAILKIT_PARQUET_COMPRESSION: ${JSON.stringify(codec)} is not one of ${CODECS.join(", ")}`, {
      field: "TAILKIT_PARQUET_COMPRESSION",
    });
  }
  return codec;
}

/** The COPY options of conversion's Parquet files: the codec, and zstd's fastest level. */
export function conversionCompression(): string {
  const codec = parquetCompression();
  return codec === "zstd" ? "COMPRESSION zstd, COMPRESSION_LEVEL 1" : `COMPRESSION ${codec}`;
}

/** Rows a thread gathers per partition before a partitioned COPY writes them (TAILKIT_PARQUET_FLUSH_ROWS overrides). */
const PARTITION_FLUSH_ROWS = Number(process.env["TAILKIT_PARQUET_FLUSH_ROWS"]) || 5000;

/** An open in-memory DuckDB and one connection to it. */
export interface DuckDB {
  instance: DuckDBInstance;
  connection: DuckDBConnection;
  close(): void;
}

/** Opens an in-memory DuckDB with the host's limits; the native module is loaded here, not at import. */
export async function openDuckDB(limits: DuckDBLimits = {}): Promise<DuckDB> {
  const { DuckDBInstance } = await import("@duckdb/node-api");
  const threads = limits.threads ?? (Number(process.env["TAILKIT_DUCKDB_THREADS"]) || Math.min(4, availableParallelism()));
  const memoryLimit = limits.memoryLimit ?? process.env["TAILKIT_DUCKDB_MEMORY"] ?? "256MB";
  const instance = await DuckDBInstance.create(":memory:", {
    threads: String(threads),
    memory_limit: memoryLimit,
    // Rows need not keep their order in Parquet; without it DuckDB writes partitions in parallel with less memory.
    preserve_insertion_order: "false",
    // A partitioned COPY keeps each thread's rows until this many have gathered (DuckDB's default is 524,288), so a
    // conversion unit of wide rows sat in memory whole before any Parquet was written. Flushing every 5,000 rows took
    // `tailkit convert` of the 400k-record CloudTrail set from 4.4 s to 2.7 s and its peak RSS from 520-550 MB to
    // 410-470 MB (row groups average 10,500 rows instead of 16,700; the files are as big).
    partitioned_write_flush_threshold: String(PARTITION_FLUSH_ROWS),
    // Freed memory goes back to the system from DuckDB's own allocator threads instead of staying with the process:
    // on the CloudTrail bench set, tailkit convert's peak RSS went from 490-530 MB to 440-480 MB with it.
    allocator_background_threads: "true",
    // The host reads and writes local files only.
    autoinstall_known_extensions: "false",
  });
  const connection = await instance.connect();
  // TIMESTAMP columns hold UTC: a TIMESTAMPTZ is cast to TIMESTAMP in UTC, not in the host's zone. The setting is
  // ICU's (built into this package's binaries); a DuckDB without ICU has no zones and casts in UTC already.
  try {
    await connection.run("SET TimeZone = 'UTC'");
  } catch (err) {
    if (!/TimeZone/i.test((err as Error).message)) throw err;
  }
  return {
    instance,
    connection,
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}
