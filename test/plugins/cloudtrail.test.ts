import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { createEnricher } from "../../src/collection/enrich.js";
import { extractArtifact } from "../../src/collection/extract-artifact.js";
import { createJsonDocumentLoader } from "../../src/loaders/json-document.js";
import { MapperChain } from "../../src/mappers/chain.js";
import { NO_DATA_SOURCES } from "../../src/collection/types.js";
import { isRawRow } from "../../src/mappers/raw-row.js";
import { cloudTrailRecords, cloudTrailTable } from "../../plugins/aws/src/cloudtrail.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tailkit-ct-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const info = { name: "AWSLogs/123456789012/CloudTrail/x.json.gz", location: "/d/x.json.gz", properties: { account: "123456789012" } };

const ingest = (s: string): string => s.replace(/"tp_ingest_timestamp":"[^"]+"/g, '"tp_ingest_timestamp":"X"');

async function collect(
  text: string,
  gzip: boolean,
  loader = cloudTrailRecords.loader({}, NO_DATA_SOURCES),
): Promise<{ lines: string[]; raw: number; withBytes: number; records: unknown[]; reference: string[] }> {
  const file = path.join(dir, `doc-${Math.random().toString(36).slice(2)}`);
  fs.writeFileSync(file, gzip ? zlib.gzipSync(text) : text);
  // A plain file named .gz is refused as "not gzip"; a plain copy goes by its plain name.
  const local = {
    info: gzip ? info : { ...info, name: info.name.replace(/\.gz$/, "") },
    path: file,
    bytes: fs.statSync(file).size,
    release: async () => undefined,
  };
  const chain = new MapperChain(cloudTrailRecords.mappers({}, NO_DATA_SOURCES), info);
  const enrich = createEnricher({ table: cloudTrailTable, partition: "p", sourceType: "file", sourceName: "s", artifact: info });
  const lines: string[] = [];
  let raw = 0;
  let withBytes = 0;
  const records: unknown[] = [];
  const reference: string[] = [];
  for await (const items of loader.load(local)) {
    records.push(...structuredClone((items[0] as { Records: unknown[] }).Records));
    const mapped = chain.map(items);
    raw += mapped.rows.filter(isRawRow).length;
    withBytes += mapped.rows.filter((r) => isRawRow(r) && r.bytes !== undefined).length;
    const out = enrich(mapped.rows, mapped.positions);
    lines.push(
      ...ingest(out.bytes.toString("utf8"))
        .split("\n")
        .filter((l) => l !== ""),
    );
    // The reference: the parsed records enriched as objects.
    const plain = createEnricher({ table: cloudTrailTable, partition: "p", sourceType: "file", sourceName: "s", artifact: info });
    const ref = plain(structuredClone((items[0] as { Records: unknown[] }).Records), mapped.positions);
    reference.push(
      ...ingest(ref.bytes.toString("utf8"))
        .split("\n")
        .filter((l) => l !== ""),
    );
  }
  return { lines, raw, withBytes, records, reference };
}

const TP_KEYS = [
  "tp_id",
  "tp_timestamp",
  "tp_ingest_timestamp",
  "tp_table",
  "tp_partition",
  "tp_index",
  "tp_date",
  "tp_source_type",
  "tp_source_name",
  "tp_source_location",
  "tp_source_ip",
  "tp_ips",
  "tp_usernames",
  "tp_akas",
];

function withoutTp(o: Record<string, unknown>): Record<string, unknown> {
  const c = { ...o };
  for (const k of TP_KEYS) delete c[k];
  return c;
}

// Every record has the fields the table requires (eventTime, eventSource, eventName), as CloudTrail's do.
const records = [
  {
    eventTime: "2024-01-02T03:04:05Z",
    eventSource: "ec2.amazonaws.com",
    eventName: "A",
    sourceIPAddress: "10.0.0.1",
    recipientAccountId: "123456789012",
    userIdentity: { arn: "arn:x", userName: "u" },
    n: 1.5,
  },
  {
    eventTime: "2024-01-02T03:04:06Z",
    eventSource: "s3.amazonaws.com",
    eventName: 'B "quoted" \\ back ]} é ✓',
    sourceIPAddress: "s3.amazonaws.com",
    resources: [{ ARN: "arn:r" }],
    requestParameters: null,
  },
  { eventTime: "2024-01-02T03:04:07Z", eventSource: "iam.amazonaws.com", eventName: "tp_like", note: "has tp_ text" },
  { eventTime: "2024-01-02T03:04:08Z", eventSource: "sts.amazonaws.com", eventName: "D", tp_index: "own" },
];

describe("aws_cloudtrail_log rows from the document text", () => {
  it("reuses each record's text: the same lines as serializing the records", async () => {
    const text = JSON.stringify({ Records: records });
    const got = await collect(text, true);
    expect(got.raw).toBe(records.length);
    expect(got.lines).toHaveLength(records.length);
    // Minified source: byte for byte the lines of enriching the parsed records, tp fields included.
    expect(got.lines).toEqual(got.reference);
    expect(JSON.parse(got.lines[0]!)).toMatchObject({ tp_source_ip: "10.0.0.1", tp_usernames: ["u"], tp_akas: ["arn:x"], tp_index: "123456789012" });
    expect(JSON.parse(got.lines[3]!)).toMatchObject({ tp_index: "123456789012" });
  });

  it("gives each record's bytes with its text for an ASCII file, not for a non-ASCII one: the same lines", async () => {
    const ascii = [records[0]!, { ...records[1]!, eventName: 'B "quoted" \\ back ]}' }, records[2]!, records[3]!];
    const got = await collect(JSON.stringify({ Records: ascii }), true);
    // The record with a tp_ field of its own takes the plain path; the others are copied.
    expect(got.withBytes).toBe(ascii.length);
    expect(got.lines).toEqual(got.reference);
    expect(got.lines[1]).toContain('"eventName":"B \\"quoted\\" \\\\ back ]}"');
    // A file with non-ASCII text is encoded from its text.
    expect((await collect(JSON.stringify({ Records: records }), true)).withBytes).toBe(0);
  });

  it("writes copied records and their tp_* fields as bytes in extraction: the lines enriching the parsed records gives", async () => {
    const many = Array.from({ length: 2500 }, (_, i) => ({
      ...records[i % 3]!,
      eventName: `E${i}`,
      eventTime: new Date(Date.UTC(2024, 0, 1 + (i % 40), i % 24, i % 60, i % 60, i % 7 === 0 ? i % 1000 : 0)).toISOString().replace(/\.000Z$/, "Z"),
      recipientAccountId: i % 5 === 0 ? undefined : `12345678901${i % 3}`,
    }));
    const text = JSON.stringify({ Records: many });
    const file = path.join(dir, "extract.json.gz");
    fs.writeFileSync(file, zlib.gzipSync(text));
    const local = { info, path: file, bytes: fs.statSync(file).size, release: async () => undefined };
    const spec = { table: cloudTrailTable as never, tableConfig: {}, partition: "p", sourceType: "file", sourceName: "s" };
    const lines: string[] = [];
    const positions: number[] = [];
    for await (const b of extractArtifact(local, spec)) {
      const bytes = Buffer.from((b.batch.lines as unknown as { bytes: Uint8Array }).bytes);
      lines.push(
        ...ingest(bytes.toString("latin1"))
          .split("\n")
          .filter((l) => l !== ""),
      );
      positions.push(...b.batch.indexes);
      b.release?.();
    }
    const plain = createEnricher({ table: cloudTrailTable, partition: "p", sourceType: "file", sourceName: "s", artifact: info });
    const ref = plain(
      structuredClone(JSON.parse(text) as { Records: unknown[] }).Records,
      many.map((_, i) => i),
    );
    expect(lines).toHaveLength(2500);
    expect(positions).toEqual(ref.indexes);
    expect(lines).toEqual(
      ingest(ref.bytes.toString("latin1"))
        .split("\n")
        .filter((l) => l !== ""),
    );
  });

  it("keeps a line per record for pretty-printed documents, escapes and number formats, each parsing to the source record", async () => {
    const text =
      '\ufeff{"Records": [\n  {"eventTime":"2024-01-02T03:04:05Z","x":1.0,"y":1e2,"s":"\\u00e9\\n\\/","eventSource":"a","eventName":"b"},\n' +
      '  {\n    "eventTime": "2024-01-02T03:04:06Z",\n    "nested": {"a": [1, 2]},\n    "eventSource": "a", "eventName": "b"\n  },\n' +
      '  {"eventTime":"2024-01-02T03:04:07Z","e":{},"eventSource":"a","eventName":"b"}\n], "extra": true}';
    const got = await collect(text, false);
    expect(got.raw).toBe(2); // the pretty-printed record is serialized
    expect(got.lines).toHaveLength(3);
    got.lines.forEach((line, i) => {
      expect(line).not.toMatch(/[\r\n]/);
      expect(withoutTp(JSON.parse(line) as Record<string, unknown>)).toEqual(got.records[i]);
      expect(JSON.parse(line)).toEqual(JSON.parse(got.reference[i]!));
    });
    // Number formats stay as in the source.
    expect(got.lines[0]!.startsWith('{"eventTime":"2024-01-02T03:04:05Z","x":1.0,"y":1e2,')).toBe(true);
  });

  it("gives the same lines whether the document is split by the loader or read whole", async () => {
    const many = Array.from({ length: 1203 }, (_, i) => ({ ...records[i % records.length], eventID: `e${i}` }));
    const text = JSON.stringify({ Records: many });
    const split = await collect(text, true);
    const whole = await collect(text, true, createJsonDocumentLoader());
    expect(split.lines).toHaveLength(1203);
    expect(split.raw).toBe(1203);
    expect(whole.raw).toBe(1203);
    expect(split.lines).toEqual(split.reference);
    expect(split.lines.map((l) => l.replace(/"tp_id":"[^"]+"/, ""))).toEqual(whole.lines.map((l) => l.replace(/"tp_id":"[^"]+"/, "")));
    expect(split.lines).toEqual(whole.lines);
  });

  it("serializes records when the text cannot be matched to them", async () => {
    const got = await collect(
      '{"Records":[{"eventTime":"2024-01-02T03:04:05Z","eventSource":"a","eventName":"b"}],"Record\\u0073":[{"eventTime":"2024-01-02T03:04:06Z","eventSource":"a","eventName":"b"}]}',
      false,
    );
    expect(got.raw).toBe(0);
    expect(got.lines).toHaveLength(1);
    expect(JSON.parse(got.lines[0]!)).toMatchObject({ eventTime: "2024-01-02T03:04:06Z" });
  });
});
