import type { ArtifactInfo, RowPage, RowSource, RowSourceContext } from "../../contract/source.js";
import { Code, invalidArgument, TailkitError } from "../../errors/index.js";
import { PageQueue } from "./page-queue.js";
import { backoffDelay, sleep, validateRetryOptions } from "./retry.js";
import type { ApiStream, FoldedCursor, RetryOptions, StreamPage } from "./types.js";

/** Error codes of Node's sockets that mean the connection, not the request, failed: worth another attempt. */
const TRANSIENT_NETWORK_CODES = new Set(["ECONNRESET", "ETIMEDOUT", "EPIPE", "ECONNABORTED", "EAI_AGAIN", "UND_ERR_SOCKET"]);

/** Streams an API source reads at once unless told otherwise. */
export const DEFAULT_API_CONCURRENCY = 4;
/** The most streams an API source reads at once: past it, one collector would spend the account's API quota alone. */
export const MAX_API_CONCURRENCY = 32;

/** Checks how many streams are read at once (undefined: the default); throws INVALID_ARGUMENT naming `field`. */
export function validateConcurrency(value: number | undefined, field = "maxConcurrency"): number {
  const n = value ?? DEFAULT_API_CONCURRENCY;
  if (!Number.isInteger(n) || n < 1 || n > MAX_API_CONCURRENCY)
    throw invalidArgument(field, `must be a whole number from 1 to ${MAX_API_CONCURRENCY}, not ${JSON.stringify(value)}`);
  return n;
}

/** What the readers of the streams hand the consumer: a stream's page, or a stream that failed on its own. */
type Handed<Item, StreamCursor> = { key: string; info: ArtifactInfo; page: StreamPage<Item, StreamCursor> } | { problem: TailkitError };

/**
 * Shared machinery of row sources that page an API with a saved cursor (CloudWatch Logs, ...): it lists the streams,
 * reads each from its own cursor, folds the streams' cursors into the one value collection state saves, retries a
 * throttled or failing call with backoff and jitter, and reports a stream that fails on its own while the others go on.
 *
 * Up to `concurrency` streams are read at once, each to its end by one reader, through a queue of as many pages: a
 * stream's pages reach the collection in its own order, and the cursor of each page yielded holds, for every stream,
 * the cursor after that stream's last page yielded (never one a reader has fetched and not handed on). Collection
 * state counts each stream's rows on its own (positions, tp_id), so how the streams' pages interleave does not change
 * which rows a rerun drops. Streams that appear while they are read are listed once more at the end.
 */
export abstract class ApiRowSourceBase<Item, StreamCursor, Stream extends ApiStream = ApiStream> implements RowSource<Item> {
  abstract readonly type: string;
  readonly cursorKey?: string;
  protected readonly retry: Required<RetryOptions>;
  /** Streams read at once. */
  protected readonly concurrency: number;

  /** `concurrency`: streams read at once, 1 to MAX_API_CONCURRENCY; default DEFAULT_API_CONCURRENCY (4). */
  constructor(retry?: RetryOptions, concurrency?: number) {
    this.retry = validateRetryOptions(retry);
    this.concurrency = validateConcurrency(concurrency);
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
    // Aborted by the collection (ctx.signal), by a stream failing the read, or by the consumer leaving early: every
    // reader's call, backoff and wait for room ends with it.
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    if (ctx.signal.aborted) stop.abort();
    else ctx.signal.addEventListener("abort", onAbort, { once: true });
    const queue = new PageQueue<Handed<Item, StreamCursor>>(this.concurrency, stop.signal);
    // The queue learns of a failure before the other readers are stopped, so that the consumer throws it, not theirs.
    const fail = (err: unknown) => {
      queue.fail(err);
      stop.abort();
    };
    const readers = this.readAll({ ...ctx, signal: stop.signal }, new Map(cursors), queue, fail).then(() => queue.end(), fail);
    try {
      for (;;) {
        const handed = await queue.shift();
        if (handed === undefined) break;
        if ("problem" in handed) {
          if (ctx.report === undefined) throw handed.problem;
          ctx.report(handed.problem);
          continue;
        }
        // Only now does the folded cursor move for this stream: what it records was yielded, with this page or before.
        cursors.set(handed.key, handed.page.cursor);
        if (handed.page.items.length === 0) continue;
        yield { stream: handed.info, items: handed.page.items, cursor: fold(cursors) };
      }
    } catch (err) {
      if (ctx.signal.aborted) throw new TailkitError(Code.Canceled, "collection was cancelled", {}, { cause: err });
      throw err;
    } finally {
      stop.abort();
      ctx.signal.removeEventListener("abort", onAbort);
      await readers;
    }
  }

  /**
   * Lists the streams and reads them, `concurrency` at once, handing their pages to `queue`; a second listing picks up
   * the streams that appeared while the first ones were read. A failure that is not one stream's own goes to `fail`
   * at once (which stops the other readers); it is thrown once every reader has stopped.
   */
  private async readAll(
    ctx: RowSourceContext,
    cursors: ReadonlyMap<string, StreamCursor>,
    queue: PageQueue<Handed<Item, StreamCursor>>,
    fail: (err: unknown) => void,
  ): Promise<void> {
    const read = new Set<string>();
    for (let pass = 0; pass < 2; pass++) {
      const listing = this.streams(ctx, pass === 1)[Symbol.asyncIterator]();
      let fresh = 0;
      // The readers take streams from one listing, one at a time.
      let turn: Promise<Stream | undefined> = Promise.resolve(undefined);
      const take = () =>
        (turn = turn.then(async () => {
          for (;;) {
            const next = await listing.next();
            if (next.done) return undefined;
            if (read.has(next.value.key)) continue;
            read.add(next.value.key);
            fresh++;
            return next.value;
          }
        }));
      let failure: { error: unknown } | undefined;
      const reader = async () => {
        try {
          for (let stream = await take(); stream !== undefined; stream = await take()) await this.readOne(stream, cursors.get(stream.key), ctx, queue);
        } catch (err) {
          failure ??= { error: err };
          fail(err);
        }
      };
      try {
        await Promise.all(Array.from({ length: this.concurrency }, reader));
      } finally {
        await listing.return?.(undefined);
      }
      if (failure !== undefined) throw failure.error;
      if (pass === 1 || fresh === 0) break;
    }
  }

  /** Reads one stream to its end into `queue`; a failure of that stream alone is handed on as its problem. */
  private async readOne(stream: Stream, cursor: StreamCursor | undefined, ctx: RowSourceContext, queue: PageQueue<Handed<Item, StreamCursor>>): Promise<void> {
    try {
      for await (const page of this.readStream(stream, cursor, ctx)) await queue.push({ key: stream.key, info: stream.info, page });
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      const problem = this.streamProblem(stream, err);
      if (problem === undefined) throw err;
      await queue.push({ problem });
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
