import { chain, createLinesLoader, createRegexMapper, defineTable, type Mapper, type Row } from "tailkit";

/**
 * nginx's predefined "combined" log format:
 * `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"`.
 * The request line is split into method, path and protocol when it has that shape (it may not: "-" or garbage).
 */
export const COMBINED_PATTERN =
  /^(?<remote_addr>\S+) - (?<remote_user>\S+) \[(?<time_local>[^\]]+)\] "(?<request>(?:[^"\\]|\\.)*)" (?<status>\d{3}) (?<body_bytes_sent>\d+|-) "(?<http_referer>(?:[^"\\]|\\.)*)" "(?<http_user_agent>(?:[^"\\]|\\.)*)"/;

/** Default layout: access logs and their logrotate siblings (access.log.1, access.log.2.gz), at any depth. */
export const NGINX_FILE_LAYOUT = "**/{file:[^/]*access\\.log(\\.\\d+)?(\\.gz)?}";

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

/** A row of the table, as its mappers give it to enrich. */
export interface NginxAccessRow extends Row {
  remote_addr: string;
  remote_user: string | null;
  time_local: string;
  request: string | null;
  method: string | null;
  path: string | null;
  http_version: string | null;
}

/** Splits the request line into method, path and protocol where it has that shape (it may be "-" or garbage). */
const splitRequest: Mapper<Row, NginxAccessRow> = {
  name: "nginx_request",
  map(row) {
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

/** The nginx_access_log table. */
export const nginxAccessLogTable = defineTable({
  name: "nginx_access_log",
  description: "nginx access logs in the combined format, including rotated and gzipped files.",
  sources: { file: { defaults: { file_layout: NGINX_FILE_LAYOUT } } },
  rowSchema: {
    type: "object",
    required: ["remote_addr", "time_local", "status", "tp_id", "tp_timestamp"],
    properties: {
      remote_addr: { type: "string" },
      remote_user: { type: ["string", "null"] },
      time_local: { type: "string" },
      request: { type: ["string", "null"] },
      method: { type: ["string", "null"] },
      path: { type: ["string", "null"] },
      http_version: { type: ["string", "null"] },
      status: { type: "integer" },
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
  mappers: () => chain(createRegexMapper(COMBINED_PATTERN, { nullValue: "-", types: { status: "int", body_bytes_sent: "int" } }), splitRequest),
  enrich(row: NginxAccessRow, ctx) {
    const user = row.remote_user;
    const time = row.time_local;
    const timestamp = typeof time === "string" ? parseTimeLocal(time) : undefined;
    if (timestamp === undefined) throw new Error(`time_local ${JSON.stringify(time)} is not a valid time (dd/Mon/yyyy:hh:mm:ss ±hhmm, on a day the month has)`);
    return {
      tp_timestamp: timestamp,
      tp_index: ctx.artifact.properties["host"] ?? "default",
      tp_source_ip: row.remote_addr,
      tp_ips: [row.remote_addr],
      tp_usernames: typeof user === "string" ? [user] : [],
    };
  },
});
