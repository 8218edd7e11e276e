import type { JSONSchema } from "../schema/index.js";
import type { Loader } from "../loaders/types.js";
import type { Mapper } from "../mappers/types.js";
import type { ArtifactInfo } from "../sources/types.js";
import type { ByteBatch } from "../collection/byte-batch.js";
import type { RowTail } from "../collection/row-tail.js";

/**
 * A row as it travels through the pipeline: a plain JSON-able object. A bigint value (an integer beyond 2^53, as the
 * SDK's mappers give one) is written as a JSON integer of its digits.
 */
export type Row = Record<string, unknown>;

/** Table-specific common fields, returned by TableDefinition.enrich. The SDK adds the rest. */
export interface TableEnrichment {
  /** When the event happened: Date, ms since the epoch, or an ISO-8601 string. Required: a row without it is a "validate" error. */
  tp_timestamp: Date | number | string;
  /** Grouping dimension (account id, host name, ...). Default "default". */
  tp_index?: string;
  tp_source_ip?: string | null;
  tp_destination_ip?: string | null;
  tp_ips?: string[];
  tp_usernames?: string[];
  tp_akas?: string[];
  tp_domains?: string[];
  tp_emails?: string[];
  tp_tags?: string[];
}

/** What enrich is told about a row's origin. */
export interface EnrichContext {
  artifact: ArtifactInfo;
  table: string;
  partition: string;
}

/** Per source type: the defaults a table lays over the user's source config (e.g. the AWS file layout). */
export interface TableSourceSupport {
  defaults?: Record<string, unknown>;
}

/** A table a plugin collects: how to load artifacts, map them to rows, and enrich the rows. */
export interface TableDefinition<Config = Record<string, unknown>> {
  readonly name: string;
  readonly description: string;
  /** JSON Schema of the rows, published by Describe. */
  readonly rowSchema: JSONSchema;
  /** JSON Schema of the table's own config; default: an object with no required fields. */
  readonly configSchema?: JSONSchema;
  /** Source types this table accepts, with the defaults it applies to each. */
  readonly sources: Record<string, TableSourceSupport>;
  /** The loader for this table's artifacts. */
  loader(config: Config): Loader;
  /** The mapper chain, applied in order to every loaded item. */
  mappers(config: Config): Mapper[];
  /** Table-specific tp_* fields of a mapped row; throw to reject the row (an "enrich" row error). */
  enrich(row: Row, ctx: EnrichContext): TableEnrichment;
  /**
   * A compiled format for artifacts that hold one row per line (see defineDelimitedTable). When present, extraction
   * reads the artifact's lines as bytes and the format writes each row, tp_* fields included, straight into the
   * output, with no string or object per row. The loader, mappers and enrich above stay the reference: the format
   * must give the same bytes, and any line it declines goes that way.
   */
  readonly lineFormat?: LineFormat;
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
  open(artifact: ArtifactInfo): LineReader;
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
