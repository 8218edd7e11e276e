import { giveBack, takeBuffer } from "./batch-buffers.js";
import type { LineSink } from "./enrich.js";

/**
 * A batch's output, written as bytes: rows built straight from their source bytes go in with `copy` and `bytes`,
 * rows serialized as text go in with `push`. Callers `ensure` room for what they are about to write; the write
 * methods themselves do not check.
 */
export class ByteBatch implements LineSink {
  buf: Buffer;
  pos = 0;
  /** Bytes of recent batches taken on this thread: the next one is likely alike, so its buffer is sized for it. */
  private static lastSize = 0;

  constructor() {
    this.buf = takeBuffer(ByteBatch.nextSize());
  }

  private static nextSize(): number {
    return Math.ceil(ByteBatch.lastSize * 1.1) + 64 * 1024;
  }

  /** Makes room for n more bytes. */
  ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(n);
  }

  /** Appends a fragment made once (a key, a constant field). */
  bytes(src: Uint8Array): void {
    const n = src.length;
    if (n > 32) {
      this.buf.set(src, this.pos);
      this.pos += n;
      return;
    }
    // A short key is copied faster by hand than by a call into TypedArray.prototype.set.
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) buf[p++] = src[i]!;
    this.pos = p;
  }

  /** Appends ASCII text (a timestamp) by its char codes. */
  ascii(text: string): void {
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < text.length; i++) buf[p++] = text.charCodeAt(i);
    this.pos = p;
  }

  /** Appends src[start, end): a field's bytes, usually a few dozen, for which a loop beats a subarray and set. */
  copy(src: Uint8Array, start: number, end: number): void {
    const buf = this.buf;
    let p = this.pos;
    for (let i = start; i < end; i++) buf[p++] = src[i]!;
    this.pos = p;
  }

  byte(b: number): void {
    this.buf[this.pos++] = b;
  }

  /** Appends a line of text (UTF-8); makes its own room. */
  push(line: string): void {
    this.ensure(line.length * 3);
    this.pos += this.buf.write(line, this.pos, "utf8");
  }

  /** The bytes written; the batch starts afresh with a buffer of its own. */
  take(): Buffer {
    if (this.pos === 0) return Buffer.alloc(0);
    const out = this.buf.subarray(0, this.pos);
    // A short batch (an artifact's last) lowers the estimate only slowly: the next artifact's first batch is a full one.
    ByteBatch.lastSize = Math.max(this.pos, Math.floor(ByteBatch.lastSize * 0.75));
    this.buf = takeBuffer(ByteBatch.nextSize());
    this.pos = 0;
    return out;
  }

  /** Gives the buffer back for reuse; the batch is unusable afterwards. */
  dispose(): void {
    giveBack(this.buf.buffer as ArrayBuffer);
    this.buf = Buffer.alloc(0);
    this.pos = 0;
  }

  private grow(n: number): void {
    const bigger = takeBuffer(Math.max(this.pos + n, this.buf.length * 2));
    this.buf.copy(bigger, 0, 0, this.pos);
    giveBack(this.buf.buffer as ArrayBuffer);
    this.buf = bigger;
  }
}
