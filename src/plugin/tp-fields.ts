import type { JSONSchema } from "../schema/index.js";

/**
 * Where the SDK takes a tp_* field's value from, which decides how often the writers remake it: per row ("id",
 * "timestamp", "index", "date"), per batch ("ingest"), per artifact (the table, partition and source fields), or from
 * the table's enrich ("enrich": a string or null; "enrich_list": strings), under the field's own name.
 */
export type TpSource =
  "id" | "timestamp" | "ingest" | "table" | "partition" | "index" | "date" | "source_type" | "source_name" | "source_location" | "enrich" | "enrich_list";

/** One of the common tp_* fields the SDK writes into every row, as Describe publishes it. */
export interface TpField {
  name: string;
  schema: JSONSchema;
  /** Whether every row has it (the SDK sets it), or only rows whose table's enrich gave it. */
  always: boolean;
  /** Where its value comes from; `always` is false exactly for the enrich sources. */
  source: TpSource;
  description: string;
}

/**
 * The tp_* fields of a row, in the order every writer writes them: the one list Describe adds to each table's row
 * schema, so that a reader of the chunks knows them without the SDK's source, and the one the writers are built from
 * (src/collection/tp-layout.ts): the enricher's text and byte paths, RowTail, the delimited line format and the
 * reference path. A field is added, moved or dropped here and nowhere else (but in the TableEnrichment type, for an
 * enrich field, and DelimitedEnrichSpec, for a delimited table to fill it).
 */
export const TP_FIELDS: readonly TpField[] = [
  {
    name: "tp_id",
    schema: { type: "string" },
    always: true,
    source: "id",
    description: "row id: hash of source type, source name and artifact, plus the row's position; the same on a re-read",
  },
  {
    name: "tp_timestamp",
    schema: { type: "string", format: "date-time" },
    always: true,
    source: "timestamp",
    description: "when the event happened (ISO-8601, UTC), from the table's enrich",
  },
  {
    name: "tp_ingest_timestamp",
    schema: { type: "string", format: "date-time" },
    always: true,
    source: "ingest",
    description: "when the row was collected (ISO-8601, UTC)",
  },
  { name: "tp_table", schema: { type: "string" }, always: true, source: "table", description: "table name" },
  { name: "tp_partition", schema: { type: "string" }, always: true, source: "partition", description: 'partition name (default "default")' },
  {
    name: "tp_index",
    schema: { type: "string" },
    always: true,
    source: "index",
    description: 'grouping dimension from the table\'s enrich (an account id, a host), else "default"',
  },
  { name: "tp_date", schema: { type: "string", format: "date" }, always: true, source: "date", description: "the UTC day of tp_timestamp, YYYY-MM-DD" },
  {
    name: "tp_source_type",
    schema: { type: "string" },
    always: true,
    source: "source_type",
    description: 'source type the row came from ("file", "aws_s3_bucket", ...)',
  },
  { name: "tp_source_name", schema: { type: "string" }, always: true, source: "source_name", description: "the source config's name, else its type" },
  {
    name: "tp_source_location",
    schema: { type: "string" },
    always: true,
    source: "source_location",
    description: "where the row was read from (a file's path, an s3:// URL, a log stream, a webhook's URL)",
  },
  { name: "tp_source_ip", schema: { type: ["string", "null"] }, always: false, source: "enrich", description: "source IP address of the event" },
  { name: "tp_destination_ip", schema: { type: ["string", "null"] }, always: false, source: "enrich", description: "destination IP address of the event" },
  {
    name: "tp_ips",
    schema: { type: "array", items: { type: "string" } },
    always: false,
    source: "enrich_list",
    description: "every IP address the event names",
  },
  {
    name: "tp_usernames",
    schema: { type: "array", items: { type: "string" } },
    always: false,
    source: "enrich_list",
    description: "user names the event names",
  },
  {
    name: "tp_akas",
    schema: { type: "array", items: { type: "string" } },
    always: false,
    source: "enrich_list",
    description: "other identifiers of the actors (ARNs, ids)",
  },
  {
    name: "tp_domains",
    schema: { type: "array", items: { type: "string" } },
    always: false,
    source: "enrich_list",
    description: "domain names the event names",
  },
  {
    name: "tp_emails",
    schema: { type: "array", items: { type: "string" } },
    always: false,
    source: "enrich_list",
    description: "e-mail addresses the event names",
  },
  { name: "tp_tags", schema: { type: "array", items: { type: "string" } }, always: false, source: "enrich_list", description: "free-form tags" },
];

/**
 * A table's row schema with every tp_* field in it, after the table's own columns and in TP_FIELDS order: those the
 * table declares keep its words (and may be narrower); the fields every row has are required.
 */
export function withTpFields(rowSchema: JSONSchema): JSONSchema {
  const own = (rowSchema["properties"] ?? {}) as Record<string, JSONSchema>;
  const properties: Record<string, JSONSchema> = {};
  for (const [name, p] of Object.entries(own)) if (!name.startsWith("tp_")) properties[name] = p;
  for (const f of TP_FIELDS) {
    const declared = own[f.name];
    properties[f.name] = declared ? { description: f.description, ...declared } : { ...f.schema, description: f.description };
  }
  for (const [name, p] of Object.entries(own)) if (!(name in properties)) properties[name] = p;
  const required = [...((rowSchema["required"] as string[] | undefined) ?? [])];
  for (const f of TP_FIELDS) if (f.always && !required.includes(f.name)) required.push(f.name);
  return { ...rowSchema, properties, required };
}
