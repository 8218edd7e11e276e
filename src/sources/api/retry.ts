import { Code, invalidArgument, TailkitError } from "../../errors/index.js";
import type { RetryOptions } from "./types.js";

const DEFAULTS: Required<RetryOptions> = { attempts: 8, baseDelayMs: 250, maxDelayMs: 20_000 };

/** Checks retry options and fills in their defaults; throws INVALID_ARGUMENT naming a bad one. */
export function validateRetryOptions(options: RetryOptions = {}): Required<RetryOptions> {
  const r = {
    attempts: options.attempts ?? DEFAULTS.attempts,
    baseDelayMs: options.baseDelayMs ?? DEFAULTS.baseDelayMs,
    maxDelayMs: options.maxDelayMs ?? DEFAULTS.maxDelayMs,
  };
  if (!Number.isInteger(r.attempts) || r.attempts < 1) throw invalidArgument("retry.attempts", `must be a whole number of at least 1, not ${r.attempts}`);
  if (!(r.baseDelayMs >= 0)) throw invalidArgument("retry.baseDelayMs", `must be 0 or more, not ${r.baseDelayMs}`);
  if (!(r.maxDelayMs >= r.baseDelayMs)) throw invalidArgument("retry.maxDelayMs", `must be at least baseDelayMs (${r.baseDelayMs}), not ${r.maxDelayMs}`);
  return r;
}

/**
 * The delay before retry `n` (from 0): exponential, capped, with "equal jitter": at least half the step, so that
 * many collectors throttled at once spread out but none comes back at once.
 */
export function backoffDelay(retry: Required<RetryOptions>, n: number, random: () => number = Math.random): number {
  const step = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** n);
  return step / 2 + random() * (step / 2);
}

/** Waits `ms`, or rejects with CANCELLED as soon as the signal is aborted. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new TailkitError(Code.Canceled, "collection was cancelled"));
    const onAbort = () => {
      clearTimeout(timer);
      reject(new TailkitError(Code.Canceled, "collection was cancelled"));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
