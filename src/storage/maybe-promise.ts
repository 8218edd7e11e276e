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
