import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TailkitError } from "../../src/errors/index.js";
import { defineDelimitedTable, type DelimitedTableOptions } from "../../src/tables/delimited.js";
import { bothPaths } from "./line-format-helpers.js";

let dir: string;
beforeEach(async () => {
  dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), "tailkit-delimited-"));
});
afterEach(async () => {
  await fs.promises.rm(dir, { recursive: true, force: true });
});

const base: DelimitedTableOptions = {
  name: "app_log",
  description: "tab-separated application log",
  rowSchema: { type: "object" },
  sources: { file: {} },
  columns: ["ts", "user", "alias", "host", "bytes"],
  numbers: ["ts", "bytes"],
  separator: "\t",
  nullValue: "",
  enrich: { timestamp: { field: "ts", unit: "ms" }, index: { field: "host" }, usernames: ["user", "alias"], tags: ["host"] },
};

describe("defineDelimitedTable", () => {
  it("makes a table whose line format and reference path agree: tabs, empty text as null, ms times, string arrays", async () => {
    const table = defineDelimitedTable(base);
    const file = path.join(dir, "app.tsv");
    fs.writeFileSync(
      file,
      [
        "1700000000123\talice\talice\tweb-1\t512",
        "1700000000124\tbob\tbobby\t\t0",
        "1700000000125\t\tcarol\tweb-2\t",
        "ts\tuser\thost",
        "1700000000126\tdave\tweb-3",
        "1700000000127\téva\tweb-3",
        "1700000000128\tfrank",
      ].join("\n") + "\n",
    );
    const out = await bothPaths(table, file);
    expect(out.lines.map((l) => JSON.parse(l) as Record<string, unknown>)).toMatchObject([
      { ts: 1700000000123, user: "alice", alias: "alice", bytes: 512, tp_usernames: ["alice"], tp_tags: ["web-1"], tp_index: "web-1", tp_timestamp: "2023-11-14T22:13:20.123Z" },
      { user: "bob", host: null, tp_usernames: ["bob", "bobby"], tp_tags: [], tp_index: "default" },
      { user: null, bytes: null, tp_usernames: ["carol"] },
      // A header changed the columns: no alias any more.
      { user: "dave", host: "web-3", tp_usernames: ["dave"] },
      { user: "éva", tp_usernames: ["éva"] },
    ]);
    expect(out.errors).toEqual(["5 map record 7: app_log: expected 3 tab-separated fields, found 2"]);
  });

  it("refuses options it cannot compile, naming the option", () => {
    const bad: [Partial<DelimitedTableOptions>, RegExp][] = [
      [{ columns: [] }, /^columns: /],
      [{ separator: "ab" }, /^separator: /],
      [{ separator: "\n" }, /^separator: /],
      [{ enrich: { timestamp: { field: "when", unit: "s" } } }, /^enrich\.timestamp\.field: names "when"/],
      [{ enrich: { timestamp: { field: "user", unit: "s" } } }, /^enrich\.timestamp\.field: field "user" must be a number column/],
      [{ enrich: { timestamp: { field: "ts", unit: "h" as "s" } } }, /^enrich\.timestamp\.unit: /],
      [{ enrich: { timestamp: { field: "ts", unit: "s" }, ips: ["bytes"] } }, /^enrich\.ips: field "bytes" must be a string column/],
    ];
    for (const [patch, message] of bad) {
      let caught: unknown;
      try {
        defineDelimitedTable({ ...base, ...patch });
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(TailkitError);
      expect((caught as Error).message).toMatch(message);
    }
  });
});
