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

function kindMatches(kind: ValueKind, v: unknown): boolean {
  switch (kind) {
    case "string":
      return typeof v === "string";
    case "timestamp":
      return typeof v === "string" && /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?$/.test(v) && !Number.isNaN(Date.parse(v));
    case "integer":
      return typeof v === "number" && Number.isInteger(v);
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
