import { invalidArgument } from "../../errors/index.js";

/** Layout names a timestamp column or transform may give instead of a pattern. */
export const TIMESTAMP_LAYOUT_NAMES = ["iso8601", "unix", "unix_ms", "httpdate", "syslog"] as const;

/**
 * How far after the reference time a time without a year may fall and still be given the reference's year: a day,
 * enough for a writer up to 14 hours ahead of UTC whose zone was not given, and for clocks that disagree a little.
 */
export const YEARLESS_MARGIN_MS = 24 * 3600_000;

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const FULL_MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"];

/**
 * Turns a value into an instant's ISO-8601 text (UTC, milliseconds), or throws saying why it is not one.
 * `referenceMs` is the time a value without a year is placed near (see timestampParser). Default: now.
 */
export type TimestampParser = (value: unknown, referenceMs?: number) => string;

/** Options of timestampParser. */
export interface TimestampOptions {
  /**
   * The zone of times that carry no offset of their own: "UTC", a fixed offset ("+02:00", "-0500") or an IANA zone
   * name ("Europe/Berlin"). Default "UTC". Check it with validateZone first.
   */
  zone?: string | undefined;
}

/** Wall-clock time in a zone (as ms of that reading taken as UTC) → the instant, in ms since the epoch. */
type Zone = (wallMs: number) => number;

interface Parts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** Fraction of a second, as its digits. */
  fraction: string;
  /** Offset east of UTC, in minutes; undefined when the text gives none (the zone option applies). */
  offset: number | undefined;
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

const UTC: Zone = (wall) => wall;
const DAY_MS = 24 * 3600_000;

/** Checks a zone option: undefined when it is one, else why not. */
export function validateZone(zone: unknown): string | undefined {
  if (typeof zone !== "string" || zone === "") return "must be a zone: UTC, an offset such as +02:00, or an IANA zone name such as Europe/Berlin";
  try {
    zoneOf(zone);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

function zoneOf(zone: string | undefined): Zone {
  if (zone === undefined || zone === "UTC" || zone === "Z") return UTC;
  if (/^[+-]\d{2}:?\d{2}$/.test(zone)) {
    const minutes = offsetMinutes(zone);
    if (Math.abs(minutes) > 18 * 60 || Number(zone.slice(-2)) > 59) throw new Error(`offset ${JSON.stringify(zone)} is out of range (-18:00 to +18:00)`);
    return (wall) => wall - minutes * 60_000;
  }
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
  } catch {
    throw new Error(`unknown zone ${JSON.stringify(zone)}; give UTC, an offset such as +02:00, or an IANA zone name such as Europe/Berlin`);
  }
  return namedZone(format);
}

/**
 * A named zone's wall clock → instant. Of the offsets in force a day before and a day after, those that read back as
 * the same wall time fit: in a time a change of clocks repeats (autumn), the earlier instant is taken; a time the
 * change skipped (spring) is read with the offset before it, so it lands as far after the change as it claims to be.
 */
function namedZone(format: Intl.DateTimeFormat): Zone {
  const cache = new Map<number, number>();
  const offsetAt = (utc: number): number => {
    // Offsets change on quarter hours of UTC; one lookup serves the whole quarter.
    const key = Math.floor(utc / 900_000);
    let offset = cache.get(key);
    if (offset === undefined) {
      const parts = format.formatToParts(key * 900_000);
      const n = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)?.value);
      offset = Date.UTC(n("year"), n("month") - 1, n("day"), n("hour"), n("minute"), n("second")) - key * 900_000;
      if (cache.size > 4096) cache.clear();
      cache.set(key, offset);
    }
    return offset;
  };
  return (wall) => {
    const before = offsetAt(wall - DAY_MS);
    const after = offsetAt(wall + DAY_MS);
    const fits = [before, after].filter((o) => offsetAt(wall - o) === o).map((o) => wall - o);
    return fits.length > 0 ? Math.min(...fits) : wall - before;
  };
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
const HTTPDATE = "%d/%b/%Y:%H:%M:%S %z";
/** RFC 3164's TIMESTAMP: "Dec  1 09:05:03", no year, no zone. */
const SYSLOG = "%b %e %H:%M:%S";
const LOOKS_SYSLOG = /^[A-Za-z]{3} [ \d]?\d \d{2}:\d{2}:\d{2}/;

/**
 * A parser for a timestamp layout: a name (iso8601, unix, unix_ms, httpdate, syslog) or a strftime-style pattern (%Y
 * %y %m %d %e %H %I %M %S %f %z %b %B %a %A %p %%; other text literal). Without a layout: ISO 8601 / RFC 3339, epoch
 * seconds as a number or digits (milliseconds when over 10^11), or nginx's time_local. A time that gives no offset is
 * in `options.zone` (default UTC). A time on a day its month lacks, or out of range, is refused rather than moved on
 * (31 Feb is not 2 March).
 *
 * `syslog` is RFC 3164's "Mmm dd hh:mm:ss" (day space-padded). It, and any pattern with a month but no year, takes
 * the latest year that puts the time no more than YEARLESS_MARGIN_MS after the parser's reference time (so a Dec 31
 * line read on Jan 1 is last year's, and a Feb 29 goes back to the last leap year). Throws INVALID_ARGUMENT naming
 * `field` for an unknown %-token or zone.
 */
export function timestampParser(layout: string | undefined, field: string, options: TimestampOptions = {}): TimestampParser {
  let zone: Zone;
  try {
    zone = zoneOf(options.zone);
  } catch (err) {
    throw invalidArgument(field, (err as Error).message);
  }
  if (layout === undefined) {
    const http = patternParser(HTTPDATE, field, zone);
    return (value) => {
      if (typeof value === "number" || (typeof value === "string" && /^\d+(\.\d+)?$/.test(value))) return fromEpoch(Number(value), "auto");
      if (typeof value !== "string") throw notTime(value);
      if (ISO.test(value)) return fromIso(value, zone);
      if (LOOKS_SYSLOG.test(value))
        throw new Error(`${JSON.stringify(value)} is not a timestamp without a layout; a syslog time has no year: give layout: syslog`);
      return http(value);
    };
  }
  switch (layout) {
    case "iso8601":
      return (value) => {
        if (typeof value !== "string" || !ISO.test(value)) throw notTime(value, "ISO 8601");
        return fromIso(value, zone);
      };
    case "unix":
    case "unix_ms":
      return (value) => {
        const n = typeof value === "number" ? value : typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;
        if (Number.isNaN(n)) throw notTime(value, layout === "unix" ? "seconds since the epoch" : "milliseconds since the epoch");
        return fromEpoch(n, layout === "unix" ? "s" : "ms");
      };
    case "httpdate":
      return patternParser(HTTPDATE, field, zone);
    case "syslog":
      return patternParser(SYSLOG, field, zone, "syslog");
    default:
      return patternParser(layout, field, zone);
  }
}

function patternParser(layout: string, field: string, zone: Zone, name = layout): TimestampParser {
  const setters: ((p: Parts, v: string) => void)[] = [];
  const used = new Set<string>();
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
    used.add(t!);
  }
  const regex = new RegExp(`^${source}$`);
  const yearless = !used.has("Y") && !used.has("y") && (used.has("b") || used.has("B") || used.has("m"));
  return (value, referenceMs = Date.now()) => {
    if (typeof value !== "string") throw notTime(value, name);
    const m = regex.exec(value);
    if (!m) throw notTime(value, name);
    const p: Parts = { year: 1970, month: 1, day: 1, hour: 0, minute: 0, second: 0, fraction: "", offset: undefined };
    setters.forEach((set, i) => set(p, m[i + 1]!));
    if (p.pm !== undefined) {
      if (p.hour < 1 || p.hour > 12) throw notTime(value, name);
      p.hour = (p.hour % 12) + (p.pm ? 12 : 0);
    }
    return yearless ? nearestYear(p, value, zone, referenceMs) : fromParts(p, value, zone);
  };
}

/**
 * The time of parts without a year, in the latest year that puts it at most YEARLESS_MARGIN_MS after the reference.
 * Years are tried down from the latest a wall clock (up to 18 hours ahead of UTC) could read then; nine of them reach
 * a Feb 29 across 2100, which is no leap year.
 */
function nearestYear(p: Parts, value: string, zone: Zone, referenceMs: number): string {
  const latest = referenceMs + YEARLESS_MARGIN_MS;
  const first = new Date(latest + 18 * 3600_000).getUTCFullYear();
  for (let year = first; year > first - 9; year--) {
    p.year = year;
    const t = instant(p, zone);
    if (t !== undefined && t <= latest) return new Date(t).toISOString();
  }
  throw outOfRange(value);
}

function fromIso(value: string, zone: Zone): string {
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
      offset: m[8] === undefined ? undefined : offsetMinutes(m[8].length === 3 ? `${m[8]}00` : m[8].toUpperCase()),
    },
    value,
    zone,
  );
}

function fromParts(p: Parts, value: string, zone: Zone): string {
  const t = instant(p, zone);
  if (t === undefined) throw outOfRange(value);
  return new Date(t).toISOString();
}

/** The parts' instant in ms, their own offset before the zone; undefined when they name no time there is. */
function instant(p: Parts, zone: Zone): number | undefined {
  const days = new Date(Date.UTC(p.year, p.month, 0)).getUTCDate();
  if (p.month < 1 || p.month > 12 || p.day < 1 || p.day > days || p.hour > 23 || p.minute > 59 || p.second > 59) return undefined;
  if (p.offset !== undefined && Math.abs(p.offset) > 18 * 60) return undefined;
  const ms = Number(p.fraction.padEnd(3, "0").slice(0, 3));
  const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second, ms);
  return p.offset === undefined ? zone(wall) : wall - p.offset * 60_000;
}

function outOfRange(value: string): Error {
  return new Error(`${JSON.stringify(value)} is not a time there is (a day its month lacks, or a field out of range)`);
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
