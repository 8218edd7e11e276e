import { setTimeout as delay } from "node:timers/promises";

/**
 * Time as the exactly-once machinery sees it (lease expiry, claim renewals, retries of deferred artifacts), injected
 * so that tests move it on instead of sleeping.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves once `ms` milliseconds have passed. */
  sleep(ms: number): Promise<void>;
  /** Calls `fn` every `ms` milliseconds until the returned function is called; keeps no process alive. */
  every(ms: number, fn: () => void): () => void;
}

/** The machine's clock and timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => delay(ms),
  every: (ms, fn) => {
    const timer = setInterval(fn, ms);
    timer.unref();
    return () => clearInterval(timer);
  },
};

/** A clock that moves only when told to (createManualClock). */
export interface ManualClock extends Clock {
  /**
   * Moves time on by `ms`, firing each sleep and interval as it falls due, in time order, and letting the work each
   * one starts run (its promise callbacks) before the next.
   */
  advance(ms: number): Promise<void>;
  /**
   * Moves time on by `ms` without firing anything, as a blocked event loop does; timers that fell due meanwhile fire
   * once, late, at the next advance (advance(0) fires just those).
   */
  stall(ms: number): void;
}

interface Timer {
  at: number;
  fn: () => void;
  /** Interval timers: their period. */
  every?: number;
}

/** A ManualClock starting at `start` ms since the epoch; for tests of leases and retries. */
export function createManualClock(start = Date.UTC(2026, 0, 1)): ManualClock {
  let now = start;
  const timers = new Set<Timer>();
  // Promise callbacks run before a macrotask: one setImmediate lets a fired timer's work go as far as it can
  // without real I/O (the SQLite backend answers at once).
  const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
  const due = (until: number): Timer | undefined => {
    let first: Timer | undefined;
    for (const t of timers) if (t.at <= until && (first === undefined || t.at < first.at)) first = t;
    return first;
  };
  return {
    now: () => now,
    sleep: (ms) => new Promise<void>((resolve) => void timers.add({ at: now + Math.max(0, ms), fn: resolve })),
    every: (ms, fn) => {
      const timer: Timer = { at: now + ms, fn, every: ms };
      timers.add(timer);
      return () => void timers.delete(timer);
    },
    async advance(ms) {
      const until = now + ms;
      await settle();
      for (let t = due(until); t !== undefined; t = due(until)) {
        now = Math.max(now, t.at);
        if (t.every === undefined) timers.delete(t);
        else t.at = now + t.every;
        t.fn();
        await settle();
      }
      now = until;
    },
    stall(ms) {
      now += ms;
    },
  };
}
