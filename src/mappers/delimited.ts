import { invalidArgument } from "../errors/index.js";
import { exactInteger, exactNumber } from "./exact-numbers.js";
import type { Mapper } from "../contract/mapper.js";

/**
 * How a field's text is converted. A number a double cannot hold exactly (an integer beyond 2^53) becomes a bigint,
 * which rows are written with as a JSON integer of its digits.
 */
export type FieldType = "string" | "int" | "float";

/** Options of createDelimitedMapper. */
export interface DelimitedMapperOptions {
  /** Field names, in column order. Required, unique, at least one. */
  fields: string[];
  /** Column separator. Default " ". Each occurrence separates: two in a row make an empty field. */
  separator?: string;
  /**
   * Header handling. Default "none".
   * "skip-if-matches-fields": drop any line whose values are exactly the field names.
   * "skip-first": drop the artifact's first item.
   */
  header?: "none" | "skip-if-matches-fields" | "skip-first";
  /** A value that means null (nginx and ELB write "-"). Default "-"; null to keep every value as is. */
  nullValue?: string | null;
  /** Conversion per field; fields not named stay strings. Default: all strings. */
  types?: Record<string, FieldType>;
  /** Quote that may wrap a field holding separators; a doubled quote inside stands for one. Default '"'; null for none. */
  quote?: string | null;
}

/** A mapper that splits a line into named fields; a line with the wrong field count is rejected with both counts. */
export function createDelimitedMapper(options: DelimitedMapperOptions): Mapper<string, Record<string, unknown>> {
  const { fields, separator, header, nullValue, quote } = validateDelimitedMapperOptions(options);
  const types = options.types ?? {};
  const converters = fields.map((f) => converterFor(f, types[f] ?? "string"));

  return {
    name: "delimited",
    map(line, ctx) {
      if (header === "skip-first" && ctx.itemIndex === 0) return undefined;
      const values = quote !== null && line.includes(quote) ? splitQuoted(line, separator, quote) : line.split(separator);
      if (header === "skip-if-matches-fields" && values.length === fields.length && values.every((v, i) => v === fields[i])) {
        return undefined;
      }
      if (values.length !== fields.length) {
        throw new Error(`expected ${fields.length} fields separated by ${JSON.stringify(separator)}, found ${values.length}`);
      }
      const row: Record<string, unknown> = {};
      for (let i = 0; i < fields.length; i++) {
        const v = values[i]!;
        row[fields[i]!] = v === nullValue ? null : converters[i]!(v);
      }
      return row;
    },
  };
}

/** Checks and completes DelimitedMapperOptions; throws INVALID_ARGUMENT naming the bad option. */
export function validateDelimitedMapperOptions(options: DelimitedMapperOptions): Required<Omit<DelimitedMapperOptions, "types">> {
  const fields = options.fields;
  const seen = checkNames(fields, "fields", "field");
  const separator = options.separator ?? " ";
  if (separator === "") throw invalidArgument("separator", "must not be empty");
  const quote = options.quote === undefined ? '"' : options.quote;
  if (quote !== null && quote.length !== 1) throw invalidArgument("quote", "must be a single character or null");
  if (quote !== null && separator.includes(quote)) throw invalidArgument("quote", "must differ from the separator");
  const header = options.header ?? "none";
  if (!["none", "skip-if-matches-fields", "skip-first"].includes(header)) {
    throw invalidArgument("header", `must be one of "none", "skip-if-matches-fields", "skip-first"`);
  }
  for (const [f, t] of Object.entries(options.types ?? {})) {
    if (!seen.has(f)) throw invalidArgument(`types.${f}`, "is not one of the fields");
    if (t !== "string" && t !== "int" && t !== "float") throw invalidArgument(`types.${f}`, `must be "string", "int" or "float"`);
  }
  return { fields, separator, header, nullValue: options.nullValue === undefined ? "-" : options.nullValue, quote };
}

/** Checks a list of column names (at least one, non-empty, none twice); throws INVALID_ARGUMENT naming `option`. */
export function checkNames(names: unknown, option: string, noun: string): Set<string> {
  if (!Array.isArray(names) || names.length === 0) throw invalidArgument(option, `must name at least one ${noun}`);
  const seen = new Set<string>();
  for (const f of names as unknown[]) {
    if (typeof f !== "string" || f === "") throw invalidArgument(option, `${noun} names must be non-empty strings`);
    if (seen.has(f)) throw invalidArgument(option, `${noun} "${f}" is named twice`);
    seen.add(f);
  }
  return seen;
}

function converterFor(field: string, type: FieldType): (v: string) => unknown {
  switch (type) {
    case "string":
      return (v) => v;
    case "int":
      return (v) => {
        // Beyond 2^53 a bigint, written with its digits: a double would round it.
        const n = exactInteger(v);
        if (n === undefined) throw new Error(`field "${field}": expected an integer, found ${JSON.stringify(v)}`);
        return n;
      };
    case "float":
      return (v) => {
        const n = v.trim() === "" ? NaN : Number(v);
        if (Number.isNaN(n)) throw new Error(`field "${field}": expected a number, found ${JSON.stringify(v)}`);
        return exactNumber(v, n);
      };
  }
}

/** Splits on separator outside quotes; a quote only opens at the start of a field, as in CSV and nginx logs. */
function splitQuoted(line: string, separator: string, quote: string): string[] {
  const values: string[] = [];
  let i = 0;
  for (;;) {
    if (line.startsWith(quote, i)) {
      let value = "";
      let j = i + 1;
      for (;;) {
        const q = line.indexOf(quote, j);
        if (q === -1) throw new Error(`unterminated quoted field starting at character ${i + 1}`);
        value += line.slice(j, q);
        if (line.startsWith(quote, q + 1)) {
          value += quote;
          j = q + 2;
          continue;
        }
        j = q + 1;
        break;
      }
      values.push(value);
      if (j === line.length) return values;
      if (!line.startsWith(separator, j)) throw new Error(`unexpected character after quoted field at character ${j + 1}`);
      i = j + separator.length;
    } else {
      const s = line.indexOf(separator, i);
      if (s === -1) {
        values.push(line.slice(i));
        return values;
      }
      values.push(line.slice(i, s));
      i = s + separator.length;
    }
  }
}
