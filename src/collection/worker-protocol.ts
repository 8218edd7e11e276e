import type { Code, ErrorDetails } from "../errors/index.js";
import type { LoaderOptions } from "../contract/loader.js";
import type { ArtifactInfo } from "../contract/source.js";
import type { ExtractJob, ExtractSpec, RowErrorReport } from "./types.js";

/** An ExtractSpec as it crosses into a worker: the table by name, since a table holds functions. */
export interface WireExtractSpec extends Omit<ExtractSpec, "table" | "loaderOptions" | "registry"> {
  tableName: string;
  /** Without signal: each job has its own. */
  loaderOptions?: Omit<LoaderOptions, "signal"> | undefined;
}

/**
 * workerData of an extraction worker: where to find the table, and the spec shared by all its jobs. A worker started
 * ahead of any collection (warm) has no spec yet: it imports the module and waits for a "setup" message.
 */
export interface WorkerSetup {
  pluginModule: string;
  pluginName: string;
  spec?: WireExtractSpec | undefined;
}

/** The part of a LocalArtifact a worker needs; release() stays with the main thread. */
export interface WireArtifact {
  info: ArtifactInfo;
  path: string;
  bytes: number;
  readBytes?: number | undefined;
  idSeed?: string | undefined;
}

/** A TailkitError in cloneable form. */
export interface WireError {
  code: Code;
  message: string;
  details: ErrorDetails;
}

/** What a worker found when it imported the plugin module: what serve() needs to accept the module at start. */
export interface ModuleCheck {
  /** The import failed: its message. */
  importError?: string | undefined;
  /** serve() was called during the import: the stack frame that called it ("" when unknown). */
  servedFrom?: string | undefined;
  /** Tables of the exported definition with the plugin's name; undefined when the module exports none. */
  tables?: string[] | undefined;
}

/** Main thread → worker. */
export type ToWorker =
  /** The spec for a warm worker's jobs; it answers "ready" or "setup_failed". */
  | { type: "setup"; spec: WireExtractSpec }
  /** Extract one artifact; the worker may have `credits` batches unacknowledged before it waits. */
  | { type: "job"; id: number; artifact: WireArtifact; job: ExtractJob; credits: number }
  /** The main thread took one batch of the job: one more may be sent. */
  | { type: "credit"; id: number }
  /** Stop the job: its artifact was abandoned or the collection cancelled. */
  | { type: "cancel"; id: number }
  /** A batch's buffer, transferred back once the writer is done with it, for the worker to reuse. Not tied to a job. */
  | { type: "buffer"; buffer: ArrayBuffer };

/** Worker → main thread. */
export type FromWorker =
  | { type: "ready" }
  /** Sent once the plugin module's import has settled, by every worker. */
  | { type: "module_checked"; check: ModuleCheck }
  /** The worker could not load the table; the pool falls back to extracting inline. */
  | { type: "setup_failed"; message: string }
  | {
      type: "batch";
      id: number;
      from: number;
      to: number;
      /** The rows' JSON lines, each ended by "\n"; its buffer is transferred when large. */
      bytes: Uint8Array;
      /** bytes.buffer was transferred: the main thread sends it back (a "buffer" message) once it is written. */
      transferred: boolean;
      count: number;
      indexes: number[];
      rowErrors: RowErrorReport[];
      rowsReceived: number;
    }
  /** The job ran out of credits and waits for the main thread: the sign that backpressure holds. */
  | { type: "stalled"; id: number }
  | { type: "done"; id: number }
  | { type: "error"; id: number; error: WireError };
