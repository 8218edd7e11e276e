import { describe, expect, it } from "vitest";
import { awsPlugin } from "../../plugins/aws/src/index.js";
import { collectInProcess } from "../../src/testing/index.js";
import { scratchDirs } from "../e2e/helpers.js";
import { errors, fakeServer, sourceConfig } from "../sources/cloudwatch/helpers.js";

const scratch = scratchDirs();
const server = fakeServer();

/** A CloudTrail record as CloudTrail writes it to a CloudWatch Logs group: one per event. */
const record = (i: number) => ({
  eventVersion: "1.08",
  userIdentity: { type: "IAMUser", userName: `user-${i % 3}`, arn: `arn:aws:iam::123456789012:user/user-${i % 3}`, principalId: `AID${i}` },
  eventTime: new Date(Date.UTC(2024, 4, 1, 10, 0, i)).toISOString().replace(".000", ""),
  eventSource: "s3.amazonaws.com",
  eventName: i % 2 ? "GetObject" : "PutObject",
  awsRegion: "us-east-1",
  sourceIPAddress: `10.0.0.${i}`,
  userAgent: "aws-cli/2",
  requestParameters: null,
  responseElements: null,
  eventID: `e-${i}`,
  readOnly: i % 2 === 1,
  eventType: "AwsApiCall",
  recipientAccountId: "123456789012",
});

describe("aws_cloudtrail_log from a CloudWatch Logs group", () => {
  it("collects each event's message as one CloudTrail record, and reports a message that is not one", async () => {
    const fake = server();
    const stream = "123456789012_CloudTrail_us-east-1";
    const records = Array.from({ length: 8 }, (_, i) => record(i));
    const [, , badId] = fake
      .put(
        "aws-cloudtrail-logs",
        stream,
        records.slice(0, 2).map((r) => ({ timestamp: Date.parse(r.eventTime), message: JSON.stringify(r) })),
      )
      .concat(fake.put("aws-cloudtrail-logs", stream, [{ timestamp: Date.parse(records[2]!.eventTime), message: "{not json" }]));
    fake.put(
      "aws-cloudtrail-logs",
      stream,
      records.slice(3).map((r) => ({ timestamp: Date.parse(r.eventTime), message: JSON.stringify(r) })),
    );

    const run = await collectInProcess(awsPlugin, {
      table: "aws_cloudtrail_log",
      source: { type: "aws_cloudwatch_log_group", config: sourceConfig(fake, { log_group_name: "aws-cloudtrail-logs" }) },
      outputDir: scratch(),
    });

    expect(run.complete.error).toBeUndefined();
    expect(run.rows.map((r) => r["eventID"]).sort()).toEqual(["e-0", "e-1", "e-3", "e-4", "e-5", "e-6", "e-7"]);
    expect(run.rows.find((r) => r["eventID"] === "e-4")).toMatchObject({
      eventName: "PutObject",
      tp_index: "123456789012",
      tp_source_type: "aws_cloudwatch_log_group",
      tp_source_location: `cloudwatch://us-east-1/aws-cloudtrail-logs/${stream}`,
      tp_source_ip: "10.0.0.4",
      tp_usernames: ["user-1", "AID4"],
      tp_timestamp: "2024-05-01T10:00:04.000Z",
    });
    const bad = errors(run.events).filter((e) => e.operation === "map");
    expect(bad).toHaveLength(1);
    expect(bad[0]!.message).toContain(`aws-cloudtrail-logs/${stream}: record 3: cloudtrail_log_event: event ${badId}: message is not JSON`);
    expect(run.complete.status.rowErrors["map"]).toBe(1);
  });
});
