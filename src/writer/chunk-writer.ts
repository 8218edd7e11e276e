import fs from "node:fs";
import path from "node:path";
import { Code, TailkitError, invalidArgument } from "../errors/index.js";
import { createOutputDirectory } from "./output-dir.js";
import { isEncodedLines, lineOffset, type ChunkRange, type RowBatch, type WrittenChunk } from "./types.js";

/** Options of createChunkWriter. */
export interface ChunkWriterOptions {
  /** Output directory; created when missing. */
  dir: string;
  /** Execution id, the chunk file prefix: letters, digits, ".", "_" and "-", not starting with ".". */
  executionId: string;
  /** Most rows in one chunk. Default 10,000. */
  rowsPerChunk?: number;
  /**
   * Most full chunks being made durable (fsync, rename, announce) at once while the next one fills. A disk flushes
   * several files at once much faster than one after another (here: 840 MB in 10 MB files took 1.3–2.0 s one at a
   * time, 0.4–0.8 s three at a time). They hold no memory of the writer's, only their files. Default 3.
   */
  maxChunksFinishing?: number;
  /** Told about each chunk once it is durable under its final name; awaited before the writer goes on. Default: none. */
  onChunk?: (chunk: WrittenChunk) => void | Promise<void>;
  /**
   * Told about each chunk once its data is durable under the temp name, before the rename makes it visible; awaited.
   * Collection state records its intent here, so that a crash between rename and onChunk can be recovered. Default: none.
   */
  beforeVisible?: (chunk: WrittenChunk) => void | Promise<void>;
}

/** What close() reports. */
export interface ChunkWriterSummary {
  chunks: number;
  rows: number;
  /**
   * Positions written after the last row (row errors with no row after them), which no chunk holds. They are
   * accounted for once close() resolves; an empty chunk file is not written just to carry them.
   */
  trailingRanges: ChunkRange[];
}

/** Writes row batches to numbered JSONL chunk files that appear only once whole and durable. */
export interface ChunkWriter {
  /**
   * Adds a batch; resolves when the writer can take more, which is the backpressure. A chunk that fills up is made
   * durable and announced (fsync, rename, onChunk) while the next ones fill, so that the disk and the CPU work at
   * once; but only maxChunksFinishing at a time: a write that fills one more waits until the oldest is announced.
   * Chunks are announced in order. Once the promise settles the writer holds nothing of the batch: the caller may
   * overwrite or reuse its bytes (a pooled buffer).
   */
  write(batch: RowBatch): Promise<void>;
  /**
   * Ends the chunk being filled now, even if it is not full, and resolves once every row written so far is durable
   * and announced. Collectors that share state call it before waiting on each other.
   */
  flush(): Promise<void>;
  /** Writes the last partial chunk, waits until every chunk is announced, and reports totals. */
  close(): Promise<ChunkWriterSummary>;
  /** Stops without writing the partial chunk and removes its temp file; chunks already announced stay. */
  abort(): Promise<void>;
}

/** Default most rows in one chunk. */
export const DEFAULT_ROWS_PER_CHUNK = 10_000;

/** Default most full chunks being made durable at once. */
export const DEFAULT_MAX_CHUNKS_FINISHING = 3;

/** Pending bytes are written once they reach this size, so a big chunk costs a few large writes. */
const FLUSH_BYTES = 1024 * 1024;

/**
 * What is left of a batch once write() is done is copied when smaller than this, to be written with the next batches
 * (small batches cost one write per MiB, as before), and written at once when larger: a copy would cost more than the
 * extra write.
 */
const COPY_MAX_BYTES = 64 * 1024;

const LF = 0x0a;

/** Checks ChunkWriterOptions; throws INVALID_ARGUMENT naming the bad option. */
export function validateChunkWriterOptions(options: ChunkWriterOptions): void {
  if (typeof options.dir !== "string" || options.dir === "") throw invalidArgument("dir", "must be a non-empty path");
  if (typeof options.executionId !== "string" || !/^[A-Za-z0-9_-][A-Za-z0-9._-]*$/.test(options.executionId)) {
    throw invalidArgument("executionId", `${JSON.stringify(options.executionId)} must be letters, digits, ".", "_" or "-" and not start with "."`);
  }
  const n = options.rowsPerChunk;
  if (n !== undefined && (!Number.isInteger(n) || n < 1)) {
    throw invalidArgument("rowsPerChunk", `must be a positive integer, got ${n}`);
  }
  const f = options.maxChunksFinishing;
  if (f !== undefined && (!Number.isInteger(f) || f < 1)) {
    throw invalidArgument("maxChunksFinishing", `must be a positive integer, got ${f}`);
  }
}

/** Creates a chunk writer: `<dir>/<executionId>-<seq>.jsonl`, seq from 1, at most rowsPerChunk rows each. */
export function createChunkWriter(options: ChunkWriterOptions): ChunkWriter {
  validateChunkWriterOptions(options);
  return new JsonlChunkWriter(options);
}

class JsonlChunkWriter implements ChunkWriter {
  private readonly dir: string;
  private readonly executionId: string;
  private readonly rowsPerChunk: number;
  private readonly maxChunksFinishing: number;
  private readonly onChunk: ChunkWriterOptions["onChunk"];
  private readonly beforeVisible: ChunkWriterOptions["beforeVisible"];

  /** Operations run one after another in call order, even when callers do not await. */
  private tail: Promise<unknown> = Promise.resolve();
  private state: "open" | "closed" | "aborted" | "failed" = "open";
  /** The last chunk handed to the background; settles once it (and so every chunk before it) is announced. */
  private finishing: Promise<void> = Promise.resolve();
  /** Chunks handed to the background and not yet announced, oldest first; each settles once announced. */
  private inFlight: Promise<void>[] = [];
  private failure: unknown;
  /** The first chunk that could not be finished in the background: the next operation fails with it. */
  private backgroundFailure: { error: unknown } | undefined;
  private dirReady = false;

  private sequence = 0;
  private chunks = 0;
  private totalRows = 0;

  // The chunk being filled.
  private file: fs.promises.FileHandle | undefined;
  private tempPath: string | undefined;
  /** Pieces of the batch being written, after the staged bytes; empty between write() calls. */
  private pending: Uint8Array[] = [];
  /** Bytes not yet in the file: staged plus pending. */
  private pendingBytes = 0;
  /** Small leftovers of earlier batches, copied so that no batch's bytes are held between write() calls. */
  private stage: Buffer | undefined;
  private staged = 0;
  private chunkRows = 0;
  private ranges: ChunkRange[] = [];

  constructor(options: ChunkWriterOptions) {
    this.dir = path.resolve(options.dir);
    this.executionId = options.executionId;
    this.rowsPerChunk = options.rowsPerChunk ?? DEFAULT_ROWS_PER_CHUNK;
    this.maxChunksFinishing = options.maxChunksFinishing ?? DEFAULT_MAX_CHUNKS_FINISHING;
    this.onChunk = options.onChunk;
    this.beforeVisible = options.beforeVisible;
  }

  write(batch: RowBatch): Promise<void> {
    return this.enqueue(() => this.writeBatch(batch));
  }

  flush(): Promise<void> {
    return this.enqueue(async () => {
      if (this.chunkRows > 0) await this.finishChunk();
      await this.finishing;
    });
  }

  close(): Promise<ChunkWriterSummary> {
    return this.enqueue(async () => {
      let trailingRanges: ChunkRange[] = [];
      if (this.chunkRows > 0) await this.finishChunk();
      else trailingRanges = this.ranges;
      await this.finishing;
      this.state = "closed";
      return { chunks: this.chunks, rows: this.totalRows, trailingRanges };
    });
  }

  async abort(): Promise<void> {
    if (this.state === "aborted") return;
    // Let an operation in flight settle so its temp file, if any, is known before it is removed; a chunk being
    // finished completes (or fails) on its own.
    await this.tail.catch(() => {});
    await this.finishing.catch(() => {});
    this.state = "aborted";
    await this.discardChunk();
  }

  private enqueue<T>(op: () => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      if (this.state === "failed") throw this.failure;
      if (this.state !== "open") {
        throw new TailkitError(Code.FailedPrecondition, `chunk writer for ${this.executionId} is ${this.state}`, {
          operation: "write",
        });
      }
      try {
        if (this.backgroundFailure !== undefined) throw this.backgroundFailure.error;
        return await op();
      } catch (err) {
        // A half-written chunk cannot be trusted, so the writer stops rather than skip rows silently.
        this.state = "failed";
        this.failure = TailkitError.from(err, Code.Internal, { operation: "write" });
        // Chunks in the background settle first: those after a failed one remove their temp files.
        await this.finishing.catch(() => {});
        await this.discardChunk();
        throw this.failure;
      }
    };
    const result = this.tail.then(run, run);
    this.tail = result.catch(() => {});
    return result;
  }

  private async writeBatch(batch: RowBatch): Promise<void> {
    validateBatch(batch);
    const { lines, indexes } = batch;
    const encoded = isEncodedLines(lines) ? lines.bytes : undefined;
    let byteOffset = 0;
    let from = batch.from;
    let i = 0;
    while (i < lines.length) {
      const take = Math.min(this.rowsPerChunk - this.chunkRows, lines.length - i);
      if (encoded !== undefined) {
        // Lines are found by their newlines only where a chunk boundary cuts the batch.
        const end = i + take === lines.length ? encoded.length : nthLineEnd(encoded, byteOffset, take, batch);
        // Lines are not counted (a scan per batch); a piece with no byte at all is the shortfall that would do harm.
        if (end === byteOffset) throw badBatch(batch, "bytes hold fewer lines than lines.length");
        this.push(encoded.subarray(byteOffset, end));
        byteOffset = end;
      } else {
        const part = take === lines.length ? (lines as readonly string[]) : (lines as readonly string[]).slice(i, i + take);
        this.push(Buffer.from(part.join("\n") + "\n", "utf8"));
      }
      this.chunkRows += take;
      i += take;
      // Positions up to the next row not written here, errors included, belong to this chunk.
      const to = i < lines.length ? indexes[i]! : batch.to;
      this.addRange(batch.artifact, from, to);
      from = to;
      if (this.chunkRows === this.rowsPerChunk) await this.finishChunk();
      else if (this.pendingBytes >= FLUSH_BYTES) await this.flushPending();
    }
    // Row errors after the batch's last row (or a batch of nothing but errors) still move its positions forward.
    this.addRange(batch.artifact, from, batch.to);
    await this.letGoOfBatch();
  }

  /**
   * Leaves nothing pending that points into the batch (only its last piece can be: every other piece filled a chunk),
   * either by copying it into the stage or, when large, by writing it now.
   */
  private async letGoOfBatch(): Promise<void> {
    const size = this.pendingBytes - this.staged;
    if (size === 0) return;
    if (size >= COPY_MAX_BYTES || this.staged + size > FLUSH_BYTES) {
      await this.flushPending();
      return;
    }
    this.stage ??= Buffer.allocUnsafeSlow(FLUSH_BYTES);
    for (const piece of this.pending) {
      this.stage.set(piece, this.staged);
      this.staged += piece.length;
    }
    this.pending = [];
  }

  private push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
  }

  private addRange(artifact: string, from: number, to: number): void {
    if (from === to) return;
    const last = this.ranges.findLast((r) => r.artifact === artifact);
    if (last !== undefined && last.to === from) last.to = to;
    else this.ranges.push({ artifact, from, to });
  }

  private async flushPending(): Promise<void> {
    if (this.pendingBytes === 0) return;
    if (this.file === undefined) {
      await this.ensureDir();
      // The pid lets a later run tell a temp file left by a dead process from one a live collector is writing.
      this.tempPath = path.join(this.dir, `.${this.executionId}-${this.sequence + 1}.${process.pid}.jsonl.tmp`);
      this.file = await fs.promises.open(this.tempPath, "w");
    }
    // The stage is not touched again before the writev is done: operations run one at a time.
    const buffers = this.staged > 0 ? [this.stage!.subarray(0, this.staged), ...this.pending] : this.pending;
    const total = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    this.staged = 0;
    // One writev for everything pending; a short write (rare, e.g. a full disk about to fail) finishes byte by byte.
    const { bytesWritten } = await this.file.writev(buffers);
    if (bytesWritten < total) {
      const rest = Buffer.concat(buffers).subarray(bytesWritten);
      let offset = 0;
      while (offset < rest.length) {
        const r = await this.file.write(rest, offset, rest.length - offset, null);
        offset += r.bytesWritten;
      }
    }
  }

  /**
   * Hands the full chunk to the background: fsync under the temp name (at the same time as the chunks before it),
   * then, after the previous chunk is announced, beforeVisible, rename, fsync of the directory, onChunk. Returns once
   * at most maxChunksFinishing chunks are in the background.
   */
  private async finishChunk(): Promise<void> {
    await this.flushPending();
    const file = this.file!;
    const tempPath = this.tempPath!;
    this.file = undefined;
    this.tempPath = undefined;
    const sequence = ++this.sequence;
    const chunk: WrittenChunk = {
      executionId: this.executionId,
      sequence,
      rows: this.chunkRows,
      path: path.join(this.dir, `${this.executionId}-${sequence}.jsonl`),
      ranges: this.ranges,
    };
    this.chunkRows = 0;
    this.ranges = [];
    const previous = this.finishing;
    const finished = (async () => {
      try {
        await file.sync();
      } finally {
        await file.close();
      }
      await previous;
      await this.beforeVisible?.(chunk);
      await publish(tempPath, chunk.path, this.executionId);
      await syncDir(this.dir);
      this.chunks++;
      this.totalRows += chunk.rows;
      await this.onChunk?.(chunk);
    })();
    this.finishing = finished.catch(async (err: unknown) => {
      this.backgroundFailure ??= { error: err };
      // A chunk that could not be finished is not announced; its temp file goes (a later run would remove it too).
      await fs.promises.rm(tempPath, { force: true }).catch(() => {});
      throw err;
    });
    // The writer fails with it even if no other operation comes to see it.
    this.finishing.catch(() => {});
    this.inFlight.push(this.finishing);
    // Chunks are announced in order, so the oldest in flight settles first; a failure rejects it and every later one.
    while (this.inFlight.length > this.maxChunksFinishing) await this.inFlight.shift();
  }

  private async discardChunk(): Promise<void> {
    const file = this.file;
    const tempPath = this.tempPath;
    this.file = undefined;
    this.tempPath = undefined;
    this.pending = [];
    this.pendingBytes = 0;
    this.staged = 0;
    this.chunkRows = 0;
    this.ranges = [];
    await file?.close().catch(() => {});
    if (tempPath !== undefined) await fs.promises.rm(tempPath, { force: true });
  }

  private async ensureDir(): Promise<void> {
    if (this.dirReady) return;
    // Not fs.mkdir's recursive mode: it spins forever under /proc and hides the real errno (see createOutputDirectory).
    createOutputDirectory(this.dir);
    this.dirReady = true;
  }
}

function badBatch(batch: RowBatch, why: string): TailkitError {
  return new TailkitError(Code.InvalidArgument, `row batch of ${batch.artifact} [${batch.from}, ${batch.to}): ${why}`, {
    artifact: batch.artifact,
    operation: "write",
  });
}

function validateBatch(batch: RowBatch): void {
  const { lines, indexes, from, to } = batch;
  if (lines.length !== indexes.length) throw badBatch(batch, `${lines.length} lines but ${indexes.length} indexes`);
  if (!(from <= to)) throw badBatch(batch, "from is after to");
  if (lines.length > 0 && (indexes[0]! < from || indexes[indexes.length - 1]! >= to)) {
    throw badBatch(batch, "indexes fall outside [from, to)");
  }
  if (lines.length > to - from) throw badBatch(batch, "more lines than positions");
  if (isEncodedLines(lines)) {
    const b = lines.bytes;
    if (lines.length === 0 ? b.length !== 0 : b.length === 0 || b[b.length - 1] !== LF) {
      throw badBatch(batch, "encoded lines must each end with a newline");
    }
  }
}

/** Offset just past the count-th newline at or after start. */
function nthLineEnd(bytes: Uint8Array, start: number, count: number, batch: RowBatch): number {
  const at = lineOffset(bytes, start, count);
  if (at === -1) throw badBatch(batch, "bytes hold fewer lines than lines.length");
  return at;
}

/**
 * Gives the temp file its final name without ever replacing a file already there (a chunk of an earlier run under
 * the same execution id, or a writer racing this one): a hard link fails with EEXIST where a rename would clobber.
 * File systems without hard links get a rename after a check, which only a race can defeat.
 */
async function publish(tempPath: string, finalPath: string, executionId: string): Promise<void> {
  try {
    await fs.promises.link(tempPath, finalPath);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EEXIST") throw chunkExists(finalPath, executionId);
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "ENOSYS" && code !== "EOPNOTSUPP") throw err;
    if (
      await fs.promises.stat(finalPath).then(
        () => true,
        () => false,
      )
    )
      throw chunkExists(finalPath, executionId);
    await fs.promises.rename(tempPath, finalPath);
    return;
  }
  await fs.promises.unlink(tempPath);
}

function chunkExists(finalPath: string, executionId: string): TailkitError {
  return new TailkitError(
    Code.AlreadyExists,
    `executionId: chunk ${finalPath} already exists and is not overwritten; execution id ${executionId} is already in use in ${path.dirname(finalPath)}`,
    { field: "executionId", operation: "write" },
  );
}

/** Makes a rename durable; some platforms (Windows) cannot open or fsync a directory, and there nothing more can be done. */
async function syncDir(dir: string): Promise<void> {
  let handle: fs.promises.FileHandle | undefined;
  try {
    handle = await fs.promises.open(dir, "r");
    await handle.sync();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "EISDIR" && code !== "EPERM" && code !== "EINVAL" && code !== "EBADF") throw err;
  } finally {
    await handle?.close();
  }
}
