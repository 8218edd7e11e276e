import type { JSONSchema } from "../schema/index.js";

/** What a JSON value must be to fill a column (the check the careful path makes row by row). */
export type ValueKind = "string" | "timestamp" | "integer" | "number" | "boolean" | "array" | "object" | "json";

/** One column the row schema declares, as Parquet (DuckDB) will store it. */
export interface ColumnSpec {
  name: string;
  /** DuckDB type, e.g. TIMESTAMP, BIGINT, VARCHAR[], JSON, STRUCT("a" VARCHAR). */
  type: string;
  kind: ValueKind;
  /** Kind of each element, for arrays whose items are declared. */
  items?: ValueKind;
  nullable: boolean;
  required: boolean;
}

/** The columns that make up the partition path; every row must have them. */
export const PARTITION_COLUMNS = ["tp_table", "tp_partition", "tp_index", "tp_date"] as const;

// The common tp_* fields every enriched row carries, typed here so that tables need not declare them.
const COMMON: Record<string, JSONSchema> = {
  tp_id: { type: "string" },
  tp_timestamp: { type: "string", format: "date-time" },
  tp_ingest_timestamp: { type: "string", format: "date-time" },
  tp_table: { type: "string" },
  tp_partition: { type: "string" },
  tp_index: { type: "string" },
  tp_date: { type: "string" },
  tp_source_type: { type: ["string", "null"] },
  tp_source_name: { type: ["string", "null"] },
  tp_source_location: { type: ["string", "null"] },
};
const COMMON_REQUIRED = ["tp_id", "tp_timestamp", ...PARTITION_COLUMNS];

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function typesOf(s: JSONSchema): string[] {
  const t = s["type"];
  return Array.isArray(t) ? (t as string[]) : typeof t === "string" ? [t] : [];
}

function scalar(s: JSONSchema): { type: string; kind: ValueKind; nullable: boolean } {
  const types = typesOf(s);
  const nullable = types.length === 0 || types.includes("null");
  const main = types.filter((t) => t !== "null");
  if (main.length !== 1) return { type: "JSON", kind: "json", nullable };
  switch (main[0]) {
    case "string":
      return s["format"] === "date-time" ? { type: "TIMESTAMP", kind: "timestamp", nullable } : { type: "VARCHAR", kind: "string", nullable };
    case "integer":
      return { type: "BIGINT", kind: "integer", nullable };
    case "number":
      return { type: "DOUBLE", kind: "number", nullable };
    case "boolean":
      return { type: "BOOLEAN", kind: "boolean", nullable };
    case "array": {
      const items = s["items"] as JSONSchema | undefined;
      if (!items || typeof items !== "object") return { type: "JSON[]", kind: "array", nullable };
      const inner = scalar(items);
      return { type: `${inner.type}[]`, kind: "array", nullable };
    }
    case "object": {
      const props = s["properties"] as Record<string, JSONSchema> | undefined;
      // Declared properties make a STRUCT; a free-form object stays JSON, so that no key of it is lost.
      if (!props || Object.keys(props).length === 0 || s["additionalProperties"] !== false) return { type: "JSON", kind: "object", nullable };
      const fields = Object.entries(props).map(([k, v]) => `${quoteIdent(k)} ${scalar(v).type}`);
      return { type: `STRUCT(${fields.join(", ")})`, kind: "object", nullable };
    }
    default:
      return { type: "JSON", kind: "json", nullable };
  }
}

/**
 * The columns a table's row schema (Describe's rowSchema) declares, plus the common tp_* fields, with the DuckDB type
 * each is stored as: date-time strings as TIMESTAMP, integers as BIGINT, arrays as lists, objects as STRUCT when
 * their properties are declared closed (additionalProperties: false), else JSON.
 */
export function columnsFromSchema(rowSchema: JSONSchema | undefined): ColumnSpec[] {
  const props = { ...COMMON, ...((rowSchema?.["properties"] as Record<string, JSONSchema> | undefined) ?? {}) };
  const required = new Set([...COMMON_REQUIRED, ...((rowSchema?.["required"] as string[] | undefined) ?? [])]);
  return Object.entries(props).map(([name, s]) => {
    const sc = scalar(s);
    const items = sc.kind === "array" && s["items"] && typeof s["items"] === "object" ? scalar(s["items"] as JSONSchema).kind : undefined;
    return { name, type: sc.type, kind: sc.kind, ...(items ? { items } : {}), nullable: sc.nullable && !required.has(name), required: required.has(name) };
  });
}

/**
 * The date-time strings a timestamp column takes: RFC 3339's (JSON Schema's date-time), with a space allowed for the
 * T and the offset optional (UTC then). Seconds are required, as DuckDB's cast requires them; the day's validity in
 * its month is checked apart (validDate, and DuckDB's cast).
 */
const TIMESTAMP_TEXT = String.raw`\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[T ]([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?(Z|[+-]([01]\d|2[0-3])(:?[0-5]\d)?)?`;
const TIMESTAMP_RE = new RegExp(`^${TIMESTAMP_TEXT}$`);

/** Whether the text's yyyy-mm-dd is a day of the calendar (Date.parse takes 2024-02-30 as March 1st). */
function validDate(text: string): boolean {
  const y = Number(text.slice(0, 4));
  const m = Number(text.slice(5, 7));
  const d = Number(text.slice(8, 10));
  return new Date(Date.UTC(y, m - 1, d)).getUTCDate() === d;
}

/**
 * A TIMESTAMP column's type with TIMESTAMPTZ where it says TIMESTAMP (a list's elements and a STRUCT's fields too).
 * DuckDB's cast to TIMESTAMP drops a time's offset (10:00+05:30 becomes 10:00); to TIMESTAMPTZ it applies it, and
 * TIMESTAMPTZ to TIMESTAMP then gives the UTC time (the host's DuckDB runs in UTC). So such columns are read as the
 * TIMESTAMPTZ type and cast to their own.
 */
export function zonedType(type: string): string {
  return type.replace(/(?<!")\bTIMESTAMP\b(?!")/g, "TIMESTAMPTZ");
}
/** BIGINT's range, as a JSON number parses to a double. */
const BIGINT_LIMIT = 2 ** 63;

/**
 * How the fast path reads a column so that a value of another JSON type is refused instead of cast. DuckDB's JSON
 * reader casts what it can to a column's declared type: "42" or true to BIGINT, "yes" or 1 to BOOLEAN, "2024-01-01"
 * to TIMESTAMP, a string to a JSON object column. Such columns are read as JSON text instead, and the SELECT checks
 * each value's JSON type before it converts it; a mismatch stops the COPY with an error naming the column, and the
 * careful path then reports the rows by column. Returns undefined for columns DuckDB reads without such a cast.
 *
 * String columns and lists of strings are the exception: a number, boolean or object there is kept as its JSON text
 * (42 as "42"), as DuckDB reads it, and is not a row error. That keeps the row and loses nothing, and checking every
 * string value would cost a third more conversion CPU (see docs/QUERY.md).
 */
export function strictRead(c: Pick<ColumnSpec, "name" | "type" | "kind" | "items">, what = "column"): { read: string; select: string } | undefined {
  const id = quoteIdent(c.name);
  const fail = `error(${sqlString(`tailkit: ${what} ${c.name} holds a value of another type`)})`;
  const when = (test: string, value: string) => `CASE WHEN ${id} IS NULL THEN NULL WHEN ${test} THEN ${value} ELSE ${fail} END AS ${id}`;
  switch (c.kind) {
    case "timestamp":
      return {
        read: "JSON",
        select: when(`regexp_full_match(${id}, ${sqlString(`"${TIMESTAMP_TEXT}"`)})`, `CAST(CAST(${id}[2:-2] AS TIMESTAMPTZ) AS TIMESTAMP)`),
      };
    case "integer":
      return {
        read: "JSON",
        select: when(
          `json_type(${id}) IN ('BIGINT', 'UBIGINT') OR (json_type(${id}) = 'DOUBLE' AND CAST(${id} AS DOUBLE) = trunc(CAST(${id} AS DOUBLE)))`,
          // 3.0 is an integer to JSON Schema; BIGINT cannot read its text directly.
          `CASE WHEN json_type(${id}) = 'DOUBLE' THEN CAST(CAST(${id} AS DOUBLE) AS BIGINT) ELSE CAST(${id} AS BIGINT) END`,
        ),
      };
    case "number":
      return { read: "JSON", select: when(`json_type(${id}) IN ('BIGINT', 'UBIGINT', 'DOUBLE')`, `CAST(${id} AS DOUBLE)`) };
    case "boolean":
      return { read: "JSON", select: when(`CAST(${id} AS VARCHAR) IN ('true', 'false')`, `CAST(${id} AS BOOLEAN)`) };
    case "object":
      // A free-form object column is JSON already: only its JSON type needs a check. A STRUCT refuses a non-object.
      return c.type === "JSON" ? { read: "JSON", select: when(`starts_with(${id}, '{')`, id) } : undefined;
    case "array": {
      // The elements' common JSON type, as DuckDB sums it up: ["NULL"] for an empty list or one of nulls.
      const shape = `json_structure(${id})`;
      const list = (types: string[]) => ({
        read: "JSON",
        select: when(`${shape} IN (${[...types, "NULL"].map((t) => sqlString(`["${t}"]`)).join(", ")})`, `CAST(${id} AS ${c.type})`),
      });
      switch (c.items) {
        case "integer":
          return list(["BIGINT", "UBIGINT"]);
        case "number":
          return list(["BIGINT", "UBIGINT", "DOUBLE"]);
        case "boolean":
          return list(["BOOLEAN"]);
        case "timestamp":
          return {
            read: "JSON",
            select: when(
              `${shape} IN ('["VARCHAR"]', '["NULL"]') AND list_bool_and(list_transform(CAST(${id} AS VARCHAR[]), e -> e IS NULL OR regexp_full_match(e, ${sqlString(TIMESTAMP_TEXT)}))) IS NOT FALSE`,
              `CAST(CAST(${id} AS ${zonedType(c.type)}) AS ${c.type})`,
            ),
          };
        case "object":
          return { read: "JSON", select: when(`starts_with(${shape}, '[{') OR ${shape} = '["NULL"]'`, `CAST(${id} AS ${c.type})`) };
        default:
          // Lists of strings keep other elements as text, as string columns do; DuckDB refuses a non-list, and a list
          // of JSON values converts no element.
          return undefined;
      }
    }
    default:
      return undefined;
  }
}

function kindMatches(kind: ValueKind, v: unknown): boolean {
  switch (kind) {
    case "string":
      // A number, boolean or object in a string column is kept as its JSON text (see strictRead).
      return true;
    case "timestamp":
      return typeof v === "string" && TIMESTAMP_RE.test(v) && validDate(v);
    case "integer":
      return typeof v === "number" && Number.isInteger(v) && v >= -BIGINT_LIMIT && v < BIGINT_LIMIT;
    case "number":
      return typeof v === "number";
    case "boolean":
      return typeof v === "boolean";
    case "array":
      return Array.isArray(v);
    case "object":
      return v !== null && typeof v === "object" && !Array.isArray(v);
    case "json":
      return true;
  }
}

/** The first column a parsed row breaks (missing when required, or a value of the wrong type), or undefined. */
export function validateRow(row: Record<string, unknown>, columns: readonly ColumnSpec[]): { column: string; message: string } | undefined {
  for (const c of columns) {
    const v = row[c.name];
    if (v === undefined || v === null) {
      // A null fills an optional column whatever its declared type, as DuckDB's reader takes it.
      if (c.required) return { column: c.name, message: `required column ${c.name} is missing` };
      continue;
    }
    if (!kindMatches(c.kind, v)) return { column: c.name, message: `column ${c.name}: expected ${c.kind}, got ${JSON.stringify(v).slice(0, 60)}` };
    if (c.items !== undefined && c.items !== "json") {
      const bad = (v as unknown[]).find((e) => e !== null && !kindMatches(c.items!, e));
      if (bad !== undefined)
        return { column: c.name, message: `column ${c.name}: expected a list of ${c.items}, got an element ${JSON.stringify(bad).slice(0, 60)}` };
    }
  }
  return undefined;
}

/**
 * The type a column the schema does not declare is stored as: DuckDB's inference narrowed to types every file of the
 * table can share. Inference sees one unit's rows; a UUID, date or STRUCT guessed from them may not fit the next
 * unit's, and files of one table must stay readable together (and mergeable by compaction).
 */
export function storedInferredType(type: string): string {
  if (/^(TINYINT|SMALLINT|INTEGER|BIGINT|UTINYINT|USMALLINT|UINTEGER)$/.test(type)) return "BIGINT";
  if (type === "DOUBLE" || type === "FLOAT") return "DOUBLE";
  if (type === "BOOLEAN") return "BOOLEAN";
  if (type === "VARCHAR" || type === "UUID" || /^(DATE|TIME|TIMESTAMP)/.test(type)) return "VARCHAR";
  return "JSON";
}

/** A DuckDB SQL identifier. */
export function sqlIdent(name: string): string {
  return quoteIdent(name);
}

/** A DuckDB SQL string literal. */
export function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
