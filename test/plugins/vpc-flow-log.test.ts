import { describe, expect, it } from "vitest";
import { createEnricher } from "../../src/collection/enrich.js";
import { MapperChain } from "../../src/mappers/chain.js";
import { isRawRow } from "../../src/mappers/raw-row.js";
import type { Mapper } from "../../src/mappers/types.js";
import { createVpcFlowLogMapper, vpcFlowLogTable } from "../../plugins/aws/src/vpc-flow-log.js";

const artifact = { name: "AWSLogs/123456789012/vpcflowlogs/x.log.gz", location: "/d/x.log.gz", properties: { account: "123456789012" } };

/** Runs lines through the mapper chain and the enricher; returns the JSON lines, row errors and enrich failures. */
function collect(lines: string[], objects: boolean): { lines: string[]; errors: string[] } {
  const chain = new MapperChain([createVpcFlowLogMapper({ objects }) as Mapper], artifact);
  const enrich = createEnricher({ table: vpcFlowLogTable as never, partition: "p", sourceType: "file", sourceName: "s", artifact });
  const mapped = chain.map(lines);
  const out = enrich(mapped.rows, mapped.positions);
  const text = out.bytes.toString("utf8").replace(/"tp_ingest_timestamp":"[^"]+"/g, '"tp_ingest_timestamp":"X"');
  return {
    lines: text.split("\n").filter((l) => l !== ""),
    errors: [...mapped.errors.map((e) => `${e.position} ${e.message}`), ...out.failures.map((f) => `${f.position} ${f.operation} ${f.message}`)],
  };
}

const DEFAULT_LINES = [
  "2 123456789012 eni-0a1b2c3d 10.0.0.1 10.0.0.2 443 49152 6 10 840 1700000000 1700000060 ACCEPT OK",
  "2 123456789012 eni-0a1b2c3d 10.0.0.1 10.0.0.1 443 49152 6 10 840 1700000000 1700000060 REJECT OK",
  "2 - - - - - - - - - 1700000001 1700000061 - NODATA",
  // Numbers whose text is not what JSON.stringify(Number(text)) gives.
  "2 123456789012 eni-1 10.0.0.1 10.0.0.2 0443 00 6 1e3 -0 1700000000.5 1700000060 ACCEPT OK",
  "2 123456789012 eni-1 10.0.0.1 10.0.0.2 12345678901234567890 1 6 1 1 1700000000 1700000060 ACCEPT OK",
  "2 123456789012 eni-1 10.0.0.1 10.0.0.2 Infinity 1 6 1 1 1700000000 1700000060 ACCEPT OK",
  // Strings JSON must escape, and non-ASCII.
  '2 123456789012 eni-"q" 10.0.0.1\\x 10.0.0.2\ty 1 2 6 1 1 1700000000 1700000060 ACCÉPT ✓',
  "2 123456789012 tp_eni 10.0.0.1 10.0.0.2 1 2 6 1 1 1700000000 1700000060 ACCEPT OK",
  // Errors: a field that is not a number, a wrong field count, no start.
  "2 123456789012 eni-1 10.0.0.1 10.0.0.2 http 2 6 1 1 1700000000 1700000060 ACCEPT OK",
  "2 123456789012 eni-1",
  "",
];

describe("aws_vpc_flow_log pre-serialized rows", () => {
  it("makes raw rows, and the lines are byte-identical to serializing the row objects", () => {
    const mapper = createVpcFlowLogMapper();
    expect(isRawRow(mapper.map(DEFAULT_LINES[0]!, { artifact, itemIndex: 0 }))).toBe(true);
    const raw = collect(DEFAULT_LINES, false);
    const obj = collect(DEFAULT_LINES, true);
    expect(raw.lines.length).toBe(8);
    expect(raw).toEqual(obj);
    expect(JSON.parse(raw.lines[2]!)).toMatchObject({ srcaddr: null, tp_source_ip: null, tp_index: "123456789012", start: 1700000001 });
  });

  it("follows a header line (custom format), falling back to objects for names it cannot write in order", () => {
    const custom = [
      "version account-id srcaddr dstaddr start end pkt-srcaddr tcp-flags",
      "5 123456789012 10.0.0.1 10.0.0.2 1700000000 1700000060 10.1.1.1 19",
      "5 - - - 1700000000 1700000060 - -",
      "account-id interface-id 1 start",
      "123456789012 eni-x 1 1700000000",
      "version srcaddr srcaddr start",
      "5 10.0.0.1 10.0.0.9 1700000000",
      "version __proto__ start",
      "5 x 1700000000",
      "version action",
      "5 ACCEPT",
    ];
    const raw = collect(custom, false);
    expect(raw).toEqual(collect(custom, true));
    expect(raw.lines.length).toBe(5);
    expect(raw.errors).toHaveLength(1); // no start in the last format
  });
});
