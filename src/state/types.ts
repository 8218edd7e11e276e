import type { CoveredWindow, TimeWindow } from "./coverage.js";

/** What state remembers of one artifact. */
export interface ArtifactState {
  size?: number | undefined;
  etag?: string | undefined;
  /** Where it was last collected from (ArtifactInfo.location), for tailkit/artifacts. */
  location?: string | undefined;
  /** When it was last read to its end, ms since the epoch, for tailkit/artifacts. */
  collectedAtMs?: number | undefined;
  mtimeMs?: number | undefined;
  /** Positions [0, committed) are in durable, visible chunks, for every time. */
  committed: number;
  /**
   * Time windows collected further than `committed` (collections with --from/--to): rows at positions below a
   * window's committed whose time is in the window are in durable chunks (see coverage.ts). Absent when none.
   */
  windows?: CoveredWindow[] | undefined;
  /** Set between "chunk data durable" and "chunk renamed into place": the chunk that would move committed to pendingTo. */
  pendingChunk?: string | undefined;
  pendingTo?: number | undefined;
  /** The time window pendingTo is for, when it is bounded (absent: it moves `committed`). */
  pendingWindow?: TimeWindow | undefined;
  /** Every position of the artifact is committed, for every time. */
  complete: boolean;
  /** Positions the artifact had when it was last read to its end. */
  end?: number | undefined;
  /** Rows written, over all executions. */
  rows: number;
  execution: string;
  /** The first bytes of the artifact's content when it was last collected (sources with ArtifactSource.head). */
  head?: HeadPrint | undefined;
  /**
   * The tp_id prefix of the artifact's rows (artifactIdSeed), made when the file was first collected and kept while it
   * grows or moves to another name, so that its rows keep their ids; a file that replaced it under its name gets its own.
   */
  idSeed?: string | undefined;
}

/** An artifact's first bytes, as their count and SHA-256: what tells the same file from another one. */
export interface HeadPrint {
  bytes: number;
  sha256: string;
  /** The count and SHA-256 of the first HEAD_KEY_BYTES of them: where the state finds the file again once it grew. */
  key: string;
}
