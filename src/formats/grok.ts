import { invalidArgument } from "../errors/index.js";
import { noMatch, textConverter } from "../mappers/regex.js";
import type { Mapper } from "../contract/mapper.js";
import { GROK_PATTERNS } from "./grok-patterns.js";

/** A field a grok pattern captures: its name as the row gives it, and how its text is converted. */
export interface GrokField {
  name: string;
  type: "string" | "int" | "float";
}

/** A grok pattern compiled: one regex, whose group `g<i>` holds fields[i]. */
export interface CompiledGrok {
  regex: RegExp;
  fields: GrokField[];
}

/** Options of compileGrok and createGrokMapper. */
export interface GrokOptions {
  /** Patterns of the user's own, by name, usable as %{NAME} besides the library's (and taking their place). Default none. */
  patterns?: Record<string, string>;
  /** The config field the pattern came from, named in errors. Default "pattern". */
  field?: string;
  /** The config field the user patterns came from, named in errors. Default "patterns". */
  patternsField?: string;
  /** A captured value equal to this becomes null ("-" in web logs). Default null: keep every value. */
  nullValue?: string | null;
}

/** %{SYNTAX}, %{SYNTAX:SEMANTIC} or %{SYNTAX:SEMANTIC:TYPE}. Semantic names may hold dots and brackets ([a][b]). */
const REFERENCE = /%\{(\w+)(?::([\w.@[\]-]+))?(?::(\w+))?\}/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Compiles a grok pattern into one regular expression with a named group per %{SYNTAX:SEMANTIC}, at every depth (a
 * library pattern's own names count, as in Logstash: COMBINEDAPACHELOG gives clientip, verb, ...). Oniguruma's atomic
 * groups (?>...) become plain groups, which JavaScript has. A name captured twice gives the first value that took
 * part. Throws INVALID_ARGUMENT naming the pattern when it names an unknown pattern, refers to itself, has an unknown
 * type, or does not compile; a user pattern is checked on its own too, so the error names it.
 */
export function compileGrok(pattern: string, options: GrokOptions = {}): CompiledGrok {
  const field = options.field ?? "pattern";
  const patternsField = options.patternsField ?? "patterns";
  if (typeof pattern !== "string" || pattern === "") throw invalidArgument(field, "must be a non-empty grok pattern");
  const library: Record<string, string> = { ...GROK_PATTERNS };
  for (const [name, body] of Object.entries(options.patterns ?? {})) {
    if (!NAME.test(name)) throw invalidArgument(`${patternsField}.${name}`, "a grok pattern's name is letters, digits and _, not starting with a digit");
    if (typeof body !== "string" || body === "") throw invalidArgument(`${patternsField}.${name}`, "must be a non-empty pattern");
    library[name] = body;
  }
  // Each user pattern is compiled alone first, so that a fault in one is reported under its own name.
  for (const name of Object.keys(options.patterns ?? {})) build(`%{${name}}`, library, `${patternsField}.${name}`, name);
  return build(pattern, library, field, undefined);
}

function build(pattern: string, library: Record<string, string>, field: string, named: string | undefined): CompiledGrok {
  const fields: GrokField[] = [];
  const expand = (text: string, stack: string[]): string =>
    text.replace(/\(\?>/g, "(?:").replace(REFERENCE, (_all, syntax: string, semantic: string | undefined, type: string | undefined) => {
      const body = library[syntax];
      const where = stack.length > 0 ? ` (in %{${stack[stack.length - 1]}})` : "";
      if (body === undefined) throw invalidArgument(field, `${describe(named)} names an unknown grok pattern %{${syntax}}${where}`);
      if (stack.includes(syntax))
        throw invalidArgument(field, `${describe(named)}: grok pattern %{${syntax}} refers to itself (${[...stack, syntax].join(" → ")})`);
      const inner = expand(body, [...stack, syntax]);
      if (semantic === undefined) return `(?:${inner})`;
      if (type !== undefined && type !== "int" && type !== "float" && type !== "string") {
        throw invalidArgument(field, `${describe(named)}: %{${syntax}:${semantic}:${type}} has an unknown type ${type}; use int, float or string`);
      }
      fields.push({ name: semantic, type: type ?? "string" });
      return `(?<g${fields.length - 1}>${inner})`;
    });
  const source = expand(pattern, []);
  let regex: RegExp;
  try {
    regex = new RegExp(source);
  } catch (err) {
    throw invalidArgument(
      field,
      `${describe(named)} does not compile: ${err instanceof Error ? err.message.replace(/^Invalid regular expression: \/.*\/: /s, "") : String(err)}`,
    );
  }
  return { regex, fields };
}

function describe(named: string | undefined): string {
  return named === undefined ? "grok pattern" : `grok pattern ${named}`;
}

/**
 * A mapper that matches each line against a grok pattern and gives its named fields as a row (int and float fields
 * converted). A line that does not match is rejected (a "map" row error quoting it); a field that took no part is null.
 */
export function createGrokMapper(pattern: string, options: GrokOptions = {}): Mapper<string, Record<string, unknown>> {
  const { regex, fields } = compileGrok(pattern, options);
  return createGroupsMapper("grok", regex, fields, options.nullValue ?? null, `grok pattern ${JSON.stringify(pattern)}`);
}

/** The mapper behind grok and nginx log_format: group g<i> of `regex` is fields[i]. */
export function createGroupsMapper(
  name: string,
  regex: RegExp,
  fields: readonly GrokField[],
  nullValue: string | null,
  what: string,
): Mapper<string, Record<string, unknown>> {
  const keys = fields.map((_, i) => `g${i}`);
  const converters = fields.map((f) => textConverter(`field "${f.name}"`, f.type));
  return {
    name,
    map(line) {
      const groups = regex.exec(line)?.groups;
      if (groups === undefined) throw noMatch(line, what);
      const row: Record<string, unknown> = {};
      for (let i = 0; i < fields.length; i++) {
        const f = fields[i]!;
        const v = groups[keys[i]!];
        // A name captured twice (in two alternatives) keeps the value that took part.
        if (v === undefined) {
          if (!(f.name in row)) row[f.name] = null;
          continue;
        }
        if (row[f.name] !== undefined && row[f.name] !== null) continue;
        row[f.name] = v === nullValue ? null : converters[i]!(v);
      }
      return row;
    },
  };
}
