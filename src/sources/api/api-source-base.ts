import type { RowPage, RowSource, RowSourceContext } from "../../contract/source.js";
import { Code, TailkitError } from "../../errors/index.js";
import { backoffDelay, sleep, validateRetryOptions } from "./retry.js";
import type { ApiStream, FoldedCursor, RetryOptions, StreamPage } from "./types.js";

/** Error codes of Node's sockets that mean the connection, not the request, failed: worth another attempt. */
const TRANSIENT_NETWORK_CODES = new Set(["ECONNRESET", "ETIMEDOUT", "EPIPE", "ECONNABORTED", "EAI_AGAIN", "UND_ERR_SOCKET"]);

/**
 * Shared machinery of row sources that page an API with a saved cursor (CloudWatch Logs, ...): it lists the streams,
 * reads each from its own cursor, folds the streams' cursors into the one value collection state saves, retries a
 * throttled or failing call with backoff and jitter, and reports a stream that fails on its own while the others go on.
 *
 * Streams are read one after the other, each to its end, so that a stream's pages read again from a saved cursor come
 * in the order they came the first time. Streams that appear while they are read are listed once more at the end.
 */
export abstract class ApiRowSourceBase<Item, StreamCursor, Stream extends ApiStream = ApiStream> implements RowSource<Item> {
  abstract readonly type: string;
  readonly cursorKey?: string;
  protected readonly retry: Required<RetryOptions>;

  constructor(retry?: RetryOptions) {
    this.retry = validateRetryOptions(retry);
  }

  /**
   * Lists the streams to read now. Calls to the API go through call(). `again`: the listing at the end of a read, for
   * streams that appeared meanwhile (the place listed may be gone by then: report it rather than fail).
   */
  protected abstract streams(ctx: RowSourceContext, again: boolean): AsyncIterable<Stream>;

  /**
   * Reads one stream from its cursor (undefined: never read) to its end now, honouring ctx.from/to: pages of items,
   * each with the stream's cursor after it. Read again from a cursor, a stream must give the same items in the same
   * order.
   */
  protected abstract readStream(stream: Stream, cursor: StreamCursor | undefined, ctx: RowSourceContext): AsyncIterable<StreamPage<Item, StreamCursor>>;

  /**
   * The problem to report when reading a stream failed for a reason of that stream alone (it was deleted): the other
   * streams go on. Undefined (the default): the collection fails.
   */
  protected streamProblem(_stream: Stream, _error: unknown): TailkitError | undefined {
    return undefined;
  }

  /** Whether a failed call is worth another attempt. Default: HTTP 429 or 5xx, or a connection that failed midway. */
  protected isRetryable(error: unknown): boolean {
    const e = error as { $metadata?: { httpStatusCode?: number }; code?: string; cause?: { code?: string } } | null;
    const status = e?.$metadata?.httpStatusCode;
    if (status !== undefined && (status === 429 || status >= 500)) return true;
    return TRANSIENT_NETWORK_CODES.has(e?.code ?? "") || TRANSIENT_NETWORK_CODES.has(e?.cause?.code ?? "");
  }

  /** Says what a call that failed for good was: the operation and the API's message. */
  protected describeError(error: unknown): string {
    if (error instanceof TailkitError) return error.message;
    if (error instanceof Error) return error.name && error.name !== "Error" ? `${error.name}: ${error.message}` : error.message;
    return String(error);
  }

  /** The name of the API's error (ThrottlingException, ...) that a call failed with, also once call() wrapped it. */
  protected apiErrorName(error: unknown): string | undefined {
    const e = error instanceof TailkitError ? error.cause : error;
    return (e as { name?: unknown } | null | undefined)?.name as string | undefined;
  }

  /**
   * Makes one API call, retrying it with backoff while isRetryable says so, up to retry.attempts in all; then fails
   * with UNAVAILABLE naming the operation. Any other failure is wrapped as a TailkitError naming the operation, with
   * the API's error as its cause. Aborting ctx.signal ends the wait at once.
   */
  protected async call<T>(operation: string, fn: (signal: AbortSignal) => Promise<T>, ctx: RowSourceContext): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      if (ctx.signal.aborted) throw new TailkitError(Code.Canceled, "collection was cancelled");
      try {
        return await fn(ctx.signal);
      } catch (err) {
        if (ctx.signal.aborted) throw new TailkitError(Code.Canceled, "collection was cancelled", {}, { cause: err });
        if (err instanceof TailkitError) throw err;
        if (!this.isRetryable(err)) throw new TailkitError(Code.Unknown, `${operation}: ${this.describeError(err)}`, { operation: "read" }, { cause: err });
        if (attempt >= this.retry.attempts)
          throw new TailkitError(
            Code.Unavailable,
            `${operation}: still failing after ${attempt} attempts (${this.describeError(err)})`,
            { operation: "read" },
            { cause: err },
          );
        await sleep(backoffDelay(this.retry, attempt - 1), ctx.signal);
      }
    }
  }

  async *read(cursor: unknown, ctx: RowSourceContext): AsyncIterable<RowPage<Item>> {
    const cursors = new Map(Object.entries(this.unfold(cursor)));
    const read = new Set<string>();
    // The second listing only picks up streams that appeared while the first ones were read.
    for (let pass = 0; pass < 2; pass++) {
      let fresh = 0;
      for await (const stream of this.streams(ctx, pass === 1)) {
        if (read.has(stream.key)) continue;
        read.add(stream.key);
        fresh++;
        try {
          for await (const page of this.readStream(stream, cursors.get(stream.key), ctx)) {
            cursors.set(stream.key, page.cursor);
            if (page.items.length === 0) continue;
            yield { stream: stream.info, items: page.items, cursor: fold(cursors) };
          }
        } catch (err) {
          if (ctx.signal.aborted) throw err;
          const problem = this.streamProblem(stream, err);
          if (problem === undefined) throw err;
          if (ctx.report === undefined) throw problem;
          ctx.report(problem);
        }
      }
      if (pass === 1 || fresh === 0) break;
    }
  }

  /** The streams' cursors in a saved cursor; a cursor of another shape is refused rather than read from the start. */
  private unfold(cursor: unknown): Record<string, StreamCursor> {
    if (cursor === undefined || cursor === null) return {};
    const c = cursor as Partial<FoldedCursor<StreamCursor>>;
    if (c.version === 1 && typeof c.streams === "object" && c.streams !== null) return c.streams;
    throw new TailkitError(
      Code.FailedPrecondition,
      `source ${this.type}: the saved cursor is not one this version reads; collect with --recollect to start over`,
      {
        operation: "read",
      },
    );
  }
}

/** One value for collection state: each stream's cursor object is shared, not copied, between pages. */
function fold<StreamCursor>(cursors: Map<string, StreamCursor>): FoldedCursor<StreamCursor> {
  return { version: 1, streams: Object.fromEntries(cursors) };
}
