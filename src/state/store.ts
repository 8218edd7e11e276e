import { dirname } from "node:path";
import { Code, TailkitError } from "../errors/index.js";
import { openAsync, ReturnCode, t, type Handle, type OperationResult } from "../storage/index.js";
import { registerPostgresBackend } from "../storage-postgres/index.js";
import { createOutputDirectory } from "../writer/output-dir.js";
import { systemClock, type Clock } from "./clock.js";
import type { StateLocation } from "./location.js";

/**
 * The store under one (plugin, table, partition)'s collection state: its keys, by kind and name, and storage
 * failures as UNAVAILABLE errors, which end a collection (state that cannot be read or written cannot promise
 * exactly once). The parts of the state (progress, head index, claims) share one.
 */
export class StateStore {
  private constructor(
    /** The open store; parts use it directly for compare-and-set. */
    readonly handle: Handle<string, unknown>,
    private readonly namespace: string,
  ) {}

  /**
   * Opens the store at `location` for the state of `namespace` ("plugin/table/partition"), with `clock` judging
   * when SQLite entries expire (default: the machine's; Redis and PostgreSQL expire entries by their own time). Throws UNAVAILABLE (or INVALID_ARGUMENT) saying which backend
   * failed and why.
   */
  static async open(location: StateLocation, namespace: string, clock: Clock = systemClock): Promise<StateStore> {
    const expiry = { clock: () => clock.now() };
    let res;
    if (location.backend === "sqlite") {
      try {
        createOutputDirectory(dirname(location.path));
      } catch (err) {
        throw new TailkitError(Code.InvalidArgument, `state: cannot create folder for ${location.path}: ${(err as Error).message}`, { field: "state" });
      }
      res = await openAsync("sqlite", { path: location.path, table: "tailkit_collection_state", ...expiry }, t.string(), t.json());
    } else if (location.backend === "postgres") {
      // PostgreSQL, like Redis, judges expiry by the server's clock: the collectors sharing it may disagree on the time.
      registerPostgresBackend();
      res = await openAsync("postgres", { url: location.url, table: location.table }, t.string(), t.json());
    } else {
      const { host, port, db, keyPrefix } = location;
      res = await openAsync("redis", { host, port, db, keyPrefix, ...expiry }, t.string(), t.json());
    }
    if (res.code !== ReturnCode.SUCCESS || !res.value) {
      throw new TailkitError(Code.Unavailable, `state: ${res.error ?? res.code}`, { field: "state" });
    }
    return new StateStore(res.value, `${namespace}/`);
  }

  /** The storage key of `name` among the entries of `kind` ("artifact", "claim", ...). */
  key(kind: string, name: string): string {
    return `${this.namespace}${kind}/${name}`;
  }

  /** A result's value, undefined for a key not found; any other failure throws UNAVAILABLE saying `what` failed. */
  check<T>(res: OperationResult<T>, what: string): T | undefined {
    if (res.code === ReturnCode.SUCCESS) return res.value;
    if (res.code === ReturnCode.KEY_NOT_FOUND) return undefined;
    throw new TailkitError(Code.Unavailable, `state: ${what}: ${res.error ?? res.code}`, { operation: "state" });
  }

  /** The value of `name` among `kind`, or undefined. */
  async get(kind: string, name: string, what: string): Promise<unknown> {
    return this.check(await this.handle.get(this.key(kind, name)), what);
  }

  /** Stores `value` as `name` among `kind`, for `expireTime` seconds (default: for good). */
  async put(kind: string, name: string, value: unknown, what: string, expireTime?: number): Promise<void> {
    this.check(await this.handle.put({ key: this.key(kind, name), value, ...(expireTime ? { expireTime } : {}) }), what);
  }

  /** Closes the store. */
  async close(): Promise<void> {
    await this.handle.close();
  }
}

/** A state object as stored: JSON has no undefined, so the unset fields are dropped rather than stored as nulls. */
export function stored(value: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
}
