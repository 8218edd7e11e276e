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
 * Rows of one artifact, already serialized as JSON lines, covering positions [from, to).
 * Positions that produced no line (row errors) are inside the range but absent from `indexes`.
 */
export interface RowBatch {
  artifact: string;
  from: number;
  to: number;
  /** One JSON object per entry, without the newline. */
  lines: string[];
  /** Position of each line, ascending; same length as lines. */
  indexes: number[];
}
