import type { LatencyStats, StorageMetrics, StorageOperation } from "./types.js";

/** Upper bounds of the latency buckets, in ms (after Zeek's default of 1 ms, 10 ms, 100 ms and 1 s). */
export const LATENCY_BOUNDS_MS: readonly number[] = [1, 10, 100, 1000];

/** UTF-8 length of a serialized key or value: what goes over the wire or onto the disk. */
export function byteLength(data: string): number {
  return Buffer.byteLength(data, "utf8");
}

/** Counts one backend's calls by operation and code, their latency and the bytes that crossed to and from the store. */
export class MetricsRecorder {
  readonly #operations: Partial<Record<StorageOperation, Record<string, number>>> = {};
  readonly #latency: Partial<Record<StorageOperation, LatencyStats>> = {};
  bytesOut = 0;
  bytesIn = 0;

  /** Records one finished call. */
  record(op: StorageOperation, code: string, ms: number): void {
    const byCode = (this.#operations[op] ??= {});
    byCode[code] = (byCode[code] ?? 0) + 1;
    const stats = (this.#latency[op] ??= { count: 0, totalMs: 0, maxMs: 0, buckets: new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0) });
    stats.count++;
    stats.totalMs += ms;
    if (ms > stats.maxMs) stats.maxMs = ms;
    let i = 0;
    while (i < LATENCY_BOUNDS_MS.length && ms > LATENCY_BOUNDS_MS[i]!) i++;
    stats.buckets[i]!++;
  }

  /** A copy the caller may keep: later calls do not change it. */
  snapshot(): StorageMetrics {
    const operations: StorageMetrics["operations"] = {};
    for (const [op, byCode] of Object.entries(this.#operations)) operations[op as StorageOperation] = { ...byCode };
    const latency: StorageMetrics["latency"] = {};
    for (const [op, s] of Object.entries(this.#latency)) latency[op as StorageOperation] = { ...s, buckets: [...s.buckets] };
    return { operations, bytesOut: this.bytesOut, bytesIn: this.bytesIn, latency };
  }
}
