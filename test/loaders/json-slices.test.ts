import { describe, expect, it } from "vitest";
import { topLevelArraySpans } from "../../src/loaders/json-slices.js";

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
});
