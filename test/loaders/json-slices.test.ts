import { describe, expect, it } from "vitest";
import { findTopLevelArrayBytes, topLevelArraySpans } from "../../src/loaders/json-slices.js";

function elements(text: string, key = "Records"): (string | null)[] | undefined {
  const spans = topLevelArraySpans(text, key);
  if (spans === undefined) return undefined;
  const out: (string | null)[] = [];
  for (let i = 0; i < spans.length; i += 2) out.push(spans[i]! < 0 ? null : text.slice(spans[i], spans[i + 1]));
  return out;
}

describe("topLevelArraySpans", () => {
  it("finds each element's text, whatever strings and nesting it holds", () => {
    const records = [
      { a: 1, s: 'quote " and backslash \\ and \\" and ]}', n: [1, [2, { x: "}" }]] },
      { b: null, c: true, d: -1.5e3, u: "é ✓ \u2028" },
      {},
      "str",
      42,
      [],
    ];
    const text = JSON.stringify({ before: { Records: [9] }, Records: records, after: "x" });
    expect(elements(text)).toEqual(records.map((r) => JSON.stringify(r)));
    expect(elements(JSON.stringify({ Records: [] }))).toEqual([]);
  });

  it("marks elements with whitespace between tokens, and tolerates whitespace around them", () => {
    const text = '\n{ "x" : 1 ,\r\n "Records" : [ {"a":1} ,\n{\n"b": 2}, {"c":"s p a c e"} ] }\n';
    expect(elements(text)).toEqual(['{"a":1}', null, '{"c":"s p a c e"}']);
  });

  it("takes the last member of that name, and gives up on escaped keys, missing members and non-arrays", () => {
    expect(elements('{"Records":[1],"Records":[{"z":2}]}')).toEqual(['{"z":2}']);
    expect(elements('{"Records":[1],"Records":{}}')).toBeUndefined();
    expect(elements('{"Record\\u0073":[1]}')).toBeUndefined();
    expect(elements('{"other":[1]}')).toBeUndefined();
    expect(elements("[1]")).toBeUndefined();
    expect(elements("{}")).toBeUndefined();
  });

  it("finds the same spans in bytes as in text, with quotes and backslashes at every offset of a word", () => {
    // The byte scanner looks for a string's closing quote four bytes at a time.
    const records: unknown[] = [];
    for (let len = 0; len < 14; len++) {
      for (let at = 0; at <= len; at++) {
        const plain = "abcdefghijklmn".slice(0, len);
        records.push({ s: plain.slice(0, at) + '"' + plain.slice(at), t: plain.slice(0, at) + "\\" + plain.slice(at), u: plain + '\\"' });
      }
    }
    // And plain strings of every length, whose closing quote falls at every offset of a word.
    for (let len = 0; len < 24; len++) records.push({ v: "abcdefghijklmnopqrstuvwx".slice(0, len), [`k${"y".repeat(len)}`]: len });
    for (const pad of ["", " ", "  ", "   "]) {
      const text = `{${pad}"Records":${JSON.stringify(records)},"after":"x\\""}`;
      const bytes = Buffer.from(text, "latin1");
      expect(findTopLevelArrayBytes(bytes, "Records")?.spans).toEqual(topLevelArraySpans(text, "Records"));
      expect(elements(text)).toEqual(records.map((r) => JSON.stringify(r)));
    }
  });
});
