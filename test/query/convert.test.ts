import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { compactDataDir } from "../../src/query/compact.js";
import { ConversionLog } from "../../src/query/conversion-log.js";
import { createConverter, recoverDataDir, requeueRejected, stagingDir } from "../../src/query/convert.js";
import { openDuckDB } from "../../src/query/duckdb.js";
import { openQuerySession } from "../../src/query/query.js";
import { listFiles, tempDir } from "../e2e/helpers.js";
import { parquetIds, parquetQuery } from "./helpers.js";

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));
function scratch(): string {
  const t = tempDir("tailkit-convert-");
  cleanups.push(t.cleanup);
  return t.dir;
}

const SCHEMA = {
  type: "object",
  required: ["n"],
  properties: { n: { type: "integer" }, msg: { type: "string" }, at: { type: "string", format: "date-time" } },
};

/** Writes chunk <exec>-<seq>.jsonl with `rows` rows spread over two tp_index values and two dates. */
function writeChunk(
  dir: string,
  exec: string,
  seq: number,
  rows: number,
  edit?: (row: Record<string, unknown>, i: number) => Record<string, unknown>,
): string[] {
  const ids: string[] = [];
  const lines: string[] = [];
  for (let i = 0; i < rows; i++) {
    const day = i % 2 === 0 ? "2024-03-01" : "2024-03-02";
    const id = `${exec}-${seq}-${i}`;
    let row: Record<string, unknown> = {
      n: i,
      msg: `m${i}`,
      at: `${day}T01:02:03Z`,
      extra_count: i * 2,
      tp_id: id,
      tp_timestamp: `${day}T01:02:03.000Z`,
      tp_table: "t1",
      tp_partition: "default",
      tp_index: i % 3 === 0 ? "acct-a" : "acct-b",
      tp_date: day,
      tp_source_location: `/logs/${exec}.log`,
    };
    if (edit) row = edit(row, i);
    lines.push(JSON.stringify(row));
    ids.push(id);
  }
  writeFileSync(join(dir, `${exec}-${seq}.jsonl`), `${lines.join("\n")}\n`);
  return ids;
}

function chunksIn(dir: string): string[] {
  return readdirSync(dir).filter((n) => n.endsWith(".jsonl"));
}

describe("converter", () => {
  it("keeps a key no schema declares that shows up past the first rows, and one that first appears in a later unit", async () => {
    const dir = scratch();
    // Row 6,000 of the first chunk, past the rows DuckDB samples, and every row of a second conversion's chunk.
    writeChunk(dir, "e", 1, 6001, (row, i) => (i === 6000 ? { ...row, late_key: "found" } : row));
    const first = await createConverter({ dir, schemas: { t1: SCHEMA } });
    first.addLeftovers();
    await first.drain();
    writeChunk(dir, "e", 2, 10, (row) => ({ ...row, tp_id: `${row["tp_id"] as string}-b`, later_key: 7 }));
    first.addLeftovers();
    await first.drain();
    await first.close();
    expect(await parquetQuery(dir, "SELECT late_key FROM t WHERE late_key IS NOT NULL")).toEqual([{ late_key: "found" }]);
    expect(await parquetQuery(dir, "SELECT count(*)::INTEGER AS n FROM t WHERE later_key = 7")).toEqual([{ n: 10 }]);
  });

  it("writes one file per partition a chunk's rows fall in, records them, and deletes the chunk", async () => {
    const dir = scratch();
    const ids = writeChunk(dir, "e", 1, 30);
    const conv = await createConverter({ dir, schemas: { t1: SCHEMA } });
    expect(conv.addLeftovers()).toBe(1);
    const s = await conv.drain();
    await conv.close();
    expect(s).toMatchObject({ chunks: 1, rows: 30, files: 4, failed: [] });
    expect(chunksIn(dir)).toEqual([]);
    const log = ConversionLog.open(dir);
    expect(log.files().map((f) => [f.path, f.rows])).toEqual([
      ["tp_table=t1/tp_partition=default/tp_index=acct-a/tp_date=2024-03-01/e-1_0.parquet", 5],
      ["tp_table=t1/tp_partition=default/tp_index=acct-a/tp_date=2024-03-02/e-1_0.parquet", 5],
      ["tp_table=t1/tp_partition=default/tp_index=acct-b/tp_date=2024-03-01/e-1_0.parquet", 10],
      ["tp_table=t1/tp_partition=default/tp_index=acct-b/tp_date=2024-03-02/e-1_0.parquet", 10],
    ]);
    expect(log.converted("e-1.jsonl")).toBe(true);
    log.close();
    expect(await parquetIds(dir)).toEqual([...ids].sort());
    const types = await parquetQuery(dir, "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM t)");
    expect(Object.fromEntries(types.map((r) => [r["column_name"], r["column_type"]]))).toMatchObject({
      n: "BIGINT",
      at: "TIMESTAMP",
      msg: "VARCHAR",
      extra_count: "BIGINT",
    });
  });

  it("writes zstd-compressed Parquet, or the codec TAILKIT_PARQUET_COMPRESSION names, and refuses an unknown one", async () => {
    const dir = scratch();
    writeChunk(dir, "e", 1, 10);
    const conv = await createConverter({ dir, schemas: { t1: SCHEMA } });
    conv.addLeftovers();
    await conv.drain();
    await conv.close();
    const codecs = await parquetQuery(dir, `SELECT DISTINCT compression FROM parquet_metadata('${dir}/tp_table=*/**/*.parquet')`);
    expect(codecs).toEqual([{ compression: "ZSTD" }]);
    process.env["TAILKIT_PARQUET_COMPRESSION"] = "zip";
    try {
      await expect(createConverter({ dir })).rejects.toThrow(/TAILKIT_PARQUET_COMPRESSION: "zip" is not one of zstd, snappy/);
    } finally {
      delete process.env["TAILKIT_PARQUET_COMPRESSION"];
    }
  });

  it("after a crash: removes files the log does not list, deletes chunks it does, clears staging", async () => {
    const dir = scratch();
    const ids = writeChunk(dir, "e", 1, 12);
    const conv = await createConverter({ dir, schemas: { t1: SCHEMA } });
    conv.addLeftovers();
    await conv.drain();
    await conv.close();
    const live = listFiles(dir).filter((f) => f.endsWith(".parquet"));
    // A unit renamed into place but not recorded; a chunk recorded but not deleted; a staging leftover.
    const orphan = join(dir, dirname(live[0]!), "e-7_0.parquet");
    copyFileSync(join(dir, live[0]!), orphan);
    writeChunk(dir, "e", 1, 12);
    mkdirSync(join(stagingDir(dir), "e-9"), { recursive: true });
    writeFileSync(join(stagingDir(dir), "e-9", "x.parquet"), "partial");
    // Rejected rows of a unit that was never recorded: its chunks are converted again, and refuse them again.
    mkdirSync(join(dir, "rejected"));
    writeFileSync(join(dir, "rejected", "e-9.jsonl"), '{"chunk":"e-9.jsonl"}\n');
    const log = ConversionLog.open(dir);
    expect(recoverDataDir(dir, log)).toEqual({ parquet: 1, rejected: 1, chunks: 1 });
    expect(readdirSync(join(dir, "rejected"))).toEqual([]);
    log.close();
    expect(listFiles(dir).filter((f) => f.endsWith(".parquet"))).toEqual(live);
    expect(chunksIn(dir)).toEqual([]);
    expect(listFiles(dir).filter((f) => f.includes("staging"))).toEqual([]);
    expect(await parquetIds(dir)).toEqual([...ids].sort());
  });

  it("reports each row that breaks the schema by column and converts the rest of the chunk", async () => {
    const dir = scratch();
    const errors: { column: string; line: number }[] = [];
    const ids = writeChunk(dir, "e", 1, 20, (row, i) => {
      if (i === 4) return { ...row, n: "four" };
      if (i === 9) return { ...row, at: "not a time" };
      if (i === 13) {
        const { n: _n, ...rest } = row;
        return rest;
      }
      return row;
    });
    const conv = await createConverter({ dir, schemas: { t1: SCHEMA }, onRowError: (e) => errors.push(e) });
    conv.addLeftovers();
    const s = await conv.drain();
    await conv.close();
    expect(s.rowErrors).toEqual({ n: 2, at: 1 });
    expect(errors.map((e) => [e.column, e.line])).toEqual([
      ["n", 5],
      ["at", 10],
      ["n", 14],
    ]);
    expect(s.errors[0]).toMatchObject({ chunk: "e-1.jsonl", artifact: "/logs/e.log", tpId: ids[4] });
    expect(s.rows).toBe(17);
    expect(await parquetIds(dir)).toEqual(ids.filter((_, i) => i !== 4 && i !== 9 && i !== 13).sort());
    expect(chunksIn(dir)).toEqual([]);
    // The chunk is gone, but not its refused rows: each is kept whole, after where it was and why it was refused.
    expect(s.rejected).toEqual(["rejected/e-1.jsonl"]);
    const kept = readFileSync(join(dir, "rejected", "e-1.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { chunk: string; line: number; column: string; message: string; row: Record<string, unknown> });
    expect(kept.map((k) => [k.chunk, k.line, k.column, k.row["tp_id"]])).toEqual([
      ["e-1.jsonl", 5, "n", ids[4]],
      ["e-1.jsonl", 10, "at", ids[9]],
      ["e-1.jsonl", 14, "n", ids[13]],
    ]);
    expect(kept[0]!.row["n"]).toBe("four");
    expect(kept[1]!.message).toContain("not a time");
    // The refused rows do not change how the rest is typed: the undeclared extra_count stays the BIGINT inferred.
    const types = await parquetQuery(dir, "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM t)");
    expect(Object.fromEntries(types.map((r) => [r["column_name"], r["column_type"]]))).toMatchObject({ n: "BIGINT", extra_count: "BIGINT" });
  });
});

describe("converter: rejected rows tried again", () => {
  it("converts them with the table's new schema, once each, also when a crash left the rejected file behind", async () => {
    const dir = scratch();
    const ids = writeChunk(dir, "e", 1, 10, (row, i) => (i === 2 || i === 7 ? { ...row, n: `n${i}` } : row));
    const first = await createConverter({ dir, schemas: { t1: SCHEMA } });
    first.addLeftovers();
    expect((await first.drain()).rows).toBe(8);
    await first.close();
    const rejectedFile = join(dir, "rejected", "e-1.jsonl");
    const keptText = readFileSync(rejectedFile, "utf8");
    expect(await parquetIds(dir)).toEqual(ids.filter((_, i) => i !== 2 && i !== 7).sort());

    // The producer's schema now takes text in n (say, a plugin upgrade): the kept rows go back into a chunk.
    const wider = { ...SCHEMA, required: [], properties: { ...SCHEMA.properties, n: {} } };
    const made = requeueRejected(dir);
    expect(made.map((p) => basename(p))).toEqual(["retry_e_1-1.jsonl"]);
    expect(readdirSync(join(dir, "rejected"))).toEqual([]);
    // A crash after the chunk was made but before the rejected file was deleted: the file is back, and is only deleted.
    writeFileSync(rejectedFile, keptText);
    expect(requeueRejected(dir)).toEqual([]);
    expect(readdirSync(join(dir, "rejected"))).toEqual([]);

    const second = await createConverter({ dir, schemas: { t1: wider } });
    second.addLeftovers();
    const s = await second.drain();
    await second.close();
    expect(s).toMatchObject({ chunks: 1, rows: 2, rowErrors: {}, rejected: [], failed: [] });
    // A crash after the retry was converted, with the rejected file still there: nothing is tried twice.
    writeFileSync(rejectedFile, keptText);
    expect(requeueRejected(dir)).toEqual([]);
    expect(await parquetIds(dir)).toEqual([...ids].sort());
    expect(chunksIn(dir)).toEqual([]);
  });
});

describe("converter: values DuckDB would cast", () => {
  const TYPED = {
    type: "object",
    properties: {
      n: { type: "integer" },
      ratio: { type: "number" },
      ok: { type: "boolean" },
      at: { type: "string", format: "date-time" },
      meta: { type: "object" },
      counts: { type: "array", items: { type: "integer" } },
      msg: { type: "string" },
      tags: { type: "array", items: { type: "string" } },
    },
  };
  const good = { n: 1, ratio: 0.5, ok: true, at: "2024-03-01T01:02:03Z", meta: { k: 1 }, counts: [1, 2], msg: "m", tags: ["a"] };

  it("refuses, by column, a value DuckDB's reader would cast to the declared type, and converts the rest", async () => {
    const dir = scratch();
    // Each of these is read without complaint by read_json with the declared type: "42" and true become 42 and 1,
    // 2.5 becomes 3, "yes" and 1 become true, a date-only string a midnight, a string an object column's JSON.
    const bad: [string, unknown][] = [
      ["n", "42"],
      ["n", true],
      ["n", 2.5],
      ["ratio", "0.5"],
      ["ok", "yes"],
      ["ok", 1],
      ["at", "2024-03-01"],
      ["meta", "text"],
      ["counts", ["1", 2]],
    ];
    const ids = writeChunk(dir, "e", 1, 20, (row, i) => {
      const base = { ...row, ...good };
      const b = bad[i - 5];
      return b ? { ...base, [b[0]]: b[1] } : base;
    });
    const conv = await createConverter({ dir, schemas: { t1: TYPED } });
    conv.addLeftovers();
    const s = await conv.drain();
    await conv.close();
    expect(s.failed).toEqual([]);
    expect(s.rowErrors).toEqual({ n: 3, ratio: 1, ok: 2, at: 1, meta: 1, counts: 1 });
    expect(s.errors.map((e) => [e.line, e.column])).toEqual(bad.map(([c], k) => [k + 6, c]));
    expect(s.rows).toBe(20 - bad.length);
    expect(await parquetIds(dir)).toEqual(ids.filter((_, i) => i < 5 || i >= 5 + bad.length).sort());
    const [row] = await parquetQuery(dir, `SELECT n, ratio, ok, "at"::VARCHAR AS "at", meta::VARCHAR AS meta, counts FROM t WHERE tp_id = '${ids[0]}'`);
    expect(row).toEqual({ n: 1n, ratio: 0.5, ok: true, at: "2024-03-01 01:02:03", meta: '{"k":1}', counts: [1n, 2n] });
  });

  it("stores a time with an offset as its UTC instant, on the fast path and the careful one alike", async () => {
    for (const careful of [false, true]) {
      const dir = scratch();
      const ids = writeChunk(dir, "e", 1, 4, (row, i) => ({
        ...row,
        ...good,
        at: ["2024-03-01T10:00:00+05:30", "2024-03-01T10:00:00.250-05:00", "2024-03-01 10:00:00Z", "2024-03-01T10:00:00"][i],
        // A refused row sends the whole unit down the careful path.
        ...(careful && i === 3 ? { ok: "yes" } : {}),
      }));
      const conv = await createConverter({ dir, schemas: { t1: TYPED } });
      conv.addLeftovers();
      const s = await conv.drain();
      await conv.close();
      expect(s.failed).toEqual([]);
      const rows = await parquetQuery(dir, `SELECT tp_id, strftime("at", '%Y-%m-%dT%H:%M:%S.%g') AS at FROM t ORDER BY tp_id`);
      const expected = [
        { tp_id: ids[0], at: "2024-03-01T04:30:00.000" },
        { tp_id: ids[1], at: "2024-03-01T15:00:00.250" },
        { tp_id: ids[2], at: "2024-03-01T10:00:00.000" },
        { tp_id: ids[3], at: "2024-03-01T10:00:00.000" },
      ];
      expect(rows).toEqual(careful ? expected.slice(0, 3) : expected);
    }
  });

  it("casts in UTC whatever the host's zone: the host's DuckDB runs with TimeZone UTC", async () => {
    const db = await openDuckDB();
    try {
      const r = await db.connection.runAndReadAll("SELECT current_setting('TimeZone'), CAST(TIMESTAMPTZ '2024-03-01 10:00:00+05:30' AS TIMESTAMP)::VARCHAR");
      expect(r.getRows()[0]).toEqual(["UTC", "2024-03-01 04:30:00"]);
    } finally {
      db.close();
    }
  });

  it("refuses a time DuckDB cannot read (no seconds, February 30th, 24:00) as a row error, not the unit", async () => {
    const dir = scratch();
    const times = ["2024-03-01T10:00Z", "2024-02-30T00:00:00Z", "2024-03-01T24:00:00Z", "2024-03-01T23:59:59Z"];
    const ids = writeChunk(dir, "e", 1, 4, (row, i) => ({ ...row, ...good, at: times[i] }));
    const conv = await createConverter({ dir, schemas: { t1: TYPED } });
    conv.addLeftovers();
    const s = await conv.drain();
    await conv.close();
    expect(s).toMatchObject({ failed: [], rows: 1, rowErrors: { at: 3 } });
    expect(await parquetIds(dir)).toEqual([ids[3]]);
    expect(chunksIn(dir)).toEqual([]);
  });

  it("takes 3.0 as an integer, and keeps a number, boolean or object in a string column as its JSON text", async () => {
    const dir = scratch();
    const ids = writeChunk(dir, "e", 1, 4, (row, i) => ({
      ...row,
      ...good,
      ...[{ n: 3.0 }, { msg: 42 }, { msg: { a: [1] }, tags: ["a", 7, true] }, { msg: false }][i],
    }));
    // JSON.stringify writes 3.0 as 3: write that row's text by hand.
    const path = join(dir, "e-1.jsonl");
    writeFileSync(path, readFileSync(path, "utf8").replace('"n":3,', '"n":3.0,'));
    const conv = await createConverter({ dir, schemas: { t1: TYPED } });
    conv.addLeftovers();
    const s = await conv.drain();
    await conv.close();
    expect(s).toMatchObject({ rows: 4, rowErrors: {}, failed: [] });
    const rows = await parquetQuery(dir, "SELECT tp_id, n, msg, tags FROM t ORDER BY tp_id");
    expect(rows).toEqual([
      { tp_id: ids[0], n: 3n, msg: "m", tags: ["a"] },
      { tp_id: ids[1], n: 1n, msg: "42", tags: ["a"] },
      { tp_id: ids[2], n: 1n, msg: '{"a":[1]}', tags: ["a", "7", "true"] },
      { tp_id: ids[3], n: 1n, msg: "false", tags: ["a"] },
    ]);
  });

  it("converts a later chunk whose undeclared column no longer fits the type inferred from the first, as JSON", async () => {
    const dir = scratch();
    const first = writeChunk(dir, "e", 1, 6, (row, i) => ({ ...row, extra_flag: i % 2 === 0 }));
    const conv = await createConverter({ dir, schemas: { t1: SCHEMA } });
    conv.addLeftovers();
    await conv.drain();
    // extra_count was inferred as BIGINT from the first chunk; here it holds text.
    const second = writeChunk(dir, "e", 2, 6, (row, i) => ({ ...row, extra_count: "many", extra_flag: i % 2 === 0 }));
    conv.addLeftovers();
    const s = await conv.drain();
    await conv.close();
    expect(s).toMatchObject({ chunks: 2, rows: 12, rowErrors: {}, failed: [] });
    expect(chunksIn(dir)).toEqual([]);
    expect(await parquetIds(dir)).toEqual([...first, ...second].sort());
    const counts = await parquetQuery(dir, "SELECT extra_count::VARCHAR AS c, count(*)::INTEGER AS n FROM t GROUP BY 1 ORDER BY 1");
    expect(counts).toEqual([
      { c: '"many"', n: 6 },
      { c: "0", n: 1 },
      { c: "10", n: 1 },
      { c: "2", n: 1 },
      { c: "4", n: 1 },
      { c: "6", n: 1 },
      { c: "8", n: 1 },
    ]);
    // Only the column that did not fit became JSON: extra_flag is still the BOOLEAN inferred.
    const types = await parquetQuery(dir, "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM t)");
    expect(Object.fromEntries(types.map((r) => [r["column_name"], r["column_type"]]))).toMatchObject({ extra_count: "JSON", extra_flag: "BOOLEAN" });
    expect(await parquetQuery(dir, "SELECT count(*)::INTEGER AS n FROM t WHERE extra_flag")).toEqual([{ n: 6 }]);
  });
});

describe("a query session left open", () => {
  it("sees rows converted after it opened, and reads on after a compaction replaced the files it listed", async () => {
    const dir = scratch();
    writeChunk(dir, "e", 1, 10);
    const conv = await createConverter({ dir, schemas: { t1: SCHEMA } });
    conv.addLeftovers();
    await conv.drain();
    const session = await openQuerySession(dir);
    try {
      const count = async () => Number((await session.run("SELECT count(*) FROM t1")).json[0]![0]);
      expect(await count()).toBe(10);
      writeChunk(dir, "e", 2, 5);
      conv.addLeftovers();
      await conv.drain();
      await conv.close();
      expect(await count()).toBe(15);
      // Every partition's two files are merged into one and the old ones deleted.
      expect((await compactDataDir({ dir })).filesMerged).toBe(8);
      expect(await count()).toBe(15);
      expect(session.tables).toEqual(["t1"]);
    } finally {
      session.close();
    }
  });
});

describe("compaction", () => {
  it("merges a partition's small files into one without losing or repeating a row", async () => {
    const dir = scratch();
    const ids: string[] = [];
    for (let seq = 1; seq <= 5; seq++) ids.push(...writeChunk(dir, "e", seq, 8));
    const conv = await createConverter({ dir, schemas: { t1: SCHEMA }, chunksPerUnit: 1 });
    conv.addLeftovers();
    await conv.drain();
    await conv.close();
    expect(listFiles(dir).filter((f) => f.endsWith(".parquet"))).toHaveLength(20);
    // Automatic compaction leaves partitions at or under its threshold alone.
    expect(await compactDataDir({ dir, maxSmallFiles: 5 })).toMatchObject({ partitions: 0 });
    const s = await compactDataDir({ dir });
    expect(s).toMatchObject({ partitions: 4, filesMerged: 20, filesWritten: 4, rows: 40, skipped: [] });
    const files = listFiles(dir).filter((f) => f.endsWith(".parquet"));
    expect(files).toHaveLength(4);
    expect(files.every((f) => /\/compact-[^/]+\.parquet$/.test(f))).toBe(true);
    const log = ConversionLog.open(dir);
    expect(log.files().map((f) => f.path)).toEqual(files);
    log.close();
    expect(await parquetIds(dir)).toEqual(ids.sort());
    const types = await parquetQuery(dir, "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM t)");
    expect(Object.fromEntries(types.map((r) => [r["column_name"], r["column_type"]]))).toMatchObject({ n: "BIGINT", at: "TIMESTAMP", tp_index: "VARCHAR" });
  });
});
