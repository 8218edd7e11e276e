import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { createJsonDocumentLoader, documentElementBytes, documentElementTexts } from "../../src/loaders/json-document.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tailkit-split-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
let n = 0;

function artifact(text: string, gzip = false) {
  const file = path.join(dir, `f${n++}`);
  fs.writeFileSync(file, gzip ? zlib.gzipSync(text) : text);
  return { info: { name: `doc${n}.json`, location: file, properties: {} }, path: file, bytes: fs.statSync(file).size, release: async () => undefined };
}

async function items(text: string, size: number, leadingMembersOnly = false): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const batch of createJsonDocumentLoader({ splitArray: "Records", splitSize: size, leadingMembersOnly }).load(artifact(text, true)))
    out.push(...batch);
  return out;
}

async function error(text: string, split: boolean, leadingMembersOnly = false): Promise<string> {
  const loader = split ? createJsonDocumentLoader({ splitArray: "Records", splitSize: 2, leadingMembersOnly }) : createJsonDocumentLoader();
  try {
    for await (const _ of loader.load(artifact(text))) void _;
  } catch (err) {
    return (err as Error).message.replace(/^doc\d+\.json: /, "");
  }
  return "no error";
}

describe("json-document loader with splitArray", () => {
  it("yields the document in pieces that together are what JSON.parse gives, keys in the same order", async () => {
    const texts = [
      JSON.stringify({ a: 1, Records: [{ x: 1 }, 2, "s", null, [1], { y: ']}\\"' }, { z: {} }], b: { Records: [9] } }),
      '{"Records":[],"c":true}',
      '\ufeff { "Records" : [ {"p": 1} ,\n {\n "q": [1, 2]\n} ] , "Records": [ {"last": 1.50} ] }',
    ];
    for (const text of texts) {
      const parsed = JSON.parse(text.replace(/^\ufeff/, "")) as { Records: unknown[] };
      for (const size of [1, 2, 500]) {
        const got = (await items(text, size)) as { Records: unknown[] }[];
        expect(got.length).toBe(Math.max(1, Math.ceil(parsed.Records.length / size)));
        got.forEach((doc, k) => {
          expect(Object.keys(doc)).toEqual(Object.keys(parsed));
          expect(doc).toEqual({ ...parsed, Records: parsed.Records.slice(k * size, (k + 1) * size) });
          const texts = documentElementTexts(doc)!;
          expect(texts).toHaveLength(doc.Records.length);
          texts.forEach((t, i) => {
            if (t !== "") expect(JSON.parse(t)).toEqual(doc.Records[i]);
          });
        });
      }
    }
    // Pretty-printed elements are parsed but have no text.
    const pretty = (await items('{"Records":[{"a":1},\n{\n"b":2}, {"c": 3}]}', 10))[0];
    expect(documentElementTexts(pretty)).toEqual(['{"a":1}', "", '{"c": 3}']);
  });

  it("reads documents it cannot split whole, and fails malformed ones with the parser's error", async () => {
    expect(await items('{"Other":[1]}', 2)).toEqual([{ Other: [1] }]);
    expect(documentElementTexts((await items('{"Records":{"a":1}}', 2))[0])).toBeUndefined();
    for (const bad of ['{"Records":[{"a":1},{"b":tru}]}', '{"Records":[{"a":1}', '{"x":[1,],"Records":[1]}', '{"Records":[1 2]}']) {
      const message = await error(bad, true);
      expect(message).toMatch(/malformed JSON/);
      expect(message).toBe(await error(bad, false));
    }
  });

  describe("and leadingMembersOnly", () => {
    // Elements that start alike are found by their separator, which also turns up inside elements and after the array.
    const nested = { K: 2, n: [{ z: 1 }, { K: 3 }], s: '},{"K":' };
    const docs = [
      { v: 1, Records: Array.from({ length: 7 }, (_, i) => ({ K: i, tp: "x".repeat(i) })) },
      { Records: [{ K: 1 }, nested, { K: 4 }, nested, { K: 5 }] },
      { Records: [{ K: 1 }, { K: 2 }], after: [{ K: 5 }, { K: 6 }], last: { K: 7 } },
      { Records: [{ K: 1 }, { K: 2, n: [{ z: 1 }, { K: 3 }] }], after: [{ K: 5 }, { K: 6 }] },
      { Records: [{ K: 1 }, 2, "s", null, { K: 3 }] },
      { Records: [{ K: 1 }] },
      { a: "b", Records: [] },
    ];

    it("gives each element as JSON.parse does, and the members before the array in every item", async () => {
      for (const d of docs) {
        const text = JSON.stringify(d);
        const parsed = JSON.parse(text) as { Records: unknown[] } & Record<string, unknown>;
        const before: Record<string, unknown> = {};
        for (const k of Object.keys(parsed)) {
          if (k === "Records") break;
          before[k] = parsed[k];
        }
        for (const size of [1, 2, 500]) {
          const got = (await items(text, size, true)) as ({ Records: unknown[] } & Record<string, unknown>)[];
          expect(got.flatMap((doc) => doc.Records)).toEqual(parsed.Records);
          expect(got.length).toBe(Math.max(1, Math.ceil(parsed.Records.length / size)));
          for (const doc of got) {
            expect(doc).toEqual({ ...before, Records: doc.Records });
            const texts = documentElementTexts(doc)!;
            const where = documentElementBytes(doc)!;
            texts.forEach((t, i) => {
              expect(JSON.parse(t)).toEqual(doc.Records[i]);
              expect(
                Buffer.from(text)
                  .subarray(where.spans[2 * i], where.spans[2 * i + 1])
                  .toString(),
              ).toBe(t);
            });
          }
        }
      }
    });

    it("agrees with JSON.parse on generated documents built to mislead the separator search, and on broken copies", async () => {
      let seed = 0x1234567;
      const rand = (n: number) => {
        seed ^= seed << 13;
        seed ^= seed >>> 17;
        seed ^= seed << 5;
        return (seed >>> 0) % n;
      };
      // Values that hold the separator's text: in strings (escaped or not), in nested objects that start with the same
      // key, in arrays of such objects, next to whitespace.
      const leaf = (): unknown => [1, -2.5e3, true, null, '},{"K":', '},{"K":', "s p", "é", { K: 1 }, [{ K: 2 }, { K: 3 }], { z: [{ K: { K: 4 } }] }][rand(11)];
      const element = (): unknown => {
        if (rand(10) === 0) return leaf();
        const o: Record<string, unknown> = { K: leaf() };
        for (let i = rand(4); i > 0; i--) o[["a", "K2", "n", "tp_x"][rand(4)]!] = leaf();
        return o;
      };
      for (let d = 0; d < 150; d++) {
        const doc: Record<string, unknown> = {};
        if (rand(3) === 0) doc["before"] = leaf();
        doc["Records"] = Array.from({ length: rand(12) }, element);
        if (rand(3) === 0) doc["after"] = [{ K: 1 }, { K: 2 }];
        // Mostly compact, as CloudTrail writes; sometimes pretty-printed (line breaks between tokens).
        const text = JSON.stringify(doc, null, [0, 0, 0, 1, "\t"][rand(5)]);
        const parsed = JSON.parse(text) as { Records: unknown[] };
        const got = (await items(text, 1 + rand(4), true)) as { Records: unknown[] }[];
        expect(got.flatMap((x) => x.Records)).toEqual(parsed.Records);
        // A broken copy (one byte dropped) fails as reading it whole does, or is still valid and read the same.
        const at = rand(text.length);
        const broken = text.slice(0, at) + text.slice(at + 1);
        let valid = true;
        try {
          JSON.parse(broken);
        } catch {
          valid = false;
        }
        if (!valid) expect(await error(broken, true, true)).toBe(await error(broken, false));
      }
    });

    it("fails a malformed document with the parser's error, wherever the fault is", async () => {
      const bad = [
        '{"Records":[{"K":1},{"K":2},{"K":tru},{"K":4}]}',
        '{"Records":[{"K":1},{"K":2},{"K":3}],"after":tru}',
        '{"Records":[{"K":1},{"K":2},{"K":3}]',
        '{"Records":[{"K":1},{"K":2},{"K":3}]}x',
        '{"x":[1,],"Records":[{"K":1},{"K":2}]}',
        '{"Records":[{"K":1},{"K":2},{"K":3}],"after":[{"K":1},{"K":2]}',
      ];
      for (const text of bad) {
        const message = await error(text, true, true);
        expect(message).toMatch(/malformed JSON/);
        expect(message).toBe(await error(text, false));
      }
    });

    it("reads a document that names the array twice as JSON.parse does, or says so when the first was already read", async () => {
      // One element: nothing to guess, the rest is read first, and the whole document is parsed (the last one wins).
      expect(await items('{"Records":[{"K":1}],"Record\\u0073":[{"K":2}]}', 10, true)).toEqual([{ Records: [{ K: 2 }] }]);
      expect(await error('{"Records":[{"K":1},{"K":2},{"K":3}],"Record\\u0073":[{"K":4}]}', true, true)).toBe(
        'the document has a second "Records" member after the one read; its elements were not read',
      );
    });
  });

  it("rejects a bad splitSize", () => {
    expect(() => createJsonDocumentLoader({ splitArray: "Records", splitSize: 0 })).toThrow(/splitSize/);
  });
});
