import type { Observable } from "rxjs";
import type { StorageBackend, SweepStats } from "./backend.js";
import { ReturnCode, fail, type OperationResult } from "./codes.js";
import { isPromiseLike, type MaybePromise } from "./maybe-promise.js";
import type { Entry, GetAllOptions, PutArgs, StorageEvent, StorageMetrics } from "./types.js";

/** What both handles expose besides their operations: the backend's name, events and sweeper counters. */
abstract class HandleBase {
  protected readonly backend: StorageBackend;

  constructor(backend: StorageBackend) {
    this.backend = backend;
  }

  /** Registry name of the backend, e.g. "redis". */
  get backendName(): string {
    return this.backend.name;
  }

  /** backend_opened (replayed to each subscriber), then backend_lost as it happens; completes after close. */
  get events(): Observable<StorageEvent> {
    return this.backend.events;
  }

  /** Expiry sweeper counters. */
  get sweepStats(): Readonly<SweepStats> {
    return this.backend.sweepStats;
  }

  /** True from a successful open until close(); a lost connection leaves it true (events say so, calls give CONNECTION_LOST). */
  get isOpen(): boolean {
    return this.backend.isOpen;
  }

  /** What this handle's calls did so far (by operation and code, bytes, latency); a copy, not a live view. */
  get metrics(): StorageMetrics {
    return this.backend.metrics;
  }
}

/** An open store from the async module; every method resolves to a result and never rejects. */
export class Handle<K, V> extends HandleBase {
  /** Wraps an opened backend; use async open() rather than calling this. */
  constructor(backend: StorageBackend) {
    super(backend);
  }

  /** Stores `value` under `key`; see PutArgs for overwrite and expiry. */
  async put(args: PutArgs<K, V>): Promise<OperationResult> {
    return this.backend.put(args);
  }

  /** The live value under `key`, or KEY_NOT_FOUND. */
  async get(key: K): Promise<OperationResult<V>> {
    return (await this.backend.get(key)) as OperationResult<V>;
  }

  /** Removes `key`; SUCCESS whether or not it was there. With `ifValue`, only while it holds that value (see PutArgs). */
  async erase(key: K, ifValue?: V): Promise<OperationResult> {
    return this.backend.erase(key, ifValue);
  }

  /** Every live entry (in no promised order), or RESULT_TOO_LARGE past the limit (default: the getAllLimit option). */
  async getAll(options?: GetAllOptions): Promise<OperationResult<Array<Entry<K, V>>>> {
    return (await this.backend.getAll(options)) as OperationResult<Array<Entry<K, V>>>;
  }

  /** How many live (unexpired) entries the store holds. */
  async size(): Promise<OperationResult<number>> {
    return this.backend.size();
  }

  /** Deletes expired entries now; value: how many. */
  async sweep(): Promise<OperationResult<number>> {
    return this.backend.sweep();
  }

  /** Releases the backend; every later call gives NOT_CONNECTED. */
  async close(): Promise<OperationResult> {
    return this.backend.close();
  }
}

function now<T>(result: MaybePromise<OperationResult<T>>, op: string): OperationResult<T> {
  if (!isPromiseLike(result)) return result;
  // Only reachable with a misbehaving third-party backend that claims to be sync.
  result.then(undefined, () => undefined);
  return fail(ReturnCode.OPERATION_FAILED, `${op}: backend answered asynchronously to a sync call`);
}

/** An open store from the sync module; every method returns its result before it returns. */
export class SyncHandle<K, V> extends HandleBase {
  /** Wraps an opened sync backend; use sync open() rather than calling this. */
  constructor(backend: StorageBackend) {
    super(backend);
  }

  /** Stores `value` under `key`; see PutArgs for overwrite and expiry. */
  put(args: PutArgs<K, V>): OperationResult {
    return now(this.backend.put(args), "put");
  }

  /** The live value under `key`, or KEY_NOT_FOUND. */
  get(key: K): OperationResult<V> {
    return now(this.backend.get(key), "get") as OperationResult<V>;
  }

  /** Removes `key`; SUCCESS whether or not it was there. With `ifValue`, only while it holds that value (see PutArgs). */
  erase(key: K, ifValue?: V): OperationResult {
    return now(this.backend.erase(key, ifValue), "erase");
  }

  /** Every live entry (in no promised order), or RESULT_TOO_LARGE past the limit (default: the getAllLimit option). */
  getAll(options?: GetAllOptions): OperationResult<Array<Entry<K, V>>> {
    return now(this.backend.getAll(options), "getAll") as OperationResult<Array<Entry<K, V>>>;
  }

  /** How many live (unexpired) entries the store holds. */
  size(): OperationResult<number> {
    return now(this.backend.size(), "size");
  }

  /** Deletes expired entries now; value: how many. */
  sweep(): OperationResult<number> {
    return now(this.backend.sweep(), "sweep");
  }

  /** Releases the backend; every later call gives NOT_CONNECTED. */
  close(): OperationResult {
    return now(this.backend.close(), "close");
  }
}
