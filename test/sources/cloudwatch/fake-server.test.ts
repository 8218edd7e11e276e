import { CloudWatchLogsClient, DescribeLogGroupsCommand, GetLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { describe, expect, it } from "vitest";
import { fakeServer } from "./helpers.js";

const server = fakeServer();

// The tests' CloudWatch Logs answers the real client on the operations the source does not use too.
describe("the loopback CloudWatch Logs", () => {
  it("pages DescribeLogGroups and GetLogEvents for the real client", async () => {
    const fake = server();
    for (const g of ["a", "b", "c"]) fake.createGroup(g);
    fake.put(
      "a",
      "s",
      [1, 2, 3, 4, 5, 6, 7].map((t) => ({ timestamp: t, message: `m${t}` })),
    );
    const client = new CloudWatchLogsClient({
      endpoint: fake.endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "test" },
    });
    try {
      const groups: string[] = [];
      let nextToken: string | undefined;
      do {
        const page = await client.send(new DescribeLogGroupsCommand({ ...(nextToken ? { nextToken } : {}) }));
        groups.push(...(page.logGroups ?? []).map((g) => g.logGroupName!));
        nextToken = page.nextToken;
      } while (nextToken);
      expect(groups).toEqual(["a", "b", "c"]);

      const messages: string[] = [];
      let token: string | undefined;
      for (;;) {
        const page = await client.send(
          new GetLogEventsCommand({
            logGroupName: "a",
            logStreamName: "s",
            startTime: 2,
            endTime: 7,
            startFromHead: true,
            ...(token ? { nextToken: token } : {}),
          }),
        );
        messages.push(...(page.events ?? []).map((e) => e.message!));
        if (page.nextForwardToken === token) break;
        token = page.nextForwardToken;
      }
      expect(messages).toEqual(["m2", "m3", "m4", "m5", "m6"]);
    } finally {
      client.destroy();
    }
  });
});
