import { invalidArgument } from "../errors/index.js";
import type { Mapper } from "../contract/mapper.js";
import { createGroupsMapper, type GrokField } from "./grok.js";

/** nginx's predefined format. */
export const NGINX_COMBINED = '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"';
/** The `main` format of nginx's stock nginx.conf: combined and the X-Forwarded-For header. */
export const NGINX_MAIN = `${NGINX_COMBINED} "$http_x_forwarded_for"`;

/** Variables nginx always writes as a number (or "-"), converted in the row. */
const TYPES: Readonly<Record<string, GrokField["type"]>> = {
  status: "int",
  body_bytes_sent: "int",
  bytes_sent: "int",
  request_length: "int",
  connection: "int",
  connection_requests: "int",
  remote_port: "int",
  server_port: "int",
  pid: "int",
  request_time: "float",
  msec: "float",
};

/** What a variable can hold when nothing better is known: anything up to the text that follows it. */
const QUOTED_VALUE = '(?:[^"\\\\]|\\\\.)*';

/**
 * The format string of a log_format: the string itself ('$remote_addr - ...'), or a whole directive as nginx.conf has
 * it (`log_format main escape=json '$remote_addr ' '"$request"';`), whose quoted parts are joined as nginx joins them.
 */
export function logFormatString(text: string): string {
  const t = text.trim();
  if (!/^log_format\s/.test(t)) return text;
  const parts = [...t.matchAll(/'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"/g)].map((m) => (m[1] ?? m[2] ?? "").replace(/\\(.)/g, "$1"));
  return parts.join("");
}

/** A log_format compiled: one regex, group g<i> holding fields[i] (the variable's name without $). */
export interface CompiledLogFormat {
  regex: RegExp;
  fields: GrokField[];
}

/**
 * Turns an nginx log_format (`$remote_addr - $remote_user [$time_local] "$request" ...`) into a parser: each
 * variable ($name or ${name}) captures up to the first character of the text after it (a variable between double
 * quotes takes anything but an unescaped quote; one at the end takes the rest of the line). A variable named twice is
 * matched again by a backreference. Numeric variables (status, body_bytes_sent, request_time, ...) are converted.
 * Throws INVALID_ARGUMENT naming `field` for a format with no variable, or two variables with nothing between them.
 */
export function compileLogFormat(format: string, field = "log_format"): CompiledLogFormat {
  const text = logFormatString(format);
  if (typeof text !== "string" || text.trim() === "") throw invalidArgument(field, "must be a non-empty nginx log_format");
  const tokens: ({ literal: string } | { variable: string })[] = [];
  const re = /\$(?:\{(\w+)\}|(\w+))/g;
  let at = 0;
  for (const m of text.matchAll(re)) {
    if (m.index > at) tokens.push({ literal: text.slice(at, m.index) });
    tokens.push({ variable: (m[1] ?? m[2])! });
    at = m.index + m[0].length;
  }
  if (at < text.length) tokens.push({ literal: text.slice(at) });
  if (!tokens.some((t) => "variable" in t)) throw invalidArgument(field, `${JSON.stringify(text)} names no variable ($remote_addr, $status, ...)`);

  const fields: GrokField[] = [];
  const seen = new Map<string, number>();
  let source = "^";
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if ("literal" in t) {
      source += escape(t.literal);
      continue;
    }
    const next = tokens[i + 1];
    if (next !== undefined && "variable" in next) {
      throw invalidArgument(field, `$${t.variable} and $${next.variable} have nothing between them, so where one ends cannot be told`);
    }
    const before = tokens[i - 1];
    const quoted = before !== undefined && "literal" in before && before.literal.endsWith('"') && next !== undefined && next.literal.startsWith('"');
    const value = quoted ? QUOTED_VALUE : next === undefined ? ".*" : `[^${escapeClass(next.literal[0]!)}]*`;
    const earlier = seen.get(t.variable);
    if (earlier !== undefined) {
      source += `\\k<g${earlier}>`;
      continue;
    }
    seen.set(t.variable, fields.length);
    fields.push({ name: t.variable, type: TYPES[t.variable] ?? "string" });
    source += `(?<g${fields.length - 1}>${value})`;
  }
  // Not anchored at the end: a line with fields appended to a known format (combined and more) still parses.
  return { regex: new RegExp(source), fields };
}

/**
 * A mapper that parses each line by an nginx log_format; a line that does not fit is rejected (a "map" row error
 * quoting it). "-", nginx's empty value, becomes null unless `nullValue` says otherwise.
 */
export function createLogFormatMapper(format: string, options: { nullValue?: string | null; field?: string } = {}): Mapper<string, Record<string, unknown>> {
  const { regex, fields } = compileLogFormat(format, options.field);
  const nullValue = options.nullValue === undefined ? "-" : options.nullValue;
  return createGroupsMapper("nginx_log_format", regex, fields, nullValue, "the log_format");
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

function escapeClass(ch: string): string {
  return /[\]\\^-]/.test(ch) ? `\\${ch}` : ch;
}
