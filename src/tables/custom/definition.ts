import { Code, TailkitError } from "../../errors/index.js";
import { FORMAT_TYPES, type FormatDefinition } from "../../formats/format.js";
import { timestampParser, validateZone, type TimestampOptions, type TimestampParser } from "./timestamp.js";

/** Types a custom table's column can have. */
export const COLUMN_TYPES = ["string", "integer", "float", "boolean", "timestamp", "json", "string_list"] as const;
/** A column's type. */
export type ColumnType = (typeof COLUMN_TYPES)[number];

/** A transform as a definition writes it: a name, or a name with its argument. */
export type TransformDefinition = "lower" | "upper" | "trim" | "number" | "timestamp" | { split: string } | { timestamp: string };

/** A column of a custom table, as the definition file writes it. */
export interface ColumnDefinition {
  /** The column's name in the row; tp_timestamp, tp_index, tp_source_ip, ... set the common fields. */
  name: string;
  /** The field of the parsed line it comes from (a dotted path into JSON). Default: the column's name. */
  source?: string;
  /** Default "string" (tp_timestamp: "timestamp"). */
  type?: ColumnType;
  /** Layout of a timestamp column's text (see timestampParser). Default: ISO 8601, epoch seconds or nginx's time_local. */
  layout?: string;
  /**
   * Zone of the column's times that give no offset (a syslog time, an ISO time without one), for its type and its
   * timestamp transforms: "UTC", an offset ("+02:00") or an IANA name ("Europe/Berlin"). Default "UTC".
   */
  zone?: string;
  /** A row without a value for it (missing, null or "") is a row error. Default false (tp_timestamp: always). */
  required?: boolean;
  /** Source values that mean null, compared as text before the transforms. Default none. */
  null_if?: string | string[];
  /** Applied in order to the source value (null passes through), before the type's conversion. Default none. */
  transforms?: TransformDefinition[];
}

/** A custom table's definition: what a `--table-def` file holds. */
export interface CustomTableDefinition {
  /** Must be the table's name when given. */
  name?: string;
  description?: string;
  format: FormatDefinition;
  columns: ColumnDefinition[];
  /** Fields of the parsed line no column takes: kept in the row as they were parsed, or dropped. Default "drop". */
  unmapped?: "keep" | "drop";
  /** Default file_layout of the file and S3 sources. Default: every file. */
  file_layout?: string;
}

/** A column checked and compiled. */
export interface CompiledColumn {
  name: string;
  source: string[];
  sourceText: string;
  type: ColumnType;
  required: boolean;
  nullIf: ReadonlySet<string>;
  /** Each is given the value and the reference time of times without a year (ms). */
  transforms: ((v: unknown, referenceMs: number) => unknown)[];
  /** For timestamp columns. */
  parseTime: TimestampParser | undefined;
}

/** The common fields a column may set, and the type each must have. */
export const TP_COLUMNS: Readonly<Record<string, ColumnType>> = {
  tp_timestamp: "timestamp",
  tp_index: "string",
  tp_source_ip: "string",
  tp_destination_ip: "string",
  tp_ips: "string_list",
  tp_usernames: "string_list",
  tp_akas: "string_list",
  tp_domains: "string_list",
  tp_emails: "string_list",
  tp_tags: "string_list",
};

const TABLE_NAME = /^[a-z][a-z0-9_]{0,62}$/;
const KEYS = new Set(["name", "description", "format", "columns", "unmapped", "file_layout"]);
const COLUMN_KEYS = new Set(["name", "source", "type", "layout", "zone", "required", "null_if", "transforms"]);

/** Reports faults of a definition: the file (or "table definition"), the place in it, and what is wrong. */
export class DefinitionErrors {
  constructor(
    private readonly file: string | undefined,
    private readonly field: string,
  ) {}

  /** An INVALID_ARGUMENT naming `<field>.<path>`, its message starting with the file and the path. */
  at(path: string, message: string): TailkitError {
    const where = path === "" ? "" : `${path}: `;
    return new TailkitError(Code.InvalidArgument, `${this.file ?? "table definition"}: ${where}${message}`, {
      field: path === "" ? this.field : `${this.field}.${path}`,
    });
  }
}

/** Checks a definition and compiles its columns; throws INVALID_ARGUMENT naming the file and the place. */
export function compileDefinition(tableName: string, raw: unknown, errors: DefinitionErrors): { def: CustomTableDefinition; columns: CompiledColumn[] } {
  if (!TABLE_NAME.test(tableName))
    throw errors.at("", `table name ${JSON.stringify(tableName)} must be lower-case letters, digits and _, starting with a letter`);
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw errors.at("", "must be an object with format and columns");
  const def = raw as Record<string, unknown>;
  for (const k of Object.keys(def)) if (!KEYS.has(k)) throw errors.at(k, `unknown key; a definition has ${[...KEYS].join(", ")}`);
  if (def["name"] !== undefined && def["name"] !== tableName) {
    throw errors.at("name", `defines table ${JSON.stringify(def["name"])}, but the collection asks for ${JSON.stringify(tableName)}`);
  }
  const format = def["format"] as { type?: unknown } | undefined;
  if (format === null || typeof format !== "object" || Array.isArray(format))
    throw errors.at("format", `is required: an object with a type (${FORMAT_TYPES.join(", ")})`);
  if (!(FORMAT_TYPES as readonly unknown[]).includes(format.type)) throw errors.at("format.type", `must be one of ${FORMAT_TYPES.join(", ")}`);
  if (def["unmapped"] !== undefined && def["unmapped"] !== "keep" && def["unmapped"] !== "drop") throw errors.at("unmapped", `must be "keep" or "drop"`);
  if (def["file_layout"] !== undefined && (typeof def["file_layout"] !== "string" || def["file_layout"] === ""))
    throw errors.at("file_layout", "must be a non-empty string");
  const list = def["columns"];
  if (!Array.isArray(list) || list.length === 0) throw errors.at("columns", "must list the table's columns, tp_timestamp among them");
  const columns: CompiledColumn[] = [];
  const names = new Set<string>();
  list.forEach((c: unknown, i) => {
    const col = compileColumn(c, `columns[${i}]`, errors);
    if (names.has(col.name)) throw errors.at(`columns[${i}].name`, `column ${col.name} is defined twice`);
    names.add(col.name);
    columns.push(col);
  });
  if (!names.has("tp_timestamp")) {
    throw errors.at("columns", `no column tp_timestamp: every row needs its time; map one, e.g. {name: tp_timestamp, source: <field>, type: timestamp}`);
  }
  return { def: def as unknown as CustomTableDefinition, columns };
}

function compileColumn(raw: unknown, path: string, errors: DefinitionErrors): CompiledColumn {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw errors.at(path, "must be an object with a name");
  const c = raw as Record<string, unknown>;
  for (const k of Object.keys(c)) if (!COLUMN_KEYS.has(k)) throw errors.at(`${path}.${k}`, `unknown key; a column has ${[...COLUMN_KEYS].join(", ")}`);
  const name = c["name"];
  if (typeof name !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
    throw errors.at(`${path}.name`, "must be letters, digits and _, not starting with a digit");
  const at = (key: string) => `${path}.${key}`;
  const tpType = TP_COLUMNS[name];
  if (name.startsWith("tp_") && tpType === undefined)
    throw errors.at(at("name"), `${name} is not a common field a column can set (${Object.keys(TP_COLUMNS).join(", ")})`);
  const type = c["type"] ?? tpType ?? "string";
  if (!(COLUMN_TYPES as readonly unknown[]).includes(type)) throw errors.at(at("type"), `column ${name}: must be one of ${COLUMN_TYPES.join(", ")}`);
  if (tpType !== undefined && type !== tpType) throw errors.at(at("type"), `column ${name} must be of type ${tpType}`);
  const source = c["source"] ?? name;
  if (typeof source !== "string" || source === "") throw errors.at(at("source"), `column ${name}: must be a field name`);
  if (c["required"] !== undefined && typeof c["required"] !== "boolean") throw errors.at(at("required"), `column ${name}: must be true or false`);
  const nullIf = c["null_if"] === undefined ? [] : Array.isArray(c["null_if"]) ? (c["null_if"] as unknown[]) : [c["null_if"]];
  if (!nullIf.every((v) => typeof v === "string")) throw errors.at(at("null_if"), `column ${name}: must be a string or a list of strings`);
  const layout = c["layout"];
  if (layout !== undefined && (typeof layout !== "string" || type !== "timestamp"))
    throw errors.at(at("layout"), `column ${name}: a layout is for a timestamp column, as a string`);
  const transforms = c["transforms"] ?? [];
  if (!Array.isArray(transforms)) throw errors.at(at("transforms"), `column ${name}: must be a list`);
  const zone = c["zone"];
  if (zone !== undefined) {
    const wrong = validateZone(zone);
    if (wrong !== undefined) throw errors.at(at("zone"), `column ${name}: ${wrong}`);
    const timed = (t: unknown) => t === "timestamp" || (t !== null && typeof t === "object" && "timestamp" in t);
    if (type !== "timestamp" && !transforms.some(timed)) throw errors.at(at("zone"), `column ${name}: a zone is for a timestamp column or transform`);
  }
  const options = { zone: zone as string | undefined };
  return {
    name,
    source: source.split("."),
    sourceText: source,
    type: type as ColumnType,
    required: c["required"] === true || name === "tp_timestamp",
    nullIf: new Set(nullIf),
    transforms: transforms.map((t: unknown, i) => compileTransform(t, `${at("transforms")}[${i}]`, errors, options)),
    parseTime: type === "timestamp" ? layoutParser(layout, at("layout"), errors, options) : undefined,
  };
}

function compileTransform(t: unknown, path: string, errors: DefinitionErrors, options: TimestampOptions): (v: unknown, referenceMs: number) => unknown {
  const known = 'lower, upper, trim, number, timestamp, {split: "<separator>"}, {timestamp: "<layout>"}';
  if (typeof t === "string") {
    switch (t) {
      case "lower":
        return (v) => text(v).toLowerCase();
      case "upper":
        return (v) => text(v).toUpperCase();
      case "trim":
        return (v) => (Array.isArray(v) ? v.map((x) => text(x).trim()) : text(v).trim());
      case "number":
        return (v) => {
          if (typeof v === "number") return v;
          const s = text(v).trim();
          const n = s === "" ? NaN : Number(s);
          if (Number.isNaN(n)) throw new Error(`number: ${JSON.stringify(v)} is not a number`);
          return n;
        };
      case "timestamp":
        return layoutParser(undefined, path, errors, options);
      default:
        throw errors.at(path, `unknown transform ${JSON.stringify(t)}; the transforms are ${known}`);
    }
  }
  if (t !== null && typeof t === "object" && !Array.isArray(t) && Object.keys(t).length === 1) {
    const [key, arg] = Object.entries(t as Record<string, unknown>)[0]!;
    // Empty text is an empty list, not a list of one empty item.
    if (key === "split" && typeof arg === "string" && arg !== "") return (v) => (Array.isArray(v) ? (v as unknown[]) : v === "" ? [] : text(v).split(arg));
    if (key === "timestamp" && typeof arg === "string") return layoutParser(arg, `${path}.timestamp`, errors, options);
  }
  throw errors.at(path, `unknown transform ${JSON.stringify(t)}; the transforms are ${known}`);
}

/** timestampParser, its error about the layout put in the definition's terms. */
function layoutParser(layout: string | undefined, path: string, errors: DefinitionErrors, options: TimestampOptions): TimestampParser {
  try {
    return timestampParser(layout, path, options);
  } catch (err) {
    throw errors.at(path, (err as Error).message.replace(`${path}: `, ""));
  }
}

function text(v: unknown): string {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint") return String(v);
  throw new Error(`expected text, found ${JSON.stringify(v)}`);
}
