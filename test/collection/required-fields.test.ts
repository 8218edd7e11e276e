import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { createEnricher } from "../../src/collection/enrich.js";
import { createJsonLinesMapper, createLinesLoader, type PluginDefinition, type Row, type TableDefinition } from "../../src/index.js";
import { rawRow } from "../../src/mappers/raw-row.js";
import { defineDelimitedTable } from "../../src/tables/delimited.js";
import { collectInProcess, type InProcessCollection } from "../../src/testing/index.js";
import { awsPlugin, VPC_DEFAULT_FIELDS, vpcFlowLogTable } from "../../plugins/aws/src/index.js";
import { scratchDirs } from "../e2e/helpers.js";
import { LineOutcome } from "../../src/collection/line-format.js";
import { bothPaths, runExtract, watchOutcomes } from "../tables/line-format-helpers.js";

// A row without a field its table's row schema requires is a "validate" row error naming the field; the artifact's
// other rows are collected. On each writer path: row objects, raw rows (CloudTrail), the delimited line format.

const scratch = scratchDirs();

/** The row error events' messages, without the artifact's name. */
function rowErrors(res: InProcessCollection): string[] {
  return res.events.flatMap((e) =>
    e.type === "error" && e.operation !== undefined ? [`${e.operation} ${e.message.replace(/^.*?: (?=(line|record) )/, "")}`] : [],
  );
}

/** JSON lines with a time, a user and a host, the first two required. */
const appLog: TableDefinition = {
  name: "app_log",
  description: "JSON lines written by an application",
  sources: { file: {} },
  rowSchema: {
    type: "object",
    required: ["ts", "user", "tp_id", "tp_timestamp"],
    properties: { ts: { type: "string" }, user: { type: "string" }, host: { type: "string" } },
  },
  loader: () => createLinesLoader(),
  mappers: () => [createJsonLinesMapper()],
  enrich: (row) => ({ tp_timestamp: (row["ts"] as string | undefined) ?? "" }),
};

describe("required fields", () => {
  it("makes a row object without one, or with null, a validate error naming it, counted per field, and collects the rest", async () => {
    const data = scratch();
    const lines = [
      { ts: "2024-05-01T10:00:00Z", user: "a", host: "h" },
      { ts: "2024-05-01T10:00:01Z", host: "h" },
      { ts: "2024-05-01T10:00:02Z", user: "c" },
      { ts: "2024-05-01T10:00:03Z", user: null },
      { host: "h" },
      { ts: "2024-05-01T10:00:05Z", user: "f" },
    ];
    writeFileSync(join(data, "app.log"), lines.map((l) => JSON.stringify(l)).join("\n") + "\n");
    const res = await collectInProcess(
      { name: "example", version: "1.0.0", tables: [appLog] },
      { table: "app_log", source: { type: "file", config: { paths: [data] } }, outputDir: scratch() },
    );
    expect(res.complete.error).toBeUndefined();
    expect(res.rows.map((r) => r["user"])).toEqual(["a", "c", "f"]);
    expect(res.complete.status.rowErrors).toEqual({ validate: 3 });
    expect(rowErrors(res)).toEqual([
      'validate line 2: missing required field "user" (1 row of this artifact so far)',
      'validate line 4: missing required field "user" (2 rows of this artifact so far)',
      // Both named; checked before enrich, so not a tp_timestamp error.
      'validate line 5: missing required fields "ts" (1 row of this artifact so far), "user" (3 rows of this artifact so far)',
    ]);
  });

  it("looks in a raw row's text when its fields (what enrich reads) lack a required field", () => {
    const enrich = createEnricher({
      table: appLog,
      partition: "p",
      sourceType: "file",
      sourceName: "s",
      artifact: { name: "a", location: "/a", properties: {} },
    });
    const fields: Row = { ts: "2024-05-01T10:00:00Z" };
    const out = enrich([rawRow('{"ts":"2024-05-01T10:00:00Z","user":"a"}', fields), rawRow('{"ts":"2024-05-01T10:00:00Z","host":"h"}', fields)], [0, 1]);
    expect(out.indexes).toEqual([0]);
    expect(out.failures).toEqual([{ position: 1, operation: "validate", message: 'missing required field "user" (1 row of this artifact so far)' }]);
  });

  it("makes a CloudTrail record without eventName or with a null eventSource a validate error, and collects the others", async () => {
    const data = scratch();
    const day = join(data, "AWSLogs", "123456789012", "CloudTrail", "us-east-1", "2024", "03", "01");
    mkdirSync(day, { recursive: true });
    const record = (i: number) => ({
      eventVersion: "1.08",
      eventTime: `2024-03-01T00:00:0${i}Z`,
      eventSource: "ec2.amazonaws.com",
      eventName: `E${i}`,
      recipientAccountId: "123456789012",
    });
    const { eventName: _, ...noName } = record(2);
    const records = [record(1), noName, { ...record(3), eventSource: null }, record(4)];
    writeFileSync(join(day, "123456789012_CloudTrail_us-east-1_20240301T0000Z_x.json.gz"), gzipSync(JSON.stringify({ Records: records })));
    const res = await collectInProcess(awsPlugin, { table: "aws_cloudtrail_log", source: { type: "file", config: { paths: [data] } }, outputDir: scratch() });
    expect(res.complete.error).toBeUndefined();
    expect(res.rows.map((r) => r["eventName"])).toEqual(["E1", "E4"]);
    expect(res.complete.status.rowErrors).toEqual({ validate: 2 });
    expect(rowErrors(res)).toEqual([
      'validate record 2: missing required field "eventName" (1 row of this artifact so far)',
      'validate record 3: missing required field "eventSource" (1 row of this artifact so far)',
    ]);
  });

  it("makes a flow log line with a required column null, or under a header without it, a validate error on both paths", async () => {
    // The VPC flow log table requiring interface_id, and tp_source_ip (filled from srcaddr) as well.
    const table = defineDelimitedTable({
      name: "aws_vpc_flow_log",
      description: "VPC flow logs whose rows must name their interface and source",
      sources: { file: {} },
      rowSchema: { ...vpcFlowLogTable.rowSchema, required: ["interface_id", "tp_id", "tp_timestamp", "tp_source_ip"] },
      columns: VPC_DEFAULT_FIELDS,
      numbers: ["version", "srcport", "dstport", "protocol", "packets", "bytes", "start", "end"],
      headerFirstFields: ["version", "account-id", "interface-id"],
      mapperName: "vpc_flow_log",
      enrich: {
        timestamp: { field: "start", unit: "s" },
        index: { field: "account_id" },
        sourceIp: "srcaddr",
        destinationIp: "dstaddr",
        ips: ["srcaddr", "dstaddr"],
      },
    });
    const data = scratch();
    const flow = (eni: string, src: string, start: number) => `2 123456789012 ${eni} ${src} 10.0.0.2 443 49152 6 10 840 ${start} ${start + 60} ACCEPT OK`;
    writeFileSync(
      join(data, "a.log"),
      [
        flow("eni-1", "10.0.0.1", 1704067200),
        flow("-", "10.0.0.1", 1704067201),
        flow("eni-3", "-", 1704067202),
        flow("eni-4", "10.0.0.4", 1704067203),
        "",
      ].join("\n"),
    );
    // A custom format without interface-id: its lines cannot make rows; the lines after a header with it can.
    writeFileSync(
      join(data, "b.log"),
      [
        "version account-id srcaddr dstaddr start end",
        "2 123456789012 10.0.0.5 10.0.0.2 1704067204 1704067264",
        "2 123456789012 10.0.0.6 10.0.0.2 1704067205 1704067265",
        "version interface-id srcaddr start",
        "2 eni-7 10.0.0.7 1704067206",
        "",
      ].join("\n"),
    );
    // The line format declines what the reference path rejects: the two give the same rows and errors.
    const a = await bothPaths(table, join(data, "a.log"));
    expect(a.errors).toEqual([
      '1 validate line 2: missing required field "interface_id" (1 row of this artifact so far)',
      '2 validate line 3: missing required field "tp_source_ip" (1 row of this artifact so far)',
    ]);
    // The good lines are written as bytes: only a required column's null is declined, and every line under a header
    // without the column.
    const { Row: R, Decline: D, Skip: S } = LineOutcome;
    const watched = watchOutcomes(table);
    await runExtract(watched.table, join(data, "a.log"));
    await runExtract(watched.table, join(data, "b.log"));
    expect(watched.outcomes).toEqual([R, D, D, R, S, D, D, S, R]);
    const b = await bothPaths(table, join(data, "b.log"));
    expect(b.lines).toHaveLength(1);
    expect(b.errors).toEqual([
      '0 validate line 2: missing required field "interface_id" (1 row of this artifact so far)',
      '1 validate line 3: missing required field "interface_id" (2 rows of this artifact so far)',
    ]);

    const plugin: PluginDefinition = { name: "flows", version: "1.0.0", tables: [table] };
    const res = await collectInProcess(plugin, { table: "aws_vpc_flow_log", source: { type: "file", config: { paths: [data] } }, outputDir: scratch() });
    expect(res.complete.error).toBeUndefined();
    expect(res.rows.map((r) => r["interface_id"]).sort()).toEqual(["eni-1", "eni-4", "eni-7"]);
    expect(res.complete.status.rowErrors).toEqual({ validate: 4 });
    expect(rowErrors(res).sort()).toEqual([
      'validate line 2: missing required field "interface_id" (1 row of this artifact so far)',
      'validate line 2: missing required field "interface_id" (1 row of this artifact so far)',
      'validate line 3: missing required field "interface_id" (2 rows of this artifact so far)',
      'validate line 3: missing required field "tp_source_ip" (1 row of this artifact so far)',
    ]);
  });
});
