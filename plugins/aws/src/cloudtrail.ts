import { defineTable, jsonArrayRows } from "tailkit";
import { isIp, uniqueStrings } from "./util.js";

/** AWS's delivery layout for CloudTrail log files, relative to the bucket (or a copy of it). */
export const CLOUDTRAIL_FILE_LAYOUT = "AWSLogs/{account:\\d{12}}/CloudTrail/{region:[a-z0-9-]+}/{year:\\d{4}}/{month:\\d{2}}/{day:\\d{2}}/{file}.json.gz";

/** The fields of a CloudTrail record that the table's enrich reads; a record has many more, all kept in the row. */
export interface CloudTrailRecord {
  eventTime?: string;
  recipientAccountId?: string;
  sourceIPAddress?: string;
  userIdentity?: {
    userName?: string;
    arn?: string;
    principalId?: string;
    sessionContext?: { sessionIssuer?: { userName?: string; arn?: string } };
  };
  resources?: { ARN?: string }[];
  [field: string]: unknown;
}

/**
 * A CloudTrail log file is `{"Records":[...]}`: one row per record, each written as its own text in the file. Records
 * are parsed and delivered 100 at a time and found by the text between them.
 */
export const cloudTrailRecords = jsonArrayRows<CloudTrailRecord>({
  member: "Records",
  onlyMember: true,
  mapperName: "cloudtrail_records",
  missingMessage: "document has no Records array; is this a CloudTrail log file?",
});

/** The aws_cloudtrail_log table. */
export const cloudTrailTable = defineTable({
  name: "aws_cloudtrail_log",
  description: "AWS CloudTrail events: API calls and account activity, from the log files CloudTrail delivers.",
  sources: {
    file: { defaults: { file_layout: CLOUDTRAIL_FILE_LAYOUT }, ...cloudTrailRecords },
    aws_s3_bucket: { defaults: { file_layout: CLOUDTRAIL_FILE_LAYOUT }, ...cloudTrailRecords },
  },
  rowSchema: {
    type: "object",
    required: ["eventTime", "eventSource", "eventName", "tp_id", "tp_timestamp"],
    properties: {
      eventVersion: { type: "string" },
      eventTime: { type: "string", format: "date-time" },
      eventSource: { type: "string" },
      eventName: { type: "string" },
      awsRegion: { type: "string" },
      sourceIPAddress: { type: "string" },
      userAgent: { type: "string" },
      userIdentity: { type: "object" },
      requestParameters: { type: ["object", "null"] },
      responseElements: { type: ["object", "null"] },
      requestID: { type: "string" },
      eventID: { type: "string" },
      eventType: { type: "string" },
      readOnly: { type: "boolean" },
      resources: { type: "array" },
      recipientAccountId: { type: "string" },
      errorCode: { type: "string" },
      errorMessage: { type: "string" },
      tp_id: { type: "string" },
      tp_timestamp: { type: "string", format: "date-time" },
      tp_index: { type: "string", description: "recipientAccountId" },
      tp_source_ip: { type: ["string", "null"] },
      tp_ips: { type: "array", items: { type: "string" } },
      tp_usernames: { type: "array", items: { type: "string" } },
      tp_akas: { type: "array", items: { type: "string" } },
    },
  },
  enrich(row: CloudTrailRecord, ctx) {
    const identity = row.userIdentity ?? {};
    const sourceIp = typeof row.sourceIPAddress === "string" && isIp(row.sourceIPAddress) ? row.sourceIPAddress : null;
    const akas: unknown[] = [identity.arn, identity.sessionContext?.sessionIssuer?.arn];
    if (Array.isArray(row.resources)) for (const r of row.resources) akas.push(r?.ARN);
    return {
      tp_timestamp: row.eventTime as string,
      tp_index: row.recipientAccountId ?? ctx.artifact.properties["account"] ?? "default",
      tp_source_ip: sourceIp,
      tp_ips: sourceIp ? [sourceIp] : [],
      tp_usernames: uniqueStrings([identity.userName, identity.sessionContext?.sessionIssuer?.userName, identity.principalId]),
      tp_akas: uniqueStrings(akas),
    };
  },
});
