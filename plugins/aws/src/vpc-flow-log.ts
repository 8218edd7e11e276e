import { createLinesLoader } from "../../../src/loaders/index.js";
import { rawRow, type RawRow } from "../../../src/mappers/raw-row.js";
import type { Mapper } from "../../../src/mappers/types.js";
import type { Row, TableDefinition } from "../../../src/tables/types.js";

/** AWS's delivery layout for VPC flow log files in S3, relative to the bucket (or a copy of it). */
export const VPC_FLOW_LOG_FILE_LAYOUT =
  "AWSLogs/{account:\\d{12}}/vpcflowlogs/{region:[a-z0-9-]+}/{year:\\d{4}}/{month:\\d{2}}/{day:\\d{2}}/{file}.log.gz";

/** The version-2 default format, used when a file has no header line. */
export const VPC_DEFAULT_FIELDS = [
  "version",
  "account-id",
  "interface-id",
  "srcaddr",
  "dstaddr",
  "srcport",
  "dstport",
  "protocol",
  "packets",
  "bytes",
  "start",
  "end",
  "action",
  "log-status",
];

const NUMERIC = new Set([
  "version",
  "srcport",
  "dstport",
  "protocol",
  "packets",
  "bytes",
  "start",
  "end",
  "tcp-flags",
  "traffic-path",
  "sublocation-id",
  "ecs-container-instance-arn-count",
]);

/** Field names whose JSON key is the name in quotes and whose place in an object is their insertion order. */
const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Text JSON.stringify would escape: quote, backslash, control characters, surrogates (a lone one is escaped). */
function needsEscape(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return true;
  }
  return false;
}
/** The fields the table's enrich reads. */
const ENRICH_FIELDS = ["start", "srcaddr", "dstaddr", "account_id"] as const;

/**
 * True when JSON.stringify(Number(v)) === v: a plain decimal integer without a sign or leading zero, small enough to
 * be exact. Anything else (1e3, 007, 1.50, -0, huge) is converted and serialized the slow way.
 */
function isCanonicalInt(v: string): boolean {
  const n = v.length;
  if (n === 0 || n > 15) return false;
  const c0 = v.charCodeAt(0);
  if (c0 === 0x30 /* 0 */) return n === 1;
  if (c0 < 0x31 || c0 > 0x39) return false;
  for (let i = 1; i < n; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/** A file's field layout, from its header line or the default; its JSON keys are made once. */
interface Layout {
  names: string[];
  numeric: boolean[];
  /** `"name":` per field, the first with "{" and the rest with "," before it. */
  keys: string[];
  /** Index of each enrich field in the line, or -1. */
  enrichAt: number[];
  /** False when the names cannot be written in line order as JSON.stringify would (duplicates, integer-like, __proto__): rows are objects then. */
  raw: boolean;
}

function layout(fields: readonly string[]): Layout {
  const names = fields.map((f) => f.replace(/-/g, "_"));
  const unique = new Set(names).size === names.length;
  return {
    names,
    numeric: fields.map((f) => NUMERIC.has(f)),
    keys: names.map((n, i) => `${i === 0 ? "{" : ","}${JSON.stringify(n)}:`),
    enrichAt: ENRICH_FIELDS.map((f) => names.indexOf(f)),
    raw: unique && names.length > 0 && names.every((n) => PLAIN_KEY.test(n) && n !== "__proto__"),
  };
}

/** The row object of a line, as JSON.parse of its raw text would give it. */
function rowObject(parts: readonly string[], l: Layout): Row {
  const row: Row = {};
  for (let i = 0; i < parts.length; i++) {
    const v = parts[i]!;
    if (v === "-") row[l.names[i]!] = null;
    else if (l.numeric[i]) {
      const n = Number(v);
      if (Number.isNaN(n)) throw new Error(`field ${l.names[i]} is not a number: ${JSON.stringify(v)}`);
      row[l.names[i]!] = n;
    } else row[l.names[i]!] = v;
  }
  return row;
}

/**
 * The line as a pre-serialized row: the same text JSON.stringify(rowObject(...)) gives, built by concatenation, and
 * the few fields enrich reads.
 */
function rowRaw(parts: readonly string[], l: Layout): RawRow {
  const { names, numeric, keys } = l;
  // Keys and values side by side, joined once: one flat string rather than a rope of two pieces per field.
  const pieces: string[] = new Array<string>(parts.length * 2 + 1);
  for (let i = 0; i < parts.length; i++) {
    const v = parts[i]!;
    let text: string;
    if (v === "-") text = "null";
    else if (numeric[i]) {
      if (isCanonicalInt(v)) text = v;
      else {
        const n = Number(v);
        if (Number.isNaN(n)) throw new Error(`field ${names[i]} is not a number: ${JSON.stringify(v)}`);
        text = JSON.stringify(n);
      }
    } else text = needsEscape(v) ? JSON.stringify(v) : `"${v}"`;
    pieces[2 * i] = keys[i]!;
    pieces[2 * i + 1] = text;
  }
  pieces[parts.length * 2] = "}";
  const at = l.enrichAt;
  const fields: Row = {
    start: fieldValue(parts, l, at[0]!),
    srcaddr: fieldValue(parts, l, at[1]!),
    dstaddr: fieldValue(parts, l, at[2]!),
    account_id: fieldValue(parts, l, at[3]!),
  };
  return rawRow(pieces.join(""), fields);
}

/** The value of field i as the row object holds it (the line is already checked), or undefined for no such field. */
function fieldValue(parts: readonly string[], l: Layout, i: number): string | number | null | undefined {
  if (i < 0) return undefined;
  const v = parts[i]!;
  return v === "-" ? null : l.numeric[i] ? Number(v) : v;
}

/** Options of createVpcFlowLogMapper. */
export interface VpcFlowLogMapperOptions {
  /** Return row objects instead of pre-serialized rows (the reference the raw text is tested against). Default false. */
  objects?: boolean;
}

/**
 * Maps one flow log line to a row. A header line (first field "version" as a name) sets the field list for the rest of
 * the file, so custom formats work; field names become snake_case and "-" becomes null.
 * Rows are pre-serialized (rawRow): the JSON text is built from the fields directly, byte for byte what serializing
 * the row object would give, so no row object is made or serialized.
 * One mapper instance per artifact, since the header is per file.
 */
export function createVpcFlowLogMapper(options: VpcFlowLogMapperOptions = {}): Mapper<string, Row | RawRow> {
  let l = layout(VPC_DEFAULT_FIELDS);
  const objects = options.objects === true;
  return {
    name: "vpc_flow_log",
    map(line) {
      if (line.length === 0) return undefined;
      const parts = line.split(" ");
      if (parts[0] === "version" || parts[0] === "account-id" || parts[0] === "interface-id") {
        l = layout(parts);
        return undefined;
      }
      if (parts.length !== l.names.length) {
        throw new Error(`expected ${l.names.length} space-separated fields, found ${parts.length}`);
      }
      return objects || !l.raw ? rowObject(parts, l) : rowRaw(parts, l);
    },
  };
}

/** The aws_vpc_flow_log table. */
export const vpcFlowLogTable: TableDefinition = {
  name: "aws_vpc_flow_log",
  description: "AWS VPC flow logs: IP traffic to and from network interfaces, from the files delivered to S3.",
  sources: { file: { defaults: { file_layout: VPC_FLOW_LOG_FILE_LAYOUT } } },
  rowSchema: {
    type: "object",
    required: ["tp_id", "tp_timestamp"],
    properties: {
      version: { type: "integer" },
      account_id: { type: ["string", "null"] },
      interface_id: { type: ["string", "null"] },
      srcaddr: { type: ["string", "null"] },
      dstaddr: { type: ["string", "null"] },
      srcport: { type: ["integer", "null"] },
      dstport: { type: ["integer", "null"] },
      protocol: { type: ["integer", "null"] },
      packets: { type: ["integer", "null"] },
      bytes: { type: ["integer", "null"] },
      start: { type: ["integer", "null"], description: "unix seconds" },
      end: { type: ["integer", "null"], description: "unix seconds" },
      action: { type: ["string", "null"], enum: ["ACCEPT", "REJECT", null] },
      log_status: { type: ["string", "null"], enum: ["OK", "NODATA", "SKIPDATA", null] },
      tp_id: { type: "string" },
      tp_timestamp: { type: "string", format: "date-time" },
      tp_source_ip: { type: ["string", "null"] },
      tp_destination_ip: { type: ["string", "null"] },
      tp_ips: { type: "array", items: { type: "string" } },
    },
  },
  loader: () => createLinesLoader(),
  mappers: () => [createVpcFlowLogMapper()],
  enrich(row, ctx) {
    const start = row["start"];
    const src = (row["srcaddr"] as string | null | undefined) ?? null;
    const dst = (row["dstaddr"] as string | null | undefined) ?? null;
    const ips: string[] = [];
    if (src) ips.push(src);
    if (dst && dst !== src) ips.push(dst);
    return {
      tp_timestamp: typeof start === "number" ? start * 1000 : Number.NaN,
      tp_index: (row["account_id"] as string | null | undefined) ?? ctx.artifact.properties["account"] ?? "default",
      tp_source_ip: src,
      tp_destination_ip: dst,
      tp_ips: ips,
    };
  },
};
