import type { OperationResult } from "./codes.js";

/** Milliseconds since the epoch; injectable so expiry can be tested without sleeping. */
export type Clock = () => number;

/** Turns keys and values into strings a backend stores, and back. */
export interface Serializer {
  /** Name recorded in error messages, e.g. "tkjson1". */
  readonly name: string;
  /**
   * Encodes `value`. For `purpose` "key" the encoding must be canonical (equal keys give equal
   * strings, whatever their property, Set member or Map entry order), since backends compare keys as strings.
   */
  serialize(value: unknown, purpose: "key" | "value"): OperationResult<string>;
  /** Decodes what `serialize` produced; UNSERIALIZATION_FAILED for anything else. */
  unserialize(data: string): OperationResult<unknown>;
}

/** Options every backend accepts. */
export interface StorageOptions {
  /** Encoding of keys and values. Default: the JSON serializer with the "tkjson1:" prefix. */
  serializer?: Serializer;
  /** Time source for expiry, in ms since the epoch. Default: Date.now. */
  clock?: Clock;
  /**
   * Seconds between sweeps that delete expired entries, for backends without native expiry.
   * 0 disables the sweeper (expired entries are still never returned). Default: 15.
   */
  expireInterval?: number;
  /**
   * Most entries one getAll() returns; past it getAll gives RESULT_TOO_LARGE rather than loading an unbounded set.
   * A call's own `limit` replaces it. Default: 10000.
   */
  getAllLimit?: number;
}

/** Arguments of getAll. */
export interface GetAllOptions {
  /** Most entries to return; more live entries than this give RESULT_TOO_LARGE. Default: the handle's getAllLimit. */
  limit?: number;
}

/** One live entry, as getAll returns it. */
export interface Entry<K, V> {
  key: K;
  value: V;
}

/** Storage operations, as metrics name them. */
export type StorageOperation = "open" | "put" | "get" | "erase" | "getAll" | "size" | "sweep" | "close";

/** Latency of one kind of operation, in milliseconds. */
export interface LatencyStats {
  count: number;
  totalMs: number;
  maxMs: number;
  /** Calls by duration: buckets[i] counts those over LATENCY_BOUNDS_MS[i - 1] and up to LATENCY_BOUNDS_MS[i]; the last, those over every bound. */
  buckets: number[];
}

/** What one handle's backend did since open, for monitoring (every call counts, also those refused before the store). */
export interface StorageMetrics {
  /** Calls by operation, then by result code: `operations.put.SUCCESS`. */
  operations: Partial<Record<StorageOperation, Record<string, number>>>;
  /** UTF-8 bytes of serialized keys and values handed to the store (put, erase and get keys, put values). */
  bytesOut: number;
  /** UTF-8 bytes of serialized data the store returned (get values, getAll keys and values, also of a getAll past its limit). */
  bytesIn: number;
  /** Time per call, by operation. */
  latency: Partial<Record<StorageOperation, LatencyStats>>;
}

/** Options of the "sqlite" backend. */
export interface SqliteOptions extends StorageOptions {
  /** Database file, or ":memory:". Required. */
  path: string;
  /** Table holding this handle's entries; several tables in one file stay apart. Default: "tailkit_storage". */
  table?: string;
  /** Milliseconds to wait for a lock held by another connection before TIMEOUT. Default: 5000. */
  busyTimeout?: number;
}

/** Options of the "redis" backend. */
export interface RedisOptions extends StorageOptions {
  /** Server host. Default: "127.0.0.1". */
  host?: string;
  /** Server port. Default: 6379. */
  port?: number;
  /** Database index. Default: 0. */
  db?: number;
  /** ACL user name. Default: none. */
  username?: string;
  /** Password. Default: none. */
  password?: string;
  /** Prepended to every key; handles with different prefixes stay apart. Default: "tailkit:". */
  keyPrefix?: string;
  /** Milliseconds the whole open (connect, authentication, ready check) may take before CONNECTION_FAILED. Default: 2000. */
  connectTimeout?: number;
  /** Milliseconds to wait for one command's reply before TIMEOUT. Default: 5000. */
  operationTimeout?: number;
}

/** Options by backend name; third-party backends add theirs by declaration merging. */
export interface BackendOptionsMap {
  sqlite: SqliteOptions;
  redis: RedisOptions;
}

/** Arguments of put. */
export interface PutArgs<K, V> {
  key: K;
  value: V;
  /** Replace a live entry with the same key. Default: true; false gives KEY_EXISTS when one is there. */
  overwrite?: boolean;
  /** Seconds from now until the entry expires (fractions allowed). 0 or undefined: never. */
  expireTime?: number;
  /**
   * Compare-and-set: store only when a live entry whose value serializes as this one does holds the key, in one step
   * with the check. KEY_NOT_FOUND when no live entry holds it, KEY_EXISTS when one with another value does (nothing
   * is stored either way); `overwrite` does not apply. Backends that cannot do it answer OPERATION_FAILED.
   */
  ifValue?: V;
}

/** Kind of storage event. */
export type StorageEventType = "backend_opened" | "backend_lost";

/** A backend coming up or going away. */
export interface StorageEvent {
  type: StorageEventType;
  /** Backend name, e.g. "sqlite". */
  backend: string;
  /** Identifies the handle across events; unique within the process. */
  handleId: number;
  /** Why a backend was lost: "closed" after close(), else the transport's reason. */
  reason?: string;
}
