import type { DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { availableParallelism } from "node:os";

/** Limits DuckDB runs under in the host (conversion and queries). */
export interface DuckDBLimits {
  /** DuckDB's memory_limit, e.g. "256MB". Default: TAILKIT_DUCKDB_MEMORY or 256MB, which keeps the host well under 500 MB. */
  memoryLimit?: string;
  /** DuckDB's threads. Default: TAILKIT_DUCKDB_THREADS or min(4, cores). */
  threads?: number;
}

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
    // The host reads and writes local files only.
    autoinstall_known_extensions: "false",
  });
  const connection = await instance.connect();
  return {
    instance,
    connection,
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}
