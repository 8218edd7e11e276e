/** Which positions of which artifact a chunk covers: [from, to) in the artifact's row order. */
export interface ChunkRange {
  artifact: string;
  from: number;
  to: number;
}

/** A chunk file that is durable and visible under its final name. */
export interface WrittenChunk {
  executionId: string;
  sequence: number;
  rows: number;
  /** Absolute path of the final file. */
  path: string;
  /**
   * Per artifact, the contiguous range of row positions this chunk accounts for (rows written, plus positions
   * that failed and were reported as row errors). Ranges of one artifact across chunks are adjacent and ascending;
   * this is what collection state records as collected.
   */
  ranges: ChunkRange[];
}

/**
 * Rows already encoded: UTF-8 JSON lines, each ended by "\n", in one buffer. This is how rows travel from an
 * extraction worker (the buffer is transferred, not copied) and how the writer likes them: no per-row work is left.
 * Like an array of lines it has a length and slice(); lines are found by their newlines, which JSON text never holds raw.
 */
export class EncodedLines {
  constructor(
    readonly bytes: Uint8Array,
    /** Number of lines in bytes. */
    readonly length: number,
  ) {}

  /** Lines [start, end), as Array.prototype.slice counts them; shares the bytes. */
  slice(start = 0, end = this.length): EncodedLines {
    const clamp = (n: number) => Math.min(this.length, Math.max(0, n < 0 ? this.length + n : Math.trunc(n)));
    const s = clamp(start);
    const e = Math.max(s, clamp(end));
    const from = lineOffset(this.bytes, 0, s);
    const to = e === this.length ? this.bytes.length : lineOffset(this.bytes, from, e - s);
    return new EncodedLines(this.bytes.subarray(from, to), e - s);
  }
}

/** Byte offset just past the count-th newline at or after start; -1 when there are fewer. */
export function lineOffset(bytes: Uint8Array, start: number, count: number): number {
  let at = start;
  for (let k = 0; k < count; k++) {
    const nl = bytes.indexOf(0x0a, at);
    if (nl === -1) return -1;
    at = nl + 1;
  }
  return at;
}

/**
 * Rows of one artifact, already serialized as JSON lines, covering positions [from, to).
 * Positions that produced no line (row errors) are inside the range but absent from `indexes`.
 */
export interface RowBatch {
  artifact: string;
  from: number;
  to: number;
  /**
   * The rows: one JSON object per entry without the newline, or the same already encoded. Either way `lines.length`
   * is the number of rows.
   */
  lines: readonly string[] | EncodedLines;
  /** Position of each line, ascending; same length as lines. */
  indexes: readonly number[];
}

/** Wraps encoded JSON lines (each ended by "\n") as the `lines` of a RowBatch. */
export function encodedLines(bytes: Uint8Array, length: number): EncodedLines {
  return new EncodedLines(bytes, length);
}

/** True when a batch's lines are already encoded bytes. */
export function isEncodedLines(lines: RowBatch["lines"]): lines is EncodedLines {
  return lines instanceof EncodedLines;
}
