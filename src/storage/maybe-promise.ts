/** A value now (sync backends) or later (async backends); lets one base class serve both modules. */
export type MaybePromise<T> = T | Promise<T>;

/** True when `value` is a thenable, i.e. the backend answered asynchronously. */
export function isPromiseLike<T>(value: MaybePromise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

/** Applies `fn` now when `value` is ready, or when it settles; keeps sync backends free of microtask hops. */
export function pipe<T, U>(value: MaybePromise<T>, fn: (v: T) => MaybePromise<U>): MaybePromise<U> {
  return isPromiseLike(value) ? value.then(fn) : fn(value);
}

/**
 * Applies `step` from `state` until `done` holds: a plain loop while steps answer synchronously (no recursion, no
 * microtask hops), a chain of Promises once one answers later. Backends page through a store with it.
 */
export function loop<S>(state: S, done: (s: S) => boolean, step: (s: S) => MaybePromise<S>): MaybePromise<S> {
  let s = state;
  while (!done(s)) {
    const next = step(s);
    if (isPromiseLike(next)) return next.then((n) => loop(n, done, step));
    s = next;
  }
  return s;
}
