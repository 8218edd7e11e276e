import { afterEach, beforeEach } from "vitest";
import { chain, createCloudWatchLogsSourceFactory, defineTable, type CloudWatchLogEvent, type Mapper, type PluginDefinition } from "../../../src/index.js";
import type { CollectOptions } from "../../../src/contract/plugin.js";
import type { ErrorEvent } from "../../../src/contract/events.js";
import { collectInProcess } from "../../../src/testing/index.js";
import { FakeCloudWatchLogs } from "../../support/cloudwatch-logs-server.js";

// Neither a real AWS endpoint nor the instance-metadata address is ever tried: every client gets the loopback fake's
// endpoint and dummy credentials, and the metadata lookup is off for anything that would fall back to the chain.
process.env["AWS_EC2_METADATA_DISABLED"] = "true";

/** A row per event: what the tests check. */
export interface EventRow extends Record<string, unknown> {
  eventId: string;
  stream: string;
  timestamp: number;
  message: string;
}

const toRow: Mapper<CloudWatchLogEvent, EventRow> = {
  name: "cloudwatch_event",
  map: (e) => ({ eventId: e.eventId, stream: e.logStreamName, timestamp: e.timestamp, message: e.message }),
};

const eventsTable = defineTable({
  name: "cw_events",
  description: "CloudWatch Logs events as they are",
  rowSchema: { type: "object", required: ["eventId"] },
  sources: { aws_cloudwatch_log_group: { mappers: () => chain(toRow) } },
  enrich: (row: EventRow) => ({ tp_timestamp: new Date(row.timestamp).toISOString() }),
});

/** A plugin reading one table from CloudWatch Logs, retrying at once (1-4 ms) so that throttled tests run fast. */
export const plugin: PluginDefinition = {
  name: "cw_test",
  version: "1.0.0",
  tables: [eventsTable],
  sources: [createCloudWatchLogsSourceFactory({ retry: { attempts: 6, baseDelayMs: 1, maxDelayMs: 4 }, pageLimit: 5 })],
};

/** The fake server of the current test, started fresh for each. */
export function fakeServer(): () => FakeCloudWatchLogs {
  let fake: FakeCloudWatchLogs | undefined;
  beforeEach(async () => {
    fake = await FakeCloudWatchLogs.start();
  });
  afterEach(async () => {
    await fake?.close();
    fake = undefined;
  });
  return () => fake!;
}

/** The source config for a group on the fake server, with explicit dummy credentials. */
export function sourceConfig(fake: FakeCloudWatchLogs, config: Record<string, unknown>): Record<string, unknown> {
  return { endpoint: fake.endpoint, region: "us-east-1", access_key: "AKIDTESTTESTTEST", secret_key: "test-secret", ...config };
}

/** One collection of the test table from CloudWatch Logs into `out`. */
export function collect(fake: FakeCloudWatchLogs, out: string, config: Record<string, unknown>, more: Partial<CollectOptions> = {}) {
  return collectInProcess(plugin, {
    table: "cw_events",
    source: { type: "aws_cloudwatch_log_group", config: sourceConfig(fake, config) },
    outputDir: out,
    rowsPerChunk: 4,
    ...more,
  });
}

/** The error events of a collection. */
export const errors = (events: { type: string }[]) => events.filter((e): e is ErrorEvent => e.type === "error");

/** Sorted, for comparing sets of ids. */
export const sorted = (ids: readonly unknown[]) => [...ids].map(String).sort();
