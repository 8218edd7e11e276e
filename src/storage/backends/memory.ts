import { ReturnCode, fail, ok, type OperationResult } from "../codes.js";
import { StorageBackendBase, type BackendContext, type RawEntry, type RawPut } from "../backend.js";
import type { MaybePromise } from "../maybe-promise.js";
import type { BackendDefinition } from "../registry-types.js";

/** Options of the in-memory test backend. */
export interface MemoryBackendOptions {
  /** Answer with Promises, to exercise async code paths; such a backend is async-only. Default: false. */
  async?: boolean;
  /** Extra milliseconds each sweep takes (async only), to exercise sweep overlap. Default: 0. */
  sweepDelay?: number;
}

/** Counters of calls that reached the store, so tests can assert what never got that far. */
export interface MemoryBackendCalls {
  put: number;
  get: number;
  erase: number;
  expire: number;
  /** Highest number of sweeps running at the same time. */
  maxConcurrentSweeps: number;
}

/**
 * A Map-backed backend for plugin authors' tests: same rules as the real ones, no files or servers.
 * Not registered by default; register it with `registerBackend("memory", createMemoryBackend())`.
 */
export class MemoryBackend extends StorageBackendBase {
  readonly sync: boolean;
  /** What reached the store. */
  readonly calls: MemoryBackendCalls = { put: 0, get: 0, erase: 0, expire: 0, maxConcurrentSweeps: 0 };
  private readonly entries = new Map<string, { value: string; expireAt: number }>();
  private readonly sweepDelay: number;
  private sweepsRunning = 0;

  constructor(options: MemoryBackendOptions, ctx: BackendContext) {
    super(ctx);
    this.sync = !options.async;
    this.sweepDelay = options.sweepDelay ?? 0;
  }

  protected doOpen(): MaybePromise<OperationResult> {
    return this.answer(ok());
  }

  protected override readonly comparesValues = true;

  protected doPut(put: RawPut): MaybePromise<OperationResult> {
    this.calls.put++;
    if (put.ifValue !== undefined) {
      const differs = this.compare(put.key, put.ifValue);
      if (differs) return this.answer(differs);
    } else if (!put.overwrite && this.live(put.key)) return this.answer(fail(ReturnCode.KEY_EXISTS, "key exists and overwrite is false"));
    this.entries.set(put.key, { value: put.value, expireAt: put.expireAt });
    return this.answer(ok());
  }

  protected doGet(key: string): MaybePromise<OperationResult<string>> {
    this.calls.get++;
    const entry = this.live(key);
    return this.answer(entry ? ok(entry.value) : fail<string>(ReturnCode.KEY_NOT_FOUND, "key not found"));
  }

  protected doErase(key: string, ifValue?: string): MaybePromise<OperationResult> {
    this.calls.erase++;
    const differs = ifValue === undefined ? undefined : this.compare(key, ifValue);
    if (differs) return this.answer(differs);
    this.entries.delete(key);
    return this.answer(ok());
  }

  /** Why the live entry under key is not `value`, or undefined when it is. */
  private compare(key: string, value: string): OperationResult | undefined {
    const entry = this.live(key);
    if (!entry) return fail(ReturnCode.KEY_NOT_FOUND, "key not found");
    return entry.value === value ? undefined : fail(ReturnCode.KEY_EXISTS, "key holds another value");
  }

  protected override doGetAll(max: number): MaybePromise<OperationResult<RawEntry[]>> {
    const out: RawEntry[] = [];
    for (const key of this.entries.keys()) {
      if (out.length >= max) break;
      const entry = this.live(key);
      if (entry) out.push({ key, value: entry.value });
    }
    return this.answer(ok(out));
  }

  protected override doSize(): MaybePromise<OperationResult<number>> {
    let n = 0;
    for (const key of this.entries.keys()) if (this.live(key)) n++;
    return this.answer(ok(n));
  }

  protected override doExpire(now: number): MaybePromise<OperationResult<number>> {
    this.calls.expire++;
    this.sweepsRunning++;
    this.calls.maxConcurrentSweeps = Math.max(this.calls.maxConcurrentSweeps, this.sweepsRunning);
    let removed = 0;
    for (const [key, entry] of this.entries) {
      if (entry.expireAt > 0 && entry.expireAt <= now) {
        this.entries.delete(key);
        removed++;
      }
    }
    if (this.sync || this.sweepDelay === 0) {
      this.sweepsRunning--;
      return this.answer(ok(removed));
    }
    return new Promise((resolve) =>
      setTimeout(() => {
        this.sweepsRunning--;
        resolve(ok(removed));
      }, this.sweepDelay),
    );
  }

  protected doClose(): MaybePromise<OperationResult> {
    this.entries.clear();
    return this.answer(ok());
  }

  /** Entries held, expired-but-unswept ones included (size() counts only live ones). */
  get held(): number {
    return this.entries.size;
  }

  private live(key: string): { value: string; expireAt: number } | undefined {
    const entry = this.entries.get(key);
    if (!entry || (entry.expireAt > 0 && entry.expireAt <= this.clock())) return undefined;
    return entry;
  }

  private answer<T>(result: OperationResult<T>): MaybePromise<OperationResult<T>> {
    return this.sync ? result : Promise.resolve(result);
  }
}

/**
 * Creates a registry entry for the in-memory backend. `created` receives every instance, so a test
 * can inspect `calls` and `size` of the backend behind a handle.
 */
export function createMemoryBackend(created?: (backend: MemoryBackend) => void): BackendDefinition {
  return {
    optionNames: ["async", "sweepDelay"],
    validateOptions: (options) => {
      if (options["async"] !== undefined && typeof options["async"] !== "boolean") return "options.async: must be a boolean";
      const delay = options["sweepDelay"];
      if (delay !== undefined && (typeof delay !== "number" || !(delay >= 0))) return "options.sweepDelay: must be a number >= 0";
      return undefined;
    },
    create: (options, ctx) => {
      const backend = new MemoryBackend(options, ctx);
      created?.(backend);
      return backend;
    },
  };
}
