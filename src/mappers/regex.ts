import { invalidArgument } from "../errors/index.js";
import type { FieldType } from "./delimited.js";
import { exactInteger, exactNumber } from "./exact-numbers.js";
import type { Mapper } from "../contract/mapper.js";

/** Options of createRegexMapper. */
export interface RegexMapperOptions {
  /** A group whose text equals this becomes null. Default null: keep every value as is. */
  nullValue?: string | null;
  /** Conversion per named group; groups not named stay strings. Default: all strings. */
  types?: Record<string, FieldType>;
}

/** Longest piece of a rejected line quoted in its error message. */
const PREVIEW_CHARS = 120;

/**
 * A mapper that matches each line against a pattern with named groups and returns the groups as a row.
 * A line that does not match is rejected; a group that did not take part becomes null. `R` names the row's shape for
 * the mappers after it and the table's enrich (the groups and `types` decide it; the type parameter states it).
 */
export function createRegexMapper<R extends object = Record<string, unknown>>(pattern: RegExp | string, options: RegexMapperOptions = {}): Mapper<string, R> {
  const regex = compile(pattern);
  const names = groupNames(regex);
  if (names.length === 0) throw invalidArgument("pattern", `${regex} has no named groups, e.g. (?<status>\\d+)`);
  const nullValue = options.nullValue ?? null;
  const types = options.types ?? {};
  for (const [name, type] of Object.entries(types)) {
    if (!names.includes(name)) throw invalidArgument(`types.${name}`, "is not a named group of the pattern");
    if (type !== "string" && type !== "int" && type !== "float") throw invalidArgument(`types.${name}`, `must be "string", "int" or "float"`);
  }

  const converters: Record<string, (v: string) => unknown> = Object.fromEntries(names.map((n) => [n, textConverter(`group "${n}"`, types[n])]));

  const mapper: Mapper<string, Record<string, unknown>> = {
    name: "regex",
    map(line) {
      const groups = regex.exec(line)?.groups;
      if (groups === undefined) throw noMatch(line, String(regex));
      const row: Record<string, unknown> = {};
      for (const name of names) {
        const v = groups[name];
        row[name] = v === undefined || v === nullValue ? null : converters[name]!(v);
      }
      return row;
    },
  };
  return mapper as Mapper<string, R>;
}

function compile(pattern: RegExp | string): RegExp {
  try {
    // g and y make exec stateful across lines, which would skip matches; the mapper wants a fresh match each time.
    const source = typeof pattern === "string" ? pattern : pattern.source;
    const flags = typeof pattern === "string" ? "" : pattern.flags.replace(/[gy]/g, "");
    return new RegExp(source, flags);
  } catch (err) {
    throw invalidArgument("pattern", err instanceof Error ? err.message : String(err));
  }
}

/** Names of a regex's named groups, found by matching an alternation that always matches the empty string. */
function groupNames(regex: RegExp): string[] {
  const probe = new RegExp(`(?:${regex.source})|`, regex.flags);
  return Object.keys(probe.exec("")?.groups ?? {});
}

/** The error of a line a pattern does not match, quoting its start. */
export function noMatch(line: string, what: string): Error {
  const preview = line.length > PREVIEW_CHARS ? `${line.slice(0, PREVIEW_CHARS)}...` : line;
  return new Error(`line does not match ${what}: ${JSON.stringify(preview)}`);
}

/** The conversion of a captured text to its type, made once per field; `label` names it in errors (`group "status"`). */
export function textConverter(label: string, type: FieldType | undefined): (v: string) => unknown {
  if (type === undefined || type === "string") return (v) => v;
  return (v) => convertText(label, v, type);
}

function convertText(label: string, v: string, type: FieldType): unknown {
  if (type === "int") {
    // Beyond 2^53 a bigint, written with its digits: a double would round it.
    const n = exactInteger(v);
    if (n === undefined) throw new Error(`${label}: expected an integer, found ${JSON.stringify(v)}`);
    return n;
  }
  const n = v.trim() === "" ? NaN : Number(v);
  if (Number.isNaN(n)) throw new Error(`${label}: expected a number, found ${JSON.stringify(v)}`);
  return exactNumber(v, n);
}
