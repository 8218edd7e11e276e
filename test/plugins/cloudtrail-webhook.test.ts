import { describe, expect, it } from "vitest";
import { awsPlugin } from "../../plugins/aws/src/index.js";
import { readChunks, scratchDirs } from "../e2e/helpers.js";
import { post, startWebhook } from "../sources/webhook/helpers.js";

const scratch = scratchDirs();

const record = (id: string, extra: Record<string, unknown> = {}) => ({
  eventVersion: "1.09",
  eventTime: "2024-05-01T10:00:00Z",
  eventSource: "s3.amazonaws.com",
  eventName: "GetObject",
  awsRegion: "eu-west-1",
  sourceIPAddress: "203.0.113.7",
  userIdentity: { type: "IAMUser", arn: "arn:aws:iam::123456789012:user/alice", userName: "alice" },
  eventID: id,
  recipientAccountId: "123456789012",
  ...extra,
});

/** An event as an EventBridge rule (or API destination) delivers it. */
const eventBridge = (detail: unknown, detailType = "AWS API Call via CloudTrail") => ({
  version: "0",
  id: "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
  "detail-type": detailType,
  source: "aws.s3",
  account: "123456789012",
  time: "2024-05-01T10:00:01Z",
  region: "eu-west-1",
  resources: [],
  detail,
});

describe("aws_cloudtrail_log from the webhook", () => {
  it("is offered by the aws plugin", () => {
    expect(awsPlugin.sources?.map((s) => s.type)).toContain("webhook");
    expect(Object.keys(awsPlugin.tables.find((t) => t.name === "aws_cloudtrail_log")!.sources)).toContain("webhook");
  });

  it("takes EventBridge-shaped events and bare records alike; anything else is a row error naming the record", async () => {
    const out = scratch();
    const hook = await startWebhook(out, {}, { plugin: awsPlugin, table: "aws_cloudtrail_log" });
    const body = [
      eventBridge(record("eb-1")),
      record("bare-1"),
      eventBridge(record("eb-2", { eventName: "ConsoleLogin" }), "AWS Console Sign In via CloudTrail"),
      eventBridge({ state: "running" }, "EC2 Instance State-change Notification"),
      { hello: "world" },
      record("bare-2", { eventName: undefined }),
    ];
    const res = await post(hook.url, body.map((e) => JSON.stringify(e)).join("\n"), { token: "secret", contentType: "application/x-ndjson" });
    expect(res.status).toBe(200);
    const complete = await hook.stop();
    const rows = readChunks(out).flatMap((c) => c.rows);
    expect(rows.map((r) => r["eventID"])).toEqual(["eb-1", "bare-1", "eb-2"]);
    expect(rows[0]).toMatchObject({
      eventName: "GetObject",
      tp_timestamp: "2024-05-01T10:00:00.000Z",
      tp_index: "123456789012",
      tp_source_type: "webhook",
      tp_source_ip: "203.0.113.7",
      tp_usernames: ["alice"],
    });
    // The EventBridge envelope is gone: the row is the record.
    expect(rows[0]).not.toHaveProperty("detail-type");
    const errors = hook.events.filter((e) => e.type === "error").map((e) => (e as { message: string }).message);
    expect(errors).toEqual([
      expect.stringMatching(/record 4: .*detail-type "EC2 Instance State-change Notification", not a CloudTrail one/),
      expect.stringMatching(/record 5: cloudtrail_event: neither a CloudTrail record .*keys: hello/),
      expect.stringMatching(/record 6: missing required field "eventName"/),
    ]);
    expect(complete.status.rowErrors).toEqual({ map: 2, validate: 1 });
  });
});
