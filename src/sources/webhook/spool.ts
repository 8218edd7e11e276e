import { mkdirSync, readdirSync } from "node:fs";
import { open, unlink, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { crc32 } from "node:zlib";

/**
 * Frame of one record: payload length, row count and CRC-32 of both (little-endian u32 each), then the payload. A
 * frame cut short or whose checksum fails is where a write that was never acknowledged stopped.
 */
const HEADER = 12;
const SEGMENT_NAME = /^(\d{16})\.spool$/;
const READ_BLOCK = 1 << 20;

/** Options of openSpool; defaults in each field's comment. */
export interface SpoolOptions {
  /** A segment this long or longer is closed and the next one begun, so whole segments can go once read. Default 64 MiB. */
  segmentBytes?: number;
  /** Hears about a segment whose middle is damaged (its rest is skipped). */
  onDamage?: (message: string) => void;
}

/** Records read from the spool, and the offset after them. */
export interface SpoolRead {
  payloads: Buffer[];
  rows: number;
  next: number;
}

interface Segment {
  start: number;
  /** Bytes of whole records: the end of what is read. */
  size: number;
  path: string;
  reader?: FileHandle | undefined;
}

interface PendingAppend {
  frame: Buffer;
  resolve: () => void;
  reject: (err: Error) => void;
}

function segmentName(start: number): string {
  return `${String(start).padStart(16, "0")}.spool`;
}

function frameChecksum(header: Buffer, payload: Uint8Array): number {
  return crc32(payload, crc32(header.subarray(0, 8)));
}

/**
 * An append-only log of records in segment files named by the offset they start at. Offsets run on across segments
 * and across runs, so an offset is a cursor: reading from one gives the same records in the same order every time.
 * An append resolves once its bytes are fsynced; appends that come together share one write and one fsync.
 */
export class Spool {
  private readonly segments: Segment[];
  private writer: FileHandle;
  private readonly segmentBytes: number;
  private readonly queue: PendingAppend[] = [];
  private writing: Promise<void> | undefined;
  private broken: Error | undefined;
  private readonly waiters = new Set<() => void>();

  private constructor(
    readonly dir: string,
    segments: Segment[],
    writer: FileHandle,
    segmentBytes: number,
    /** Rows in the records from the offset the spool was opened at to its end. */
    readonly rowsAfterStart: number,
    /** Where reading starts: the offset opened at, moved to the first record still in the spool. */
    readonly start: number,
  ) {
    this.segments = segments;
    this.writer = writer;
    this.segmentBytes = segmentBytes;
  }

  /**
   * Opens (or makes) the spool in dir for reading from `from` (undefined: from its first record). The end of the last
   * segment is checked record by record and cut back to its last whole one; a new segment is begun, so the older ones
   * can be deleted as soon as reading has passed them. A `from` beyond the end (a spool removed by hand) starts the new
   * segment there, so offsets never go back below a saved cursor.
   */
  static async open(dir: string, from: number | undefined, options: SpoolOptions = {}): Promise<Spool> {
    mkdirSync(dir, { recursive: true });
    const segments: Segment[] = readdirSync(dir)
      .map((n) => SEGMENT_NAME.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ start: Number(m[1]), size: 0, path: join(dir, m[0]) }))
      .sort((a, b) => a.start - b.start);
    let rows = 0;
    for (let i = 0; i < segments.length; i++) {
      const seg = segments[i]!;
      const last = i === segments.length - 1;
      const next = segments[i + 1];
      // Segments wholly before `from` are only sized, not read: they are deleted below.
      const counted = from === undefined || next === undefined || next.start > from;
      const scan = await scanSegment(seg.path, counted ? Math.max(0, (from ?? 0) - seg.start) : Infinity);
      seg.size = scan.size;
      rows += scan.rowsAfter;
      if (scan.damaged && !last) options.onDamage?.(`${seg.path}: a damaged record at byte ${scan.size}; the rest of this segment is skipped`);
      if (last && scan.damaged) {
        // An append cut short (never acknowledged): cut it off, so the next appends follow the last whole record.
        const fh = await open(seg.path, "r+");
        try {
          await fh.truncate(scan.size);
          await fh.sync();
        } finally {
          await fh.close();
        }
      }
    }
    const lastSeg = segments.at(-1);
    const end = lastSeg === undefined ? 0 : lastSeg.start + lastSeg.size;
    const first = Math.max(end, from ?? 0);
    const fresh: Segment = { start: first, size: 0, path: join(dir, segmentName(first)) };
    let writer: FileHandle;
    if (lastSeg !== undefined && lastSeg.size === 0 && lastSeg.start === first) {
      writer = await open(lastSeg.path, "r+");
    } else {
      writer = await open(fresh.path, "wx");
      segments.push(fresh);
      await syncDir(dir);
    }
    const firstStart = segments[0]!.start;
    const start = from === undefined ? firstStart : Math.max(from, firstStart);
    const spool = new Spool(dir, segments, writer, options.segmentBytes ?? 64 * 1024 * 1024, rows, start);
    await spool.release(start);
    return spool;
  }

  /** The offset after the last fsynced record. */
  get end(): number {
    const last = this.segments.at(-1)!;
    return last.start + last.size;
  }

  /** The segment files there are now (for tests and reports). */
  get files(): string[] {
    return this.segments.map((s) => s.path);
  }

  /** Appends one record of `rows` rows; resolves once it is on disk (fsynced). */
  append(payload: Uint8Array, rows: number): Promise<void> {
    if (this.broken) return Promise.reject(this.broken);
    const frame = Buffer.allocUnsafe(HEADER + payload.length);
    frame.writeUInt32LE(payload.length, 0);
    frame.writeUInt32LE(rows, 4);
    frame.set(payload, HEADER);
    frame.writeUInt32LE(frameChecksum(frame, payload), 8);
    return new Promise((resolve, reject) => {
      this.queue.push({ frame, resolve, reject });
      this.writing ??= this.writeQueued().finally(() => (this.writing = undefined));
    });
  }

  private async writeQueued(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0);
      try {
        if (this.broken) throw this.broken;
        let active = this.segments.at(-1)!;
        if (active.size >= this.segmentBytes) active = await this.rotate();
        const bytes = batch.length === 1 ? batch[0]!.frame : Buffer.concat(batch.map((b) => b.frame));
        let done = 0;
        while (done < bytes.length) done += (await this.writer.write(bytes, done, bytes.length - done, active.size + done)).bytesWritten;
        await this.writer.datasync();
        active.size += bytes.length;
        for (const b of batch) b.resolve();
        for (const wake of this.waiters) wake();
      } catch (err) {
        // What the file holds past the last fsync is unknown now: no more appends into it this run; the next run's
        // open cuts back to the last whole record.
        this.broken ??= err instanceof Error ? err : new Error(String(err));
        for (const b of batch) b.reject(this.broken);
      }
    }
  }

  private async rotate(): Promise<Segment> {
    const seg: Segment = { start: this.end, size: 0, path: join(this.dir, segmentName(this.end)) };
    const writer = await open(seg.path, "wx");
    await syncDir(this.dir);
    await this.writer.close();
    this.writer = writer;
    this.segments.push(seg);
    return seg;
  }

  /** Resolves once the spool ends past `offset`, or on wake(). */
  waitPast(offset: number): Promise<void> {
    if (this.end > offset) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        this.waiters.delete(wake);
        resolve();
      };
      this.waiters.add(wake);
    });
  }

  /** Wakes every waitPast. */
  wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /**
   * Whole records from `offset` on, until about maxRows rows or maxBytes bytes (at least one record when there is
   * one); `next` is the offset after them. `offset` is one a read or open gave.
   */
  async read(offset: number, maxRows: number, maxBytes: number): Promise<SpoolRead> {
    const out: SpoolRead = { payloads: [], rows: 0, next: offset };
    let bytes = 0;
    for (;;) {
      const i = this.segments.findIndex((s) => offset < s.start + s.size);
      if (i === -1) return out;
      const seg = this.segments[i]!;
      // A damaged segment ends early: the next one starts at its own offset.
      if (offset < seg.start) offset = seg.start;
      seg.reader ??= await open(seg.path, "r");
      const segEnd = seg.start + seg.size;
      while (offset < segEnd) {
        const want = Math.min(READ_BLOCK, segEnd - offset);
        let block = Buffer.allocUnsafe(want);
        await readFully(seg.reader, block, offset - seg.start);
        let at = 0;
        let took = 0;
        while (at + HEADER <= block.length) {
          const len = block.readUInt32LE(at);
          if (at + HEADER + len > block.length) {
            if (took === 0) {
              // A record longer than the block: read it whole.
              block = Buffer.allocUnsafe(HEADER + len);
              await readFully(seg.reader, block, offset - seg.start);
              at = 0;
              continue;
            }
            break;
          }
          out.payloads.push(block.subarray(at + HEADER, at + HEADER + len));
          out.rows += block.readUInt32LE(at + 4);
          at += HEADER + len;
          took++;
          bytes += len;
          if (out.rows >= maxRows || bytes >= maxBytes) break;
        }
        offset += at;
        out.next = offset;
        if (out.rows >= maxRows || bytes >= maxBytes) return out;
      }
    }
  }

  /** Deletes the segments that end at or before `offset` (never the one being written): read and no longer needed. */
  async release(offset: number): Promise<void> {
    while (this.segments.length > 1 && this.segments[0]!.start + this.segments[0]!.size <= offset) {
      const seg = this.segments.shift()!;
      await seg.reader?.close();
      await unlink(seg.path).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== "ENOENT") throw err;
      });
    }
  }

  /** Waits for appends under way, then closes the files. */
  async close(): Promise<void> {
    while (this.writing) await this.writing;
    this.broken ??= new Error("spool is closed");
    this.wake();
    await this.writer.close().catch(() => undefined);
    for (const s of this.segments) await s.reader?.close().catch(() => undefined);
  }
}

async function readFully(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await fh.read(buf, done, buf.length - done, position + done);
    if (bytesRead === 0) throw new Error(`spool file ended early at ${position + done}`);
    done += bytesRead;
  }
}

/** Walks a segment's records: the bytes of whole, checked ones, and the rows of those at or after `countFrom`. */
async function scanSegment(path: string, countFrom: number): Promise<{ size: number; rowsAfter: number; damaged: boolean }> {
  const fh = await open(path, "r");
  try {
    const fileSize = (await fh.stat()).size;
    let at = 0;
    let rowsAfter = 0;
    const header = Buffer.alloc(HEADER);
    while (at + HEADER <= fileSize) {
      await readFully(fh, header, at);
      const len = header.readUInt32LE(0);
      if (at + HEADER + len > fileSize) break;
      const payload = Buffer.allocUnsafe(len);
      await readFully(fh, payload, at + HEADER);
      if (frameChecksum(header, payload) !== header.readUInt32LE(8)) break;
      if (at >= countFrom) rowsAfter += header.readUInt32LE(4);
      at += HEADER + len;
    }
    return { size: at, rowsAfter, damaged: at !== fileSize };
  } finally {
    await fh.close();
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
