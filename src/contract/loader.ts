import type { LocalArtifact } from "./source.js";

declare const itemType: unique symbol;

/** A record a loader could not produce (say, a line over the length limit); it counts as a row error, not a crash. */
export class RowErrorItem {
  constructor(
    /** Human-readable reason, without the line or record number, which extraction puts before it. */
    readonly message: string,
    /** The operation that failed; loaders use "load". */
    readonly operation: string = "load",
  ) {}
}

/**
 * An item a line loader read and dropped (a header, a comment, by skipLines): it takes no position and gives no row,
 * but it is counted as an item, so that item numbers stay line numbers.
 */
export const SKIPPED_LINE: unique symbol = Symbol("tailkit.skippedLine");

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
export interface Loader<Item = unknown> {
  readonly name: string;
  /** Type only, never set: what the loader's items are, for the first mapper (see chain()). */
  readonly [itemType]?: Item;
  /**
   * How row errors of its artifacts are numbered for people, always from 1: "line" when each item is one line of the
   * file (the error's number is its line, counting every line, headers and skipped lines included); "record"
   * (the default) for the row's place among the records of the artifact. Positions (tp_id, state) stay 0-based.
   */
  readonly numbering?: "line" | "record";
  load(artifact: LocalArtifact, options?: LoaderOptions): AsyncIterable<unknown[]>;
}
