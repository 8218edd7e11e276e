import { invalidArgument } from "../../errors/index.js";

/** Layout names a timestamp column or transform may give instead of a pattern. */
export const TIMESTAMP_LAYOUT_NAMES = ["iso8601", "unix", "unix_ms", "httpdate"] as const;

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const FULL_MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"];

/** Turns a value into an instant's ISO-8601 text (UTC, milliseconds), or throws saying why it is not one. */
export type TimestampParser = (value: unknown) => string;

interface Parts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** Fraction of a second, as its digits. */
  fraction: string;
  /** Offset east of UTC, in minutes. */
  offset: number;
  pm?: boolean | undefined;
}

/** Token → [regex, how its text goes into the parts]. */
const TOKENS: Record<string, [string, (p: Parts, v: string) => void]> = {
  Y: ["\\d{4}", (p, v) => (p.year = Number(v))],
  y: ["\\d{2}", (p, v) => (p.year = 2000 + Number(v))],
  m: ["\\d{1,2}", (p, v) => (p.month = Number(v))],
  d: ["\\d{1,2}", (p, v) => (p.day = Number(v))],
  e: [" ?\\d{1,2}", (p, v) => (p.day = Number(v.trim()))],
  H: ["\\d{1,2}", (p, v) => (p.hour = Number(v))],
  I: ["\\d{1,2}", (p, v) => (p.hour = Number(v))],
  M: ["\\d{2}", (p, v) => (p.minute = Number(v))],
  S: ["\\d{2}", (p, v) => (p.second = Number(v))],
  f: ["\\d{1,9}", (p, v) => (p.fraction = v)],
  z: ["Z|[+-]\\d{2}:?\\d{2}", (p, v) => (p.offset = offsetMinutes(v))],
  b: ["[A-Za-z]{3}", (p, v) => (p.month = MONTHS.indexOf(v.toLowerCase()) + 1)],
  B: ["[A-Za-z]{3,9}", (p, v) => (p.month = FULL_MONTHS.indexOf(v.toLowerCase()) + 1)],
  a: ["[A-Za-z]{3}", () => {}],
  A: ["[A-Za-z]{6,9}", () => {}],
  p: ["[AaPp][Mm]", (p, v) => (p.pm = v.toLowerCase() === "pm")],
};

function offsetMinutes(v: string): number {
  if (v === "Z") return 0;
  const digits = v.replace(":", "");
  const sign = digits[0] === "-" ? -1 : 1;
  return sign * (Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5)));
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
const HTTPDATE = "%d/%b/%Y:%H:%M:%S %z";

/**
 * A parser for a timestamp layout: a name (iso8601, unix, unix_ms, httpdate) or a strftime-style pattern (%Y %y %m
 * %d %e %H %I %M %S %f %z %b %B %a %A %p %%; other text literal). Without a layout: ISO 8601 / RFC 3339 (no zone is
 * UTC), epoch seconds as a number or digits (milliseconds when over 10^11), or nginx's time_local. A time on a day its
 * month lacks, or out of range, is refused rather than moved on (31 Feb is not 2 March). Throws INVALID_ARGUMENT naming
 * `field` for an unknown %-token.
 */
export function timestampParser(layout: string | undefined, field: string): TimestampParser {
  if (layout === undefined) {
    const http = patternParser(HTTPDATE, field);
    return (value) => {
      if (typeof value === "number" || (typeof value === "string" && /^\d+(\.\d+)?$/.test(value))) return fromEpoch(Number(value), "auto");
      if (typeof value !== "string") throw notTime(value);
      return ISO.test(value) ? fromIso(value) : http(value);
    };
  }
  switch (layout) {
    case "iso8601":
      return (value) => {
        if (typeof value !== "string" || !ISO.test(value)) throw notTime(value, "ISO 8601");
        return fromIso(value);
      };
    case "unix":
    case "unix_ms":
      return (value) => {
        const n = typeof value === "number" ? value : typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;
        if (Number.isNaN(n)) throw notTime(value, layout === "unix" ? "seconds since the epoch" : "milliseconds since the epoch");
        return fromEpoch(n, layout === "unix" ? "s" : "ms");
      };
    case "httpdate":
      return patternParser(HTTPDATE, field);
    default:
      return patternParser(layout, field);
  }
}

function patternParser(layout: string, field: string): TimestampParser {
  const setters: ((p: Parts, v: string) => void)[] = [];
  let source = "";
  for (let i = 0; i < layout.length; i++) {
    const ch = layout[i]!;
    if (ch !== "%") {
      source += ch.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
      continue;
    }
    const t = layout[++i];
    if (t === "%") {
      source += "%";
      continue;
    }
    const token = t === undefined ? undefined : TOKENS[t];
    if (token === undefined) throw invalidArgument(field, `timestamp layout ${JSON.stringify(layout)}: unknown token %${t ?? ""} (see docs/FORMATS.md)`);
    source += `(${token[0]})`;
    setters.push(token[1]);
  }
  const regex = new RegExp(`^${source}$`);
  return (value) => {
    if (typeof value !== "string") throw notTime(value, layout);
    const m = regex.exec(value);
    if (!m) throw notTime(value, layout);
    const p: Parts = { year: 1970, month: 1, day: 1, hour: 0, minute: 0, second: 0, fraction: "", offset: 0 };
    setters.forEach((set, i) => set(p, m[i + 1]!));
    if (p.pm !== undefined) {
      if (p.hour < 1 || p.hour > 12) throw notTime(value, layout);
      p.hour = (p.hour % 12) + (p.pm ? 12 : 0);
    }
    return fromParts(p, value);
  };
}

function fromIso(value: string): string {
  const m = ISO.exec(value)!;
  return fromParts(
    {
      year: Number(m[1]),
      month: Number(m[2]),
      day: Number(m[3]),
      hour: Number(m[4] ?? 0),
      minute: Number(m[5] ?? 0),
      second: Number(m[6] ?? 0),
      fraction: m[7] ?? "",
      offset: m[8] === undefined ? 0 : offsetMinutes(m[8].length === 3 ? `${m[8]}00` : m[8].toUpperCase()),
    },
    value,
  );
}

function fromParts(p: Parts, value: string): string {
  const days = new Date(Date.UTC(p.year, p.month, 0)).getUTCDate();
  if (p.month < 1 || p.month > 12 || p.day < 1 || p.day > days || p.hour > 23 || p.minute > 59 || p.second > 59 || Math.abs(p.offset) > 18 * 60) {
    throw new Error(`${JSON.stringify(value)} is not a time there is (a day its month lacks, or a field out of range)`);
  }
  const ms = Number(p.fraction.padEnd(3, "0").slice(0, 3));
  const t = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second, ms) - p.offset * 60_000;
  return new Date(t).toISOString();
}

function fromEpoch(n: number, unit: "s" | "ms" | "auto"): string {
  const ms = unit === "ms" || (unit === "auto" && Math.abs(n) >= 1e11) ? n : n * 1000;
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) throw new Error(`${n} is out of the range of times`);
  return d.toISOString();
}

function notTime(value: unknown, layout?: string): Error {
  return new Error(`${JSON.stringify(value)} is not a timestamp${layout === undefined ? "" : ` in the layout ${JSON.stringify(layout)}`}`);
}
