import fs from "node:fs";
import path from "node:path";
import { Ajv } from "ajv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { corePlugin } from "../../plugins/core/src/index.js";
import { defineCustomTable } from "../../src/index.js";
import { Code, TailkitError } from "../../src/errors/index.js";
import { withTpFields } from "../../src/plugin/tp-fields.js";
import { collectInProcess } from "../../src/testing/index.js";
import { tempDir, thrown } from "../formats/helpers.js";
import { S3_CREDENTIALS, startS3, type S3Server } from "../sources/s3/s3-server.js";

const root = tempDir("custom");
let s3: S3Server;
beforeAll(async () => {
  s3 = await startS3(["logs"]);
});
afterAll(async () => {
  await s3?.close();
  fs.rmSync(root, { recursive: true, force: true });
});
let n = 0;
function file(name: string, content: string): string {
  const dir = path.join(root, `d${n++}`);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, name), content);
  return dir;
}

async function collect(table: string, definition: unknown, dir: string, source?: { type: string; config: Record<string, unknown> }) {
  return collectInProcess(corePlugin, {
    table,
    source: source ?? { type: "file", config: { paths: [dir] } },
    tableConfig: { definition, definition_file: `${table}.yaml` },
    outputDir: path.join(root, `out${n++}`),
  });
}

/** Checks rows against the table's row schema with every tp_* field, as Describe would publish it. */
function expectValid(table: string, definition: unknown, rows: Record<string, unknown>[]): void {
  const schema = withTpFields(defineCustomTable(table, definition).rowSchema);
  const validate = new Ajv({ strict: false, validateFormats: false }).compile(schema);
  for (const row of rows) expect(validate(row), JSON.stringify(validate.errors)).toBe(true);
  for (const row of rows) expect(new Date(row["tp_timestamp"] as string).toISOString()).toBe(row["tp_timestamp"]);
}

const csvDef = {
  format: { type: "delimited", null_value: "NULL" },
  columns: [
    { name: "tp_timestamp", source: "time", type: "timestamp", layout: "%Y/%m/%d %H:%M:%S" },
    { name: "user", required: true, transforms: ["trim", "lower"] },
    { name: "status", type: "integer", required: true, null_if: "-" },
    { name: "latency_ms", source: "latency", type: "float" },
    { name: "ok", type: "boolean" },
    { name: "tags", type: "string_list", transforms: [{ split: "|" }] },
    { name: "tp_source_ip", source: "ip" },
  ],
};
const csv = [
  "time,user,status,latency,ok,tags,ip,extra",
  "2024/01/15 10:00:00, Alice ,200,12.5,true,a|b,10.0.0.1,x",
  "2024/01/15 10:00:01,bob,-,NULL,no,c,10.0.0.2,y",
  "2024/01/15 10:00:02,,500,1,yes,,10.0.0.3,z",
  "2024/01/15 10:00:03,carol,abc,1,1,d,10.0.0.4,w",
  "2024/02/31 10:00:04,dave,200,1,0,e,10.0.0.5,v",
  "",
].join("\n");

describe("custom tables defined only in config (the core plugin)", () => {
  it("collects a CSV file into valid rows, typed and transformed; each broken row a row error by column and operation", async () => {
    const res = await collect("app_csv", csvDef, file("app.csv", csv));
    expect(res.complete.error).toBeUndefined();
    expect(res.rows).toHaveLength(1);
    expect(res.rows[0]).toMatchObject({
      user: "alice",
      status: 200,
      latency_ms: 12.5,
      ok: true,
      tags: ["a", "b"],
      tp_timestamp: "2024-01-15T10:00:00.000Z",
      tp_source_ip: "10.0.0.1",
      tp_table: "app_csv",
    });
    // Unmapped fields (extra) are dropped by default.
    expect(res.rows[0]).not.toHaveProperty("extra");
    expectValid("app_csv", csvDef, res.rows);
    expect(res.complete.status.rowErrors).toEqual({ "required:status": 1, "required:user": 1, "type:status": 1, "type:tp_timestamp": 1 });
    const messages = res.events.flatMap((e) => (e.type === "error" && e.rowIndex !== undefined ? [`${e.rowIndex}: ${e.message}`] : []));
    expect(messages).toEqual([
      expect.stringMatching(/^3: .*line 3: column status is required, but it is missing or null/),
      expect.stringMatching(/^4: .*line 4: column user is required, but it is missing or null/),
      expect.stringMatching(/^5: .*line 5: column status \(integer\): "abc" is not an integer/),
      expect.stringMatching(/^6: .*line 6: column tp_timestamp \(timestamp\): "2024\/02\/31 10:00:04" is not a time there is/),
    ]);
  });

  it("collects a grok-parsed file into valid rows; unmatched lines are map row errors", async () => {
    const def = {
      description: "An app's text log",
      format: { type: "grok", layout: "^%{TIMESTAMP_ISO8601:time} \\[%{LOGLEVEL:level}\\] %{IP:client} %{WORD:op} %{INT:ms:int}ms%{GREEDYDATA:rest}$" },
      columns: [
        { name: "tp_timestamp", source: "time" },
        { name: "level", transforms: ["upper"] },
        { name: "client" },
        { name: "op" },
        { name: "ms", type: "integer" },
        { name: "tp_ips", source: "client", type: "string_list", transforms: [{ split: "," }] },
      ],
      unmapped: "keep",
    };
    const lines = ["2024-03-01T08:00:00+02:00 [info] 10.1.1.1 read 12ms", "garbage", "2024-03-01T08:00:01Z [Warn] 10.1.1.2 write 40ms slow disk", ""].join(
      "\n",
    );
    const res = await collect("app_text", def, file("app.log", lines));
    expect(res.rows.map((r) => [r["tp_timestamp"], r["level"], r["ms"], r["tp_ips"], r["rest"]])).toEqual([
      ["2024-03-01T06:00:00.000Z", "INFO", 12, ["10.1.1.1"], ""],
      ["2024-03-01T08:00:01.000Z", "WARN", 40, ["10.1.1.2"], " slow disk"],
    ]);
    // "rest" is kept as parsed; "time", which tp_timestamp takes, is not unmapped.
    expect(res.rows[0]).not.toHaveProperty("time");
    expectValid("app_text", def, res.rows);
    expect(res.complete.status.rowErrors).toEqual({ map: 1 });
  });

  it("collects a JSONL file: nested sources, json and list columns, unmapped kept, null_if and the number/timestamp transforms", async () => {
    const def = {
      format: { type: "jsonl" },
      columns: [
        { name: "tp_timestamp", source: "ts", type: "timestamp", layout: "unix_ms" },
        { name: "user", source: "actor.name", null_if: ["anonymous", ""] },
        { name: "size", source: "meta.size", type: "float", transforms: ["number"] },
        { name: "seen", source: "meta.seen", type: "timestamp", transforms: [{ timestamp: "%d/%b/%Y:%H:%M:%S %z" }] },
        { name: "meta", type: "json" },
        { name: "roles", type: "string_list" },
        { name: "tp_index", source: "tenant" },
      ],
      unmapped: "keep",
    };
    const lines = [
      JSON.stringify({
        ts: 1704067200000,
        actor: { name: "alice" },
        meta: { size: "1.5", seen: "10/Oct/2023:13:55:36 -0700" },
        roles: ["a"],
        tenant: "t1",
        other: 1,
      }),
      JSON.stringify({ ts: 1704067201000, actor: { name: "anonymous" }, meta: { size: 2 }, roles: [], tenant: "t2" }),
      "{broken",
      JSON.stringify({ ts: 1704067202000, actor: {}, meta: { size: "big" }, roles: [] }),
      "",
    ].join("\n");
    const res = await collect("app_json", def, file("app.jsonl", lines));
    expect(res.rows).toHaveLength(2);
    expect(res.rows[0]).toMatchObject({
      tp_timestamp: "2024-01-01T00:00:00.000Z",
      user: "alice",
      size: 1.5,
      seen: "2023-10-10T20:55:36.000Z",
      meta: { size: "1.5", seen: "10/Oct/2023:13:55:36 -0700" },
      roles: ["a"],
      tp_index: "t1",
      other: 1,
    });
    expect(res.rows[1]).toMatchObject({ user: null, size: 2, seen: null, tp_index: "t2" });
    expectValid("app_json", def, res.rows);
    expect(res.complete.status.rowErrors).toEqual({ map: 1, "transform:size": 1 });
  });

  it("collects from an S3 bucket too", async () => {
    await s3.put("logs", "app/2024/app.csv", csv);
    const res = await collect("app_csv", { ...csvDef, file_layout: "app/{year}/{file}.csv" }, "", {
      type: "aws_s3_bucket",
      config: { bucket: "logs", endpoint: s3.endpoint, force_path_style: true, region: "us-east-1", ...S3_CREDENTIALS },
    });
    expect(res.complete.error).toBeUndefined();
    expect(res.rows.map((r) => r["user"])).toEqual(["alice"]);
    expect(res.complete.status.rowErrors["required:user"]).toBe(1);
  });

  it("refuses at Collect a definition without tp_timestamp, naming the file and the column", async () => {
    const def = { format: { type: "jsonl" }, columns: [{ name: "time", type: "timestamp" }] };
    const e = await collect("no_time", def, file("x.jsonl", "{}\n")).catch((err: unknown) => err as TailkitError);
    expect(e).toBeInstanceOf(TailkitError);
    expect((e as TailkitError).code).toBe(Code.InvalidArgument);
    expect((e as TailkitError).message).toMatch(/^no_time\.yaml: columns: no column tp_timestamp/);
    expect((e as TailkitError).details.field).toBe("table_config.definition.columns");
  });

  it("refuses a bad format, type or transform, naming the file and the place", () => {
    const base = { format: { type: "jsonl" }, columns: [{ name: "tp_timestamp" }] };
    const cases: [unknown, string, RegExp][] = [
      [
        { ...base, format: { type: "grok", layout: "%{NOPE:x}" } },
        "table_config.definition.format.layout",
        /f\.yaml: format\.layout: .*unknown grok pattern %\{NOPE\}/,
      ],
      [
        { ...base, columns: [{ name: "tp_timestamp" }, { name: "a", type: "int" }] },
        "table_config.definition.columns[1].type",
        /must be one of string, integer/,
      ],
      [
        { ...base, columns: [{ name: "tp_timestamp", transforms: ["reverse"] }] },
        "table_config.definition.columns[0].transforms[0]",
        /unknown transform "reverse"/,
      ],
      [{ ...base, columns: [{ name: "tp_timestamp", layout: "%Q" }] }, "table_config.definition.columns[0].layout", /unknown token %Q/],
      [{ ...base, name: "other" }, "table_config.definition.name", /defines table "other"/],
      [{ ...base, columns: [{ name: "tp_timestamp", type: "string" }] }, "table_config.definition.columns[0].type", /must be of type timestamp/],
    ];
    for (const [def, field, message] of cases) {
      const e = thrown(() => defineCustomTable("t", def, { file: "f.yaml" }));
      expect(e.details.field).toBe(field);
      expect(e.message).toMatch(message);
    }
  });

  it("says a table that is not defined needs --table-def", async () => {
    const e = await collectInProcess(corePlugin, { table: "x", source: { type: "file", config: { paths: [root] } }, outputDir: path.join(root, "o") }).catch(
      (err: unknown) => err as TailkitError,
    );
    expect((e as TailkitError).details.field).toBe("table_config.definition");
    expect((e as TailkitError).message).toMatch(/--table-def/);
  });
});
