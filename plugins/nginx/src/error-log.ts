import { chain, createLinesLoader, createRegexMapper, defineTable, type Mapper, type Row } from "tailkit";
import { rotatedLogLayout } from "./layouts.js";

/**
 * Default layout: error logs at any depth and their rotations (error.log.1, error.log.2.gz, error.log-20240301, .zst
 * and .zip ones), see rotatedLogLayout.
 */
export const NGINX_ERROR_FILE_LAYOUT = rotatedLogLayout("error.log");

/**
 * One line of nginx's error log: `2024/01/15 10:00:00 [error] 1234#5678: *9 message, client: 10.0.0.1, server: x,
 * request: "GET / HTTP/1.1", host: "x"`. The connection number (`*9`) is there only for errors of a connection.
 */
export const ERROR_LINE_PATTERN =
  /^(?<time>\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2}) \[(?<level>debug|info|notice|warn|error|crit|alert|emerg)\] (?<pid>\d+)#(?<tid>\d+): (?:\*(?<connection>\d+) )?(?<message>.*)$/;

/** The details nginx appends to a connection's message, each `, key: value` (quoted values may hold commas). */
const DETAIL = /, (client|server|request|upstream|host|referrer): ("(?:[^"\\]|\\.)*"|[^,]*)(?=, (?:client|server|request|upstream|host|referrer): |$)/g;

/** The table's config. */
export interface NginxErrorLogConfig {
  /** Offset of the server's clock from UTC, as nginx writes local time without one. Default "+00:00". */
  utc_offset?: string;
}

/** A row of the table. */
export interface NginxErrorRow extends Row {
  /** ISO 8601, at the table config's utc_offset. */
  time: string;
  level: string;
  pid: number;
  tid: number;
  connection: number | null;
  message: string;
  client: string | null;
  server: string | null;
  request: string | null;
  upstream: string | null;
  host: string | null;
  referrer: string | null;
}

/**
 * Takes the `, client: ...` details off the end of the message into their own fields, and writes the time as ISO 8601
 * at the configured offset (a time there is not, 2024/02/30, rejects the line).
 */
function splitDetails(offset: string): Mapper<Row, NginxErrorRow> {
  return {
    name: "nginx_error_details",
    map(row) {
      const time = parseErrorTime(String(row["time"]), offset);
      if (time === undefined) throw new Error(`time ${JSON.stringify(row["time"])} is not a valid time (yyyy/mm/dd hh:mm:ss, on a day the month has)`);
      const text = String(row["message"]);
      const details: Record<string, string | null> = { client: null, server: null, request: null, upstream: null, host: null, referrer: null };
      let first = -1;
      for (const m of text.matchAll(DETAIL)) {
        if (first === -1) first = m.index;
        const v = m[2]!;
        details[m[1]!] = v.startsWith('"') ? v.slice(1, -1).replace(/\\(.)/g, "$1") : v;
      }
      return { ...row, time, ...details, message: first === -1 ? text : text.slice(0, first) } as NginxErrorRow;
    },
  };
}

/** `2024/01/15 10:00:00` at `offset` (±hh:mm) → ISO 8601, or undefined when it is no time there is. */
export function parseErrorTime(value: string, offset: string): string | undefined {
  const m = /^(\d{4})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(value);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const days = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (mo < 1 || mo > 12 || d < 1 || d > days || h > 23 || mi > 59 || s > 59) return undefined;
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${offset}`;
}

/** The nginx_error_log table. */
export const nginxErrorLogTable = defineTable({
  name: "nginx_error_log",
  description: "nginx error logs: level, process, connection and message, with the client, server and request nginx adds.",
  sources: { file: { defaults: { file_layout: NGINX_ERROR_FILE_LAYOUT } }, aws_s3_bucket: { defaults: { file_layout: NGINX_ERROR_FILE_LAYOUT } } },
  configSchema: {
    type: "object",
    properties: {
      utc_offset: { type: "string", pattern: "^[+-](?:[01]\\d|2[0-3]):[0-5]\\d$", description: 'The server clock\'s offset from UTC; default "+00:00"' },
    },
    additionalProperties: false,
  },
  rowSchema: {
    type: "object",
    required: ["time", "level", "pid", "tid", "message", "tp_id", "tp_timestamp"],
    properties: {
      time: { type: "string", format: "date-time" },
      level: { type: "string" },
      pid: { type: "integer" },
      tid: { type: "integer" },
      connection: { type: ["integer", "null"] },
      message: { type: "string" },
      client: { type: ["string", "null"] },
      server: { type: ["string", "null"] },
      request: { type: ["string", "null"] },
      upstream: { type: ["string", "null"] },
      host: { type: ["string", "null"] },
      referrer: { type: ["string", "null"] },
    },
  },
  loader: () => createLinesLoader(),
  mappers: (config: NginxErrorLogConfig) =>
    chain(createRegexMapper(ERROR_LINE_PATTERN, { types: { pid: "int", tid: "int", connection: "int" } }), splitDetails(config.utc_offset ?? "+00:00")),
  enrich(row: NginxErrorRow, ctx) {
    return {
      tp_timestamp: row.time,
      tp_index: ctx.artifact.properties["host"] ?? "default",
      ...(row.client !== null ? { tp_source_ip: row.client, tp_ips: [row.client] } : {}),
      ...(row.server !== null ? { tp_domains: [row.server] } : {}),
    };
  },
});
