import { describe, expect, it } from "vitest";
import { createEnricher } from "../../src/collection/enrich.js";
import { exactInteger, exactNumber, parseRowJson, rowJson } from "../../src/mappers/exact-numbers.js";
import { createDelimitedMapper } from "../../src/mappers/delimited.js";
import { RawRow } from "../../src/mappers/raw-row.js";
import { createRegexMapper } from "../../src/mappers/regex.js";
import type { TableDefinition } from "../../src/contract/table.js";
import type { Row } from "../../src/contract/row.js";

const ctx = { artifact: { name: "a", location: "/a", properties: {} }, itemIndex: 0 };

describe("exact numbers", () => {
  it("keeps numbers that fit as numbers and integers beyond 2^53 as bigints of their value", () => {
    expect(exactInteger("9007199254740991")).toBe(9007199254740991);
    expect(exactInteger("-9007199254740991")).toBe(-9007199254740991);
    expect(exactInteger("9007199254740992")).toBe(9007199254740992n);
    expect(exactInteger("9007199254740993")).toBe(9007199254740993n);
    expect(exactInteger("-0009007199254740993")).toBe(-9007199254740993n);
    expect(exactInteger("+18446744073709551615")).toBe(18446744073709551615n);
    expect(exactInteger("1e20")).toBeUndefined();
    expect(exactInteger("12.5")).toBeUndefined();
    const n = (t: string) => exactNumber(t, Number(t));
    expect(n("0443")).toBe(443);
    expect(n("1e3")).toBe(1000);
    expect(n("1.5")).toBe(1.5);
    expect(n("9007199254740993")).toBe(9007199254740993n);
    expect(n("1" + "0".repeat(400))).toBe(10n ** 400n);
    // Not integer literals: what a double makes of them, as before.
    expect(n("9007199254740993.0")).toBe(9007199254740992);
    expect(n("1e400")).toBe(Infinity);
    expect(n("Infinity")).toBe(Infinity);
  });

  it("writes bigints as JSON integers of their digits, anywhere in a row, and nothing else differently", () => {
    expect(rowJson({ a: 9007199254740993n, b: [-123456789012345678901234567890n, { c: 0n }], d: "9007199254740993" })).toBe(
      '{"a":9007199254740993,"b":[-123456789012345678901234567890,{"c":0}],"d":"9007199254740993"}',
    );
    const plain = { a: 1, b: 'x\u0000"', c: [null, 1.5], d: new Date(0) };
    expect(rowJson(plain)).toBe(JSON.stringify(plain));
    // A string shaped like the mark the bigints get is left as text.
    expect(rowJson({ a: 1n, s: "\uE000tailkit-integer-:1" })).toBe('{"a":1,"s":"\uE000tailkit-integer-:1"}');
    const cycle: Row = { n: 1n };
    cycle["self"] = cycle;
    expect(() => rowJson(cycle)).toThrow(/circular/i);
  });

  it("reads JSON text keeping integer literals beyond 2^53, and digits in strings as text", () => {
    const text = '{"a":9007199254740993,"s":"x\\"12345678901234567890\\\\","n":[-12345678901234567890,1.5e+300,9007199254740991],"f":12345678901234567.5}';
    const v = parseRowJson(text) as Row;
    expect(v["a"]).toBe(9007199254740993n);
    expect(v["s"]).toBe('x"12345678901234567890\\');
    expect(v["n"]).toEqual([-12345678901234567890n, 1.5e300, 9007199254740991]);
    // A fraction is a double's to round, as JSON.parse does.
    expect(v["f"]).toBe(Number("12345678901234567.5"));
    expect(rowJson(v)).toBe(text.replace("12345678901234567.5", String(Number("12345678901234567.5"))));
    expect(parseRowJson('{"a":1}')).toEqual({ a: 1 });
    // What JSON does not allow stays an error.
    expect(() => parseRowJson('{"a":09007199254740993}')).toThrow(SyntaxError);
  });

  it("lets the delimited and regex mappers' int and float columns take integers beyond 2^53", () => {
    const delimited = createDelimitedMapper({ fields: ["a", "b", "c"], types: { a: "int", b: "float", c: "int" } });
    expect(delimited.map("9007199254740993 18446744073709551617 7", ctx)).toEqual({ a: 9007199254740993n, b: 18446744073709551617n, c: 7 });
    expect(() => delimited.map("1.5 1 1", ctx)).toThrow('field "a": expected an integer, found "1.5"');
    const regex = createRegexMapper(/^(?<n>\S+) (?<f>\S+)$/, { types: { n: "int", f: "float" } });
    expect(regex.map("-9007199254740993 2.5", ctx)).toEqual({ n: -9007199254740993n, f: 2.5 });
    expect(() => regex.map("x 1", ctx)).toThrow('group "n": expected an integer, found "x"');
  });

  it("has the enricher write a row's bigints with their digits, on its plain, slow and pre-serialized ways", () => {
    const table: TableDefinition<unknown> = {
      name: "t",
      description: "",
      rowSchema: {},
      sources: {},
      loader: () => ({ name: "x", load: async function* () {} }),
      mappers: () => [],
      enrich: () => ({ tp_timestamp: 0 }),
    };
    const enrich = createEnricher({ table, partition: "p", sourceType: "file", sourceName: "s", artifact: ctx.artifact });
    const raw = '{"id":"tp_x","n":9007199254740993,"m":-18446744073709551617}';
    const out = enrich(
      [
        { n: 9007199254740993n },
        { tp_index: "x", n: 9007199254740993n }, // an existing tp_ field: the slow path
        new RawRow(raw, {}), // "tp_ in the text: parsed, enriched the slow way, written again
      ],
      [0, 1, 2],
    );
    expect(out.failures).toEqual([]);
    const lines = out.bytes.toString("utf8").trimEnd().split("\n");
    expect(lines[0]).toMatch(/^\{"n":9007199254740993,"tp_id":/);
    expect(lines[1]).toMatch(/^\{"tp_index":"default","n":9007199254740993,"tp_id":/);
    expect(lines[2]).toMatch(/^\{"id":"tp_x","n":9007199254740993,"m":-18446744073709551617,"tp_id":/);
  });
});
