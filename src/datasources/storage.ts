import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { Code, TailkitError } from "../errors/index.js";
import { openSync, ReturnCode, t, type SyncHandle } from "../storage/index.js";
import type { StateLocation } from "../state/location.js";

/**
 * Where the built-in data sources keep their entries. Lookups are synchronous, so only backends with a synchronous
 * module qualify: SQLite (a file that outlives the plugin) and Redis (shared by collectors).
 */
export type DataSourceStorage = { backend: "sqlite"; path: string } | { backend: "redis"; host: string; port: number; db: number; keyPrefix: string };

/** File of the data sources beside a collection's SQLite state. */
export const DATA_SOURCES_FILE = "datasources.sqlite";

/**
 * The storage of a collection's data sources when the plugin's config names none: beside its state, so that
 * collections into one output folder, or on one Redis, share them. PostgreSQL state has no synchronous module: the
 * data sources then go to an SQLite file in the output folder's `.tailkit/`.
 */
export function storageBesideState(state: StateLocation, outputDir: string): DataSourceStorage {
  if (state.backend === "sqlite") return { backend: "sqlite", path: join(dirname(state.path), DATA_SOURCES_FILE) };
  if (state.backend === "redis") return { backend: "redis", host: state.host, port: state.port, db: state.db, keyPrefix: `${state.keyPrefix}ds:` };
  return { backend: "sqlite", path: join(resolve(outputDir), ".tailkit", DATA_SOURCES_FILE) };
}

/** Opens one table (SQLite) or key space (Redis) of the data-source storage; UNAVAILABLE saying why when it cannot. */
export function openDataSourceStore(storage: DataSourceStorage, table: string, clock?: () => number): SyncHandle<string, unknown> {
  const common = clock !== undefined ? { clock, expireInterval: 0 } : { expireInterval: 0 };
  let res;
  if (storage.backend === "sqlite") {
    try {
      mkdirSync(dirname(storage.path), { recursive: true });
    } catch (err) {
      throw new TailkitError(Code.Unavailable, `data sources: cannot create the folder of ${storage.path}: ${(err as Error).message}`);
    }
    res = openSync("sqlite", { path: storage.path, table, ...common }, t.string(), t.json());
  } else {
    const { host, port, db, keyPrefix } = storage;
    res = openSync("redis", { host, port, db, keyPrefix: `${keyPrefix}${table}:`, ...common }, t.string(), t.json());
  }
  if (res.code !== ReturnCode.SUCCESS || res.value === undefined) throw new TailkitError(Code.Unavailable, `data sources: ${res.error ?? res.code}`);
  return res.value;
}
