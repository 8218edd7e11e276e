// rxjs's main entry loads all of rxjs (some 400 modules, a fifth of a second of start-up on the critical path of
// every plugin launch); the package exports its internal modules, and these are the few the SDK uses.
import type { Observable } from "rxjs";
import { concat } from "rxjs/internal/observable/concat";
import { of } from "rxjs/internal/observable/of";
import { Subject } from "rxjs/internal/Subject";
import { ReturnCode, fail, messageOf, ok, type OperationResult } from "./codes.js";
import { isPromiseLike, pipe, type MaybePromise } from "./maybe-promise.js";
import type { TypeDescriptor } from "./type-descriptors.js";
import type { Clock, PutArgs, Serializer, StorageEvent } from "./types.js";

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
  open(): MaybePromise<OperationResult>;
  put(args: PutArgs<unknown, unknown>): MaybePromise<OperationResult>;
  get(key: unknown): MaybePromise<OperationResult<unknown>>;
  /** Removes the key; with `ifValue`, only when a live entry with that value holds it (else KEY_NOT_FOUND or KEY_EXISTS). */
  erase(key: unknown, ifValue?: unknown): MaybePromise<OperationResult>;
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
  /** Deletes entries with 0 < expireAt <= now; value: how many. Backends with native expiry keep the default. */
  protected doExpire(_now: number): MaybePromise<OperationResult<number>> {
    return ok(0);
  }

  get sweepStats(): Readonly<SweepStats> {
    return { ...this.#stats };
  }

  /** True between a successful open and close. */
  protected get isOpen(): boolean {
    return this.#state === "open";
  }

  /** Reports that the store went away while open (not via close); backends dedupe repeated reports themselves. */
  protected emitLost(reason: string): void {
    if (this.#state !== "open") return;
    this.#emit({ type: "backend_lost", backend: this.name, handleId: this.handleId, reason });
  }

  open(): MaybePromise<OperationResult> {
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

  put(args: PutArgs<unknown, unknown>): MaybePromise<OperationResult> {
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

  get(key: unknown): MaybePromise<OperationResult<unknown>> {
    if (this.#state !== "open") return this.#notConnected("get");
    const k = this.#serializeKey(key);
    if (typeof k !== "string") return k;
    return pipe(
      this.#guard("get", () => this.doGet(k)),
      (found): OperationResult<unknown> => {
        if (found.code !== ReturnCode.SUCCESS) return fail(found.code, found.error ?? found.code);
        const decoded = this.#ctx.serializer.unserialize(found.value!);
        if (decoded.code !== ReturnCode.SUCCESS) return decoded;
        const mismatch = this.#ctx.valueType.check(decoded.value);
        if (mismatch !== undefined) {
          return fail(ReturnCode.UNSERIALIZATION_FAILED, `stored value is not ${this.#ctx.valueType.name}: ${mismatch}`);
        }
        return decoded;
      },
    );
  }

  erase(key: unknown, ifValue?: unknown): MaybePromise<OperationResult> {
    if (this.#state !== "open") return this.#notConnected("erase");
    const k = this.#serializeKey(key);
    if (typeof k !== "string") return k;
    if (ifValue === undefined) return this.#guard("erase", () => this.doErase(k));
    const expected = this.#serializeCompared("erase", ifValue);
    if (typeof expected !== "string") return expected;
    return this.#guard("erase", () => this.doErase(k, expected));
  }

  sweep(): MaybePromise<OperationResult<number>> {
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

  close(): MaybePromise<OperationResult> {
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
