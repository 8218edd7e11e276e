import { giveBack, takeBuffer } from "./batch-buffers.js";
import type { LineSink } from "./types.js";

/** Room every ensure() adds beyond what is asked for: word writes (`frag`, `view.setInt32`) may run 3 bytes past their end. */
export const WORD_SLACK = 8;

/**
 * A constant piece of output (a key, the tp_* fields an artifact shares) made once, with its bytes also as
 * little-endian 32-bit words: a short piece is written a word at a time, which costs a third of a byte loop and half
 * a TypedArray set() call here. The last word is padded; its extra bytes land past the end and are overwritten.
 */
export class Fragment {
  readonly words: Int32Array;
  readonly length: number;

  constructor(readonly bytes: Uint8Array) {
    this.length = bytes.length;
    const padded = new Uint8Array((bytes.length + 3) & ~3);
    padded.set(bytes);
    this.words = new Int32Array(padded.buffer);
  }
}

/** Longer fragments go in with set(), whose call costs less than their words. */
const WORDS_MAX = 48;

/**
 * A batch's output, written as bytes: rows built straight from their source bytes go in with `frag`, `copy` and word
 * writes through `view`, rows serialized as text go in with `push`. Callers `ensure` room for what they are about to
 * write; the write methods themselves do not check.
 */
export class ByteBatch implements LineSink {
  buf: Buffer;
  /** buf as a DataView, for writing a word at a time (little-endian); replaced whenever buf is. */
  view: DataView;
  pos = 0;
  /** Bytes of recent batches taken on this thread: the next one is likely alike, so its buffer is sized for it. */
  private static lastSize = 0;

  constructor() {
    this.buf = takeBuffer(ByteBatch.nextSize());
    this.view = viewOf(this.buf);
  }

  private static nextSize(): number {
    return Math.ceil(ByteBatch.lastSize * 1.1) + 64 * 1024;
  }

  /** Makes room for n more bytes (and WORD_SLACK). */
  ensure(n: number): void {
    if (this.pos + n + WORD_SLACK > this.buf.length) this.grow(n + WORD_SLACK);
  }

  /** Appends a fragment. */
  frag(f: Fragment): void {
    const n = f.length;
    if (n > WORDS_MAX) {
      this.buf.set(f.bytes, this.pos);
      this.pos += n;
      return;
    }
    const w = f.words;
    const view = this.view;
    const p = this.pos;
    for (let k = 0; k < w.length; k++) view.setInt32(p + 4 * k, w[k]!, true);
    this.pos = p + n;
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
    this.view = viewOf(this.buf);
    this.pos = 0;
    return out;
  }

  /** Gives the buffer back for reuse; the batch is unusable afterwards. */
  dispose(): void {
    giveBack(this.buf.buffer as ArrayBuffer);
    this.buf = Buffer.alloc(0);
    this.view = viewOf(this.buf);
    this.pos = 0;
  }

  private grow(n: number): void {
    const bigger = takeBuffer(Math.max(this.pos + n, this.buf.length * 2));
    this.buf.copy(bigger, 0, 0, this.pos);
    giveBack(this.buf.buffer as ArrayBuffer);
    this.buf = bigger;
    this.view = viewOf(bigger);
  }
}

function viewOf(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}
