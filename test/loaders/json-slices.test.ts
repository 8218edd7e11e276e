import { describe, expect, it } from "vitest";
import { arraySpansFrom, findTopLevelArrayBytes, topLevelArraySpans } from "../../src/loaders/json-slices.js";

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

  it("marks elements with a line break between tokens, keeps those with spaces, and tolerates whitespace around them", () => {
    const text = '\n{ "x" : 1 ,\r\n "Records" : [ {"a":1} ,\n{\n"b": 2}, {"c":"s p a c e"}, { "d" :\t[1, 2] },{\r"e":1} ] }\n';
    expect(elements(text)).toEqual(['{"a":1}', null, '{"c":"s p a c e"}', '{ "d" :\t[1, 2] }', null]);
    expect(findTopLevelArrayBytes(Buffer.from(text), "Records")?.spans).toEqual(topLevelArraySpans(text, "Records"));
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

  describe("with guess", () => {
    const slices = (text: string, spans: number[]) => {
      const out: string[] = [];
      for (let i = 0; i < spans.length; i += 2) out.push(text.slice(spans[i], spans[i + 1]));
      return out;
    };

    it("finds the elements of a compact array whose elements start alike by their separator, as reading every byte does", () => {
      const records = Array.from({ length: 50 }, (_, i) => ({ eventVersion: "1.09", n: i, s: '},{"x":' + "y".repeat(i % 7), a: [{ b: i }] }));
      const text = JSON.stringify({ Records: records });
      const bytes = Buffer.from(text);
      const exact = findTopLevelArrayBytes(bytes, "Records")!;
      const guessed = findTopLevelArrayBytes(bytes, "Records", { guess: true })!;
      expect(guessed.guessedFrom).toBe(1);
      expect(guessed.spans).toEqual(exact.spans);
      expect(guessed.end).toBe(exact.end);
      expect(slices(text, guessed.spans).map((t) => JSON.parse(t) as unknown)).toEqual(records);
    });

    it("leaves a separator inside an element, or past the array, to the caller, who reads on from there with arraySpansFrom", () => {
      const text = '{"Records":[{"K":1},{"K":2,"n":[{"z":1},{"K":3}]},{"K":4}],"after":[{"K":5},{"K":6}]}';
      const bytes = Buffer.from(text);
      const guessed = findTopLevelArrayBytes(bytes, "Records", { guess: true })!;
      const got = slices(text, guessed.spans);
      // The second span ends inside the second element: it does not parse, and the caller reads on byte by byte.
      expect(got[0]).toBe('{"K":1}');
      expect(() => JSON.parse(got[1]!) as unknown).toThrow();
      const rest = arraySpansFrom(bytes, guessed.spans[2]!)!;
      expect(slices(text, rest.spans)).toEqual(['{"K":2,"n":[{"z":1},{"K":3}]}', '{"K":4}']);
      expect(text.slice(rest.end)).toBe(',"after":[{"K":5},{"K":6}]}');
      expect(arraySpansFrom(Buffer.from('{"K":1},{"K":'), 0)).toBeUndefined();
    });

    it("guesses nothing when the separator has whitespace or the elements have line breaks, and reads them as without guess", () => {
      for (const text of [
        '{"Records":[{"K":1}, {"K":2},{"K":3}]}',
        '{"Records":[{"K":1},{"K":2},{"K":\n3},{"K":4}]}',
        '{"Records":[1,2,3]}',
        '{"Records":[{"K":1}]}',
      ]) {
        const bytes = Buffer.from(text);
        const guessed = findTopLevelArrayBytes(bytes, "Records", { guess: true })!;
        expect(guessed.guessedFrom).toBeUndefined();
        expect(guessed.spans).toEqual(findTopLevelArrayBytes(bytes, "Records")!.spans);
      }
    });
  });
});
