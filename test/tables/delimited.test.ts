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
      {
        ts: 1700000000123,
        user: "alice",
        alias: "alice",
        bytes: 512,
        tp_usernames: ["alice"],
        tp_tags: ["web-1"],
        tp_index: "web-1",
        tp_timestamp: "2023-11-14T22:13:20.123Z",
      },
      { user: "bob", host: null, tp_usernames: ["bob", "bobby"], tp_tags: [], tp_index: "default" },
      { user: null, bytes: null, tp_usernames: ["carol"] },
      // A header changed the columns: no alias any more.
      { user: "dave", host: "web-3", tp_usernames: ["dave"] },
      { user: "éva", tp_usernames: ["éva"] },
    ]);
    expect(out.errors).toEqual(["5 map line 7: app_log: expected 3 tab-separated fields, found 2"]);
  });

  it("agrees with the reference path byte for byte on fields of every length and byte class, wherever a word boundary falls", async () => {
    // The line format reads a line four bytes at a time; this puts separators, nulls, escapes, control bytes, DEL,
    // non-ASCII and invalid UTF-8 at every offset of a word, in fields of 0 to 11 bytes, including the line's last.
    let seed = 0x9e3779b9 | 0;
    const rand = (n: number) => {
      // xorshift32: successive draws are independent enough to mix every byte class into every field.
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const variants: [string, string][] = [
      [" ", "-"],
      ["\t", ""],
      [",", "NA"],
    ];
    for (const [separator, nullValue] of variants) {
      const table = defineDelimitedTable({
        ...base,
        separator,
        nullValue,
        columns: ["ts", "user", "alias", "host", "bytes", "note"],
        numbers: ["ts", "bytes"],
        enrich: { timestamp: { field: "ts", unit: "s" }, index: { field: "host" }, sourceIp: "alias", ips: ["user", "host"], tags: ["note"] },
      });
      const sep = separator.charCodeAt(0);
      const odd = [0x00, 0x01, 0x09, 0x1f, 0x20, 0x22, 0x2c, 0x5c, 0x7f, 0x80, 0xc3, 0xa9, 0xe2, 0xff].filter((c) => c !== sep);
      const text = (len: number, allowOdd: boolean): number[] =>
        Array.from({ length: len }, () => (allowOdd && rand(12) === 0 ? odd[rand(odd.length)]! : 0x61 + rand(26)));
      const digits = (len: number): number[] => Array.from({ length: len }, (_, k) => 0x30 + (k === 0 && len > 1 ? 1 + rand(9) : rand(10)));
      const field = (numeric: boolean): number[] => {
        const r = rand(20);
        if (r === 0) return [...Buffer.from(nullValue)];
        if (numeric) {
          if (r === 1) return [0x30, ...digits(rand(3))]; // leading zero
          if (r === 2) return [...digits(1 + rand(5)), rand(2) === 0 ? odd[rand(odd.length)]! : 0x3a + rand(40)]; // a non-digit at the end
          if (r === 3) return digits(16 + rand(3)); // 16 digits or more: beyond 2^53 or near it
          if (r === 4) {
            // Around and beyond 2^53, signed, with leading zeros: a double would round these.
            const near = ["9007199254740991", "9007199254740992", "9007199254740993", "18446744073709551617"][rand(4)]!;
            const big = rand(2) === 0 ? near : String.fromCharCode(...digits(16 + rand(20)));
            return [...Buffer.from(["", "", "-", "+", "0", "00", "-0"][rand(7)]! + big)];
          }
          return digits(rand(12));
        }
        return text(rand(12), true);
      };
      const lines: Buffer[] = [];
      for (let i = 0; i < 4000; i++) {
        const ts = rand(30) === 0 ? field(true) : [...Buffer.from(String(1700000000 + rand(100000)))];
        const fields = [ts, field(false), field(false), field(false), field(true), field(false)];
        if (rand(40) === 0) fields.pop();
        if (rand(40) === 0) fields.push(text(rand(4), false));
        const bytes: number[] = [];
        fields.forEach((f, k) => bytes.push(...(k > 0 ? [sep] : []), ...f));
        lines.push(Buffer.from(bytes.filter((c) => c !== 0x0a && c !== 0x0d)));
      }
      const file = path.join(dir, `bytes-${sep}.log`);
      // No final newline: the last line ends at the file's last byte, with no room for a word after it.
      fs.writeFileSync(file, Buffer.concat(lines.flatMap((l, k) => (k > 0 ? [Buffer.from("\n"), l] : [l]))));
      const out = await bothPaths(table, file, { loader: { batchSize: 97 } });
      expect(out.lines.length).toBeGreaterThan(1500);
      expect(out.errors.length).toBeGreaterThan(100);
      // Integers beyond 2^53 came out with their digits (JSON.stringify of a double ends such a number in zeros).
      expect(out.raw.some((l) => /"bytes":-?9007199254740993[,}]/.test(l))).toBe(true);
      expect(out.raw.some((l) => /"bytes":\d{22,}[,}]/.test(l))).toBe(true);
    }
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
