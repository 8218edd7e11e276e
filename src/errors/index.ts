/** Error codes, aligned with gRPC status codes so they cross the wire unchanged. */
export enum Code {
  Canceled = 1,
  Unknown = 2,
  InvalidArgument = 3,
  DeadlineExceeded = 4,
  NotFound = 5,
  AlreadyExists = 6,
  PermissionDenied = 7,
  ResourceExhausted = 8,
  FailedPrecondition = 9,
  Aborted = 10,
  OutOfRange = 11,
  Unimplemented = 12,
  Internal = 13,
  Unavailable = 14,
  DataLoss = 15,
  Unauthenticated = 16,
}

/** Details that locate an error: the config field, artifact or row it concerns. */
export interface ErrorDetails {
  /** Dotted path of the offending config field, e.g. "source.config.paths[0]". */
  field?: string;
  /** Artifact name (relative path, object key) the error concerns. */
  artifact?: string;
  /** Pipeline operation that failed: discover, download, load, map, enrich, validate, write. */
  operation?: string;
  /** The row's number within the artifact, from 1 (its line, or its record's place), as messages give it. */
  rowIndex?: number;
}

/** The one error class of the SDK: a code, a message that names what is wrong, and where. */
export class TailkitError extends Error {
  override readonly name = "TailkitError";
  readonly code: Code;
  readonly details: ErrorDetails;

  constructor(code: Code, message: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.details = details;
  }

  /** Wraps anything thrown into a TailkitError, keeping an existing one as is. */
  static from(reason: unknown, code: Code = Code.Unknown, details: ErrorDetails = {}): TailkitError {
    if (reason instanceof TailkitError) return reason;
    if (reason instanceof Error) {
      if (reason.name === "AbortError") return new TailkitError(Code.Canceled, reason.message, details, { cause: reason });
      return new TailkitError(code, reason.message, details, { cause: reason });
    }
    return new TailkitError(code, String(reason), details);
  }
}

/** Shorthand for an INVALID_ARGUMENT error that names the bad field. */
export function invalidArgument(field: string, message: string): TailkitError {
  return new TailkitError(Code.InvalidArgument, `${field}: ${message}`, { field });
}
