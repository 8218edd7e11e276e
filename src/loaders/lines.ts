import { isAscii } from "node:buffer";
import { Code, TailkitError } from "../errors/index.js";
import type { LocalArtifact } from "../contract/source.js";
import fs from "node:fs";
import { gunzipWhole, isGzip, openArtifactStream, toLoadError } from "./compression.js";
import { RowErrorItem, SKIPPED_LINE, type Loader, type LoaderOptions } from "../contract/loader.js";

/** Options of createLinesLoader. */
export interface LinesLoaderOptions {
  /**
   * Drops a line (a header, a comment) before it is mapped; `index` is the 0-based line number. The line keeps its
   * place as SKIPPED_LINE, which the mapper chain passes over, so that line numbers in errors stay right. Default: keep all.
   */
  skipLines?: (line: string, index: number) => boolean;
}

/** Default items per batch. */
export const DEFAULT_BATCH_SIZE = 2_000;
/** Default longest line, in bytes. */
export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;

const LF = 0x0a;
const CR = 0x0d;

/**
 * A loader that yields the lines of a text file (plain or gzip), without their \n or \r\n.
 * A line over maxLineBytes is never held whole: its bytes are dropped as they stream and a RowErrorItem takes its
 * place, so later items keep their line positions.
 */
export function createLinesLoader(opts: LinesLoaderOptions = {}): Loader<string> {
  return {
    name: "lines",
    numbering: "line",
    load: (artifact, options) => loadLines(artifact, options ?? {}, opts.skipLines),
  };
}

async function* loadLines(artifact: LocalArtifact, options: LoaderOptions, skipLines: LinesLoaderOptions["skipLines"]): AsyncGenerator<unknown[]> {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  validateLimits(batchSize, maxLineBytes);

  const whole = await readSmallGzip(artifact, options.signal);
  const chunks = whole !== undefined ? slices(whole) : ((await openArtifactStream(artifact, { signal: options.signal })).stream as AsyncIterable<Buffer>);
  const splitter = new LineSplitter(maxLineBytes, skipLines);
  let batch: unknown[] = [];
  try {
    for await (const chunk of chunks) {
      options.signal?.throwIfAborted();
      splitter.push(chunk, batch);
      // One chunk can hold many batches' worth of short lines; yield only whole batches and keep the rest.
      if (batch.length >= batchSize) {
        if (batch.length === batchSize) {
          const full = batch;
          batch = [];
          yield full;
        } else {
          const all = batch;
          const whole = all.length - (all.length % batchSize);
          batch = all.slice(whole);
          for (let i = 0; i < whole; i += batchSize) yield all.slice(i, i + batchSize);
        }
      }
    }
  } catch (err) {
    // Lines completed before the fault are good data; deliver them, then report the fault.
    if (batch.length > 0) yield batch;
    throw toLoadError(artifact, err);
  }
  splitter.end(batch);
  for (let i = 0; i < batch.length; i += batchSize) yield batch.slice(i, i + batchSize);
}

/** What a line over the limit is reported as; the line number goes before it. */
export function tooLongMessage(bytes: number, maxLineBytes: number): string {
  return `${bytes} bytes long, over the limit of ${maxLineBytes} bytes (maxLineBytes)`;
}

/** Gzip files up to this size are read and inflated at once (gunzipSync) instead of streamed. */
const SMALL_GZIP_BYTES = 8 * 1024 * 1024;
/** ... as long as they inflate to at most this much; a bigger one is streamed, so memory stays bounded. */
const SMALL_GZIP_MAX_OUTPUT = 64 * 1024 * 1024;
/** Piece of an inflated file handed to the splitter at a time, as a stream read would. */
const SLICE_BYTES = 256 * 1024;

/**
 * The inflated bytes of a small gzip file, or undefined to stream it: a plain file, a big one, one that inflates past
 * the limit, or one that fails to inflate (the stream then delivers its good lines before reporting the fault).
 * One synchronous inflate costs less than a stream's per-chunk hops to the thread pool and back.
 */
export async function readSmallGzip(artifact: LocalArtifact, signal: AbortSignal | undefined): Promise<Buffer | undefined> {
  if (!(artifact.bytes > 0 && artifact.bytes <= SMALL_GZIP_BYTES)) return undefined;
  let raw: Buffer;
  try {
    raw = await fs.promises.readFile(artifact.path, { signal });
  } catch (err) {
    if (signal?.aborted) throw toLoadError(artifact, err);
    return undefined;
  }
  if (!isGzip(raw) || raw.length > SMALL_GZIP_BYTES) return undefined;
  try {
    return gunzipWhole(raw, SMALL_GZIP_MAX_OUTPUT);
  } catch {
    return undefined;
  }
}

function* slices(bytes: Buffer): Generator<Buffer> {
  for (let i = 0; i < bytes.length; i += SLICE_BYTES) yield bytes.subarray(i, Math.min(bytes.length, i + SLICE_BYTES));
}

export function validateLimits(batchSize: number, maxLineBytes: number): void {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new TailkitError(Code.InvalidArgument, `batchSize: must be a positive integer, got ${batchSize}`, {
      field: "batchSize",
    });
  }
  if (!Number.isInteger(maxLineBytes) || maxLineBytes < 1) {
    throw new TailkitError(Code.InvalidArgument, `maxLineBytes: must be a positive integer, got ${maxLineBytes}`, {
      field: "maxLineBytes",
    });
  }
}

/**
 * The start of a line that goes on in the next read: kept up to maxLineBytes (+1 for a CR that may turn out to end
 * it), or, once over the limit, only counted.
 */
export class LineCarry {
  private parts: Buffer[] = [];
  private bytes = 0;
  /** Set while the current line is over the limit: its bytes are counted, not kept. */
  discarding = false;
  /** Bytes of the line being discarded, so far. */
  discardedBytes = 0;

  constructor(private readonly maxLineBytes: number) {}

  /** True when no line is carried over. */
  get empty(): boolean {
    return this.bytes === 0 && !this.discarding;
  }

  /** Bytes kept of the carried line. */
  get held(): number {
    return this.bytes;
  }

  keep(chunk: Buffer, start: number, end: number): void {
    const n = end - start;
    if (n === 0) return;
    if (this.discarding) {
      this.discardedBytes += n;
      return;
    }
    if (this.bytes + n > this.maxLineBytes + 1) {
      this.discarding = true;
      this.discardedBytes = this.bytes + n;
      this.parts = [];
      this.bytes = 0;
      return;
    }
    this.parts.push(chunk.subarray(start, end));
    this.bytes += n;
  }

  /** The kept bytes and then chunk[start, end) (the line's end, if any) as one buffer, a CR included; then empty. */
  take(chunk?: Buffer, start = 0, end = 0): Buffer {
    if (chunk !== undefined && end > start) this.parts.push(chunk.subarray(start, end));
    const joined = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
    this.parts = [];
    this.bytes = 0;
    return joined;
  }

  /** Ends a discarded line; its byte count. */
  endDiscard(): number {
    const n = this.discardedBytes;
    this.discarding = false;
    this.discardedBytes = 0;
    return n;
  }
}

/** Splits a byte stream into lines, holding at most maxLineBytes (+1 for a possible CR) of one line. */
class LineSplitter {
  private readonly carry: LineCarry;
  private lineIndex = 0;

  constructor(
    private readonly maxLineBytes: number,
    private readonly skipLines: LinesLoaderOptions["skipLines"],
  ) {
    this.carry = new LineCarry(maxLineBytes);
  }

  push(chunk: Buffer, out: unknown[]): void {
    let start = 0;
    // Most reads hold thousands of whole lines: decode the run of them once and split the string, instead of one
    // decode call per line. A line that began in an earlier read, or one being discarded, takes the byte path below.
    if (this.carry.empty) {
      const last = chunk.lastIndexOf(LF);
      if (last > 0) {
        this.emitRun(chunk, last, out);
        start = last + 1;
      }
    }
    for (;;) {
      const nl = chunk.indexOf(LF, start);
      if (nl === -1) {
        this.carry.keep(chunk, start, chunk.length);
        return;
      }
      if (this.carry.discarding) {
        this.carry.keep(chunk, start, nl);
        this.emitTooLong(this.carry.endDiscard(), out);
      } else if (this.carry.held === 0) {
        // Fast path: the whole line sits in this chunk; decode straight from it without copying.
        const end = nl > start && chunk[nl - 1] === CR ? nl - 1 : nl;
        if (end - start > this.maxLineBytes) this.emitTooLong(end - start, out);
        else this.emit(chunk.toString("utf8", start, end), out);
      } else {
        this.emitJoined(this.carry.take(chunk, start, nl), out);
      }
      start = nl + 1;
    }
  }

  /** Emits the lines of chunk[0, end), end being a newline; each line is whole. */
  private emitRun(chunk: Buffer, end: number, out: unknown[]): void {
    const region = chunk.subarray(0, end);
    // For ASCII a Latin-1 decode gives the same string, and a line's length is its byte count.
    const ascii = isAscii(region);
    const lines = region.toString(ascii ? "latin1" : "utf8").split("\n");
    const max = this.maxLineBytes;
    for (let line of lines) {
      if (line.length > 0 && line.charCodeAt(line.length - 1) === CR) line = line.slice(0, -1);
      // Only a line that might be over the limit is measured in bytes (a UTF-16 unit is at most 3 UTF-8 bytes).
      if (line.length > max || (!ascii && line.length * 3 > max)) {
        const bytes = ascii ? line.length : Buffer.byteLength(line, "utf8");
        if (bytes > max) {
          this.emitTooLong(bytes, out);
          continue;
        }
      }
      this.emit(line, out);
    }
  }

  /** Flushes a last line that has no trailing newline. */
  end(out: unknown[]): void {
    if (this.carry.discarding) this.emitTooLong(this.carry.endDiscard(), out);
    else if (this.carry.held > 0) this.emitJoined(this.carry.take(), out);
  }

  private emitJoined(joined: Buffer, out: unknown[]): void {
    const end = joined.length > 0 && joined[joined.length - 1] === CR ? joined.length - 1 : joined.length;
    if (end > this.maxLineBytes) this.emitTooLong(end, out);
    else this.emit(joined.toString("utf8", 0, end), out);
  }

  private emit(line: string, out: unknown[]): void {
    const index = this.lineIndex++;
    // A UTF-8 byte order mark is an encoding marker, not part of the first line's text.
    if (index === 0 && line.charCodeAt(0) === 0xfeff) line = line.slice(1);
    // A skipped line still holds its place, so that the items after it are numbered by their lines.
    out.push(this.skipLines?.(line, index) ? SKIPPED_LINE : line);
  }

  private emitTooLong(bytes: number, out: unknown[]): void {
    this.lineIndex++;
    out.push(new RowErrorItem(tooLongMessage(bytes, this.maxLineBytes)));
  }
}
