import type { JSONSchema } from "../schema/index.js";
import type { Loader } from "../loaders/types.js";
import type { Mapper } from "../mappers/types.js";
import type { ArtifactInfo } from "../sources/types.js";

/** A row as it travels through the pipeline: a plain JSON-able object. */
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
}
