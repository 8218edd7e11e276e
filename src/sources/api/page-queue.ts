import { Code, TailkitError } from "../../errors/index.js";

/**
 * A bounded first-in first-out hand-over from the readers of several streams to the one consumer of their pages:
 * push() waits while `capacity` items are queued (the readers stop reading while the collection is behind), shift()
 * waits while none is. Items come out in the order they went in, so one reader's pages keep their order.
 */
export class PageQueue<T> {
  private readonly items: T[] = [];
  private waiters: (() => void)[] = [];
  private ended = false;
  private failure: { error: unknown } | undefined;

  constructor(
    private readonly capacity: number,
    private readonly signal: AbortSignal,
  ) {
    // Already aborted, it never fires: every wait looks at the signal first.
    signal.addEventListener("abort", () => this.wake(), { once: true });
  }

  /** Queues an item once there is room; rejects with CANCELLED once the signal is aborted or the queue failed. */
  async push(item: T): Promise<void> {
    for (;;) {
      if (this.signal.aborted || this.failure !== undefined) throw new TailkitError(Code.Canceled, "collection was cancelled");
      if (this.items.length < this.capacity) break;
      await this.wait();
    }
    this.items.push(item);
    this.wake();
  }

  /**
   * The oldest item, or undefined once end() was called and every item is taken. Throws what fail() was given as soon
   * as it is given (items still queued are dropped), and CANCELLED once the signal is aborted.
   */
  async shift(): Promise<T | undefined> {
    for (;;) {
      if (this.failure !== undefined) throw this.failure.error;
      if (this.signal.aborted) throw new TailkitError(Code.Canceled, "collection was cancelled");
      if (this.items.length > 0) {
        const item = this.items.shift()!;
        this.wake();
        return item;
      }
      if (this.ended) return undefined;
      await this.wait();
    }
  }

  /** No more items will come. */
  end(): void {
    this.ended = true;
    this.wake();
  }

  /** The read failed: shift() throws `error` (the first one given) from now on, and push() refuses. */
  fail(error: unknown): void {
    this.failure ??= { error };
    this.wake();
  }

  /** Items queued now. */
  get size(): number {
    return this.items.length;
  }

  private wait(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  // A handful of waiters at most (one per reader, and the consumer): each one woken looks again for itself.
  private wake(): void {
    for (const resolve of this.waiters.splice(0)) resolve();
  }
}
