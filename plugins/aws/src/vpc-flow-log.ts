import { createLinesLoader } from "../../../src/loaders/index.js";
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

/**
 * Maps one flow log line to a row. A header line (first field "version" as a name) sets the field list for the rest of
 * the file, so custom formats work; field names become snake_case and "-" becomes null.
 * One mapper instance per artifact, since the header is per file.
 */
export function createVpcFlowLogMapper(): Mapper<string, Row> {
  let names = VPC_DEFAULT_FIELDS.map((f) => f.replace(/-/g, "_"));
  let numeric = VPC_DEFAULT_FIELDS.map((f) => NUMERIC.has(f));
  return {
    name: "vpc_flow_log",
    map(line) {
      if (line.length === 0) return undefined;
      const parts = line.split(" ");
      if (parts[0] === "version" || parts[0] === "account-id" || parts[0] === "interface-id") {
        names = parts.map((f) => f.replace(/-/g, "_"));
        numeric = parts.map((f) => NUMERIC.has(f));
        return undefined;
      }
      if (parts.length !== names.length) {
        throw new Error(`expected ${names.length} space-separated fields, found ${parts.length}`);
      }
      const row: Row = {};
      for (let i = 0; i < parts.length; i++) {
        const v = parts[i]!;
        if (v === "-") row[names[i]!] = null;
        else if (numeric[i]) {
          const n = Number(v);
          if (Number.isNaN(n)) throw new Error(`field ${names[i]} is not a number: ${JSON.stringify(v)}`);
          row[names[i]!] = n;
        } else row[names[i]!] = v;
      }
      return row;
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
