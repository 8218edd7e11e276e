import { mkdirSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { zstdRawFrame } from "../formats/helpers.js";
import { ROOT, readChunks, runCli, scratchDirs } from "./helpers.js";

const scratch = scratchDirs();

const DEFINITION = `# A custom table: an app's CSV log
description: Orders placed, from the shop's CSV export
format:
  type: delimited
columns:
  - name: tp_timestamp
    source: placed_at
    type: timestamp
  - name: order_id
    type: integer
    required: true
  - name: customer
    transforms: [trim, lower]
  - name: total
    type: float
    null_if: ["", "n/a"]
`;

/** A scratch folder with a data folder holding `files`; the collection's output goes beside it. */
function setUp(files: Record<string, string | Buffer>): { dir: string; data: string; out: string } {
  const dir = scratch();
  const data = join(dir, "data");
  mkdirSync(data);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(data, name), content);
  return { dir, data, out: join(dir, "out") };
}

/** `tailkit collect core --table <table> --table-def <def> --path <data> --out <out> ...more`. */
function collectCore(table: string, def: string, data: string, out: string, ...more: string[]) {
  return runCli(["collect", "core", "--table", table, "--table-def", def, "--path", data, "--out", out, ...more]);
}

describe("tailkit collect core --table-def @file", () => {
  it("collects the bundled sample the README shows: sample/orders by sample/orders/orders.yaml", async () => {
    const out = join(scratch(), "out");
    const res = await runCli(
      [
        "collect",
        "core",
        "--table",
        "shop_orders",
        "--table-def",
        "@sample/orders/orders.yaml",
        "--path",
        "sample/orders",
        "--file-layout",
        "*.csv",
        "--out",
        out,
        "--no-convert",
        "--output",
        "json",
      ],
      {},
      ROOT,
    );
    expect(res.code, res.stderr).toBe(0);
    const rows = readChunks(out).flatMap((c) => c.rows);
    expect(rows.map((r) => [r["order_id"], r["customer"], r["total"], r["tags"]])).toEqual([
      [1001, "alice", 42.5, ["books", "gift"]],
      [1002, "bob", null, []],
      [1003, "carol", 17, ["music"]],
      [1004, "dave", 120.99, ["garden", "tools", "sale"]],
    ]);
    expect(rows[0]!["tp_timestamp"]).toBe("2024-03-01T09:12:44.000Z");
  });

  it("collects a CSV file (here zstd-compressed) by a YAML definition alone, and queries its rows", async () => {
    const csv = "placed_at,order_id,customer,total\n2024-05-01T10:00:00Z,1, Ann ,9.5\n2024-05-01T11:00:00Z,,bob,n/a\n2024-05-02T09:30:00Z,3,Cy,12\n";
    const { dir, data, out } = setUp({ "orders.csv.zst": zstdRawFrame(Buffer.from(csv)) });
    writeFileSync(join(dir, "orders.yaml"), DEFINITION);
    const res = await collectCore("shop_orders", `@${join(dir, "orders.yaml")}`, data, out, "--output", "json");
    // One row broke its definition: a partial collection, exit 3, counted by column and operation.
    expect(res.code, res.stderr).toBe(3);
    const summary = JSON.parse(res.stdout) as { rows: number; status: { rowErrors: Record<string, number> } };
    expect(summary.rows).toBe(2);
    expect(summary.status.rowErrors).toEqual({ "required:order_id": 1 });
    const q = await runCli(["query", "--out", out, "--output", "json", "select order_id, customer, total, tp_timestamp from shop_orders order by order_id"]);
    expect(q.code, q.stderr).toBe(0);
    expect(q.stdout).toContain('"customer":"ann"');
    expect(q.stdout).toContain('"order_id":3');
  });

  it("types the Parquet columns by the definition, which Describe does not list: Collect gives its row schema", async () => {
    // Every total is a whole number and shipped_at is text in the chunks: inference alone would make them BIGINT
    // and VARCHAR.
    const csv = "placed_at,order_id,customer,total,shipped_at\n2024-05-01T10:00:00Z,1,ann,9,2024-05-02T08:00:00Z\n2024-05-01T11:00:00Z,2,bob,12,\n";
    const { dir, data, out } = setUp({ "orders.csv": csv });
    writeFileSync(join(dir, "orders.yaml"), `${DEFINITION}  - name: shipped_at\n    type: timestamp\n    null_if: [""]\n`);
    const res = await collectCore("shop_orders", `@${join(dir, "orders.yaml")}`, data, out, "--output", "json");
    expect(res.code, res.stderr).toBe(0);
    const q = await runCli(["query", "--out", out, "--output", "json", "select column_name, column_type from (describe select * from shop_orders)"]);
    expect(q.code, q.stderr).toBe(0);
    const types = Object.fromEntries((JSON.parse(q.stdout) as { column_name: string; column_type: string }[]).map((r) => [r.column_name, r.column_type]));
    expect(types).toMatchObject({ order_id: "BIGINT", customer: "VARCHAR", total: "DOUBLE", shipped_at: "TIMESTAMP", tp_timestamp: "TIMESTAMP" });
    // And a later `tailkit convert` of the same table, without a plugin, types it the same from the conversion log.
    const again = await collectCore("shop_orders", `@${join(dir, "orders.yaml")}`, data, out, "--no-convert", "--recollect");
    expect(again.code, again.stderr).toBe(0);
    const conv = await runCli(["convert", "--out", out]);
    expect(conv.code, conv.stderr).toBe(0);
    const q2 = await runCli([
      "query",
      "--out",
      out,
      "--output",
      "json",
      "select count(*)::INTEGER as n, count(distinct typeof(total)) ::INTEGER as t from shop_orders",
    ]);
    expect(JSON.parse(q2.stdout)).toEqual([{ n: 4, t: 1 }]);
  });

  it("collects a JSONL file by an inline JSON definition, keeping unmapped fields", async () => {
    const { data, out } = setUp({ "events.jsonl": `${JSON.stringify({ at: "2024-05-01T10:00:00Z", kind: "Login", who: "ann" })}\n` });
    const def = {
      format: { type: "jsonl" },
      columns: [
        { name: "tp_timestamp", source: "at" },
        { name: "kind", transforms: ["lower"] },
      ],
      unmapped: "keep",
    };
    const res = await collectCore("events", JSON.stringify(def), data, out, "--no-convert");
    expect(res.code, res.stderr).toBe(0);
    const rows = readChunks(out).flatMap((c) => c.rows);
    expect(rows).toEqual([expect.objectContaining({ kind: "login", who: "ann", tp_timestamp: "2024-05-01T10:00:00.000Z", tp_table: "events" })]);
  });

  it("collects a syslog file's year-less times by the file's mtime, across New Year, a bad time a row error", async () => {
    const lines = [
      "Dec 31 23:59:58 host1 sshd[4121]: Accepted publickey for deploy",
      "Jan  1 00:00:05 host1 sudo: deploy : COMMAND=/usr/bin/true",
      "Jan 01 00:00:60 host1 sshd[4121]: a leap second, which no clock here gives",
      "Jan  1 09:30:00 host1 sshd[4122]: Disconnected",
    ];
    const { dir, data, out } = setUp({ "auth.log": `${lines.join("\n")}\n` });
    const mtime = Date.UTC(2025, 0, 1, 10) / 1000;
    utimesSync(join(data, "auth.log"), mtime, mtime);
    writeFileSync(
      join(dir, "auth.yaml"),
      "format: {type: grok, layout: '^%{SYSLOGLINE}$'}\ncolumns:\n  - {name: tp_timestamp, source: timestamp, layout: syslog, zone: '-05:00'}\n  - {name: program}\n",
    );
    const res = await collectCore("auth_log", `@${join(dir, "auth.yaml")}`, data, out, "--no-convert", "--output", "json");
    expect(res.code, res.stderr).toBe(3);
    expect(JSON.parse(res.stdout)).toMatchObject({
      rows: 3,
      status: { rowErrors: { "type:tp_timestamp": 1 } },
      errors: [{ message: expect.stringContaining('auth.log: line 3: column tp_timestamp (timestamp): "Jan 01 00:00:60" is not a time there is') }],
    });
    // 10:00 UTC on Jan 1 is 05:00 at -05:00: the Dec 31 line is last year's, and a line 4.5 hours after it is allowed.
    const five = 5 * 3600_000;
    expect(readChunks(out).flatMap((c) => c.rows.map((r) => [r["tp_timestamp"], r["program"]]))).toEqual([
      [new Date(Date.UTC(2024, 11, 31, 23, 59, 58) + five).toISOString(), "sshd"],
      [new Date(Date.UTC(2025, 0, 1, 0, 0, 5) + five).toISOString(), "sudo"],
      [new Date(Date.UTC(2025, 0, 1, 9, 30) + five).toISOString(), "sshd"],
    ]);
  });

  it("names the file when the definition is malformed, missing or lacks tp_timestamp", async () => {
    const { dir, data, out } = setUp({ "x.jsonl": "{}\n" });
    writeFileSync(join(dir, "bad.yaml"), "format: [unclosed\n");
    writeFileSync(join(dir, "notime.yaml"), "format: {type: jsonl}\ncolumns:\n  - name: at\n    type: timestamp\n");
    const expectations: [string, string][] = [
      ["bad.yaml", `malformed YAML or JSON in ${join(dir, "bad.yaml")}`],
      ["missing.yaml", `cannot read ${join(dir, "missing.yaml")}`],
      ["notime.yaml", `${join(dir, "notime.yaml")}: columns: no column tp_timestamp`],
    ];
    for (const [file, message] of expectations) {
      const res = await collectCore("t", `@${join(dir, file)}`, data, out, "--no-convert");
      expect(res.code, file).toBe(2);
      expect(res.stderr).toContain(message);
    }
  });
});
