/**
 * Output buffers of the extracting thread, reused once the writer is done with them.
 *
 * A batch's bytes are written into a buffer taken here. Once the chunk writer has written them (it keeps no
 * reference after `write()` resolves), the buffer comes back: on the same thread directly, or transferred back to
 * the worker it came from. Reuse saves the allocation, the first-touch page faults and, on the thread that frees
 * them, the garbage collections that external memory triggers. A buffer that never comes back is simply collected.
 */

/** Buffers kept for reuse per thread; more are dropped, so an idle thread holds a bounded amount. */
const MAX_POOLED = 6;

const pool: ArrayBuffer[] = [];

/** A buffer of at least `minBytes`, reused when one that fits came back, else new (never from Buffer's shared pool). */
export function takeBuffer(minBytes: number): Buffer {
  let best = -1;
  for (let i = 0; i < pool.length; i++) {
    const size = pool[i]!.byteLength;
    if (size >= minBytes && (best === -1 || size < pool[best]!.byteLength)) best = i;
  }
  if (best !== -1) {
    const ab = pool[best]!;
    pool[best] = pool[pool.length - 1]!;
    pool.pop();
    return Buffer.from(ab);
  }
  return Buffer.allocUnsafeSlow(minBytes);
}

/** Gives a buffer back for reuse; its contents may be overwritten from now on. Detached or tiny buffers are ignored. */
export function giveBack(ab: ArrayBuffer): void {
  if (ab.byteLength < 64 * 1024) return;
  if (pool.length >= MAX_POOLED) {
    // Keep the larger ones: a batch that did not fit would allocate anyway.
    let smallest = 0;
    for (let i = 1; i < pool.length; i++) if (pool[i]!.byteLength < pool[smallest]!.byteLength) smallest = i;
    if (pool[smallest]!.byteLength >= ab.byteLength) return;
    pool[smallest] = ab;
    return;
  }
  pool.push(ab);
}

/** Buffers waiting for reuse on this thread (for tests and stats). */
export function pooledBuffers(): number {
  return pool.length;
}
