import { chain, defineTable, jsonArrayRows, type CloudWatchLogEvent, type Mapper } from "tailkit";
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

/**
 * CloudTrail delivering to a CloudWatch Logs group writes each record as one event's message. A message that is not a
 * JSON object is a row error naming its event; the other events go on.
 */
export const cloudTrailLogEvents: Mapper<CloudWatchLogEvent, CloudTrailRecord> = {
  name: "cloudtrail_log_event",
  map(event) {
    let record: unknown;
    try {
      record = JSON.parse(event.message);
    } catch (err) {
      throw new Error(`event ${event.eventId}: message is not JSON (${(err as Error).message}); expected one CloudTrail record`);
    }
    if (record === null || typeof record !== "object" || Array.isArray(record))
      throw new Error(`event ${event.eventId}: message is not a JSON object; expected one CloudTrail record`);
    return record as CloudTrailRecord;
  },
};

/** The detail-types EventBridge gives CloudTrail events, whose `detail` is the CloudTrail record. */
const CLOUDTRAIL_DETAIL_TYPES = new Set([
  "AWS API Call via CloudTrail",
  "AWS Console Sign In via CloudTrail",
  "AWS Console Action via CloudTrail",
  "AWS Service Event via CloudTrail",
]);

/**
 * A CloudTrail event posted to the webhook: as EventBridge delivers it (an event whose `detail` is the record, with a
 * CloudTrail detail-type), or the bare record. Anything else is a row error saying what it is.
 */
export const cloudTrailEventMapper: Mapper<unknown, CloudTrailRecord> = {
  name: "cloudtrail_event",
  map(item) {
    if (item === null || typeof item !== "object" || Array.isArray(item)) throw new Error(`not a CloudTrail event: ${JSON.stringify(item)?.slice(0, 80)}`);
    const event = item as Record<string, unknown>;
    if ("detail-type" in event || "detail" in event) {
      const type = event["detail-type"];
      const detail = event["detail"];
      if (typeof type !== "string" || !CLOUDTRAIL_DETAIL_TYPES.has(type)) {
        throw new Error(`EventBridge event ${JSON.stringify(event["id"] ?? null)} has detail-type ${JSON.stringify(type ?? null)}, not a CloudTrail one`);
      }
      if (detail === null || typeof detail !== "object" || Array.isArray(detail))
        throw new Error(`EventBridge event ${JSON.stringify(event["id"] ?? null)} has no detail object`);
      return detail as CloudTrailRecord;
    }
    if (typeof event["eventVersion"] !== "string" || typeof event["eventTime"] !== "string") {
      const keys = Object.keys(event).slice(0, 5).join(", ");
      throw new Error(`neither a CloudTrail record (no eventVersion and eventTime) nor an EventBridge CloudTrail event; keys: ${keys || "none"}`);
    }
    return event;
  },
};

/** The aws_cloudtrail_log table. */
export const cloudTrailTable = defineTable({
  name: "aws_cloudtrail_log",
  description: "AWS CloudTrail events: API calls and account activity, from the log files CloudTrail delivers.",
  sources: {
    file: { defaults: { file_layout: CLOUDTRAIL_FILE_LAYOUT }, ...cloudTrailRecords },
    aws_s3_bucket: { defaults: { file_layout: CLOUDTRAIL_FILE_LAYOUT }, ...cloudTrailRecords },
    aws_cloudwatch_log_group: { mappers: () => chain(cloudTrailLogEvents) },
    webhook: { mappers: () => chain(cloudTrailEventMapper) },
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
