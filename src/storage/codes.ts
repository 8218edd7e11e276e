/**
 * Return codes of storage operations. Expected outcomes (a missing key, a lost server) are codes,
 * never exceptions, so a collector can branch on them without try/catch around every call.
 */
export const ReturnCode = {
  SUCCESS: "SUCCESS",
  VAL_TYPE_MISMATCH: "VAL_TYPE_MISMATCH",
  KEY_TYPE_MISMATCH: "KEY_TYPE_MISMATCH",
  NOT_CONNECTED: "NOT_CONNECTED",
  TIMEOUT: "TIMEOUT",
  CONNECTION_LOST: "CONNECTION_LOST",
  OPERATION_FAILED: "OPERATION_FAILED",
  KEY_NOT_FOUND: "KEY_NOT_FOUND",
  KEY_EXISTS: "KEY_EXISTS",
  CONNECTION_FAILED: "CONNECTION_FAILED",
  DISCONNECTION_FAILED: "DISCONNECTION_FAILED",
  INITIALIZATION_FAILED: "INITIALIZATION_FAILED",
  IN_PROGRESS: "IN_PROGRESS",
  SERIALIZATION_FAILED: "SERIALIZATION_FAILED",
  UNSERIALIZATION_FAILED: "UNSERIALIZATION_FAILED",
  /** The sync module was asked for a backend that only has an asynchronous implementation. */
  ASYNC_ONLY: "ASYNC_ONLY",
  /** getAll found more live entries than its limit; nothing past the limit was read. */
  RESULT_TOO_LARGE: "RESULT_TOO_LARGE",
} as const;

/** A standard return code, or one a third-party backend adds (kept open so backends can extend the set). */
export type ReturnCode = (typeof ReturnCode)[keyof typeof ReturnCode] | (string & {});

/** Outcome of every storage call: a code, a message when it is not SUCCESS, and the value of a successful get/open. */
export interface OperationResult<T = void> {
  code: ReturnCode;
  /** Human-readable reason; set whenever code is not SUCCESS. */
  error?: string;
  /** Set only when code is SUCCESS and the operation yields something (get, getAll, size, sweep, open). */
  value?: T;
}

/** A successful result, with a value when the operation yields one. */
export function ok<T = void>(value?: T): OperationResult<T> {
  return value === undefined ? { code: ReturnCode.SUCCESS } : { code: ReturnCode.SUCCESS, value };
}

/** A failed result with its reason. */
export function fail<T = void>(code: ReturnCode, error: string): OperationResult<T> {
  return { code, error };
}

/** True when `result` is SUCCESS; narrows `value` to present for operations that yield one. */
export function isSuccess<T>(result: OperationResult<T>): result is OperationResult<T> & { value: T } {
  return result.code === ReturnCode.SUCCESS;
}

/** Message of anything thrown, without assuming it is an Error. */
export function messageOf(reason: unknown): string {
  if (reason instanceof Error) return reason.message;
  return String(reason);
}
