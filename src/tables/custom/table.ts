import { RowErrorItem } from "../../contract/loader.js";
import type { Mapper } from "../../contract/mapper.js";
import type { CustomTableFactory } from "../../contract/plugin.js";
import type { TableEnrichment } from "../../contract/row.js";
import type { JSONSchema } from "../../contract/schema.js";
import type { TableDefinition } from "../../contract/table.js";
import { createFormat, type FormatDefinition } from "../../formats/format.js";
import { exactInteger, exactNumber } from "../../mappers/exact-numbers.js";
import { compileDefinition, DefinitionErrors, TP_COLUMNS, type ColumnType, type CompiledColumn, type CustomTableDefinition } from "./definition.js";

/** Where a row keeps the common fields its columns set, out of its JSON (symbol keys are not serialized). */
const TP = Symbol("tailkit.customTable.tp");

type CustomRow = Record<string, unknown> & { [TP]?: Record<string, unknown> };

/** Options of defineCustomTable. */
export interface CustomTableOptions {
  /** The file the definition was read from, named in errors. Default: none ("table definition"). */
  file?: string | undefined;
  /** Source types the table accepts. Default ["file"]. */
  sourceTypes?: readonly string[] | undefined;
  /** The config field errors name. Default "table_config.definition". */
  field?: string | undefined;
}

/**
 * A table made from a definition alone (format and columns, see docs/FORMATS.md): the core plugin's custom tables, or
 * a plugin's own table written as data. Each row is checked against its columns: a column that is required and has no
 * value, a value its type cannot take, or a transform that fails make the row an error of operation
 * `required:<column>`, `type:<column>` or `transform:<column>` (status counts them that way, by column), naming every
 * column of the row that failed. Throws INVALID_ARGUMENT naming the file and the place for a bad definition, one
 * without tp_timestamp included.
 */
export function defineCustomTable(name: string, definition: unknown, options: CustomTableOptions = {}): TableDefinition {
  const errors = new DefinitionErrors(options.file, options.field ?? "table_config.definition");
  const { def, columns } = compileDefinition(name, definition, errors);
  let format;
  try {
    format = createFormat(def.format);
  } catch (err) {
    const e = err as { details?: { field?: string }; message: string };
    const field = e.details?.field ?? "format";
    throw errors.at(field, e.message.startsWith(`${field}: `) ? e.message.slice(field.length + 2) : e.message);
  }
  const { loader, mappers } = format;
  const defaults = def.file_layout !== undefined ? { file_layout: def.file_layout } : undefined;
  const sources = Object.fromEntries((options.sourceTypes ?? ["file"]).map((t) => [t, defaults ? { defaults } : {}]));
  return {
    name,
    description: def.description ?? `Custom table ${name} (${describeFormat(def.format)})${options.file ? `, defined in ${options.file}` : ""}`,
    rowSchema: rowSchema(columns, def),
    sources,
    loader: () => loader,
    // Times without a year are placed near the artifact's modification time, else near when its extraction began (a
    // table made at module load may serve many collections, so not when it was made).
    mappers: () => [...mappers, columnsMapper(columns, def.unmapped === "keep", Date.now())],
    enrich(row: CustomRow, ctx): TableEnrichment {
      const tp = row[TP] ?? {};
      return {
        ...(tp as unknown as TableEnrichment),
        tp_index: (tp["tp_index"] as string | null | undefined) ?? ctx.artifact.properties["index"] ?? "default",
      };
    },
  };
}

/** JSON Schema of the core plugin's table config: the definition and the file it came from. */
export const customTableConfigSchema: JSONSchema = {
  type: "object",
  required: ["definition"],
  properties: {
    definition: { type: "object", description: "The table definition: format, columns (see docs/FORMATS.md)" },
    definition_file: { type: "string", description: "Where the definition was read from, named in errors" },
  },
  additionalProperties: false,
};

/** Custom tables defined in each Collect's table config (`definition`, and `definition_file` for messages). */
export function createCustomTables(sourceTypes: readonly string[] = ["file"]): CustomTableFactory {
  return {
    configSchema: customTableConfigSchema,
    sourceTypes,
    create(name, tableConfig) {
      const file = typeof tableConfig["definition_file"] === "string" ? tableConfig["definition_file"] : undefined;
      return defineCustomTable(name, tableConfig["definition"], { file, sourceTypes });
    },
  };
}

function describeFormat(f: FormatDefinition): string {
  return "preset" in f && f.preset !== undefined ? `${f.type} ${f.preset}` : f.type;
}

function columnsMapper(
  columns: readonly CompiledColumn[],
  keepUnmapped: boolean,
  startedMs: number,
): Mapper<Record<string, unknown>, CustomRow | RowErrorItem> {
  const taken = new Set(columns.filter((c) => c.source.length === 1).map((c) => c.sourceText));
  return {
    name: "columns",
    map(item, ctx) {
      const referenceMs = ctx.artifact.mtimeMs ?? startedMs;
      const row: CustomRow = {};
      const tp: Record<string, unknown> = {};
      let first: { operation: string } | undefined;
      const problems: string[] = [];
      for (const col of columns) {
        let v = lookup(item, col.source);
        if (v !== null && col.nullIf.size > 0 && (typeof v === "string" || typeof v === "number") && col.nullIf.has(String(v))) v = null;
        let failed: string | undefined;
        try {
          for (const t of col.transforms) if (v !== null) v = t(v, referenceMs);
        } catch (err) {
          failed = `transform:${col.name}`;
          problems.push(`column ${col.name}: ${(err as Error).message}`);
        }
        // An empty field is no value: a CSV writes a missing one so.
        if (failed === undefined && (v === null || v === "") && col.required) {
          failed = `required:${col.name}`;
          problems.push(`column ${col.name} is required, but ${col.sourceText === col.name ? "it" : `its source ${col.sourceText}`} is missing or null`);
        }
        if (failed === undefined && v !== null) {
          try {
            v = convert(col, v, referenceMs);
          } catch (err) {
            failed = `type:${col.name}`;
            problems.push(`column ${col.name} (${col.type}): ${(err as Error).message}`);
          }
        }
        if (failed !== undefined) {
          first ??= { operation: failed };
          continue;
        }
        if (col.name in TP_COLUMNS) tp[col.name] = v;
        else row[col.name] = v;
      }
      if (first !== undefined) return new RowErrorItem(problems.join("; "), first.operation);
      if (keepUnmapped) for (const [k, v] of Object.entries(item)) if (!taken.has(k) && !(k in row) && !(k in TP_COLUMNS)) row[k] = v;
      Object.defineProperty(row, TP, { value: tp, enumerable: false });
      return row;
    },
  };
}

function lookup(item: Record<string, unknown>, path: readonly string[]): unknown {
  let v: unknown = item;
  for (const key of path) {
    if (v === null || typeof v !== "object") return null;
    v = (v as Record<string, unknown>)[key];
  }
  return v === undefined ? null : v;
}

const BOOLEANS: Record<string, boolean> = { true: true, false: false, t: true, f: false, yes: true, no: false, y: true, n: false, "1": true, "0": false };

function convert(col: CompiledColumn, v: unknown, referenceMs: number): unknown {
  switch (col.type) {
    case "string":
      return asText(v);
    case "integer": {
      if (typeof v === "number" && Number.isInteger(v)) return v;
      if (typeof v === "bigint") return v;
      const n = typeof v === "string" ? exactInteger(v.trim()) : undefined;
      if (n === undefined) throw new Error(`${JSON.stringify(v)} is not an integer`);
      return n;
    }
    case "float": {
      if (typeof v === "number") return v;
      const s = typeof v === "string" ? v.trim() : "";
      const n = s === "" ? NaN : Number(s);
      if (Number.isNaN(n)) throw new Error(`${JSON.stringify(v)} is not a number`);
      return exactNumber(s, n);
    }
    case "boolean": {
      if (typeof v === "boolean") return v;
      const b = BOOLEANS[String(v).trim().toLowerCase()];
      if (b === undefined) throw new Error(`${JSON.stringify(v)} is not a boolean (true/false, yes/no, 1/0)`);
      return b;
    }
    case "timestamp":
      return col.parseTime!(v, referenceMs);
    case "json":
      if (typeof v !== "string") return v;
      try {
        return JSON.parse(v) as unknown;
      } catch {
        throw new Error(`${JSON.stringify(v.length > 80 ? `${v.slice(0, 80)}...` : v)} is not JSON`);
      }
    case "string_list":
      if (!Array.isArray(v)) throw new Error(`${JSON.stringify(v)} is not a list; a {split: ","} transform makes one of text`);
      return v.map(asText);
  }
}

/** A value as text: strings as they are, numbers and booleans written, objects and lists as JSON. */
function asText(v: unknown): string {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint") return String(v);
  return JSON.stringify(v);
}

const SCHEMA_TYPES: Record<ColumnType, JSONSchema> = {
  string: { type: "string" },
  integer: { type: "integer" },
  float: { type: "number" },
  boolean: { type: "boolean" },
  timestamp: { type: "string", format: "date-time" },
  json: {},
  string_list: { type: "array", items: { type: "string" } },
};

function rowSchema(columns: readonly CompiledColumn[], def: CustomTableDefinition): JSONSchema {
  const own = columns.filter((c) => !(c.name in TP_COLUMNS));
  const properties = Object.fromEntries(
    own.map((c) => {
      const base = SCHEMA_TYPES[c.type];
      // json columns take any value; the others may be null unless required.
      const schema = c.type === "json" || c.required ? base : { ...base, type: [base["type"] as string, "null"] };
      return [c.name, schema];
    }),
  );
  return {
    type: "object",
    required: own.filter((c) => c.required).map((c) => c.name),
    properties,
    additionalProperties: def.unmapped === "keep",
  };
}
