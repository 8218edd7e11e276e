// A storage backend written as a separate package would write it: it imports the storage framework only through its
// entry point, and becomes usable by a call to registerPostgresBackend() (see index.ts).
import { createRequire } from "node:module";
import type pg from "pg";
import {
  ReturnCode,
  StorageBackendBase,
  fail,
  ok,
  type BackendContext,
  type BackendDefinition,
  type OperationResult,
  type RawEntry,
  type RawPut,
  type StorageOptions,
} from "tailkit/storage";

// pg is loaded when a store is first opened: a process that never talks to PostgreSQL never pays for it.
const require = createRequire(import.meta.url);
let pgModule: typeof pg | undefined;
function loadPg(): typeof pg {
  pgModule ??= require("pg") as typeof pg;
  return pgModule;
}

/** Options of the "postgres" backend. */
export interface PostgresOptions extends StorageOptions {
  /** `postgres://` or `postgresql://` connection URL (user, password, host, port, database, libpq parameters). Required. */
  url: string;
  /** Table holding this handle's entries, created if missing; several tables in one database stay apart. Default: "tailkit_storage". */
  table?: string;
  /** Milliseconds to wait for a connection before CONNECTION_FAILED (at open) or CONNECTION_LOST. Default: 2000. */
  connectTimeout?: number;
  /** Milliseconds one statement may take before TIMEOUT (client-side, and the server's statement_timeout). Default: 5000. */
  operationTimeout?: number;
  /** Most connections held at once. Default: 4. */
  poolSize?: number;
}

/** Defaults of the postgres backend's options. */
export const POSTGRES_DEFAULTS = { table: "tailkit_storage", connectTimeout: 2000, operationTimeout: 5000, poolSize: 4 } as const;

const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

function isInt(value: unknown, min: number): boolean {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= min;
}

/** Checks postgres options; returns a message naming the bad option, or undefined. */
export function validatePostgresOptions(options: Record<string, unknown>): string | undefined {
  const { url, table } = options;
  if (url === undefined) return "options.url: is required (postgres://user@host:port/database)";
  if (typeof url !== "string" || !/^postgres(ql)?:\/\//i.test(url)) return "options.url: must be a postgres:// or postgresql:// URL";
  try {
    new URL(url);
  } catch {
    return "options.url: is not a valid URL";
  }
  if (table !== undefined && (typeof table !== "string" || !TABLE_NAME.test(table))) {
    return `options.table: must match ${TABLE_NAME.source}, got ${JSON.stringify(table)}`;
  }
  for (const name of ["connectTimeout", "operationTimeout", "poolSize"]) {
    if (options[name] !== undefined && !isInt(options[name], 1)) return `options.${name}: must be a positive integer, got ${JSON.stringify(options[name])}`;
  }
  return undefined;
}

/** host:port/database of a URL, for messages: never its user or password. */
function addressOf(url: string): string {
  const u = new URL(url);
  return `${u.hostname || "localhost"}:${u.port || 5432}${u.pathname || "/"}`;
}

type Failure = "auth" | "timeout" | "connection" | "other";

// SQLSTATE classes 08 (connection exception) and 57P (operator intervention: shutdown, crash) and the socket errors
// mean the server went away; pg's own messages cover a connection that closed under a query.
function classify(err: unknown): Failure {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === "string" ? e.code : "";
  const message = typeof e?.message === "string" ? e.message : String(err);
  if (code === "28P01" || code === "28000") return "auth";
  if (code === "57014" || /Query read timeout|timeout exceeded when trying to connect|connection timeout/i.test(message)) return "timeout";
  if (/^(08|57P)/.test(code) || /^E(CONNREFUSED|CONNRESET|PIPE|NOTFOUND|HOSTUNREACH|TIMEDOUT|AI_AGAIN)$/.test(code)) return "connection";
  if (/Connection terminated|not queryable|connection error|Client was closed/i.test(message)) return "connection";
  return "other";
}

// A refused connection to a name with several addresses is an AggregateError with no message, only a code.
function messageOf(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;
  return err.message || (typeof code === "string" ? code : err.name);
}

/** The SQL of one table, its statements named so each connection plans them once. */
function statements(table: string): Record<string, string> {
  const t = `"${table}"`;
  // Expiry runs on the server's clock, as several collectors share the store (as with Redis).
  const now = `(extract(epoch from clock_timestamp()) * 1000)::bigint`;
  const live = `(expire_at = 0 OR expire_at > ${now})`;
  const expireAt = (p: string) => `CASE WHEN ${p}::bigint > 0 THEN ${now} + ${p}::bigint ELSE 0 END`;
  const insert = `INSERT INTO ${t} (key, value, expire_at) VALUES ($1, $2, ${expireAt("$3")}) ON CONFLICT (key) DO UPDATE SET value = excluded.value, expire_at = excluded.expire_at`;
  return {
    upsert: insert,
    // overwrite=false: an expired entry counts as absent and is replaced; a live one leaves rowCount at 0.
    insertUnlessLive: `${insert} WHERE ${t}.expire_at > 0 AND ${t}.expire_at <= ${now}`,
    select: `SELECT value FROM ${t} WHERE key = $1 AND ${live}`,
    erase: `DELETE FROM ${t} WHERE key = $1`,
    // One statement, one snapshot: whether the entry was live (present) comes with the compared write itself.
    updateIfValue: `WITH cur AS (SELECT 1 FROM ${t} WHERE key = $1 AND ${live}), upd AS (UPDATE ${t} SET value = $3, expire_at = ${expireAt("$4")} WHERE key = $1 AND value = $2 AND ${live} RETURNING 1) SELECT (SELECT count(*) FROM upd)::int AS changed, (SELECT count(*) FROM cur)::int AS present`,
    eraseIfValue: `WITH cur AS (SELECT 1 FROM ${t} WHERE key = $1 AND ${live}), del AS (DELETE FROM ${t} WHERE key = $1 AND value = $2 AND ${live} RETURNING 1) SELECT (SELECT count(*) FROM del)::int AS changed, (SELECT count(*) FROM cur)::int AS present`,
    all: `SELECT key, value FROM ${t} WHERE ${live} ORDER BY key LIMIT $1`,
    count: `SELECT count(*)::bigint AS n FROM ${t} WHERE ${live}`,
    expire: `DELETE FROM ${t} WHERE expire_at > 0 AND expire_at <= ${now}`,
  };
}

/**
 * PostgreSQL backend on node-postgres: a pool of connections, one table of (key, value, expire_at). Asynchronous only:
 * the sync module answers ASYNC_ONLY, as the framework does for every backend without a synchronous implementation.
 */
export class PostgresBackend extends StorageBackendBase {
  readonly sync = false;
  protected override readonly comparesValues = true;
  private readonly url: string;
  private readonly address: string;
  private readonly table: string;
  private readonly connectTimeout: number;
  private readonly operationTimeout: number;
  private readonly poolSize: number;
  private readonly sql: Record<string, string>;
  private pool: pg.Pool | undefined;
  private connected = false;

  constructor(options: PostgresOptions, ctx: BackendContext) {
    super(ctx);
    this.url = options.url;
    this.address = addressOf(options.url);
    this.table = options.table ?? POSTGRES_DEFAULTS.table;
    this.connectTimeout = options.connectTimeout ?? POSTGRES_DEFAULTS.connectTimeout;
    this.operationTimeout = options.operationTimeout ?? POSTGRES_DEFAULTS.operationTimeout;
    this.poolSize = options.poolSize ?? POSTGRES_DEFAULTS.poolSize;
    this.sql = statements(this.table);
  }

  protected async doOpen(): Promise<OperationResult> {
    const { Pool } = loadPg();
    const pool = new Pool({
      connectionString: this.url,
      max: this.poolSize,
      connectionTimeoutMillis: this.connectTimeout,
      query_timeout: this.operationTimeout,
      statement_timeout: this.operationTimeout,
      // Idle connections do not keep the process alive.
      allowExitOnIdle: true,
    });
    // An idle connection that breaks (server restarted) is reported here; without a listener it would crash the process.
    pool.on("error", (err) => this.lost(messageOf(err)));
    let client: pg.PoolClient | undefined;
    try {
      client = await pool.connect();
      // Two collectors opening at once must not race on CREATE TABLE IF NOT EXISTS (it can fail on pg_type).
      await client.query("BEGIN");
      await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`tailkit_storage:${this.table}`]);
      await client.query(`CREATE TABLE IF NOT EXISTS "${this.table}" (key text PRIMARY KEY, value text NOT NULL, expire_at bigint NOT NULL DEFAULT 0)`);
      await client.query(`CREATE INDEX IF NOT EXISTS "${this.table}_expire_at" ON "${this.table}" (expire_at) WHERE expire_at > 0`);
      await client.query("COMMIT");
      client.release();
    } catch (err) {
      client?.release(true);
      await pool.end().catch(() => undefined);
      const kind = classify(err);
      if (kind === "auth") return fail(ReturnCode.CONNECTION_FAILED, `authentication failed at postgres ${this.address}: ${messageOf(err)}`);
      if (kind === "connection" || kind === "timeout" || client === undefined) {
        return fail(ReturnCode.CONNECTION_FAILED, `no answer from postgres at ${this.address}: ${messageOf(err)}`);
      }
      return fail(ReturnCode.OPERATION_FAILED, `cannot prepare table "${this.table}" at postgres ${this.address}: ${messageOf(err)}`);
    }
    this.pool = pool;
    this.connected = true;
    return ok();
  }

  protected async doPut(put: RawPut): Promise<OperationResult> {
    if (put.ifValue !== undefined) return this.compared("updateIfValue", [put.key, put.ifValue, put.value, put.ttlMs]);
    if (put.overwrite) return this.query("upsert", [put.key, put.value, put.ttlMs], () => ok());
    return this.query("insertUnlessLive", [put.key, put.value, put.ttlMs], (r) =>
      r.rowCount ? ok() : fail(ReturnCode.KEY_EXISTS, "key exists and overwrite is false"),
    );
  }

  protected async doGet(key: string): Promise<OperationResult<string>> {
    return this.query("select", [key], (r) => {
      const row = r.rows[0] as { value: string } | undefined;
      return row ? ok(row.value) : fail<string>(ReturnCode.KEY_NOT_FOUND, "key not found");
    });
  }

  protected async doErase(key: string, ifValue?: string): Promise<OperationResult> {
    if (ifValue !== undefined) return this.compared("eraseIfValue", [key, ifValue]);
    return this.query("erase", [key], () => ok());
  }

  protected override async doGetAll(max: number): Promise<OperationResult<RawEntry[]>> {
    return this.query("all", [max], (r) => ok(r.rows as RawEntry[]));
  }

  protected override async doSize(): Promise<OperationResult<number>> {
    return this.query("count", [], (r) => ok(Number((r.rows[0] as { n: string }).n)));
  }

  // The server's clock decides what has expired, whatever `now` the sweeper passes.
  protected override async doExpire(_now: number): Promise<OperationResult<number>> {
    return this.query("expire", [], (r) => ok(r.rowCount ?? 0));
  }

  protected async doClose(): Promise<OperationResult> {
    const pool = this.pool;
    this.pool = undefined;
    if (!pool) return ok();
    try {
      await pool.end();
      return ok();
    } catch (err) {
      return fail(ReturnCode.DISCONNECTION_FAILED, `closing the postgres pool failed: ${messageOf(err)}`);
    }
  }

  private async compared(name: string, values: unknown[]): Promise<OperationResult> {
    return this.query(name, values, (r) => {
      const row = r.rows[0] as { changed: number; present: number };
      if (row.changed > 0) return ok();
      return row.present > 0 ? fail(ReturnCode.KEY_EXISTS, "key holds another value") : fail(ReturnCode.KEY_NOT_FOUND, "key not found");
    });
  }

  private async query<T>(name: string, values: unknown[], onRows: (r: pg.QueryResult) => OperationResult<T>): Promise<OperationResult<T>> {
    const pool = this.pool;
    if (!pool) return fail(ReturnCode.NOT_CONNECTED, "postgres backend is not connected");
    let result: pg.QueryResult;
    try {
      result = await pool.query({ name: `tailkit_${name}`, text: this.sql[name]!, values });
    } catch (err) {
      switch (classify(err)) {
        case "connection":
          this.lost(messageOf(err));
          return fail(ReturnCode.CONNECTION_LOST, `postgres at ${this.address}: ${messageOf(err)}`);
        case "timeout":
          return fail(ReturnCode.TIMEOUT, `${name}: no answer from postgres at ${this.address} within ${this.operationTimeout} ms (${messageOf(err)})`);
        default:
          return fail(ReturnCode.OPERATION_FAILED, `${name}: ${messageOf(err)}`);
      }
    }
    // The pool reconnects by itself; a statement that went through means the server is back.
    this.connected = true;
    return onRows(result);
  }

  // Failing statements and the pool's error event both report a loss; the flag makes it one event per outage.
  private lost(reason: string): void {
    if (!this.connected) return;
    this.connected = false;
    this.emitLost(`connection to postgres ${this.address} lost (${reason})`);
  }
}

/** Registry entry of the "postgres" backend: async only (create gives undefined for the sync module). */
export const postgresBackend: BackendDefinition = {
  validateOptions: validatePostgresOptions,
  optionNames: ["url", "table", "connectTimeout", "operationTimeout", "poolSize"],
  create: (options, ctx, mode) => (mode === "sync" ? undefined : new PostgresBackend(options as unknown as PostgresOptions, ctx)),
};
