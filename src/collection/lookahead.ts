/**
 * Pulls `source` ahead of its consumer, up to `max` items, calling onItem for each item it gets and onEnd once the
 * source is exhausted. A failure of the source reaches the consumer after the items before it; a consumer that stops
 * early ends the source.
 */
export async function* lookahead<T>(source: AsyncIterable<T>, max: number, onItem: () => void, onEnd: () => void): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  const queue: T[] = [];
  let ended = false;
  let failure: { error: unknown } | undefined;
  let wakeConsumer: (() => void) | undefined;
  let wakePump: (() => void) | undefined;
  let stopped = false;
  const pump = (async () => {
    try {
      while (!stopped) {
        if (queue.length >= max) {
          await new Promise<void>((r) => (wakePump = r));
          continue;
        }
        const next = await it.next();
        if (next.done) break;
        queue.push(next.value);
        onItem();
        wakeConsumer?.();
      }
      if (!stopped) onEnd();
    } catch (error) {
      failure = { error };
    } finally {
      ended = true;
      wakeConsumer?.();
    }
  })();
  try {
    for (;;) {
      if (queue.length > 0) {
        const item = queue.shift()!;
        wakePump?.();
        yield item;
        continue;
      }
      if (ended) {
        if (failure) throw failure.error;
        return;
      }
      await new Promise<void>((r) => (wakeConsumer = r));
      wakeConsumer = undefined;
    }
  } finally {
    stopped = true;
    wakePump?.();
    if (!ended) await it.return?.().catch(() => undefined);
    await pump;
  }
}
