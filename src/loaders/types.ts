import type { LocalArtifact } from "../sources/types.js";

/** A record a loader could not produce (say, a line over the length limit); it counts as a row error, not a crash. */
export class RowErrorItem {
  constructor(
    /** Human-readable reason, e.g. "line 12 is 2000000 bytes, over the limit of 1048576". */
    readonly message: string,
    /** The operation that failed; loaders use "load". */
    readonly operation: string = "load",
  ) {}
}

/** Options every loader accepts. Defaults are written beside each field. */
export interface LoaderOptions {
  /** Items per yielded batch. Default 2,000. */
  batchSize?: number;
  /** Longest line accepted by line loaders, in bytes; a longer line becomes a RowErrorItem. Default 1 MiB. */
  maxLineBytes?: number;
  /** Largest decompressed document accepted by whole-document loaders, in bytes. Default 512 MiB. */
  maxDocumentBytes?: number;
  signal?: AbortSignal;
}

/**
 * Opens a local artifact (detecting compression by magic bytes) and yields its records in batches.
 * An item is whatever the first mapper expects (a line string, a parsed document) or a RowErrorItem.
 * A corrupt artifact (truncated gzip, unparseable document) makes the iterator throw a TailkitError that names the file;
 * items already yielded stay valid.
 */
export interface Loader {
  readonly name: string;
  load(artifact: LocalArtifact, options?: LoaderOptions): AsyncIterable<unknown[]>;
}
