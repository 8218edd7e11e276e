import fs from "node:fs";
import path from "node:path";
import { expect } from "vitest";
import { ByteBatch } from "../../src/collection/byte-batch.js";
import { createEnricher } from "../../src/collection/enrich.js";
import { extractArtifact } from "../../src/collection/extract-artifact.js";
import { RowTail } from "../../src/collection/row-tail.js";
import { NO_DATA_SOURCES, type ArtifactEnrichContext, type ExtractSpec } from "../../src/collection/types.js";
import { RawRow, rawRow } from "../../src/mappers/raw-row.js";
import { TP_FIELDS, type TpField } from "../../src/plugin/tp-fields.js";
import { defineDelimitedTable } from "../../src/tables/delimited.js";
import type { TableDefinition } from "../../src/contract/table.js";
import type { Row } from "../../src/contract/row.js";
import { LineOutcome } from "../../src/collection/line-format.js";
import type { Mapper } from "../../src/contract/mapper.js";
import { watchOutcomes } from "../tables/line-format-helpers.js";

// Every writer of rows against the reference path, for the same rows. The table fills every optional tp_* field there
// is, its columns and spec made from TP_FIELDS as it is when this module loads (tp-layout-edited.test.ts edits it).

/** The DelimitedEnrichSpec key of an optional field: tp_source_ip is filled from sourceIp. */
const specKey = (name: string) => name.slice(3).replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
/** The columns filling an optional field: one for a value, two for a list. */
const columnsOf = (f: TpField) => (f.source === "enrich_list" ? [`${f.name.slice(3)}_a`, `${f.name.slice(3)}_b`] : [f.name.slice(3)]);
const INGEST = "2026-01-01T00:00:00.000Z";

/**
 * Writes the same rows by every path: object rows and raw rows as text, raw rows as bytes (RowTail), the delimited
 * line format (with two lines it declines, which take the reference path), and the reference extraction without the
 * format. Expects each to give, byte for byte, the lines of the slow path (the row parsed, its fields set, serialized),
 * and those to hold every field of TP_FIELDS in its order.
 */
export async function expectEveryPathAgrees(dir: string): Promise<void> {
  const optional = TP_FIELDS.filter((f) => !f.always);
  const table = defineDelimitedTable({
    name: "every_tp_field",
    description: "a table that fills every tp_* field",
    rowSchema: { type: "object" },
    sources: { file: {} },
    columns: ["start", "account", "note", ...optional.flatMap(columnsOf)],
    numbers: ["start"],
    enrich: {
      timestamp: { field: "start", unit: "s" },
      index: { field: "account", property: "account" },
      ...Object.fromEntries(optional.map((f) => [specKey(f.name), f.source === "enrich_list" ? columnsOf(f) : columnsOf(f)[0]!])),
    },
  });
  const values = optional.flatMap(columnsOf).length;
  /** A line: a time, an account ("-": the artifact's), a note, then every optional field's values. */
  const line = (start: number, account: string, note: string, pick: (k: number) => string) =>
    [String(start), account, note, ...Array.from({ length: values }, (_, k) => pick(k))].join(" ");
  const lines = [
    line(1704067200, "111111111111", "plain", (k) => `v${k}`),
    line(1704067200, "111111111111", "same-second", (k) => (k % 2 ? "-" : `v${k % 3}`)),
    line(1704153599, "-", "day-end", (k) => `10.0.0.${k}`),
    line(1704153600, "222222222222", "next-day", () => "same"),
    // Lines the format declines: non-ASCII text, an escape.
    line(1704153601, "222222222222", "héllo", (k) => `u${k}`),
    line(1704153602, "-", "back\\slash", (k) => (k % 3 ? `w${k}` : "-")),
    line(1704240000, "333333333333", "last", (k) => `z${k}`),
  ];
  const file = path.join(dir, "every.log");
  fs.writeFileSync(file, lines.join("\n") + "\n");
  const info = { name: "every.log", location: file, properties: { account: "999999999999" } };
  const ctx: ArtifactEnrichContext = { table, partition: "p", sourceType: "file", sourceName: "s", artifact: info };
  const positions = lines.map((_, i) => i);
  const split = (b: Buffer) => b.toString("utf8").split("\n").slice(0, -1);

  // Fresh row objects for each path: the slow path sets fields on them.
  const rows = (): Row[] => {
    const mapper = table.sources["file"]!.mappers!({}, NO_DATA_SOURCES)[0] as Mapper<string, Row>;
    return lines.map((l) => mapper.map(l, { artifact: info, index: 0 } as never) as Row);
  };
  const textPath = (items: unknown[]): string[] => {
    const b = createEnricher(ctx).begin(undefined, INGEST);
    b.add(items, positions);
    const out = b.finish();
    expect(out.failures).toEqual([]);
    return split(out.bytes);
  };
  const extracted = async (t: TableDefinition): Promise<string[]> => {
    const spec: ExtractSpec = { table: t, tableConfig: {}, partition: "p", sourceType: "file", sourceName: "s" };
    const out: string[] = [];
    for await (const b of extractArtifact({ info, path: file, bytes: fs.statSync(file).size, release: async () => undefined }, spec)) {
      expect(b.rowErrors).toEqual([]);
      const got = split(Buffer.from((b.batch.lines as unknown as { bytes: Uint8Array }).bytes));
      out.push(...got.map((l) => l.replace(/"tp_ingest_timestamp":"[^"]+"/, `"tp_ingest_timestamp":"${INGEST}"`)));
    }
    return out;
  };

  // The reference: a raw row whose text does not end with its brace is parsed, given its fields and serialized.
  const slow = textPath(rows().map((r) => rawRow(`${JSON.stringify(r)} `, r)));
  const objects = textPath(rows());
  const rawText = textPath(rows().map((r) => rawRow(JSON.stringify(r), r)));
  const out = new ByteBatch();
  const batch = createEnricher(ctx).begin(out, INGEST, new RowTail(ctx, "default"));
  batch.add(
    rows().map((r) => {
      const json = JSON.stringify(r);
      const b = Buffer.from(json, "utf8");
      return new RawRow(json, r, b, 0, b.length, true);
    }),
    positions,
  );
  expect(batch.finish().failures).toEqual([]);
  const rawBytes = split(out.take());
  // The line format, watched: which lines it wrote as bytes and which it declined.
  const watched = watchOutcomes(table);
  const lineFormat = await extracted(watched.table);
  const { Row: R, Decline: D } = LineOutcome;
  expect(watched.outcomes).toEqual([R, R, R, R, D, D, R]);
  // A copy of the source entry leaves its line format behind: the reference path.
  const reference = await extracted({ ...table, sources: { file: { ...table.sources["file"]! } } });

  const names = TP_FIELDS.map((f) => f.name);
  const parsed = slow.map((l) => JSON.parse(l) as Record<string, unknown>);
  // Every field, the optional ones included (the table fills them all), in the list's order.
  for (const p of parsed) expect(Object.keys(p).filter((k) => k.startsWith("tp_"))).toEqual(names);
  expect(parsed.map((p) => [p["tp_index"], p["tp_date"]])).toEqual([
    ["111111111111", "2024-01-01"],
    ["111111111111", "2024-01-01"],
    ["999999999999", "2024-01-01"],
    ["222222222222", "2024-01-02"],
    ["222222222222", "2024-01-02"],
    ["999999999999", "2024-01-02"],
    ["333333333333", "2024-01-03"],
  ]);
  for (const [name, got] of Object.entries({ objects, rawText, rawBytes, lineFormat, reference })) {
    expect(
      got.map((l) => JSON.parse(l) as unknown),
      name,
    ).toEqual(parsed);
    // Byte for byte, too: the same keys in the same order with the same text.
    expect(got, name).toEqual(slow);
  }
}
