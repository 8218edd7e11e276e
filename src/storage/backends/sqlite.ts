import { createRequire } from "node:module";
import type BetterSqlite3 from "better-sqlite3";

// better-sqlite3 is loaded when a database is first opened, not when the storage framework is imported.
const require = createRequire(import.meta.url);
let databaseClass: typeof BetterSqlite3 | undefined;
function loadDatabase(): typeof BetterSqlite3 {
  databaseClass ??= require("better-sqlite3") as typeof BetterSqlite3;
  return databaseClass;
}

/** Loads the SQLite driver now, ahead of the first database opened (a plugin does it while its host connects). */
export function loadSqliteDriver(): void {
  loadDatabase();
}
import { ReturnCode, fail, messageOf, ok, type OperationResult } from "../codes.js";
import { StorageBackendBase, type BackendContext, type RawEntry, type RawPut } from "../backend.js";
import type { BackendDefinition } from "../registry-types.js";
import type { SqliteOptions } from "../types.js";

/** Defaults of the sqlite backend's options. */
export const SQLITE_DEFAULTS = { table: "tailkit_storage", busyTimeout: 5000 } as const;

const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Checks sqlite options; returns a message naming the bad option, or undefined. */
export function validateSqliteOptions(options: Record<string, unknown>): string | undefined {
  const { path, table, busyTimeout } = options;
  if (path === undefined) return 'options.path: is required (a file path or ":memory:")';
  if (typeof path !== "string" || path === "") return "options.path: must be a non-empty string";
  if (table !== undefined && (typeof table !== "string" || !TABLE_NAME.test(table))) {
    return `options.table: must match ${TABLE_NAME.source}, got ${JSON.stringify(table)}`;
  }
  if (busyTimeout !== undefined && (typeof busyTimeout !== "number" || !Number.isInteger(busyTimeout) || busyTimeout < 0)) {
    return `options.busyTimeout: must be an integer number of milliseconds >= 0, got ${JSON.stringify(busyTimeout)}`;
  }
  return undefined;
}

interface Statements {
  upsert: BetterSqlite3.Statement;
  insertUnlessLive: BetterSqlite3.Statement;
  select: BetterSqlite3.Statement;
  erase: BetterSqlite3.Statement;
  updateIfValue: BetterSqlite3.Statement;
  eraseIfValue: BetterSqlite3.Statement;
  expire: BetterSqlite3.Statement;
  all: BetterSqlite3.Statement;
  count: BetterSqlite3.Statement;
}

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED"));
}

/** Embedded backend on better-sqlite3: synchronous, so it serves both modules directly. */
export class SqliteBackend extends StorageBackendBase {
  readonly sync = true;
  private readonly path: string;
  private readonly table: string;
  private readonly busyTimeout: number;
  private db: BetterSqlite3.Database | undefined;
  protected override readonly comparesValues = true;
  private stmts: Statements | undefined;

  constructor(options: SqliteOptions, ctx: BackendContext) {
    super(ctx);
    this.path = options.path;
    this.table = options.table ?? SQLITE_DEFAULTS.table;
    this.busyTimeout = options.busyTimeout ?? SQLITE_DEFAULTS.busyTimeout;
  }

  protected doOpen(): OperationResult {
    let db: BetterSqlite3.Database;
    try {
      const Database = loadDatabase();
      db = new Database(this.path, { timeout: this.busyTimeout });
    } catch (err) {
      return fail(ReturnCode.OPERATION_FAILED, `cannot open database ${JSON.stringify(this.path)}: ${messageOf(err)}`);
    }
    try {
      // WAL lets readers proceed while another connection writes; :memory: has no WAL and keeps "memory".
      if (this.path !== ":memory:") db.pragma("journal_mode = WAL");
      db.pragma("synchronous = NORMAL");
      const t = `"${this.table}"`;
      db.exec(
        `CREATE TABLE IF NOT EXISTS ${t} (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL, expire_at INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;` +
          `CREATE INDEX IF NOT EXISTS "${this.table}_expire_at" ON ${t} (expire_at) WHERE expire_at > 0;`,
      );
      this.stmts = {
        upsert: db.prepare(
          `INSERT INTO ${t} (key, value, expire_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, expire_at = excluded.expire_at`,
        ),
        // overwrite=false: an expired entry counts as absent, so it is replaced; a live one leaves changes at 0.
        insertUnlessLive: db.prepare(
          `INSERT INTO ${t} (key, value, expire_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, expire_at = excluded.expire_at WHERE ${t}.expire_at > 0 AND ${t}.expire_at <= ?`,
        ),
        select: db.prepare(`SELECT value FROM ${t} WHERE key = ? AND (expire_at = 0 OR expire_at > ?)`).pluck(),
        erase: db.prepare(`DELETE FROM ${t} WHERE key = ?`),
        // ifValue: the row changes only while it is live and holds the expected value.
        updateIfValue: db.prepare(`UPDATE ${t} SET value = ?, expire_at = ? WHERE key = ? AND value = ? AND (expire_at = 0 OR expire_at > ?)`),
        eraseIfValue: db.prepare(`DELETE FROM ${t} WHERE key = ? AND value = ? AND (expire_at = 0 OR expire_at > ?)`),
        expire: db.prepare(`DELETE FROM ${t} WHERE expire_at > 0 AND expire_at <= ?`),
        all: db.prepare(`SELECT key, value FROM ${t} WHERE expire_at = 0 OR expire_at > ? ORDER BY key LIMIT ?`),
        count: db.prepare(`SELECT count(*) FROM ${t} WHERE expire_at = 0 OR expire_at > ?`).pluck(),
      };
    } catch (err) {
      db.close();
      if (isBusy(err)) return fail(ReturnCode.TIMEOUT, `database ${JSON.stringify(this.path)} stayed locked for ${this.busyTimeout} ms`);
      return fail(ReturnCode.OPERATION_FAILED, `cannot prepare table "${this.table}" in ${JSON.stringify(this.path)}: ${messageOf(err)}`);
    }
    this.db = db;
    return ok();
  }

  protected doPut(put: RawPut): OperationResult {
    return this.run("put", () => {
      const s = this.stmts!;
      if (put.ifValue !== undefined) {
        const now = this.clock();
        const { changes } = s.updateIfValue.run(put.value, put.expireAt, put.key, put.ifValue, now);
        return changes > 0 ? ok() : this.whyNot(put.key, now);
      }
      if (put.overwrite) {
        s.upsert.run(put.key, put.value, put.expireAt);
        return ok();
      }
      const { changes } = s.insertUnlessLive.run(put.key, put.value, put.expireAt, this.clock());
      return changes > 0 ? ok() : fail(ReturnCode.KEY_EXISTS, "key exists and overwrite is false");
    });
  }

  /** Why a compared put or erase changed nothing: no live entry, or one with another value. */
  private whyNot(key: string, now: number): OperationResult {
    const live = this.stmts!.select.get(key, now) as string | undefined;
    return live === undefined ? fail(ReturnCode.KEY_NOT_FOUND, "key not found") : fail(ReturnCode.KEY_EXISTS, "key holds another value");
  }

  protected doGet(key: string): OperationResult<string> {
    return this.run("get", () => {
      const value = this.stmts!.select.get(key, this.clock()) as string | undefined;
      return value === undefined ? fail(ReturnCode.KEY_NOT_FOUND, "key not found") : ok(value);
    });
  }

  protected doErase(key: string, ifValue?: string): OperationResult {
    return this.run("erase", () => {
      if (ifValue === undefined) {
        this.stmts!.erase.run(key);
        return ok();
      }
      const now = this.clock();
      const { changes } = this.stmts!.eraseIfValue.run(key, ifValue, now);
      return changes > 0 ? ok() : this.whyNot(key, now);
    });
  }

  protected override doGetAll(max: number): OperationResult<RawEntry[]> {
    return this.run("getAll", () => ok(this.stmts!.all.all(this.clock(), max) as RawEntry[]));
  }

  protected override doSize(): OperationResult<number> {
    return this.run("size", () => ok(this.stmts!.count.get(this.clock()) as number));
  }

  protected override doExpire(now: number): OperationResult<number> {
    return this.run("sweep", () => ok(this.stmts!.expire.run(now).changes));
  }

  protected doClose(): OperationResult {
    try {
      this.db?.close();
      return ok();
    } catch (err) {
      return fail(ReturnCode.DISCONNECTION_FAILED, `cannot close ${JSON.stringify(this.path)}: ${messageOf(err)}`);
    } finally {
      this.db = undefined;
      this.stmts = undefined;
    }
  }

  private run<T>(op: string, fn: () => OperationResult<T>): OperationResult<T> {
    try {
      return fn();
    } catch (err) {
      if (isBusy(err)) return fail(ReturnCode.TIMEOUT, `${op}: database ${JSON.stringify(this.path)} stayed locked for ${this.busyTimeout} ms`);
      return fail(ReturnCode.OPERATION_FAILED, `${op}: ${messageOf(err)}`);
    }
  }
}

/** Registry entry of the "sqlite" backend. */
export const sqliteBackend: BackendDefinition = {
  validateOptions: validateSqliteOptions,
  optionNames: ["path", "table", "busyTimeout"],
  create: (options, ctx) => new SqliteBackend(options as unknown as SqliteOptions, ctx),
};
