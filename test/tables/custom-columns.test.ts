import { describe, expect, it } from "vitest";
import { RowErrorItem } from "../../src/contract/loader.js";
import type { Mapper } from "../../src/contract/mapper.js";
import { defineCustomTable } from "../../src/index.js";
import { timestampParser } from "../../src/tables/custom/timestamp.js";

const ctx = { artifact: { name: "x", location: "/x", properties: {} }, itemIndex: 0 };

/** The row (or row error) a JSONL custom table with these columns makes of `item`. */
function row(columns: unknown[], item: Record<string, unknown>): Record<string, unknown> | RowErrorItem {
  const table = defineCustomTable("t", { format: { type: "jsonl" }, columns: [{ name: "tp_timestamp", source: "ts" }, ...columns] });
  const mappers = table.mappers!({}, { getDataSource: () => undefined }) as readonly Mapper[];
  return mappers[mappers.length - 1]!.map({ ts: "2024-01-01T00:00:00Z", ...item }, ctx) as Record<string, unknown> | RowErrorItem;
}

describe("custom table columns", () => {
  it.each([
    ["lower", ["lower"], "MiXed", "mixed"],
    ["upper", ["upper"], "MiXed", "MIXED"],
    ["trim", ["trim"], "  padded\t", "padded"],
    ["split", [{ split: ";" }], "a;b;;c", ["a", "b", "", "c"]],
    ["split of empty text", [{ split: "," }], "", []],
    ["split then trim", [{ split: "," }, "trim"], "a, b ,c", ["a", "b", "c"]],
    ["number", ["number"], " 42.5 ", 42.5],
    ["timestamp", ["timestamp"], "10/Oct/2000:13:55:36 -0700", "2000-10-10T20:55:36.000Z"],
    ["timestamp with a layout", [{ timestamp: "%b %e %Y %I:%M %p" }], "Mar  5 2024 01:30 PM", "2024-03-05T13:30:00.000Z"],
  ])("%s", (_name, transforms, value, expected) => {
    const type = Array.isArray(expected) ? "string_list" : typeof expected === "number" ? "float" : expected.endsWith("Z") ? "timestamp" : "string";
    expect(row([{ name: "v", type, transforms }], { v: value })).toMatchObject({ v: expected });
  });

  it("makes a null_if value null before the transforms, and lets null pass them", () => {
    const cols = [{ name: "v", null_if: ["-", "N/A"], transforms: ["number"], type: "float" }];
    expect(row(cols, { v: "-" })).toMatchObject({ v: null });
    expect(row(cols, { v: "N/A" })).toMatchObject({ v: null });
    expect(row(cols, { v: "7" })).toMatchObject({ v: 7 });
    expect(row(cols, {})).toMatchObject({ v: null });
  });

  it("converts each type, and refuses what a type cannot take as a type:<column> row error", () => {
    const cols = [
      { name: "i", type: "integer" },
      { name: "b", type: "boolean" },
      { name: "j", type: "json" },
      { name: "s", type: "string" },
    ];
    expect(row(cols, { i: "9007199254740993", b: "Yes", j: '{"a":[1]}', s: 5 })).toMatchObject({ i: 9007199254740993n, b: true, j: { a: [1] }, s: "5" });
    const bad = row(cols, { i: "1.5", b: "maybe" });
    expect(bad).toBeInstanceOf(RowErrorItem);
    expect((bad as RowErrorItem).operation).toBe("type:i");
    // Every failing column is named; the first gives the count's operation.
    expect((bad as RowErrorItem).message).toBe(
      'column i (integer): "1.5" is not an integer; column b (boolean): "maybe" is not a boolean (true/false, yes/no, 1/0)',
    );
  });

  it("reports a failing transform as transform:<column>, and an empty required value as required:<column>", () => {
    const t = row([{ name: "n", transforms: ["number"] }], { n: "x" });
    expect(t).toMatchObject({ operation: "transform:n", message: 'column n: number: "x" is not a number' });
    const r = row([{ name: "who", source: "user.name", required: true }], { user: { name: "" } });
    expect(r).toMatchObject({ operation: "required:who", message: "column who is required, but its source user.name is missing or null" });
  });
});

describe("timestamp layouts", () => {
  it.each([
    [undefined, "2024-02-29T23:59:59.123456+01:00", "2024-02-29T22:59:59.123Z"],
    [undefined, "2024-02-29 10:00", "2024-02-29T10:00:00.000Z"],
    [undefined, 1700000000, "2023-11-14T22:13:20.000Z"],
    [undefined, "1700000000000", "2023-11-14T22:13:20.000Z"],
    ["unix", "1700000000.5", "2023-11-14T22:13:20.500Z"],
    ["unix_ms", 1700000000000, "2023-11-14T22:13:20.000Z"],
    ["httpdate", "01/Mar/2024:00:00:00 +0000", "2024-03-01T00:00:00.000Z"],
    ["%Y%m%dT%H%M%S%z", "20240301T120000-0500", "2024-03-01T17:00:00.000Z"],
    ["%d.%m.%y %H:%M:%S.%f", "05.03.24 07:08:09.5", "2024-03-05T07:08:09.500Z"],
    ["%A, %d %B %Y", "Tuesday, 05 March 2024", "2024-03-05T00:00:00.000Z"],
  ])("%s reads %j", (layout, value, expected) => {
    expect(timestampParser(layout, "layout")(value)).toBe(expected);
  });

  it("refuses a day its month lacks and text that does not fit, rather than moving on", () => {
    expect(() => timestampParser(undefined, "l")("2023-02-29T00:00:00Z")).toThrow(/not a time there is/);
    expect(() => timestampParser("%Y-%m-%d", "l")("2024-13-01")).toThrow(/not a time there is/);
    expect(() => timestampParser("iso8601", "l")("yesterday")).toThrow(/is not a timestamp in the layout "ISO 8601"/);
  });
});
