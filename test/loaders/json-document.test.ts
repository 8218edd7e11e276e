import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Code, TailkitError } from "../../src/errors/index.js";
import { createJsonDocumentLoader } from "../../src/loaders/index.js";
import type { LoaderOptions } from "../../src/loaders/index.js";

let dir: string;
beforeEach(async () => {
  dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), "tailkit-json-"));
});
afterEach(async () => {
  await fs.promises.rm(dir, { recursive: true, force: true });
});

async function load(fileName: string, content: string | Buffer, name = fileName, options?: LoaderOptions) {
  const file = path.join(dir, fileName);
  await fs.promises.writeFile(file, content);
  const artifact = { info: { name, location: file, properties: {} }, path: file, bytes: fs.statSync(file).size, release: async () => {} };
  const batches: unknown[][] = [];
  for await (const batch of createJsonDocumentLoader().load(artifact, options)) batches.push(batch);
  return batches;
}

async function loadError(fileName: string, content: string | Buffer, name = fileName, options?: LoaderOptions): Promise<TailkitError> {
  const err: unknown = await load(fileName, content, name, options).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TailkitError);
  return err as TailkitError;
}

const doc = { Records: [{ eventName: "ConsoleLogin" }, { eventName: "GetObject" }] };

describe("createJsonDocumentLoader", () => {
  it("yields the parsed document as one batch of one item", async () => {
    expect(await load("x.json", JSON.stringify(doc))).toEqual([[doc]]);
  });

  it("gunzips by magic bytes whatever the file is called", async () => {
    expect(await load("x.json.gz", zlib.gzipSync(JSON.stringify(doc)))).toEqual([[doc]]);
    expect(await load("named-plain.json", zlib.gzipSync(JSON.stringify(doc)))).toEqual([[doc]]);
  });

  it("accepts a byte order mark", async () => {
    expect(await load("bom.json", `\ufeff${JSON.stringify(doc)}`)).toEqual([[doc]]);
  });

  it("reports a truncated gzip as DataLoss, naming the file", async () => {
    const gz = zlib.gzipSync(JSON.stringify({ big: "y".repeat(100_000), ...doc }));
    const err = await loadError("x.json.gz", gz.subarray(0, gz.length - 20), "aws/x.json.gz");
    expect(err.code).toBe(Code.DataLoss);
    expect(err.message).toBe("aws/x.json.gz: gzip stream is truncated (unexpected end of file)");
    expect(err.details).toMatchObject({ artifact: "aws/x.json.gz", operation: "load" });
  });

  it("reports malformed JSON as InvalidArgument, naming the file and the fault", async () => {
    const err = await loadError("x.json", '{"Records": [1, 2', "logs/x.json");
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.message).toMatch(/^logs\/x\.json: malformed JSON/);
    expect(err.message).toContain("position 17");
  });

  it("says 'not gzip', not 'malformed JSON', for a file named .gz whose bytes are not gzip", async () => {
    const err = await loadError("x.json.gz", JSON.stringify(doc), "aws/x.json.gz");
    expect(err.code).toBe(Code.DataLoss);
    expect(err.message).toBe(
      'aws/x.json.gz: not gzip: the name ends in .gz but the file starts with 7b 22 52 65 63 6f 72 64 ("{\\"Record"), not the gzip magic bytes 1f 8b',
    );
    expect(err.details).toMatchObject({ artifact: "aws/x.json.gz", operation: "load" });
  });

  it("yields nothing, without an error, for an empty file, a 0-byte .gz, a gzip stream of nothing and whitespace", async () => {
    expect(await load("empty.json", "")).toEqual([]);
    expect(await load("empty.json.gz", "")).toEqual([]);
    expect(await load("nothing.json.gz", zlib.gzipSync(Buffer.alloc(0)))).toEqual([]);
    expect(await load("blank.json", " \r\n")).toEqual([]);
    expect(await load("bom.json", "\ufeff")).toEqual([]);
  });

  it("reports malformed JSON inside a gzip file too", async () => {
    const err = await loadError("x.json.gz", zlib.gzipSync("{not json}"));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.message).toMatch(/^x\.json\.gz: malformed JSON/);
  });

  it("refuses a document over maxDocumentBytes, plain or gzip", async () => {
    const text = JSON.stringify({ pad: "z".repeat(10_000) });
    const plain = await loadError("big.json", text, "big.json", { maxDocumentBytes: 1000 });
    expect(plain.code).toBe(Code.ResourceExhausted);
    expect(plain.message).toContain("big.json");
    expect(plain.message).toContain("1000");
    const gz = await loadError("big.json.gz", zlib.gzipSync(text), "big.json.gz", { maxDocumentBytes: 1000 });
    expect(gz.code).toBe(Code.ResourceExhausted);
    expect(gz.message).toContain("big.json.gz");
  });
});
