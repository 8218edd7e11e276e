import type { DataSourceLookup } from "./data-source.js";
import type { ArtifactInfo } from "./source.js";

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

/** What enrich is told about a row's origin, and where it finds data sources (getDataSource). */
export interface EnrichContext extends DataSourceLookup {
  artifact: ArtifactInfo;
  table: string;
  partition: string;
  /** The source type the row came from ("file", or a type the plugin offers). */
  sourceType: string;
}
