// rxjs's main entry loads all of rxjs (some 400 modules, a fifth of a second of start-up on the critical path of
// every plugin launch); the package exports its internal modules, and these are the few the SDK uses.
import type { Observable } from "rxjs";
import { concat } from "rxjs/internal/observable/concat";
import { of } from "rxjs/internal/observable/of";
import { Subject } from "rxjs/internal/Subject";
import { ReturnCode, fail, messageOf, ok, type OperationResult } from "./codes.js";
import { isPromiseLike, pipe, type MaybePromise } from "./maybe-promise.js";
import { MetricsRecorder, byteLength } from "./metrics.js";
import type { TypeDescriptor } from "./type-descriptors.js";
import type { Clock, Entry, GetAllOptions, PutArgs, Serializer, StorageEvent, StorageMetrics, StorageOperation } from "./types.js";

/** A put as a backend sees it: serialized key and value, and the expiry in both forms backends need. */
export interface RawPut {
  key: string;
  value: string;
  overwrite: boolean;
  /** Absolute expiry in clock milliseconds; 0 = never. */
  expireAt: number;
  /** Relative expiry in milliseconds (for servers with native TTLs); 0 = never. */
  ttlMs: number;
  /** Serialized PutArgs.ifValue: store only over a live entry with exactly this value (see PutArgs). */
  ifValue?: string;
}

/** A stored entry as a backend lists it: serialized key and value. */
export interface RawEntry {
  key: string;
  value: string;
}

/** What open() hands a backend besides its own options. */
export interface BackendContext {
  /** Registry name, used in messages and events. */
  name: string;
  keyType: TypeDescriptor<unknown>;
  valueType: TypeDescriptor<unknown>;
  serializer: Serializer;
  clock: Clock;
  /** Milliseconds between sweeps; 0 = no sweeper. */
  expireIntervalMs: number;
  /** Default most entries of one getAll (StorageOptions.getAllLimit). */
  getAllLimit: number;
}

/** Counters of the expiry sweeper, so skipped or failed sweeps are visible rather than silent. */
export interface SweepStats {
  sweeps: number;
  expiredEntries: number;
  /** Timer ticks skipped because the previous sweep was still running. */
  skipped: number;
  failed: number;
  lastError?: string;
}

/**
 * The contract handles talk to. Results are synchronous for backends with `sync` true, which is
 * what lets the sync module use them; async backends return Promises.
 */
export interface StorageBackend {
  /** Registry name, e.g. "sqlite". */
  readonly name: string;
  /** Every method answers without a Promise. */
  readonly sync: boolean;
  /** Process-unique id carried by this backend's events. */
  readonly handleId: number;
  /** backend_opened (replayed to each subscriber), then live backend_lost events; completes after close. */
  readonly events: Observable<StorageEvent>;
  /** Sweeper counters. */
  readonly sweepStats: Readonly<SweepStats>;
  /** True between a successful open and close (a lost connection does not change it: see events). */
  readonly isOpen: boolean;
  /** A snapshot of the calls made so far: by operation and code, bytes, latency. */
  readonly metrics: StorageMetrics;
  open(): MaybePromise<OperationResult>;
  put(args: PutArgs<unknown, unknown>): MaybePromise<OperationResult>;
  get(key: unknown): MaybePromise<OperationResult<unknown>>;
  /** Removes the key; with `ifValue`, only when a live entry with that value holds it (else KEY_NOT_FOUND or KEY_EXISTS). */
  erase(key: unknown, ifValue?: unknown): MaybePromise<OperationResult>;
  /** Every live entry, or RESULT_TOO_LARGE when there are more than the limit (none past it is read). */
  getAll(options?: GetAllOptions): MaybePromise<OperationResult<Array<Entry<unknown, unknown>>>>;
  /** How many live (unexpired) entries the store holds. */
  size(): MaybePromise<OperationResult<number>>;
  /** Deletes expired entries now; IN_PROGRESS if a sweep is already running. Value: entries deleted. */
  sweep(): MaybePromise<OperationResult<number>>;
  close(): MaybePromise<OperationResult>;
}

/** Every storage event of the process, from every handle; subscribe before open() to see backend_opened. */
const allEvents = new Subject<StorageEvent>();
/** Module-level stream of all storage events. */
export const storageEvents: Observable<StorageEvent> = allEvents.asObservable();

let nextHandleId = 1;

type State = "new" | "opening" | "open" | "closing" | "closed";

/**
 * Shared machinery of backends: lifecycle state, key/value type checks, serialization, expiry
 * arithmetic, the sweeper and events. A backend implements only the do* methods, on strings.
 */
export abstract class StorageBackendBase implements StorageBackend {
  readonly name: string;
  readonly handleId = nextHandleId++;
  readonly events: Observable<StorageEvent>;
  abstract readonly sync: boolean;
  /** Backends whose store expires entries itself (e.g. Redis PX) need no sweeper. */
  protected readonly nativeExpiry: boolean = false;
  protected readonly clock: Clock;
  readonly #ctx: BackendContext;
  readonly #live = new Subject<StorageEvent>();
  #state: State = "new";
  #sweeping = false;
  #timer: NodeJS.Timeout | undefined;
  readonly #stats: SweepStats = { sweeps: 0, expiredEntries: 0, skipped: 0, failed: 0 };
  readonly #metrics = new MetricsRecorder();

  constructor(ctx: BackendContext) {
    this.#ctx = ctx;
    this.name = ctx.name;
    this.clock = ctx.clock;
    const opened: StorageEvent = { type: "backend_opened", backend: this.name, handleId: this.handleId };
    this.events = concat(of(opened), this.#live);
  }

  /** Connects or creates the store; allocate resources here, not in the constructor. */
  protected abstract doOpen(): MaybePromise<OperationResult>;
  /** Stores one entry; KEY_EXISTS when `overwrite` is false and a live entry holds the key. */
  protected abstract doPut(put: RawPut): MaybePromise<OperationResult>;
  /** The stored string, or KEY_NOT_FOUND; must never return an entry whose expireAt has passed. */
  protected abstract doGet(key: string): MaybePromise<OperationResult<string>>;
  /**
   * Removes the key; SUCCESS whether or not it was there. With `ifValue` (serialized), only when a live entry with
   * exactly that value holds it, in one step with the check: else KEY_NOT_FOUND (no live entry) or KEY_EXISTS.
   */
  protected abstract doErase(key: string, ifValue?: string): MaybePromise<OperationResult>;
  /** Whether doPut and doErase honour `ifValue`; a backend that does not is refused such calls. */
  protected readonly comparesValues: boolean = false;
  /** Releases the store; DISCONNECTION_FAILED if that fails. */
  protected abstract doClose(): MaybePromise<OperationResult>;
  /**
   * Live entries, at most `max` of them (the base asks for one more than the limit, to tell "exactly the limit" from
   * "more"): a backend must stop reading there, never load the whole store. The default answers that this backend
   * cannot list its entries.
   */
  protected doGetAll(_max: number): MaybePromise<OperationResult<RawEntry[]>> {
    return fail(ReturnCode.OPERATION_FAILED, `getAll: the ${this.name} backend cannot list its entries`);
  }
  /** How many live entries the store holds. The default answers that this backend cannot count them. */
  protected doSize(): MaybePromise<OperationResult<number>> {
    return fail(ReturnCode.OPERATION_FAILED, `size: the ${this.name} backend cannot count its entries`);
  }
  /** Deletes entries with 0 < expireAt <= now; value: how many. Backends with native expiry keep the default. */
  protected doExpire(_now: number): MaybePromise<OperationResult<number>> {
    return ok(0);
  }

  get sweepStats(): Readonly<SweepStats> {
    return { ...this.#stats };
  }

  /** True between a successful open and close. */
  get isOpen(): boolean {
    return this.#state === "open";
  }

  get metrics(): StorageMetrics {
    return this.#metrics.snapshot();
  }

  /** Reports that the store went away while open (not via close); backends dedupe repeated reports themselves. */
  protected emitLost(reason: string): void {
    if (this.#state !== "open") return;
    this.#emit({ type: "backend_lost", backend: this.name, handleId: this.handleId, reason });
  }

  open(): MaybePromise<OperationResult> {
    return this.#measure("open", () => this.#open());
  }

  put(args: PutArgs<unknown, unknown>): MaybePromise<OperationResult> {
    return this.#measure("put", () => this.#put(args));
  }

  get(key: unknown): MaybePromise<OperationResult<unknown>> {
    return this.#measure("get", () => this.#get(key));
  }

  erase(key: unknown, ifValue?: unknown): MaybePromise<OperationResult> {
    return this.#measure("erase", () => this.#erase(key, ifValue));
  }

  getAll(options?: GetAllOptions): MaybePromise<OperationResult<Array<Entry<unknown, unknown>>>> {
    return this.#measure("getAll", () => this.#getAll(options));
  }

  size(): MaybePromise<OperationResult<number>> {
    return this.#measure("size", () => (this.#state === "open" ? this.#guard("size", () => this.doSize()) : this.#notConnected("size")));
  }

  sweep(): MaybePromise<OperationResult<number>> {
    return this.#measure("sweep", () => this.#sweep());
  }

  close(): MaybePromise<OperationResult> {
    return this.#measure("close", () => this.#close());
  }

  #measure<T>(op: StorageOperation, fn: () => MaybePromise<OperationResult<T>>): MaybePromise<OperationResult<T>> {
    const started = performance.now();
    return pipe(fn(), (result) => {
      this.#metrics.record(op, result.code, performance.now() - started);
      return result;
    });
  }

  #open(): MaybePromise<OperationResult> {
    if (this.#state !== "new") return fail(ReturnCode.IN_PROGRESS, `${this.name} backend: open() was already called`);
    this.#state = "opening";
    return pipe(
      this.#guard("open", () => this.doOpen()),
      (result) => {
        if (result.code !== ReturnCode.SUCCESS) {
          this.#state = "closed";
          return fail(result.code, `${this.name} backend failed to open: ${result.error ?? result.code}`);
        }
        this.#state = "open";
        this.#emit({ type: "backend_opened", backend: this.name, handleId: this.handleId });
        this.#startSweeper();
        return ok();
      },
    );
  }

  #put(args: PutArgs<unknown, unknown>): MaybePromise<OperationResult> {
    if (this.#state !== "open") return this.#notConnected("put");
    if (typeof args !== "object" || args === null) return fail(ReturnCode.OPERATION_FAILED, "put: expected { key, value, overwrite?, expireTime? }");
    const { key, value, overwrite = true, expireTime = 0, ifValue } = args;
    const keyError = this.#ctx.keyType.check(key);
    if (keyError !== undefined) return fail(ReturnCode.KEY_TYPE_MISMATCH, `key is not ${this.#ctx.keyType.name}: ${keyError}`);
    const valueError = this.#ctx.valueType.check(value);
    if (valueError !== undefined) return fail(ReturnCode.VAL_TYPE_MISMATCH, `value is not ${this.#ctx.valueType.name}: ${valueError}`);
    if (typeof overwrite !== "boolean") return fail(ReturnCode.OPERATION_FAILED, "put: overwrite must be a boolean");
    if (typeof expireTime !== "number" || !Number.isFinite(expireTime) || expireTime < 0) {
      return fail(ReturnCode.OPERATION_FAILED, `put: expireTime must be a finite number of seconds >= 0, got ${String(expireTime)}`);
    }
    const k = this.#ctx.serializer.serialize(key, "key");
    if (k.code !== ReturnCode.SUCCESS) return fail(k.code, k.error ?? "key serialization failed");
    const v = this.#ctx.serializer.serialize(value, "value");
    if (v.code !== ReturnCode.SUCCESS) return fail(v.code, v.error ?? "value serialization failed");
    const expected = ifValue === undefined ? undefined : this.#serializeCompared("put", ifValue);
    if (expected !== undefined && typeof expected !== "string") return expected;
    // Round up so a tiny positive expireTime never becomes 0, which would mean "never".
    const ttlMs = expireTime > 0 ? Math.max(1, Math.ceil(expireTime * 1000)) : 0;
    const expireAt = ttlMs > 0 ? this.clock() + ttlMs : 0;
    const raw: RawPut = { key: k.value!, value: v.value!, overwrite, expireAt, ttlMs };
    if (expected !== undefined) raw.ifValue = expected;
    this.#metrics.bytesOut += byteLength(raw.key) + byteLength(raw.value) + (expected === undefined ? 0 : byteLength(expected));
    return this.#guard("put", () => this.doPut(raw));
  }

  /** The serialized value a put or erase compares with, or the failure to give. */
  #serializeCompared(op: string, value: unknown): string | OperationResult {
    if (!this.comparesValues) return fail(ReturnCode.OPERATION_FAILED, `${op}: the ${this.name} backend cannot compare values (ifValue)`);
    const mismatch = this.#ctx.valueType.check(value);
    if (mismatch !== undefined) return fail(ReturnCode.VAL_TYPE_MISMATCH, `ifValue is not ${this.#ctx.valueType.name}: ${mismatch}`);
    const v = this.#ctx.serializer.serialize(value, "value");
    if (v.code !== ReturnCode.SUCCESS) return fail(v.code, v.error ?? "value serialization failed");
    return v.value!;
  }

  #get(key: unknown): MaybePromise<OperationResult<unknown>> {
    if (this.#state !== "open") return this.#notConnected("get");
    const k = this.#serializeKey(key);
    if (typeof k !== "string") return k;
    this.#metrics.bytesOut += byteLength(k);
    return pipe(
      this.#guard("get", () => this.doGet(k)),
      (found): OperationResult<unknown> => {
        if (found.code !== ReturnCode.SUCCESS) return fail(found.code, found.error ?? found.code);
        this.#metrics.bytesIn += byteLength(found.value!);
        return this.#decode(found.value!, "value");
      },
    );
  }

  /** A stored key or value decoded and checked against its descriptor, or UNSERIALIZATION_FAILED. */
  #decode(data: string, what: "key" | "value"): OperationResult<unknown> {
    const decoded = this.#ctx.serializer.unserialize(data);
    if (decoded.code !== ReturnCode.SUCCESS) return decoded;
    const type = what === "key" ? this.#ctx.keyType : this.#ctx.valueType;
    const mismatch = type.check(decoded.value);
    if (mismatch !== undefined) return fail(ReturnCode.UNSERIALIZATION_FAILED, `stored ${what} is not ${type.name}: ${mismatch}`);
    return decoded;
  }

  #erase(key: unknown, ifValue?: unknown): MaybePromise<OperationResult> {
    if (this.#state !== "open") return this.#notConnected("erase");
    const k = this.#serializeKey(key);
    if (typeof k !== "string") return k;
    this.#metrics.bytesOut += byteLength(k);
    if (ifValue === undefined) return this.#guard("erase", () => this.doErase(k));
    const expected = this.#serializeCompared("erase", ifValue);
    if (typeof expected !== "string") return expected;
    this.#metrics.bytesOut += byteLength(expected);
    return this.#guard("erase", () => this.doErase(k, expected));
  }

  #getAll(options: GetAllOptions | undefined): MaybePromise<OperationResult<Array<Entry<unknown, unknown>>>> {
    if (this.#state !== "open") return this.#notConnected("getAll");
    const limit = options?.limit ?? this.#ctx.getAllLimit;
    if (!Number.isSafeInteger(limit) || limit < 0) {
      return fail(ReturnCode.OPERATION_FAILED, `getAll: limit must be an integer >= 0, got ${String(limit)}`);
    }
    return pipe(
      this.#guard("getAll", () => this.doGetAll(limit + 1)),
      (found): OperationResult<Array<Entry<unknown, unknown>>> => {
        if (found.code !== ReturnCode.SUCCESS) return fail(found.code, found.error ?? found.code);
        const raw = found.value!;
        for (const e of raw) this.#metrics.bytesIn += byteLength(e.key) + byteLength(e.value);
        if (raw.length > limit) {
          return fail(ReturnCode.RESULT_TOO_LARGE, `getAll: more than ${limit} live entries; give a higher limit (getAll({ limit }) or getAllLimit)`);
        }
        const entries: Array<Entry<unknown, unknown>> = [];
        for (const e of raw) {
          const key = this.#decode(e.key, "key");
          if (key.code !== ReturnCode.SUCCESS) return fail(key.code, `getAll: key ${JSON.stringify(e.key.slice(0, 80))}: ${key.error ?? key.code}`);
          const value = this.#decode(e.value, "value");
          if (value.code !== ReturnCode.SUCCESS)
            return fail(value.code, `getAll: value under ${JSON.stringify(e.key.slice(0, 80))}: ${value.error ?? value.code}`);
          entries.push({ key: key.value, value: value.value });
        }
        return ok(entries);
      },
    );
  }

  #sweep(): MaybePromise<OperationResult<number>> {
    if (this.#state !== "open") return this.#notConnected("sweep");
    if (this.#sweeping) {
      this.#stats.skipped++;
      return fail(ReturnCode.IN_PROGRESS, "a sweep is already running");
    }
    this.#sweeping = true;
    const done = (result: OperationResult<number>): OperationResult<number> => {
      this.#sweeping = false;
      this.#stats.sweeps++;
      if (result.code === ReturnCode.SUCCESS) this.#stats.expiredEntries += result.value ?? 0;
      else {
        this.#stats.failed++;
        this.#stats.lastError = result.error ?? result.code;
      }
      return result;
    };
    return pipe(
      this.#guard("sweep", () => this.doExpire(this.clock())),
      done,
    );
  }

  #close(): MaybePromise<OperationResult> {
    if (this.#state === "closing") return fail(ReturnCode.IN_PROGRESS, `${this.name} backend is already closing`);
    if (this.#state !== "open") return this.#notConnected("close");
    this.#state = "closing";
    if (this.#timer) clearInterval(this.#timer);
    return pipe(
      this.#guard("close", () => this.doClose()),
      (result) => {
        this.#state = "closed";
        this.#emit({ type: "backend_lost", backend: this.name, handleId: this.handleId, reason: "closed" });
        this.#live.complete();
        return result;
      },
    );
  }

  #serializeKey(key: unknown): string | OperationResult<never> {
    const keyError = this.#ctx.keyType.check(key);
    if (keyError !== undefined) return fail(ReturnCode.KEY_TYPE_MISMATCH, `key is not ${this.#ctx.keyType.name}: ${keyError}`);
    const k = this.#ctx.serializer.serialize(key, "key");
    if (k.code !== ReturnCode.SUCCESS) return fail(k.code, k.error ?? "key serialization failed");
    return k.value!;
  }

  #notConnected<T>(op: string): OperationResult<T> {
    const why = this.#state === "new" || this.#state === "opening" ? "is not open yet" : "is closed";
    return fail(ReturnCode.NOT_CONNECTED, `${op}: ${this.name} backend ${why}`);
  }

  // A backend that throws instead of returning a code still yields a result, never an exception.
  #guard<T>(op: string, fn: () => MaybePromise<OperationResult<T>>): MaybePromise<OperationResult<T>> {
    const wrap = (err: unknown): OperationResult<T> => fail(ReturnCode.OPERATION_FAILED, `${op}: ${messageOf(err)}`);
    try {
      const result = fn();
      return isPromiseLike(result) ? result.then((r) => r, wrap) : result;
    } catch (err) {
      return wrap(err);
    }
  }

  #startSweeper(): void {
    if (this.nativeExpiry || this.#ctx.expireIntervalMs <= 0) return;
    this.#timer = setInterval(() => {
      const result = this.sweep();
      // The sweep records its own outcome in stats; nothing is left to await.
      if (isPromiseLike(result)) result.then(undefined, () => undefined);
    }, this.#ctx.expireIntervalMs);
    this.#timer.unref();
  }

  #emit(event: StorageEvent): void {
    if (event.type === "backend_lost") this.#live.next(event);
    allEvents.next(event);
  }
}
