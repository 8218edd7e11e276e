import { createJsonDocumentLoader, documentElementBytes, documentElementTexts, documentText } from "../../../src/loaders/index.js";
import { topLevelArraySpans } from "../../../src/loaders/json-slices.js";
import { hasTpKey, RawRow, rawRow } from "../../../src/mappers/raw-row.js";
import type { Mapper } from "../../../src/mappers/types.js";
import type { Row, TableDefinition } from "../../../src/tables/types.js";
import { isIp, uniqueStrings } from "./util.js";

/** AWS's delivery layout for CloudTrail log files, relative to the bucket (or a copy of it). */
export const CLOUDTRAIL_FILE_LAYOUT =
  "AWSLogs/{account:\\d{12}}/CloudTrail/{region:[a-z0-9-]+}/{year:\\d{4}}/{month:\\d{2}}/{day:\\d{2}}/{file}.json.gz";

/**
 * Extracts CloudTrail's `Records[]`: one log file document in, one row per record out.
 * When the document came from the json-document loader, each record's own text in the file is reused as the row's
 * JSON (rawRow, with the parsed record as the fields enrich reads) instead of serializing the record again. A
 * record whose text has a line break between tokens (a pretty-printed file) is serialized as before.
 */
export const cloudTrailRecordsExtractor: Mapper<unknown, Row | RawRow> = {
  name: "cloudtrail_records",
  map(doc) {
    const records = (doc as { Records?: unknown } | null)?.Records;
    if (!Array.isArray(records)) throw new Error("document has no Records array; is this a CloudTrail log file?");
    // A document split by the loader: each record's text is at hand.
    const texts = documentElementTexts(doc);
    if (texts !== undefined && texts.length === records.length) {
      // And, in an ASCII file, its bytes: copied into the output instead of encoded.
      const where = documentElementBytes(doc);
      const rows: (Row | RawRow)[] = new Array<Row | RawRow>(records.length);
      for (let i = 0; i < records.length; i++) {
        const record = records[i] as unknown;
        const t = texts[i]!;
        if (t === "" || record === null || typeof record !== "object" || Array.isArray(record)) rows[i] = record as Row;
        else if (where === undefined || where.spans[2 * i]! < 0) rows[i] = rawRow(t, record as Row);
        else rows[i] = new RawRow(t, record as Row, where.bytes, where.spans[2 * i]!, where.spans[2 * i + 1]!, !hasTpKey(record));
      }
      return rows;
    }
    const text = documentText(doc);
    const spans = text === undefined ? undefined : topLevelArraySpans(text, "Records");
    if (text === undefined || spans === undefined || spans.length !== records.length * 2) return records as Row[];
    const rows: (Row | RawRow)[] = new Array<Row | RawRow>(records.length);
    for (let i = 0; i < records.length; i++) {
      const record = records[i] as unknown;
      const start = spans[2 * i]!;
      rows[i] =
        start >= 0 && record !== null && typeof record === "object" && !Array.isArray(record)
          ? rawRow(text.slice(start, spans[2 * i + 1]), record as Row)
          : (record as Row);
    }
    return rows;
  },
};

interface UserIdentity {
  userName?: string;
  arn?: string;
  principalId?: string;
  sessionContext?: { sessionIssuer?: { userName?: string; arn?: string } };
}

/** The aws_cloudtrail_log table. */
export const cloudTrailTable: TableDefinition = {
  name: "aws_cloudtrail_log",
  description: "AWS CloudTrail events: API calls and account activity, from the log files CloudTrail delivers.",
  sources: { file: { defaults: { file_layout: CLOUDTRAIL_FILE_LAYOUT } } },
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
  // Records are parsed and delivered 100 at a time, each with its own text, and found by the text between them (a
  // CloudTrail file holds nothing but Records): see JsonDocumentLoaderOptions.splitArray and leadingMembersOnly.
  loader: () => createJsonDocumentLoader({ splitArray: "Records", leadingMembersOnly: true }),
  mappers: () => [cloudTrailRecordsExtractor],
  enrich(row, ctx) {
    const identity = (row["userIdentity"] ?? {}) as UserIdentity;
    const sourceIp = typeof row["sourceIPAddress"] === "string" && isIp(row["sourceIPAddress"]) ? row["sourceIPAddress"] : null;
    const akas: unknown[] = [identity.arn, identity.sessionContext?.sessionIssuer?.arn];
    if (Array.isArray(row["resources"])) for (const r of row["resources"] as { ARN?: string }[]) akas.push(r?.ARN);
    return {
      tp_timestamp: row["eventTime"] as string,
      tp_index: (row["recipientAccountId"] as string | undefined) ?? ctx.artifact.properties["account"] ?? "default",
      tp_source_ip: sourceIp,
      tp_ips: sourceIp ? [sourceIp] : [],
      tp_usernames: uniqueStrings([identity.userName, identity.sessionContext?.sessionIssuer?.userName, identity.principalId]),
      tp_akas: uniqueStrings(akas),
    };
  },
};
