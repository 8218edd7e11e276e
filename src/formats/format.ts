import { Code, invalidArgument, TailkitError } from "../errors/index.js";
import type { Loader } from "../contract/loader.js";
import type { Mapper } from "../contract/mapper.js";
import type { JSONSchema } from "../contract/schema.js";
import { createDelimitedLoader } from "../loaders/delimited.js";
import { createLinesLoader } from "../loaders/lines.js";
import { createJsonLinesMapper } from "../mappers/json-lines.js";
import { createRegexMapper } from "../mappers/regex.js";
import { createGrokMapper } from "./grok.js";
import { createLogFormatMapper, NGINX_COMBINED, NGINX_MAIN } from "./nginx-log-format.js";

/** One JSON object per line. */
export interface JsonlFormat {
  type: "jsonl";
}

/** CSV, TSV and the like (see createDelimitedLoader). */
export interface DelimitedFormat {
  type: "delimited";
  /** Default ",". */
  delimiter?: string;
  /** Whether the first line names the columns. Default: true unless `columns` is given. */
  header?: boolean;
  /** Column names in order. Default: the header line's. */
  columns?: string[];
  /** Default '"'; null for none. */
  quote?: string | null;
  /** Default: the quote (doubled quotes). */
  escape?: string;
  /** A value read as null. Default none. */
  null_value?: string;
  /** Lines starting with this are skipped. Default none. */
  comment?: string;
  /** Default false. */
  trim?: boolean;
}

/** A regular expression with named groups, matched against each line. */
export interface RegexFormat {
  type: "regex";
  layout: string;
  /** A group equal to this is null. Default none. */
  null_value?: string;
}

/** A grok pattern matched against each line. */
export interface GrokFormat {
  type: "grok";
  layout: string;
  /** Patterns of your own, usable as %{NAME} in the layout and in one another. Default none. */
  patterns?: Record<string, string>;
  /** A field equal to this is null. Default none. */
  null_value?: string;
}

/** An nginx log_format: a layout of $variables, or one of nginx's (combined, main). */
export interface NginxFormat {
  type: "nginx";
  /** The log_format string or directive. Default: the preset's. */
  layout?: string;
  /** Default "combined". */
  preset?: "combined" | "main";
}

/** Apache httpd's common or combined log format. */
export interface ApacheFormat {
  type: "apache";
  /** Default "combined". */
  preset?: "common" | "combined";
}

/** How a file's content becomes rows of fields: what a custom table's `format` says. */
export type FormatDefinition = JsonlFormat | DelimitedFormat | RegexFormat | GrokFormat | NginxFormat | ApacheFormat;

/** The loader and mappers a format reads artifacts with. */
export interface ResolvedFormat {
  loader: Loader;
  mappers: Mapper[];
}

/** The format names a definition's `type` can take. */
export const FORMAT_TYPES = ["jsonl", "delimited", "regex", "grok", "nginx", "apache"] as const;

/** JSON Schema of a format definition. */
export const formatSchema: JSONSchema = {
  type: "object",
  required: ["type"],
  properties: {
    type: { enum: [...FORMAT_TYPES] },
    layout: { type: "string", minLength: 1 },
    preset: { enum: ["common", "combined", "main"] },
    patterns: { type: "object", additionalProperties: { type: "string" } },
    delimiter: { type: "string", minLength: 1 },
    header: { type: "boolean" },
    columns: { type: "array", items: { type: "string", minLength: 1 }, minItems: 1 },
    quote: { type: ["string", "null"], maxLength: 1 },
    escape: { type: "string", minLength: 1, maxLength: 1 },
    null_value: { type: "string" },
    comment: { type: "string", minLength: 1 },
    trim: { type: "boolean" },
  },
  additionalProperties: false,
};

/** Grok layouts of the Apache presets, anchored at the line's start. */
const APACHE_PRESETS = { common: "^%{COMMONAPACHELOG}", combined: "^%{COMBINEDAPACHELOG}" } as const;

/**
 * The loader and mappers of a format definition. Every line format gives one row per line, and a line that does not
 * fit is a "map" row error quoting it; a delimited format reads records (quoted newlines included). Throws
 * INVALID_ARGUMENT naming `${field}.<option>` for a bad definition: a pattern that does not compile, an unknown grok
 * pattern (named), a log_format with no variable.
 */
export function createFormat(def: FormatDefinition, field = "format"): ResolvedFormat {
  return renamed(field, () => {
    switch (def.type) {
      case "jsonl":
        return { loader: createLinesLoader(), mappers: [createJsonLinesMapper()] };
      case "delimited":
        return {
          loader: createDelimitedLoader({
            columns: def.columns,
            header: def.header,
            delimiter: def.delimiter,
            quote: def.quote,
            escape: def.escape,
            nullValue: def.null_value,
            comment: def.comment,
            trim: def.trim,
          }),
          mappers: [],
        };
      case "regex":
        if (typeof def.layout !== "string" || def.layout === "") throw invalidArgument("layout", "must be a regular expression with named groups");
        return { loader: createLinesLoader(), mappers: [createRegexMapper(def.layout, { nullValue: def.null_value ?? null })] };
      case "grok":
        return {
          loader: createLinesLoader(),
          mappers: [createGrokMapper(def.layout, { field: "layout", ...(def.patterns ? { patterns: def.patterns } : {}), nullValue: def.null_value ?? null })],
        };
      case "nginx": {
        const layout = def.layout ?? ((def.preset ?? "combined") === "main" ? NGINX_MAIN : NGINX_COMBINED);
        return { loader: createLinesLoader(), mappers: [createLogFormatMapper(layout, { field: "layout" })] };
      }
      case "apache": {
        const preset = def.preset ?? "combined";
        if (preset !== "common" && preset !== "combined") throw invalidArgument("preset", `must be "common" or "combined"`);
        return { loader: createLinesLoader(), mappers: [createGrokMapper(APACHE_PRESETS[preset], { nullValue: "-" })] };
      }
      default:
        throw invalidArgument("type", `must be one of ${FORMAT_TYPES.join(", ")}, got ${JSON.stringify((def as { type?: unknown }).type)}`);
    }
  });
}

/** Runs fn, putting `field.` before the field an INVALID_ARGUMENT it throws names (pattern → format.layout). */
function renamed<T>(field: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (!(err instanceof TailkitError) || err.code !== Code.InvalidArgument || err.details.field === undefined) throw err;
    const inner = err.details.field === "pattern" ? "layout" : err.details.field;
    const message = err.message.startsWith(`${err.details.field}: `) ? err.message.slice(err.details.field.length + 2) : err.message;
    return invalid(`${field}.${inner}`, message);
  }
}

function invalid(field: string, message: string): never {
  throw invalidArgument(field, message);
}
