import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Code, TailkitError } from "../../src/errors/index.js";
import { createLinesLoader, RowErrorItem, SKIPPED_LINE } from "../../src/loaders/index.js";
import type { LoaderOptions } from "../../src/loaders/index.js";
import type { LocalArtifact } from "../../src/contract/source.js";

let dir: string;
beforeEach(async () => {
  dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), "tailkit-lines-"));
});
afterEach(async () => {
  await fs.promises.rm(dir, { recursive: true, force: true });
});

function artifact(file: string, name = path.basename(file)): LocalArtifact {
  return {
    info: { name, location: file, properties: {} },
    path: file,
    bytes: fs.statSync(file).size,
    release: async () => {},
  };
}

async function write(name: string, content: string | Buffer): Promise<string> {
  const file = path.join(dir, name);
  await fs.promises.writeFile(file, content);
  return file;
}

/** Loads everything; returns the batches and the error that ended loading, if any. */
async function loadAll(file: string, options?: LoaderOptions, name?: string) {
  const batches: unknown[][] = [];
  let error: unknown;
  try {
    for await (const batch of createLinesLoader().load(artifact(file, name), options)) batches.push(batch);
  } catch (err) {
    error = err;
  }
  return { batches, items: batches.flat(), error };
}

describe("createLinesLoader", () => {
  it("yields each line without its newline, keeps empty lines, and adds no item for the final newline", async () => {
    const file = await write("a.log", "one\n\nthree\n");
    const { items, error } = await loadAll(file);
    expect(error).toBeUndefined();
    expect(items).toEqual(["one", "", "three"]);
  });

  it("yields a last line that has no newline", async () => {
    const { items } = await loadAll(await write("a.log", "one\ntwo"));
    expect(items).toEqual(["one", "two"]);
  });

  it("strips the \\r of CRLF line endings, also when \\r and \\n fall in different reads", async () => {
    // 256 KiB reads: put a \r exactly at the end of the first read.
    const first = "x".repeat(256 * 1024 - 1);
    const { items } = await loadAll(await write("crlf.log", `${first}\r\nsecond\r\nthird\r\n`));
    expect(items).toEqual([first, "second", "third"]);
  });

  it("decodes multi-byte UTF-8 split across reads and drops a byte order mark", async () => {
    const line = "é".repeat(200_000); // 400,000 bytes, longer than one read
    const { items } = await loadAll(await write("u.log", `\ufeff${line}\nnext\n`));
    expect(items).toEqual([line, "next"]);
  });

  it("detects gzip by its magic bytes even when the file is named .log", async () => {
    const file = await write("plain-name.log", zlib.gzipSync("alpha\nbeta\n"));
    const { items, error } = await loadAll(file);
    expect(error).toBeUndefined();
    expect(items).toEqual(["alpha", "beta"]);
  });

  it("refuses a file named .gz that is not gzip as 'not gzip', showing its first bytes", async () => {
    const { items, error } = await loadAll(await write("not-really.log.gz", "alpha\n"));
    expect(items).toEqual([]);
    expect(error).toBeInstanceOf(TailkitError);
    expect((error as TailkitError).code).toBe(Code.DataLoss);
    expect((error as TailkitError).message).toBe(
      'not-really.log.gz: not gzip: the name ends in .gz but the file starts with 61 6c 70 68 61 0a ("alpha\\n"), not the gzip magic bytes 1f 8b',
    );
    expect((error as TailkitError).details).toMatchObject({ artifact: "not-really.log.gz", operation: "load" });
  });

  it("gives no item and no error for an empty file, a 0-byte .gz and a gzip stream of nothing", async () => {
    for (const [name, content] of [
      ["empty.log", ""],
      ["empty.log.gz", ""],
      ["nothing.log.gz", zlib.gzipSync(Buffer.alloc(0))],
    ] as const) {
      const { batches, error } = await loadAll(await write(name, content));
      expect(error, name).toBeUndefined();
      expect(batches, name).toEqual([]);
    }
  });

  it("yields batches of 2,000 items by default, and of batchSize when given", async () => {
    const lines = Array.from({ length: 5_001 }, (_, i) => `line ${i}`);
    const file = await write("many.log", lines.join("\n") + "\n");
    const byDefault = await loadAll(file);
    expect(byDefault.batches.map((b) => b.length)).toEqual([2000, 2000, 1001]);
    expect(byDefault.items).toEqual(lines);
    const small = await loadAll(file, { batchSize: 1000 });
    expect(small.batches.map((b) => b.length)).toEqual([1000, 1000, 1000, 1000, 1000, 1]);
  });

  it("applies skipLines with the 0-based line number, leaving SKIPPED_LINE in a skipped line's place", async () => {
    const file = await write("h.log", "#header\na\n#comment\nb\n");
    const seen: number[] = [];
    const loader = createLinesLoader({
      skipLines: (line, index) => {
        seen.push(index);
        return line.startsWith("#");
      },
    });
    const items: unknown[] = [];
    for await (const batch of loader.load(artifact(file))) items.push(...batch);
    expect(items).toEqual([SKIPPED_LINE, "a", SKIPPED_LINE, "b"]);
    expect(seen).toEqual([0, 1, 2, 3]);
  });

  it("turns an over-long line into a RowErrorItem in its place and goes on with the next lines", async () => {
    const long = "x".repeat(5 * 1024 * 1024);
    const file = await write("long.log", `first\n${long}\nthird\n`);
    const { items, error } = await loadAll(file, { maxLineBytes: 1024 * 1024 });
    expect(error).toBeUndefined();
    expect(items).toHaveLength(3);
    expect(items[0]).toBe("first");
    expect(items[1]).toBeInstanceOf(RowErrorItem);
    const item = items[1] as RowErrorItem;
    expect(item.operation).toBe("load");
    // The line number is put before it by extraction, as for every row error.
    expect(item.message).not.toMatch(/line|record/);
    expect(item.message).toContain(String(5 * 1024 * 1024));
    expect(item.message).toContain("1048576");
    expect(items[2]).toBe("third");
  });

  it("accepts a line of exactly maxLineBytes, CRLF or not, and rejects one byte more", async () => {
    const file = await write("edge.log", `${"a".repeat(10)}\r\n${"b".repeat(10)}\n${"c".repeat(11)}\n`);
    const { items } = await loadAll(file, { maxLineBytes: 10 });
    expect(items.slice(0, 2)).toEqual(["a".repeat(10), "b".repeat(10)]);
    expect(items[2]).toBeInstanceOf(RowErrorItem);
  });

  it("does not hold an over-long line in memory while skipping it", async () => {
    // 300 MB of one line, gzipped to a few hundred KB: buffering it would show up as hundreds of MB of buffers.
    const size = 300 * 1024 * 1024;
    const gz = zlib.gzipSync(Buffer.alloc(size, 0x78), { level: 1 });
    const file = await write("huge.log.gz", Buffer.concat([zlib.gzipSync("before\n"), gz, zlib.gzipSync("\nafter\n")]));
    const baseline = process.memoryUsage().arrayBuffers;
    let peak = 0;
    const timer = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().arrayBuffers - baseline);
    }, 5);
    const { items, error } = await loadAll(file, { maxLineBytes: 1024 * 1024 });
    clearInterval(timer);
    expect(error).toBeUndefined();
    expect(items[0]).toBe("before");
    expect((items[1] as RowErrorItem).message).toContain(`${size} bytes`);
    expect(items[2]).toBe("after");
    expect(peak).toBeLessThan(150 * 1024 * 1024);
  });

  it("delivers the complete lines of a truncated gzip, then throws DataLoss naming the file", async () => {
    const lines = Array.from({ length: 40_000 }, (_, i) => `${i} ${Math.sin(i).toString(36)} some log text`);
    const gz = zlib.gzipSync(lines.join("\n") + "\n");
    const file = await write("x.json.gz", gz.subarray(0, Math.floor(gz.length / 2)));
    const { items, error } = await loadAll(file, undefined, "aws/x.json.gz");
    expect(error).toBeInstanceOf(TailkitError);
    const err = error as TailkitError;
    expect(err.code).toBe(Code.DataLoss);
    expect(err.message).toContain("aws/x.json.gz");
    expect(err.message).toContain("truncated");
    expect(err.details.artifact).toBe("aws/x.json.gz");
    expect(items.length).toBeGreaterThan(1000);
    expect(items.length).toBeLessThan(lines.length);
    // Every delivered line is whole: the partial line cut by the truncation is not among them.
    expect(items).toEqual(lines.slice(0, items.length));
  });

  it("reports a corrupt gzip stream as DataLoss naming the file", async () => {
    const gz = Buffer.from(zlib.gzipSync("a\nb\n"));
    gz.fill(0xff, 10, 14);
    const { error } = await loadAll(await write("bad.gz", gz));
    expect(error).toBeInstanceOf(TailkitError);
    expect((error as TailkitError).code).toBe(Code.DataLoss);
    expect((error as TailkitError).message).toMatch(/^bad\.gz: gzip stream is corrupt/);
  });

  it("reports a missing file as NotFound naming it", async () => {
    const missing = path.join(dir, "gone.log");
    const loader = createLinesLoader();
    const art: LocalArtifact = { info: { name: "gone.log", location: missing, properties: {} }, path: missing, bytes: 0, release: async () => {} };
    await expect(async () => {
      for await (const _ of loader.load(art)) void _;
    }).rejects.toMatchObject({ code: Code.NotFound, message: expect.stringContaining("gone.log") });
  });

  it("stops with Canceled when the signal is aborted", async () => {
    const file = await write("many.log", Array.from({ length: 50_000 }, (_, i) => `l${i}`).join("\n"));
    const controller = new AbortController();
    const loader = createLinesLoader();
    await expect(async () => {
      for await (const _ of loader.load(artifact(file), { signal: controller.signal, batchSize: 100 })) {
        controller.abort();
      }
    }).rejects.toMatchObject({ code: Code.Canceled });
  });
});
