import type { DataSourceLookup } from "../contract/data-source.js";
import type { DataSourcesSetup } from "../datasources/setup.js";
import type { LoaderOptions } from "../contract/loader.js";
import type { ArtifactInfo, LocalArtifact } from "../contract/source.js";
import type { CoveredWindow } from "../state/coverage.js";
import type { TableDefinition } from "../contract/table.js";
import type { RowBatch } from "../writer/types.js";

// The types the collection pipeline's stages share, in a module that imports none of them: extract, fast-lines, the
// worker pool and its protocol, the enricher and the byte writers all depend on these, and on nothing of each other
// that would lead back.

/** Where enriched lines go: the batch's own encoder, or a caller's buffer that also holds rows made elsewhere. */
export interface LineSink {
  /** Appends one line's text; the text ends with "\n". */
  push(line: string): void;
}

/** What every row of one artifact shares, computed once per artifact rather than once per row. */
export interface ArtifactEnrichContext {
  table: TableDefinition<unknown>;
  partition: string;
  sourceType: string;
  sourceName: string;
  artifact: ArtifactInfo;
  /** Rows before this instant are dropped (not an error). */
  from?: Date | undefined;
  /** Rows at or after this instant are dropped. */
  to?: Date | undefined;
  /** Rows that earlier collections of these time windows wrote are dropped (not an error). */
  exclude?: readonly CoveredWindow[] | undefined;
  /** The tp_id prefix of the artifact's rows (LocalArtifact.idSeed); default artifactIdPrefix of its name. */
  idSeed?: string | undefined;
  /** Where enrich finds data sources; default: none. */
  dataSources?: DataSourceLookup | undefined;
}

/** A lookup with no data source in it. */
export const NO_DATA_SOURCES: DataSourceLookup = { getDataSource: () => undefined };

/** What extraction needs to know besides the artifact: the same for every artifact of an execution. */
export interface ExtractSpec {
  table: TableDefinition<unknown>;
  tableConfig: unknown;
  partition: string;
  sourceType: string;
  sourceName: string;
  from?: Date | undefined;
  to?: Date | undefined;
  loaderOptions?: LoaderOptions | undefined;
  /** The data sources of the execution, as plain data: each thread that extracts makes its registry from it. */
  dataSources?: DataSourcesSetup | undefined;
  /** This thread's registry for `dataSources` (made by the thread, never sent to a worker). */
  registry?: DataSourceLookup | undefined;
}

/** What extraction needs to know of one artifact besides its bytes: decided by collection state, per artifact. */
export interface ExtractJob {
  /** Rows already written by earlier collections of other time windows: dropped as they are read (coverage.ts). */
  exclude?: readonly CoveredWindow[] | undefined;
}

/** A row-level failure inside an artifact. */
export interface RowErrorReport {
  /** Its 0-based position among the artifact's rows and row errors (what tp_id and state count). */
  position: number;
  operation: string;
  /** Starts with what `row` counts: "line N: " or "record N: ". */
  message: string;
  /**
   * The number people are shown, from 1: the line of the file for line loaders (every line counted), else the
   * record's place in the artifact (position + 1). Missing means position + 1.
   */
  row?: number;
}

/** One batch out of extraction: JSON lines, encoded, ready for the writer, and what went wrong on the way. */
export interface ExtractedBatch {
  batch: RowBatch;
  rowErrors: RowErrorReport[];
  /** Rows out of the mapper chain. */
  rowsReceived: number;
  /**
   * Gives the batch's buffer back for reuse by the thread that made it. The consumer calls it once nothing reads the
   * bytes any more (the writer's write() has resolved, or the batch is dropped); calls after the first do nothing.
   * Optional to call: a buffer that is not given back is garbage collected.
   */
  release?(): void;
}

/** What an extractor has done so far, for status and for tests of its bounds. */
export interface ExtractorStats {
  /** Where extraction runs now: "worker" threads, or "inline" on the calling thread. */
  mode: "worker" | "inline";
  /** Why a worker extractor runs inline (the plugin module could not be loaded in a worker, say). */
  fallbackReason?: string;
  /** Live worker threads. */
  workers: number;
  workersStarted: number;
  /** Artifacts handed to workers. */
  jobs: number;
  /** Batches received from workers and not yet taken by the consumer, now and at most. */
  batchesQueued: number;
  maxBatchesQueued: number;
  /** Bytes of those batches, now and at most. */
  bytesQueued: number;
  maxBytesQueued: number;
  /** Times a worker ran out of credits and waited for the consumer: backpressure at work. */
  stalls: number;
  /** Workers that were started warm (by prewarmWorkers) and taken by this extractor. */
  warmWorkersUsed: number;
  /** Batch buffers sent back to the worker that made them, for reuse (0 inline, where they go back to the pool directly). */
  buffersReturned: number;
}

/** Runs extraction for an execution; the inline one runs on the calling thread, others may use worker threads. */
export interface Extractor {
  extract(local: LocalArtifact, signal?: AbortSignal, job?: ExtractJob): AsyncIterable<ExtractedBatch>;
  /** Frees threads or other resources; the extractor is unusable afterwards. */
  close(): Promise<void>;
  stats(): ExtractorStats;
}
