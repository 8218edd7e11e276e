import { describe, expect, it } from "vitest";
import { artifactIdPrefix } from "../../src/collection/artifact-id.js";
import { createEnricher, toMs } from "../../src/collection/enrich.js";
import { ByteBatch } from "../../src/collection/byte-batch.js";
import { RowTail } from "../../src/collection/row-tail.js";
import { hasTpKey, RawRow, rawRow } from "../../src/mappers/raw-row.js";
import type { TableDefinition } from "../../src/contract/table.js";
import type { Row, TableEnrichment } from "../../src/contract/row.js";

const artifact = { name: "a/b.log", location: "/data/a/b.log", properties: {} };

function table(enrich: (row: Row) => TableEnrichment): TableDefinition<unknown> {
  return {
    name: "t",
    description: "",
    rowSchema: {},
    sources: {},
    loader: () => ({ name: "x", load: async function* () {} }),
    mappers: () => [],
    enrich,
  };
}

/** The plain way: set the fields on the row, then serialize it. The enricher must give exactly these lines. */
function reference(row: Row, extra: TableEnrichment, position: number, ingest: string): string {
  const ts = new Date(extra.tp_timestamp).toISOString();
  Object.assign(row, {
    tp_id: `${artifactIdPrefix("file", "src", artifact.name)}${position.toString(36)}`,
    tp_timestamp: ts,
    tp_ingest_timestamp: ingest,
    tp_table: "t",
    tp_partition: "p",
    tp_index: extra.tp_index ?? "default",
    tp_date: ts.slice(0, 10),
    tp_source_type: "file",
    tp_source_name: "src",
    tp_source_location: artifact.location,
  });
  for (const k of ["tp_source_ip", "tp_destination_ip", "tp_ips", "tp_usernames", "tp_akas", "tp_domains", "tp_emails", "tp_tags"] as const) {
    if (extra[k] !== undefined) row[k] = extra[k];
  }
  return JSON.stringify(row);
}

describe("createEnricher", () => {
  it("writes the same line as setting the tp_* fields and serializing, for every shape of row", () => {
    const rows: Row[] = [
      { a: 1, t: "2024-01-02T03:04:05Z" },
      { t: 1704164645000, nested: { tp_x: 1 } }, // "tp_ inside: the slow path
      { t: "2024-01-02T03:04:05.123+02:00", tp_index: "mine", z: 'ü ✓ "q"' }, // an existing tp_ field keeps its place
      { "1": "integer key", t: "2024-01-02T03:04:05Z" },
      { t: "2024-01-02T03:04:05Z", ip: "10.0.0.1" },
    ];
    const extras = (row: Row): TableEnrichment => ({
      tp_timestamp: row["t"] as string,
      ...(row["tp_index"] === undefined ? { tp_index: "acct-é" } : {}),
      ...(row["ip"] ? { tp_source_ip: row["ip"] as string, tp_ips: [row["ip"] as string], tp_tags: ["x\ny"] } : { tp_source_ip: null }),
    });
    const enrich = createEnricher({ table: table(extras), partition: "p", sourceType: "file", sourceName: "src", artifact });
    const copies = rows.map((r) => structuredClone(r));
    const out = enrich(rows, [0, 1, 2, 3, 40]);
    const lines = out.bytes.toString("utf8").split("\n");
    expect(lines.pop()).toBe("");
    const ingest = /"tp_ingest_timestamp":"([^"]+)"/.exec(lines[0]!)![1]!;
    expect(lines).toEqual(copies.map((r, i) => reference(r, extras(r), [0, 1, 2, 3, 40][i]!, ingest)));
    expect(out.count).toBe(5);
    expect(out.indexes).toEqual([0, 1, 2, 3, 40]);
  });

  it("rejects rows without a valid tp_timestamp and drops rows outside [from, to)", () => {
    const enrich = createEnricher({
      table: table((row) => ({ tp_timestamp: row["t"] as string })),
      partition: "p",
      sourceType: "file",
      sourceName: "src",
      artifact,
      from: new Date("2024-01-01T00:00:00Z"),
      to: new Date("2024-01-02T00:00:00Z"),
    });
    const out = enrich(
      [{ t: "nope" }, { t: "2023-12-31T23:59:59Z" }, { t: "2024-01-01T12:00:00Z" }, { t: "2024-01-02T00:00:00Z" }, {}, "x"],
      [0, 1, 2, 3, 4, 5],
    );
    expect(out.count).toBe(1);
    expect(out.indexes).toEqual([2]);
    expect(out.filtered).toBe(2);
    expect(out.failures.map((f) => [f.position, f.operation])).toEqual([
      [0, "validate"],
      [4, "validate"],
      [5, "validate"],
    ]);
    expect(out.bytes.toString("utf8")).toMatch(/^\{"t":"2024-01-01T12:00:00Z","tp_id":"[^"]+","tp_timestamp":"2024-01-01T12:00:00.000Z",.*\}\n$/);
  });

  it("takes pre-serialized rows (rawRow) as their text, giving the same lines as the row objects", () => {
    const rows: Row[] = [
      { a: 1, t: "2024-01-02T03:04:05Z", ip: "10.0.0.1" },
      {},
      { t: "2024-01-02T03:04:05Z", tp_index: "mine", note: 'ü "q"' },
      { t: "2024-01-02T03:04:05Z", s: "tp_like" },
    ];
    const extras = (row: Row): TableEnrichment => ({
      tp_timestamp: (row["t"] as string | undefined) ?? "2024-01-01T00:00:00Z",
      tp_index: "acct",
      ...(row["ip"] ? { tp_source_ip: row["ip"] as string, tp_ips: [row["ip"] as string, 'a"b'], tp_tags: ["x\ny"] } : {}),
    });
    const enrich = createEnricher({ table: table(extras), partition: "p", sourceType: "file", sourceName: "src", artifact });
    const positions = rows.map((_, i) => i);
    const expected = enrich(structuredClone(rows), positions);
    const raw = enrich(
      rows.map((r) => rawRow(JSON.stringify(r), { ...r })),
      positions,
    );
    const strip = (b: Buffer) => b.toString("utf8").replace(/"tp_ingest_timestamp":"[^"]+"/g, "");
    expect(strip(raw.bytes)).toBe(strip(expected.bytes));
    expect(raw.count).toBe(4);
    // Whitespace inside the text is kept; an empty object and a text that is not an object are handled.
    const odd = enrich([rawRow('{ "a" : 1 }', {}), rawRow("{ }", {}), rawRow("[1]", {}), rawRow("{bad", {})], [0, 1, 2, 3]);
    const lines = odd.bytes.toString("utf8").split("\n");
    expect(JSON.parse(lines[0]!)).toMatchObject({ a: 1, tp_index: "acct" });
    expect(lines[1]!.startsWith('{"tp_id":')).toBe(true);
    expect(odd.failures.map((f) => [f.position, f.operation])).toEqual([
      [2, "validate"],
      [3, "validate"],
    ]);
  });

  it("reads tp_timestamp text as new Date does, on its hand-read ISO path and off it", () => {
    let seed = 0x2545f491;
    const rand = (n: number) => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const two = (n: number) => String(n).padStart(2, "0");
    const texts = [
      "2024-01-32T00:00:00Z",
      "2024-01-31T00:00:00Z",
      "2024-12-31T23:59:59.999Z",
      "2024-01-01T00:00:60Z",
      "2024-01-01T00:60:00Z",
      "2024-02-30T00:00:00Z",
      "0999-01-01T00:00:00Z",
      "0000-01-01T00:00:00Z",
      "2024-01-01T24:00:00Z",
      "2024-01-01T00:00:00.5Z",
      "2024-01-01 00:00:00Z",
      "2024-01-01T00:00:00+01:00",
      "2024-1-01T00:00:00Z",
      "x",
      "",
    ];
    for (let i = 0; i < 5000; i++) {
      // Mostly in range, sometimes one field out of it or not a digit.
      const f = [1000 + rand(9000), 1 + rand(12), 1 + rand(31), rand(24), rand(60), rand(60)];
      if (rand(4) === 0) f[rand(6)] = rand(4) === 0 ? -1 : rand(100);
      const base = `${String(f[0]).padStart(4, "0")}-${two(f[1]!)}-${two(f[2]!)}T${two(f[3]!)}:${two(f[4]!)}:${two(f[5]!)}`.replace("-1", "x1");
      texts.push(rand(2) === 0 ? `${base}Z` : `${base}.${String(rand(1000)).padStart(3, "0")}Z`);
    }
    // new Date, except on a day the calendar lacks, which it moves on (2024-02-30 is March 1) and toMs refuses.
    const dayExists = (t: string) => {
      const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(t);
      if (!m) return true;
      const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
      return d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]);
    };
    for (const t of texts) expect([t, toMs(t)]).toEqual([t, dayExists(t) ? new Date(t).getTime() : Number.NaN]);
  });

  it("makes a time on a day its month lacks a row error naming the value: every month's last day and the day after", () => {
    // The reference: the days of a month by the leap-year rule, written here on its own.
    const leap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
    const days = (y: number, m: number) => [31, leap(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]!;
    const two = (n: number) => String(n).padStart(2, "0");
    // Every form toMs reads: its hand-read UTC path, and new Date's for offsets, bare dates and a space for the T.
    const forms = [
      (d: string) => `${d}T10:20:30Z`,
      (d: string) => `${d}T10:20:30.456Z`,
      (d: string) => `${d}T10:20:30+02:00`,
      (d: string) => d,
      (d: string) => `${d} 10:20:30Z`,
    ];
    const rows: Row[] = [];
    const want: (string | number)[] = [];
    for (const y of [1900, 1999, 2000, 2023, 2024, 2100, 2400]) {
      for (let m = 1; m <= 12; m++) {
        const last = days(y, m);
        for (const form of forms) {
          const good = form(`${y}-${two(m)}-${two(last)}`);
          const bad = form(`${y}-${two(m)}-${two(last + 1)}`);
          expect(new Date(toMs(good)).toISOString().slice(0, 10), good).toBe(new Date(good).toISOString().slice(0, 10));
          expect(toMs(good), good).toBe(new Date(good).getTime());
          expect(toMs(bad), bad).toBeNaN();
          rows.push({ t: good }, { t: bad });
          want.push(good.includes("+") ? new Date(good).toISOString().slice(0, 10) : good.slice(0, 10), bad);
        }
      }
    }
    const enrich = createEnricher({
      table: table((r) => ({ tp_timestamp: r["t"] as string })),
      partition: "p",
      sourceType: "file",
      sourceName: "src",
      artifact,
    });
    const out = enrich(
      rows,
      rows.map((_, i) => i),
    );
    const lines = out.bytes.toString("utf8").trimEnd().split("\n");
    expect(lines.map((l) => (JSON.parse(l) as { tp_date: string }).tp_date)).toEqual(want.filter((_, i) => i % 2 === 0));
    expect(out.failures.map((f) => f.message)).toEqual(
      want.flatMap((v, i) => (i % 2 === 1 ? [`tp_timestamp is missing or not a valid time (${JSON.stringify(v)})`] : [])),
    );
  });

  it("writes a raw row's optional tp_* fields as bytes exactly as the text path writes them, whatever their values", () => {
    const values: unknown[] = [
      "10.0.0.1",
      "",
      'q"uote',
      "back\\slash",
      "line\nbreak",
      "tab\t",
      "del\u007f",
      "é ✓",
      "\ud800 lone",
      null,
      [],
      ["a", "b c", "é", 'x"y'],
      ["a", 1, null],
      [{ o: 1 }],
      7,
      { k: "v" },
      undefined,
    ];
    const keys = ["tp_source_ip", "tp_destination_ip", "tp_ips", "tp_usernames", "tp_akas", "tp_domains", "tp_emails", "tp_tags"] as const;
    // Each row gives every key a value, turn by turn, so that each value lands in each place and beside the others.
    const extras = (row: Row): TableEnrichment => {
      const n = row["n"] as number;
      const extra: TableEnrichment = { tp_timestamp: "2024-01-02T03:04:05Z", tp_index: "acct" };
      keys.forEach((k, j) => {
        (extra as unknown as Record<string, unknown>)[k] = values[(n + j * 5) % values.length];
      });
      return extra;
    };
    const ctx = { table: table(extras), partition: "p", sourceType: "file", sourceName: "src", artifact };
    const rows: Row[] = Array.from({ length: values.length * 3 }, (_, n) => ({ n, t: "x" }));
    const positions = rows.map((_, i) => i);
    const ingest = "2024-05-06T07:08:09.010Z";
    const text = createEnricher(ctx).begin(undefined, ingest);
    text.add(structuredClone(rows), positions);
    const out = new ByteBatch();
    const bytes = createEnricher(ctx).begin(out, ingest, new RowTail(ctx, "default"));
    const raws = rows.map((r) => {
      const b = Buffer.from(JSON.stringify(r), "latin1");
      return new RawRow(JSON.stringify(r), r, b, 0, b.length, true);
    });
    bytes.add(raws, positions);
    expect(bytes.finish().count).toBe(rows.length);
    expect(out.take().toString("utf8")).toBe(text.finish().bytes.toString("utf8"));
  });

  it("trusts a raw row that says it has no tp_ key (hasTpKey): tp_ text deeper down stays, and the line is the reference's", () => {
    expect(hasTpKey({ a: 1, n: { tp_x: 1 }, s: '"tp_' })).toBe(false);
    expect(hasTpKey(JSON.parse('{"a":1,"tp\\u005fx":2}') as object)).toBe(true);
    expect(hasTpKey(Object.create({ tp_inherited: 1 }) as object)).toBe(false);
    const extras = (): TableEnrichment => ({ tp_timestamp: "2024-01-02T03:04:05Z", tp_index: "acct" });
    const ctx = { table: table(extras), partition: "p", sourceType: "file", sourceName: "src", artifact };
    const row: Row = { a: 1, n: { tp_x: 1 }, s: '"tp_' };
    const json = JSON.stringify(row);
    const b = Buffer.from(json, "latin1");
    const ingest = "2024-05-06T07:08:09.010Z";
    const out = new ByteBatch();
    const batch = createEnricher(ctx).begin(out, ingest, new RowTail(ctx, "default"));
    batch.add([new RawRow(json, row, b, 0, b.length, !hasTpKey(row))], [0]);
    batch.finish();
    expect(out.take().toString("utf8")).toBe(reference(structuredClone(row), extras(), 0, ingest) + "\n");
  });

  it("prefixes tp_id with the artifact's id seed when it has one, on the text path and the bytes path alike", () => {
    const extras = (): TableEnrichment => ({ tp_timestamp: "2024-01-02T03:04:05Z", tp_index: "acct" });
    const ctx = { table: table(extras), partition: "p", sourceType: "file", sourceName: "src", artifact, idSeed: "SEEDseedSEEDseed" };
    const row: Row = { a: 1 };
    const json = JSON.stringify(row);
    const b = Buffer.from(json, "latin1");
    const ingest = "2024-05-06T07:08:09.010Z";
    const text = createEnricher(ctx).begin(undefined, ingest);
    text.add([structuredClone(row)], [37]);
    const out = new ByteBatch();
    const bytes = createEnricher(ctx).begin(out, ingest, new RowTail(ctx, "default"));
    bytes.add([new RawRow(json, row, b, 0, b.length, true)], [37]);
    bytes.finish();
    for (const line of [text.finish().bytes.toString("utf8"), out.take().toString("utf8")]) {
      expect((JSON.parse(line) as Row)["tp_id"]).toBe(`SEEDseedSEEDseed${(37).toString(36)}`);
    }
  });
});
