import type { ArtifactInfo } from "./source.js";

/** Counters of one execution, sent periodically in status events and once more in complete. */
export interface StatusCounters {
  artifactsDiscovered: number;
  artifactsDownloaded: number;
  artifactsExtracted: number;
  artifactsFailed: number;
  /** Artifacts left alone because state says they are collected and unchanged. */
  artifactsSkipped: number;
  /** Artifacts this execution waits for, now, because other collectors hold their claims (shared state). */
  artifactsWaiting: number;
  /** Artifacts discovery has listed so far; it runs ahead of collection, so once it ends this is the total. */
  artifactsListed: number;
  /** Discovery has ended: artifactsListed is final. */
  discoveryDone: boolean;
  bytesDownloaded: number;
  /** Rows out of the mapper chain. */
  rowsReceived: number;
  /** Rows that passed enrichment and validation. */
  rowsEnriched: number;
  /** Rows in durable chunk files. */
  rowsWritten: number;
  chunksWritten: number;
  /** Row errors by the operation that failed: load, map, enrich, validate. */
  rowErrors: Record<string, number>;
  elapsedMs: number;
}

/** Fields every event carries. */
interface EventBase {
  executionId: string;
  time: Date;
}

/** The first event of an execution. */
export interface StartedEvent extends EventBase {
  type: "started";
  table: string;
  partition: string;
  sourceType: string;
  outputDir: string;
}
/** A source found an artifact. */
export interface ArtifactDiscoveredEvent extends EventBase {
  type: "artifact_discovered";
  artifact: ArtifactInfo;
}
/** An artifact is available locally. */
export interface ArtifactDownloadedEvent extends EventBase {
  type: "artifact_downloaded";
  artifact: ArtifactInfo;
  bytes: number;
  durationMs: number;
}
/** Every row of an artifact has been extracted. */
export interface ArtifactExtractedEvent extends EventBase {
  type: "artifact_extracted";
  artifact: ArtifactInfo;
  rows: number;
  rowErrors: number;
}
/** Periodic counters. */
export interface StatusEvent extends EventBase {
  type: "status";
  status: StatusCounters;
}
/** A chunk is durable under its final name. */
export interface ChunkWrittenEvent extends EventBase {
  type: "chunk_written";
  sequence: number;
  rows: number;
  path: string;
}
/** Always the last event of an execution. */
export interface CompleteEvent extends EventBase {
  type: "complete";
  rows: number;
  chunks: number;
  /** Why the execution failed; undefined on success. */
  error?: string;
  status: StatusCounters;
}
/** A problem with an artifact or row that the execution went on past, or the one that stopped it. */
export interface ErrorEvent extends EventBase {
  type: "error";
  message: string;
  artifact?: string;
  operation?: string;
  /** The row's number from 1, as the message gives it: the line of a line-based artifact, else the record's place. */
  rowIndex?: number;
}

/** Everything a plugin reports about an execution. Rows are never events. */
export type CollectionEvent =
  StartedEvent | ArtifactDiscoveredEvent | ArtifactDownloadedEvent | ArtifactExtractedEvent | StatusEvent | ChunkWrittenEvent | CompleteEvent | ErrorEvent;

/** An all-zero counter set. */
export function emptyStatus(): StatusCounters {
  return {
    artifactsDiscovered: 0,
    artifactsDownloaded: 0,
    artifactsExtracted: 0,
    artifactsFailed: 0,
    artifactsSkipped: 0,
    artifactsWaiting: 0,
    artifactsListed: 0,
    discoveryDone: false,
    bytesDownloaded: 0,
    rowsReceived: 0,
    rowsEnriched: 0,
    rowsWritten: 0,
    chunksWritten: 0,
    rowErrors: {},
    elapsedMs: 0,
  };
}
