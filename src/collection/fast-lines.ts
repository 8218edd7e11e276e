import { openArtifactStream, toLoadError } from "../loaders/compression.js";
import { DEFAULT_BATCH_SIZE, DEFAULT_MAX_LINE_BYTES, LineCarry, readSmallGzip, tooLongMessage, validateLimits } from "../loaders/lines.js";
import type { LocalArtifact } from "../contract/source.js";
import { LineOutcome, type LineFormat, type LineReader } from "../collection/line-format.js";
import { encodedLines } from "../writer/types.js";
import { giveBack } from "./batch-buffers.js";
import { ByteBatch } from "./byte-batch.js";
import { createEnricher, FILTERED, WRITTEN, type BatchEnricher, type Enricher } from "./enrich.js";
import { NO_DATA_SOURCES, type ArtifactEnrichContext, type ExtractedBatch, type ExtractJob, type ExtractSpec, type RowErrorReport } from "./types.js";
import { RowTail } from "./row-tail.js";

const LF = 0x0a;
const CR = 0x0d;

/**
 * extractArtifact for a table with a line format: the artifact's lines are read as bytes and the format writes each
 * row straight into the batch. Lines, positions, row errors and batches mean exactly what the reference path
 * (lines loader → mapper chain → enricher) gives them, and a line the format declines is mapped and enriched that
 * way, into the same batch, in its place.
 */
export async function* extractLines(
  local: LocalArtifact,
  spec: ExtractSpec,
  format: LineFormat,
  signal?: AbortSignal,
  job: ExtractJob = {},
): AsyncGenerator<ExtractedBatch> {
  const batchSize = spec.loaderOptions?.batchSize ?? DEFAULT_BATCH_SIZE;
  const maxLineBytes = spec.loaderOptions?.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  validateLimits(batchSize, maxLineBytes);
  const ctx: ArtifactEnrichContext = {
    table: spec.table,
    partition: spec.partition,
    sourceType: spec.sourceType,
    sourceName: spec.sourceName,
    artifact: local.info,
    from: spec.from,
    to: spec.to,
    exclude: job.exclude,
    idSeed: local.idSeed,
    dataSources: spec.registry ?? NO_DATA_SOURCES,
  };
  const b = new LineBatcher(
    local.info.name,
    format.open(local.info, spec.registry ?? NO_DATA_SOURCES),
    new RowTail(ctx, format.indexFallback(local.info)),
    createEnricher(ctx),
    batchSize,
    maxLineBytes,
  );
  try {
    const whole = await readSmallGzip(local, signal);
    const chunks: AsyncIterable<Buffer> | Buffer[] =
      whole !== undefined ? [whole] : ((await openArtifactStream(local, { signal })).stream as AsyncIterable<Buffer>);
    for await (const chunk of chunks) {
      signal?.throwIfAborted();
      let at = 0;
      if (b.carrying) {
        at = b.finishCarry(chunk);
        if (b.full) yield b.flush();
        if (at < 0) continue;
      }
      const last = chunk.lastIndexOf(LF);
      while (at <= last) {
        at = b.run(chunk, at, last + 1);
        if (b.full) {
          yield b.flush();
          signal?.throwIfAborted();
        }
      }
      b.keep(chunk, at, chunk.length);
    }
    b.end();
  } catch (err) {
    // Lines completed before the fault are good data; deliver them, then report the fault.
    if (b.lines > 0) yield b.flush();
    b.dispose();
    throw toLoadError(local, err);
  }
  if (b.lines > 0) yield b.flush();
  b.dispose();
}

/** Lines of one artifact into batches: positions, row errors and the carry of a line split across reads. */
class LineBatcher {
  /** Lines in the batch being filled. */
  lines = 0;
  private out: ByteBatch;
  private indexes: number[] = [];
  private rowErrors: RowErrorReport[] = [];
  private rowsReceived = 0;
  private from = 0;
  private position = 0;
  private lineIndex = 0;
  private slow: BatchEnricher | undefined;
  private ingest = "";
  /** A line that began in an earlier read. */
  private readonly carry: LineCarry;

  constructor(
    private readonly artifact: string,
    private readonly reader: LineReader,
    private readonly tail: RowTail,
    private readonly enricher: Enricher,
    private readonly batchSize: number,
    private readonly maxLineBytes: number,
  ) {
    this.carry = new LineCarry(maxLineBytes);
    this.out = new ByteBatch();
    this.startBatch();
  }

  get full(): boolean {
    return this.lines >= this.batchSize;
  }

  get carrying(): boolean {
    return !this.carry.empty;
  }

  /** Takes the whole lines of chunk[at, end) (end is just past a newline) until the batch is full; returns where it stopped. */
  run(chunk: Buffer, at: number, end: number): number {
    while (at < end && this.lines < this.batchSize) {
      const nl = chunk.indexOf(LF, at);
      const e = nl > at && chunk[nl - 1] === CR ? nl - 1 : nl;
      this.line(chunk, at, e);
      at = nl + 1;
    }
    return at;
  }

  /** Ends the line carried from earlier reads with this chunk's first newline; returns the offset after it, or -1 when there is none. */
  finishCarry(chunk: Buffer): number {
    const nl = chunk.indexOf(LF);
    if (nl === -1) {
      this.carry.keep(chunk, 0, chunk.length);
      return -1;
    }
    if (this.carry.discarding) {
      this.carry.keep(chunk, 0, nl);
      this.tooLong(this.carry.endDiscard());
    } else this.joined(this.carry.take(chunk, 0, nl));
    return nl + 1;
  }

  /** Keeps the start of a line that goes on in the next read. */
  keep(chunk: Buffer, start: number, end: number): void {
    this.carry.keep(chunk, start, end);
  }

  /** The last line, when the artifact does not end with a newline. */
  end(): void {
    if (this.carry.discarding) this.tooLong(this.carry.endDiscard());
    else if (this.carry.held > 0) this.joined(this.carry.take());
  }

  flush(): ExtractedBatch {
    const bytes = this.out.take();
    let buffer: ArrayBuffer | undefined = bytes.buffer as ArrayBuffer;
    const out: ExtractedBatch = {
      batch: { artifact: this.artifact, from: this.from, to: this.position, lines: encodedLines(bytes, this.indexes.length), indexes: this.indexes },
      rowErrors: this.rowErrors,
      rowsReceived: this.rowsReceived,
      release: () => {
        if (buffer !== undefined) giveBack(buffer);
        buffer = undefined;
      },
    };
    this.indexes = [];
    this.rowErrors = [];
    this.rowsReceived = 0;
    this.lines = 0;
    this.from = this.position;
    this.startBatch();
    return out;
  }

  dispose(): void {
    this.out.dispose();
  }

  private startBatch(): void {
    this.ingest = new Date().toISOString();
    this.tail.startBatch(this.ingest);
    this.slow = undefined;
  }

  private joined(joined: Buffer): void {
    const end = joined.length > 0 && joined[joined.length - 1] === CR ? joined.length - 1 : joined.length;
    this.line(joined, 0, end);
  }

  private line(b: Buffer, s: number, e: number): void {
    if (e - s > this.maxLineBytes) {
      this.tooLong(e - s);
      return;
    }
    const index = this.lineIndex++;
    this.lines++;
    // A UTF-8 byte order mark is an encoding marker, not part of the first line's text.
    if (index === 0 && e - s >= 3 && b[s] === 0xef && b[s + 1] === 0xbb && b[s + 2] === 0xbf) {
      this.slowLine(b.toString("utf8", s + 3, e), index);
      return;
    }
    switch (this.reader.write(b, s, e, this.position, this.out, this.tail)) {
      case LineOutcome.Row:
        this.indexes.push(this.position++);
        this.rowsReceived++;
        return;
      case LineOutcome.Filtered:
        this.position++;
        this.rowsReceived++;
        return;
      case LineOutcome.Skip:
        return;
      default:
        this.slowLine(b.toString("utf8", s, e), index);
    }
  }

  /** The reference path for one line: the reader's mapper, then the enricher, written into the same batch. */
  private slowLine(text: string, index: number): void {
    let row;
    try {
      row = this.reader.map(text);
    } catch (err) {
      const message = `${this.reader.mapperName}: ${err instanceof Error ? err.message : String(err)}`;
      this.rowErrors.push({ position: this.position++, operation: "map", message: `line ${index + 1}: ${message}`, row: index + 1 });
      return;
    }
    if (row === undefined) return;
    this.rowsReceived++;
    const position = this.position++;
    this.slow ??= this.enricher.begin(this.out, this.ingest);
    const r = this.slow.addOne(row, position);
    if (r === WRITTEN) this.indexes.push(position);
    else if (r !== FILTERED) this.rowErrors.push({ position: r.position, operation: r.operation, message: `line ${index + 1}: ${r.message}`, row: index + 1 });
  }

  private tooLong(bytes: number): void {
    const index = this.lineIndex++;
    this.lines++;
    this.rowErrors.push({
      position: this.position++,
      operation: "load",
      message: `line ${index + 1}: ${tooLongMessage(bytes, this.maxLineBytes)}`,
      row: index + 1,
    });
  }
}
