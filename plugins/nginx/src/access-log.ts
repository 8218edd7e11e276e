import {
  chain,
  compileLogFormat,
  createLinesLoader,
  createLogFormatMapper,
  defineTable,
  invalidArgument,
  NGINX_COMBINED,
  type Mapper,
  type Row,
} from "tailkit";
import { rotatedLogLayout } from "./layouts.js";

/**
 * nginx's predefined "combined" log format as one regex (the table compiles its log_format, the combined one by
 * default, with the SDK's compileLogFormat; this is the same shape, for tests and readers):
 * `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"`.
 * The request line is split into method, path and protocol when it has that shape (it may not: "-" or garbage).
 */
export const COMBINED_PATTERN =
  /^(?<remote_addr>\S+) - (?<remote_user>\S+) \[(?<time_local>[^\]]+)\] "(?<request>(?:[^"\\]|\\.)*)" (?<status>\d{3}) (?<body_bytes_sent>\d+|-) "(?<http_referer>(?:[^"\\]|\\.)*)" "(?<http_user_agent>(?:[^"\\]|\\.)*)"/;

/**
 * Default layout: access logs at any depth and their rotations (access.log.1, access.log.2.gz, access.log-20240301, .zst
 * and .zip ones), see rotatedLogLayout.
 */
export const NGINX_FILE_LAYOUT = rotatedLogLayout("access.log");

const MONTHS: Record<string, string> = {
  Jan: "01",
  Feb: "02",
  Mar: "03",
  Apr: "04",
  May: "05",
  Jun: "06",
  Jul: "07",
  Aug: "08",
  Sep: "09",
  Oct: "10",
  Nov: "11",
  Dec: "12",
};

/** Days in a month (1-12) of a year of the Gregorian calendar. */
function daysInMonth(year: number, month: number): number {
  // Day 0 of the next month is the last day of this one.
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** The table's config: the log_format the logs were written with. */
export interface NginxAccessLogConfig {
  /** An nginx log_format string or directive (`log_format main '$remote_addr ...';`). Default: combined. */
  log_format?: string;
}

/** A row of the table, as its mappers give it to enrich. With a custom log_format, its variables are the fields. */
export interface NginxAccessRow extends Row {
  remote_addr?: string | null;
  remote_user?: string | null;
  time_local?: string | null;
  time_iso8601?: string | null;
  msec?: number | null;
  request: string | null;
  method: string | null;
  path: string | null;
  http_version: string | null;
}

/** Splits the request line into method, path and protocol where it has that shape (it may be "-" or garbage). */
const splitRequest: Mapper<Row, NginxAccessRow> = {
  name: "nginx_request",
  map(row) {
    if (!("request" in row)) return row as NginxAccessRow;
    const request = row["request"];
    const parts = typeof request === "string" ? /^([A-Z]+) (\S+) (HTTP\/[\d.]+)$/.exec(request) : null;
    row["method"] = parts?.[1] ?? null;
    row["path"] = parts?.[2] ?? null;
    row["http_version"] = parts?.[3] ?? null;
    return row as NginxAccessRow;
  },
};

/**
 * `10/Oct/2000:13:55:36 -0700` → an ISO-8601 string with its offset, or undefined when malformed or not a time there
 * is: a day its month lacks (31/Feb/2024, 29/Feb/2023), an hour past 23, a minute or second past 59.
 */
export function parseTimeLocal(value: string): string | undefined {
  const m = /^(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/.exec(value);
  if (!m) return undefined;
  const month = MONTHS[m[2]!];
  if (!month) return undefined;
  // new Date would move such a day on (31 February is 2 March): the row would carry a day the log does not say.
  const day = Number(m[1]);
  if (day < 1 || day > daysInMonth(Number(m[3]), Number(month))) return undefined;
  if (Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6]) > 59 || Number(m[8]) > 23 || Number(m[9]) > 59) return undefined;
  return `${m[3]}-${month}-${m[1]}T${m[4]}:${m[5]}:${m[6]}${m[7]}${m[8]}:${m[9]}`;
}

/** Variables of a log_format that give a row its time, in the order they are looked for. */
const TIME_VARIABLES = ["time_local", "time_iso8601", "msec"];

/** The row's time from whichever time variable its log_format has (checked at Collect: it has one). */
function rowTime(row: NginxAccessRow): string | undefined {
  if (typeof row.time_local === "string") return parseTimeLocal(row.time_local);
  if (typeof row.time_iso8601 === "string") return Number.isNaN(Date.parse(row.time_iso8601)) ? undefined : row.time_iso8601;
  if (typeof row.msec === "number") return new Date(row.msec * 1000).toISOString();
  return undefined;
}

/** The mapper of a log_format; refuses (INVALID_ARGUMENT naming log_format) one with no time variable. */
function logFormatMapper(config: NginxAccessLogConfig): Mapper<string, Row> {
  const format = config.log_format ?? NGINX_COMBINED;
  const names = compileLogFormat(format, "log_format").fields.map((f) => f.name);
  if (!TIME_VARIABLES.some((v) => names.includes(v))) {
    throw invalidArgument("log_format", `has none of ${TIME_VARIABLES.map((v) => `$${v}`).join(", ")}, so a row's time cannot be known`);
  }
  return createLogFormatMapper(format, { field: "log_format" });
}

/** The nginx_access_log table. */
export const nginxAccessLogTable = defineTable({
  name: "nginx_access_log",
  description: "nginx access logs (combined format, or the log_format in the table config), including rotated and compressed files.",
  sources: { file: { defaults: { file_layout: NGINX_FILE_LAYOUT } }, aws_s3_bucket: { defaults: { file_layout: NGINX_FILE_LAYOUT } } },
  configSchema: {
    type: "object",
    properties: {
      log_format: {
        type: "string",
        minLength: 1,
        description: "The nginx log_format the logs were written with (the format string, or the whole directive); default combined",
      },
    },
    additionalProperties: false,
  },
  rowSchema: {
    type: "object",
    // A custom log_format may lack any of the combined fields: only the time is sure.
    required: ["tp_id", "tp_timestamp"],
    properties: {
      remote_addr: { type: ["string", "null"] },
      remote_user: { type: ["string", "null"] },
      time_local: { type: ["string", "null"] },
      request: { type: ["string", "null"] },
      method: { type: ["string", "null"] },
      path: { type: ["string", "null"] },
      http_version: { type: ["string", "null"] },
      status: { type: ["integer", "null"] },
      body_bytes_sent: { type: ["integer", "null"] },
      http_referer: { type: ["string", "null"] },
      http_user_agent: { type: ["string", "null"] },
      tp_id: { type: "string" },
      tp_timestamp: { type: "string", format: "date-time" },
      tp_source_ip: { type: "string" },
      tp_usernames: { type: "array", items: { type: "string" } },
    },
  },
  loader: () => createLinesLoader(),
  mappers: (config: NginxAccessLogConfig) => chain(logFormatMapper(config), splitRequest),
  enrich(row: NginxAccessRow, ctx) {
    const user = row.remote_user;
    const timestamp = rowTime(row);
    if (timestamp === undefined) {
      const [name, value] = TIME_VARIABLES.map((v) => [v, row[v]] as const).find(([, v]) => v !== undefined && v !== null) ?? ["time_local", undefined];
      throw new Error(
        `${name} ${JSON.stringify(value)} is not a valid time${name === "time_local" ? " (dd/Mon/yyyy:hh:mm:ss ±hhmm, on a day the month has)" : ""}`,
      );
    }
    const addr = typeof row.remote_addr === "string" ? row.remote_addr : undefined;
    return {
      tp_timestamp: timestamp,
      tp_index: ctx.artifact.properties["host"] ?? "default",
      ...(addr !== undefined ? { tp_source_ip: addr, tp_ips: [addr] } : {}),
      tp_usernames: typeof user === "string" ? [user] : [],
    };
  },
});
