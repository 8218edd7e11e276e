import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { createJsonDocumentLoader, documentElementTexts } from "../../src/loaders/json-document.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tailkit-split-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
let n = 0;

function artifact(text: string, gzip = false) {
  const file = path.join(dir, `f${n++}`);
  fs.writeFileSync(file, gzip ? zlib.gzipSync(text) : text);
  return { info: { name: `doc${n}.json`, location: file, properties: {} }, path: file, bytes: fs.statSync(file).size, release: async () => undefined };
}

async function items(text: string, size: number): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const batch of createJsonDocumentLoader({ splitArray: "Records", splitSize: size }).load(artifact(text, true))) out.push(...batch);
  return out;
}

async function error(text: string, split: boolean): Promise<string> {
  const loader = split ? createJsonDocumentLoader({ splitArray: "Records", splitSize: 2 }) : createJsonDocumentLoader();
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
      JSON.stringify({ a: 1, Records: [{ x: 1 }, 2, "s", null, [1], { y: "]}\\\"" }, { z: {} }], b: { Records: [9] } }),
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
    const pretty = (await items('{"Records":[{"a":1},\n{\n"b":2}]}', 10))[0];
    expect(documentElementTexts(pretty)).toEqual(['{"a":1}', ""]);
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

  it("rejects a bad splitSize", () => {
    expect(() => createJsonDocumentLoader({ splitArray: "Records", splitSize: 0 })).toThrow(/splitSize/);
  });
});
