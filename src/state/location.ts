import { join, resolve } from "node:path";
import { Code, TailkitError } from "../errors/index.js";

/** Where collection state lives, parsed from a location string. */
export type StateLocation =
  | { backend: "sqlite"; path: string; leaseSeconds?: number }
  | { backend: "redis"; host: string; port: number; db: number; keyPrefix: string; leaseSeconds?: number }
  | { backend: "postgres"; url: string; table: string; leaseSeconds?: number };

/** Table of collection state in PostgreSQL unless `?table=` names another. */
export const DEFAULT_POSTGRES_STATE_TABLE = "tailkit_collection_state";

/** Default state file for an output folder. */
export function defaultStatePath(outputDir: string): string {
  return join(resolve(outputDir), ".tailkit", "state.sqlite");
}

/**
 * Parses `--state`: empty → SQLite under the output folder; `redis://host:port[/prefix]` (optionally `?db=N`,
 * `?lease=N`; the scheme in any case); `postgres://` or `postgresql://` URLs (optionally `?table=name`, `?lease=N`; the
 * rest of the URL, credentials included, goes to the driver); `sqlite:<path>` or a plain path → an SQLite file. Any other `scheme://` is
 * refused rather than taken for a file name, and so is `rediss://` (TLS), which the Redis backend cannot open yet.
 * Throws INVALID_ARGUMENT naming field "state".
 */
export function parseStateLocation(location: string, outputDir: string): StateLocation {
  if (!location) return { backend: "sqlite", path: defaultStatePath(outputDir) };
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(location)?.[1]?.toLowerCase();
  if (scheme === "rediss") {
    throw new TailkitError(Code.InvalidArgument, `state: rediss:// (Redis over TLS) is not supported yet; use redis:// or an SQLite path`, { field: "state" });
  }
  if (scheme === "redis") {
    let url: URL;
    try {
      url = new URL(location);
    } catch {
      throw new TailkitError(Code.InvalidArgument, `state: malformed redis URL ${JSON.stringify(location)}`, { field: "state" });
    }
    // The backend is opened without credentials: a password given here would be dropped without a word.
    if (url.username || url.password) {
      throw new TailkitError(Code.InvalidArgument, `state: credentials in the redis URL are not supported yet`, { field: "state" });
    }
    const prefix = decodeURIComponent(url.pathname.replace(/^\/+/, "")) || "tailkit";
    const db = Number(url.searchParams.get("db") ?? 0);
    if (!Number.isInteger(db) || db < 0) throw new TailkitError(Code.InvalidArgument, `state: db must be a non-negative integer`, { field: "state" });
    const leaseSeconds = parseLease(url);
    return {
      backend: "redis",
      host: url.hostname || "127.0.0.1",
      port: Number(url.port || 6379),
      db,
      keyPrefix: `${prefix}:`,
      ...(leaseSeconds ? { leaseSeconds } : {}),
    };
  }
  if (scheme === "postgres" || scheme === "postgresql") return parsePostgres(location);
  if (scheme !== undefined && scheme !== "sqlite") {
    throw new TailkitError(
      Code.InvalidArgument,
      `state: unknown scheme ${JSON.stringify(`${scheme}://`)} in ${JSON.stringify(location)}; give an SQLite file path, sqlite:<path>, redis://host:port/prefix or postgres://host:port/database`,
      { field: "state" },
    );
  }
  const path = /^sqlite:/i.test(location) ? location.slice("sqlite:".length) : location;
  if (!path) throw new TailkitError(Code.InvalidArgument, "state: empty sqlite path", { field: "state" });
  return { backend: "sqlite", path: resolve(path) };
}

/** `lease` as a number of seconds, or undefined when absent; INVALID_ARGUMENT unless positive. */
function parseLease(url: URL): number | undefined {
  const lease = url.searchParams.get("lease");
  const leaseSeconds = lease === null ? undefined : Number(lease);
  if (leaseSeconds !== undefined && !(leaseSeconds > 0))
    throw new TailkitError(Code.InvalidArgument, `state: lease must be a positive number of seconds`, { field: "state" });
  return leaseSeconds;
}

// table and lease are ours; the driver gets the URL without them (it reads other parameters, e.g. sslmode, itself).
function parsePostgres(location: string): StateLocation {
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    // The message leaves the URL out: it may carry a password.
    throw new TailkitError(Code.InvalidArgument, `state: malformed postgres URL`, { field: "state" });
  }
  const table = url.searchParams.get("table") ?? DEFAULT_POSTGRES_STATE_TABLE;
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(table)) {
    throw new TailkitError(Code.InvalidArgument, `state: table must match [A-Za-z_][A-Za-z0-9_]{0,62}, got ${JSON.stringify(table)}`, { field: "state" });
  }
  const leaseSeconds = parseLease(url);
  url.searchParams.delete("table");
  url.searchParams.delete("lease");
  return { backend: "postgres", url: url.href, table, ...(leaseSeconds ? { leaseSeconds } : {}) };
}
