import type { DataSourceLookup } from "../contract/data-source.js";
import type { Row } from "../contract/row.js";
import type { ArtifactInfo } from "../contract/source.js";
import type { ByteBatch } from "./byte-batch.js";
import type { RowTail } from "./row-tail.js";

/**
 * The byte-level fast path of a source that holds one row per line (see defineDelimitedTable): a table helper attaches
 * a compiled format to the source entries it makes, and extraction then reads the artifact's lines as bytes and the
 * format writes each row, tp_* fields included, straight into the output, with no string or object per row. The
 * entry's loader, mappers and the table's enrich stay the reference: the format must give the same bytes, and any
 * line it declines goes that way. Internal: authors get it only through the helpers.
 */
const LINE_FORMAT = Symbol.for("tailkit.lineFormat");

/** Attaches a compiled line format to a table's source entry (not enumerable: Describe and copies never see it). */
export function withLineFormat<S extends object>(source: S, format: LineFormat): S {
  Object.defineProperty(source, LINE_FORMAT, { value: format, enumerable: false });
  return source;
}

/** The compiled line format of a source entry, if a helper gave it one. */
export function lineFormatOf(source: object): LineFormat | undefined {
  return (source as { [LINE_FORMAT]?: LineFormat })[LINE_FORMAT];
}

/** What a LineReader did with a line. */
export const LineOutcome = {
  /** A row was written. */
  Row: 0,
  /** The row was outside [from, to): a position is used, nothing is written. */
  Filtered: 1,
  /** Not a row (a header, a blank line): no position is used. */
  Skip: 2,
  /** The reader cannot write this line exactly; nothing was written and the line takes the reference path. */
  Decline: 3,
} as const;
export type LineOutcome = (typeof LineOutcome)[keyof typeof LineOutcome];

/** A compiled line format: one reader per artifact, since a file's header can change its layout. */
export interface LineFormat {
  /** `dataSources` (default none) is where the format looks up what its rows take from data sources. */
  open(artifact: ArtifactInfo, dataSources?: DataSourceLookup): LineReader;
  /** JSON-able text of tp_index for rows that have no value of their own (an artifact property, or "default"). */
  indexFallback(artifact: ArtifactInfo): string;
}

/** Turns the lines of one artifact into rows. */
export interface LineReader {
  /**
   * Writes the row of line bytes[start, end) (no line end) into out, with the common fields from tail, as
   * `{fields…` + tail.head() + tp_index + tail.afterIndex() + table fields + `}\n`; or says why not.
   */
  write(bytes: Uint8Array, start: number, end: number, position: number, out: ByteBatch, tail: RowTail): LineOutcome;
  /** The reference mapping of a line the reader declined, sharing the reader's state (the header's layout). */
  map(line: string): Row | undefined;
  /** The mapper name row errors of map() carry. */
  readonly mapperName: string;
}
