export { ApiRowSourceBase } from "./api-source-base.js";
export { backoffDelay, sleep, validateRetryOptions } from "./retry.js";
export type { ApiStream, FoldedCursor, RetryOptions, StreamPage } from "./types.js";
