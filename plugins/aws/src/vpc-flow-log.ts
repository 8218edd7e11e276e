import { defineDelimitedTable, type DelimitedTableOptions, type TableDefinition } from "tailkit";

/** AWS's delivery layout for VPC flow log files in S3, relative to the bucket (or a copy of it). */
export const VPC_FLOW_LOG_FILE_LAYOUT = "AWSLogs/{account:\\d{12}}/vpcflowlogs/{region:[a-z0-9-]+}/{year:\\d{4}}/{month:\\d{2}}/{day:\\d{2}}/{file}.log.gz";

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

/** Fields that hold numbers, in any of the formats (default or custom) a file's header may declare. */
const VPC_NUMBER_FIELDS = [
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
];

/** What defines the aws_vpc_flow_log table (the bench compares it with the same table without domainsOf). */
export const VPC_FLOW_LOG_OPTIONS: DelimitedTableOptions = {
  name: "aws_vpc_flow_log",
  description: "AWS VPC flow logs: IP traffic to and from network interfaces, from the files delivered to S3.",
  sources: { file: { defaults: { file_layout: VPC_FLOW_LOG_FILE_LAYOUT } }, aws_s3_bucket: { defaults: { file_layout: VPC_FLOW_LOG_FILE_LAYOUT } } },
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
      tp_domains: { type: "array", items: { type: "string" }, description: "domains tailkit/dns resolved to dstaddr at the flow's start" },
    },
  },
  columns: VPC_DEFAULT_FIELDS,
  numbers: VPC_NUMBER_FIELDS,
  // A custom format's file starts with its field names; the formats AWS offers start with one of these.
  headerFirstFields: ["version", "account-id", "interface-id"],
  mapperName: "vpc_flow_log",
  enrich: {
    timestamp: { field: "start", unit: "s" },
    index: { field: "account_id", property: "account" },
    sourceIp: "srcaddr",
    destinationIp: "dstaddr",
    ips: ["srcaddr", "dstaddr"],
    // The domains Route 53 Resolver answers (aws_route53_resolver_query_log) gave for the destination.
    domainsOf: { fields: ["dstaddr"] },
  },
};

/** The aws_vpc_flow_log table. */
export const vpcFlowLogTable: TableDefinition = defineDelimitedTable(VPC_FLOW_LOG_OPTIONS);
