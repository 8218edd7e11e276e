import { createRequire } from "node:module";
import type { Redis as RedisClient } from "ioredis";

// ioredis is loaded on first use: most processes (every plugin with SQLite state) never talk to Redis, and loading it
// costs a tenth of a second of start-up.
const require = createRequire(import.meta.url);
let redisClass: typeof RedisClient | undefined;
function loadRedis(): typeof RedisClient {
  redisClass ??= (require("ioredis") as { Redis: typeof RedisClient }).Redis;
  return redisClass;
}
import { ReturnCode, fail, ok, type OperationResult } from "../codes.js";
import { StorageBackendBase, type BackendContext, type RawEntry, type RawPut } from "../backend.js";
import { loop, pipe, type MaybePromise } from "../maybe-promise.js";
import type { BackendDefinition, BackendMode } from "../registry-types.js";
import type { RedisOptions } from "../types.js";
import { createRedisSession, type RedisClientLike, type SessionEvent, type SessionOptions, type SessionReply } from "./redis-session.js";
import { WorkerRedisLink } from "./redis-worker-link.js";

/** Defaults of the redis backend's options. */
export const REDIS_DEFAULTS = {
  host: "127.0.0.1",
  port: 6379,
  db: 0,
  keyPrefix: "tailkit:",
  connectTimeout: 2000,
  operationTimeout: 5000,
} as const;

function isInt(value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): boolean {
  return typeof value === "number" && Number.isInteger(value) && value >= min && value <= max;
}

/** Checks redis options; returns a message naming the bad option, or undefined. */
export function validateRedisOptions(options: Record<string, unknown>): string | undefined {
  const o = options;
  if (o["host"] !== undefined && (typeof o["host"] !== "string" || o["host"] === "")) return "options.host: must be a non-empty string";
  if (o["port"] !== undefined && !isInt(o["port"], 1, 65535)) return `options.port: must be an integer 1..65535, got ${JSON.stringify(o["port"])}`;
  if (o["db"] !== undefined && !isInt(o["db"], 0)) return `options.db: must be an integer >= 0, got ${JSON.stringify(o["db"])}`;
  for (const name of ["username", "password", "keyPrefix"]) {
    if (o[name] !== undefined && typeof o[name] !== "string") return `options.${name}: must be a string`;
  }
  for (const name of ["connectTimeout", "operationTimeout"]) {
    if (o[name] !== undefined && !isInt(o[name], 1))
      return `options.${name}: must be a positive integer number of milliseconds, got ${JSON.stringify(o[name])}`;
  }
  return undefined;
}

/** The two ways to reach a session: in this thread (async) or through a worker (sync). */
interface RedisLink {
  connect(): MaybePromise<SessionReply>;
  call(args: string[]): MaybePromise<SessionReply>;
  quit(): MaybePromise<SessionReply>;
}

/**
 * Redis backend on ioredis. Expiry is native (SET ... PX), put-if-absent is SET NX. The async
 * module talks to ioredis in this thread; the sync module drives the same session code in a
 * worker thread and blocks on its replies.
 */
export class RedisBackend extends StorageBackendBase {
  readonly sync: boolean;
  protected override readonly nativeExpiry = true;
  private readonly session: SessionOptions;
  private readonly keyPrefix: string;
  private link: RedisLink | undefined;
  private connected = false;

  constructor(options: RedisOptions, ctx: BackendContext, mode: BackendMode) {
    super(ctx);
    this.sync = mode === "sync";
    this.keyPrefix = options.keyPrefix ?? REDIS_DEFAULTS.keyPrefix;
    this.session = {
      host: options.host ?? REDIS_DEFAULTS.host,
      port: options.port ?? REDIS_DEFAULTS.port,
      db: options.db ?? REDIS_DEFAULTS.db,
      username: options.username,
      password: options.password,
      connectTimeout: options.connectTimeout ?? REDIS_DEFAULTS.connectTimeout,
      operationTimeout: options.operationTimeout ?? REDIS_DEFAULTS.operationTimeout,
    };
  }

  protected doOpen(): MaybePromise<OperationResult> {
    const onEvent = (event: SessionEvent): void => this.onSessionEvent(event);
    this.link = this.sync
      ? new WorkerRedisLink(this.session, onEvent)
      : createRedisSession(loadRedis() as unknown as new (o: Record<string, unknown>) => RedisClientLike, this.session, onEvent);
    return pipe(this.link.connect(), (reply) => {
      if (reply.ok) {
        this.connected = true;
        return ok();
      }
      // The session already disconnected; the worker outlives it unless stopped (without a blocking quit).
      if (this.link instanceof WorkerRedisLink) this.link.dispose();
      this.link = undefined;
      const address = `${this.session.host}:${this.session.port}`;
      if (reply.kind === "auth") return fail(ReturnCode.CONNECTION_FAILED, `authentication failed at redis ${address}: ${reply.message}`);
      return fail(ReturnCode.CONNECTION_FAILED, `no answer from redis at ${address}: ${reply.message}`);
    });
  }

  protected override readonly comparesValues = true;

  protected doPut(put: RawPut): MaybePromise<OperationResult> {
    if (put.ifValue !== undefined) {
      return this.call(["EVAL", PUT_IF_VALUE, "1", this.keyPrefix + put.key, put.ifValue, put.value, String(put.ttlMs)], compared);
    }
    const args = ["SET", this.keyPrefix + put.key, put.value];
    if (put.ttlMs > 0) args.push("PX", String(put.ttlMs));
    if (!put.overwrite) args.push("NX");
    return this.call(args, (value) => (value === null ? fail(ReturnCode.KEY_EXISTS, "key exists and overwrite is false") : ok()));
  }

  protected doGet(key: string): MaybePromise<OperationResult<string>> {
    return this.call(["GET", this.keyPrefix + key], (value) =>
      typeof value === "string" ? ok(value) : fail<string>(ReturnCode.KEY_NOT_FOUND, "key not found"),
    );
  }

  protected doErase(key: string, ifValue?: string): MaybePromise<OperationResult> {
    if (ifValue !== undefined) return this.call(["EVAL", ERASE_IF_VALUE, "1", this.keyPrefix + key, ifValue], compared);
    return this.call(["DEL", this.keyPrefix + key], () => ok());
  }

  // SCAN walks the whole database (MATCH filters afterwards), a page of SCAN_COUNT keys per call, and may give a key
  // twice; its pages are bounded, so getAll never holds more than `max` entries plus one page.
  protected override doGetAll(max: number): MaybePromise<OperationResult<RawEntry[]>> {
    const found = new Map<string, string>();
    return pipe(
      this.scan(
        () => found.size >= max,
        (keys) =>
          keys.length === 0
            ? ok()
            : this.call(["MGET", ...keys], (values) => {
                // A key that expired or was erased since the SCAN comes back null: it is no longer live.
                (values as Array<string | null>).forEach((v, i) => typeof v === "string" && found.set(keys[i]!.slice(this.keyPrefix.length), v));
                return ok();
              }),
      ),
      (r) =>
        r.code === ReturnCode.SUCCESS ? ok([...found].slice(0, max).map(([key, value]) => ({ key, value }))) : fail<RawEntry[]>(r.code, r.error ?? r.code),
    );
  }

  // Counts distinct names, as SCAN may repeat one: memory grows with the number of keys under the prefix.
  protected override doSize(): MaybePromise<OperationResult<number>> {
    const seen = new Set<string>();
    return pipe(
      this.scan(
        () => false,
        (keys) => {
          for (const k of keys) seen.add(k);
          return ok();
        },
      ),
      (r) => (r.code === ReturnCode.SUCCESS ? ok(seen.size) : fail<number>(r.code, r.error ?? r.code)),
    );
  }

  /** Pages through the keys under keyPrefix, handing each page to `page`, until the cursor is back at 0 or `enough`. */
  private scan(enough: () => boolean, page: (keys: string[]) => MaybePromise<OperationResult>): MaybePromise<OperationResult> {
    const pattern = this.keyPrefix.replace(/[*?[\]\\]/g, "\\$&") + "*";
    type Walk = { cursor: string; result: OperationResult; started: boolean };
    const walk = loop<Walk>(
      { cursor: "0", result: ok(), started: false },
      (w) => w.result.code !== ReturnCode.SUCCESS || (w.started && w.cursor === "0") || enough(),
      (w) =>
        pipe(
          this.call(["SCAN", w.cursor, "MATCH", pattern, "COUNT", String(SCAN_COUNT)], (reply) => ok(reply as [string, string[]])),
          (r): MaybePromise<Walk> => {
            if (r.code !== ReturnCode.SUCCESS) return { ...w, result: fail(r.code, r.error ?? r.code) };
            const [cursor, keys] = r.value!;
            return pipe(page(keys), (result) => ({ cursor, result, started: true }));
          },
        ),
    );
    return pipe(walk, (w) => w.result);
  }

  protected doClose(): MaybePromise<OperationResult> {
    const link = this.link;
    this.link = undefined;
    if (!link) return ok();
    return pipe(link.quit(), (reply) => {
      // A connection that is already gone has nothing left to disconnect.
      if (reply.ok || reply.kind === "connection") return ok();
      return fail(ReturnCode.DISCONNECTION_FAILED, `closing the redis connection failed: ${reply.message}`);
    });
  }

  private call<T>(args: string[], onValue: (value: unknown) => OperationResult<T>): MaybePromise<OperationResult<T>> {
    const link = this.link;
    if (!link) return fail(ReturnCode.NOT_CONNECTED, "redis backend is not connected");
    return pipe(link.call(args), (reply) => {
      if (reply.ok) return onValue(reply.value);
      switch (reply.kind) {
        case "connection":
          this.onSessionEvent({ type: "lost", reason: reply.message });
          return fail(ReturnCode.CONNECTION_LOST, `redis at ${this.session.host}:${this.session.port}: ${reply.message}`);
        case "timeout":
          return fail(ReturnCode.TIMEOUT, `${args[0]} got no reply within ${this.session.operationTimeout} ms`);
        default:
          return fail(ReturnCode.OPERATION_FAILED, `${args[0]}: ${reply.message}`);
      }
    });
  }

  // Both the session's own events and failed calls report a loss; the flag makes it one event per outage.
  private onSessionEvent(event: SessionEvent): void {
    if (event.type === "ready") {
      this.connected = true;
    } else if (this.connected) {
      this.connected = false;
      this.emitLost(event.reason);
    }
  }
}

/** Registry entry of the "redis" backend. */
export const redisBackend: BackendDefinition = {
  validateOptions: validateRedisOptions,
  optionNames: ["host", "port", "db", "username", "password", "keyPrefix", "connectTimeout", "operationTimeout"],
  create: (options, ctx, mode) => new RedisBackend(options, ctx, mode),
};

/** Keys SCAN looks at per call: large enough to page quickly, small enough not to stall the server. */
const SCAN_COUNT = 1000;

// Compare-and-set and compare-and-delete run as Lua scripts, which Redis runs atomically. They answer 0 when no live
// entry holds the key, 1 when one with another value does, 2 when they wrote.
const PUT_IF_VALUE = `local v = redis.call('GET', KEYS[1])
if not v then return 0 end
if v ~= ARGV[1] then return 1 end
if ARGV[3] == '0' then redis.call('SET', KEYS[1], ARGV[2]) else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
return 2`;
const ERASE_IF_VALUE = `local v = redis.call('GET', KEYS[1])
if not v then return 0 end
if v ~= ARGV[1] then return 1 end
redis.call('DEL', KEYS[1])
return 2`;

function compared(value: unknown): OperationResult {
  if (value === 2) return ok();
  if (value === 1) return fail(ReturnCode.KEY_EXISTS, "key holds another value");
  if (value === 0) return fail(ReturnCode.KEY_NOT_FOUND, "key not found");
  return fail(ReturnCode.OPERATION_FAILED, `unexpected answer from redis: ${JSON.stringify(value)}`);
}
