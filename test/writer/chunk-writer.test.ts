import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Code } from "../../src/errors/index.js";
import { createChunkWriter, encodedLines, type RowBatch, type WrittenChunk } from "../../src/writer/index.js";

let tmp: string;
let dir: string;
beforeEach(async () => {
  tmp = await fs.promises.mkdtemp(path.join(os.tmpdir(), "tailkit-writer-"));
  dir = path.join(tmp, "out", "nested");
});
afterEach(async () => {
  await fs.promises.rm(tmp, { recursive: true, force: true });
});

/** A batch of rows at the given positions of [from, to); the other positions are row errors. */
function batch(artifact: string, from: number, to: number, indexes = range(from, to)): RowBatch {
  return { artifact, from, to, indexes, lines: indexes.map((i) => JSON.stringify({ artifact, i })) };
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, k) => from + k);
}

function readRows(file: string): unknown[] {
  const text = fs.readFileSync(file, "utf8");
  expect(text.endsWith("\n")).toBe(true);
  return text
    .slice(0, -1)
    .split("\n")
    .map((l) => JSON.parse(l) as unknown);
}

describe("createChunkWriter", () => {
  it("writes <executionId>-<seq>.jsonl from 1, at most rowsPerChunk rows each, one object a line", async () => {
    const chunks: WrittenChunk[] = [];
    const writer = createChunkWriter({ dir, executionId: "exec1", rowsPerChunk: 4, onChunk: (c) => void chunks.push(c) });
    await writer.write(batch("a", 0, 10));
    expect(await writer.close()).toEqual({ chunks: 3, rows: 10, trailingRanges: [] });
    expect(fs.readdirSync(dir).sort()).toEqual(["exec1-1.jsonl", "exec1-2.jsonl", "exec1-3.jsonl"]);
    expect(chunks.map((c) => [c.sequence, c.rows, path.basename(c.path)])).toEqual([
      [1, 4, "exec1-1.jsonl"],
      [2, 4, "exec1-2.jsonl"],
      [3, 2, "exec1-3.jsonl"],
    ]);
    expect(readRows(path.join(dir, "exec1-1.jsonl"))).toEqual(range(0, 4).map((i) => ({ artifact: "a", i })));
    expect(readRows(path.join(dir, "exec1-3.jsonl"))).toEqual([
      { artifact: "a", i: 8 },
      { artifact: "a", i: 9 },
    ]);
  });

  it("splits a batch across chunks with adjacent ranges that include row-error positions", async () => {
    const chunks: WrittenChunk[] = [];
    const writer = createChunkWriter({ dir, executionId: "e", rowsPerChunk: 3, onChunk: (c) => void chunks.push(c) });
    // Positions 0..9; 2, 5 and 9 are row errors.
    await writer.write(batch("a", 0, 10, [0, 1, 3, 4, 6, 7, 8]));
    await writer.write(batch("b", 0, 2));
    await writer.close();
    expect(chunks.map((c) => c.ranges)).toEqual([
      [{ artifact: "a", from: 0, to: 4 }],
      [{ artifact: "a", from: 4, to: 8 }],
      [
        { artifact: "a", from: 8, to: 10 },
        { artifact: "b", from: 0, to: 2 },
      ],
    ]);
    expect(chunks.map((c) => c.rows)).toEqual([3, 3, 3]);
  });

  it("merges consecutive batches of one artifact into one range per chunk", async () => {
    const chunks: WrittenChunk[] = [];
    const writer = createChunkWriter({ dir, executionId: "e", onChunk: (c) => void chunks.push(c) });
    await writer.write(batch("a", 0, 5));
    await writer.write(batch("a", 5, 8, [])); // all row errors
    await writer.write(batch("a", 8, 12));
    await writer.close();
    expect(chunks).toHaveLength(1);
    expect(chunks[0]!.ranges).toEqual([{ artifact: "a", from: 0, to: 12 }]);
    expect(chunks[0]!.rows).toBe(9);
  });

  it("reports positions after the last row as trailing ranges instead of writing an empty chunk", async () => {
    const writer = createChunkWriter({ dir, executionId: "e", rowsPerChunk: 2 });
    await writer.write(batch("a", 0, 2));
    await writer.write(batch("a", 2, 5, []));
    expect(await writer.close()).toEqual({ chunks: 1, rows: 2, trailingRanges: [{ artifact: "a", from: 2, to: 5 }] });
    expect(fs.readdirSync(dir)).toEqual(["e-1.jsonl"]);
  });

  it("announces a chunk only once it is whole under its final name, with no temp file of it left", async () => {
    const seen: { files: string[]; rows: number }[] = [];
    const writer = createChunkWriter({
      dir,
      executionId: "e",
      rowsPerChunk: 1000,
      onChunk: async (c) => {
        const files = fs.readdirSync(dir).sort();
        // The next chunk may be filling meanwhile under its own temp name.
        expect(files.filter((f) => f.startsWith(`.e-${c.sequence}.`))).toEqual([]);
        seen.push({ files: files.filter((f) => !f.startsWith(".")), rows: readRows(c.path).length });
      },
    });
    // Rows big enough that one chunk takes several flushes of its temp file.
    const big = "p".repeat(4000);
    const lines = range(0, 2500).map((i) => JSON.stringify({ i, big }));
    await writer.write({ artifact: "a", from: 0, to: 2500, lines, indexes: range(0, 2500) });
    await writer.close();
    expect(seen).toEqual([
      { files: ["e-1.jsonl"], rows: 1000 },
      { files: ["e-1.jsonl", "e-2.jsonl"], rows: 1000 },
      { files: ["e-1.jsonl", "e-2.jsonl", "e-3.jsonl"], rows: 500 },
    ]);
    expect(fs.readdirSync(dir).sort()).toEqual(["e-1.jsonl", "e-2.jsonl", "e-3.jsonl"]);
  });

  it("keeps the partial chunk under a temp name a host cannot take for a chunk, until it is complete", async () => {
    const writer = createChunkWriter({ dir, executionId: "e", rowsPerChunk: 10_000 });
    const big = "q".repeat(2000);
    await writer.write({ artifact: "a", from: 0, to: 1000, lines: range(0, 1000).map((i) => JSON.stringify({ i, big })), indexes: range(0, 1000) });
    const files = fs.readdirSync(dir);
    expect(files.filter((f) => /^e-\d+\.jsonl$/.test(f))).toEqual([]);
    expect(files).toEqual([`.e-1.${process.pid}.jsonl.tmp`]);
    await writer.close();
    expect(fs.readdirSync(dir)).toEqual(["e-1.jsonl"]);
    expect(readRows(path.join(dir, "e-1.jsonl"))).toHaveLength(1000);
  });

  it("abort removes the temp file, keeps announced chunks and refuses further writes", async () => {
    const writer = createChunkWriter({ dir, executionId: "e", rowsPerChunk: 600 });
    const big = "r".repeat(4000); // the 400 rows left over exceed one flush, so a temp file exists
    await writer.write({ artifact: "a", from: 0, to: 1000, lines: range(0, 1000).map((i) => JSON.stringify({ i, big })), indexes: range(0, 1000) });
    // Chunk 2 is being filled; chunk 1 may still be finishing in the background, under its temp name, its own, or
    // (while it is published: linked, then its temp name removed) both for a moment.
    const before = fs.readdirSync(dir);
    expect(before).toContain(`.e-2.${process.pid}.jsonl.tmp`);
    expect(before.filter((f) => f.includes("e-1.")).length).toBeGreaterThanOrEqual(1);
    // Abort lets chunk 1 be announced, and removes chunk 2's temp file.
    await writer.abort();
    expect(fs.readdirSync(dir)).toEqual(["e-1.jsonl"]);
    await expect(writer.write(batch("a", 1000, 1001))).rejects.toMatchObject({ code: Code.FailedPrecondition });
  });

  it("runs writes in call order when callers do not await each one", async () => {
    const writer = createChunkWriter({ dir, executionId: "e", rowsPerChunk: 5 });
    const pending = [writer.write(batch("a", 0, 3)), writer.write(batch("a", 3, 6)), writer.write(batch("a", 6, 9))];
    await Promise.all(pending);
    await writer.close();
    const rows = [...readRows(path.join(dir, "e-1.jsonl")), ...readRows(path.join(dir, "e-2.jsonl"))];
    expect(rows).toEqual(range(0, 9).map((i) => ({ artifact: "a", i })));
  });

  it("finishes up to maxChunksFinishing chunks while the next fills, and holds the write that fills one more until the oldest is announced", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const announced: number[] = [];
    const writer = createChunkWriter({
      dir,
      executionId: "e",
      rowsPerChunk: 2,
      maxChunksFinishing: 2,
      onChunk: async (c) => {
        await gate;
        announced.push(c.sequence);
      },
    });
    // Chunks 1 and 2 are full: they are finished in the background and their writes resolve.
    await writer.write(batch("a", 0, 2));
    await writer.write(batch("a", 2, 4));
    // Chunk 3 fills too: that write waits for chunk 1's onChunk, the backpressure a slow consumer gives.
    let settled = false;
    const w = writer.write(batch("a", 4, 6)).then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(settled).toBe(false);
    expect(announced).toEqual([]);
    release();
    await w;
    expect(announced[0]).toBe(1);
    const summary = await writer.close();
    // In order, whichever fsync ended first.
    expect(announced).toEqual([1, 2, 3]);
    expect(summary).toMatchObject({ chunks: 3, rows: 6 });
  });

  it("fails the writer when a chunk finished in the background cannot be announced, and leaves no temp file of it or of the chunks after it", async () => {
    for (const maxChunksFinishing of [1, 3]) {
      const sub = path.join(dir, `k${maxChunksFinishing}`);
      const writer = createChunkWriter({
        dir: sub,
        executionId: "e",
        rowsPerChunk: 2,
        maxChunksFinishing,
        beforeVisible: (c) => {
          if (c.sequence === 1) throw new Error("state is gone");
        },
      });
      await writer.write(batch("a", 0, 2));
      if (maxChunksFinishing === 1) {
        // The write that fills chunk 2 waits for chunk 1, and sees it fail.
        await expect(writer.write(batch("a", 2, 4))).rejects.toThrow(/state is gone/);
      } else {
        // Chunk 2 is handed to the background too; it is never announced, as chunk 1 is not.
        await writer.write(batch("a", 2, 4));
      }
      await expect(writer.close()).rejects.toThrow(/state is gone/);
      await expect(writer.write(batch("a", 4, 6))).rejects.toThrow(/state is gone/);
      expect(fs.readdirSync(sub).filter((f) => f.startsWith("."))).toEqual([]);
      expect(fs.readdirSync(sub).filter((f) => /^e-\d+\.jsonl$/.test(f))).toEqual([]);
    }
  });

  it("never overwrites a chunk file already under its name: the writer fails with ALREADY_EXISTS and the file is untouched", async () => {
    fs.mkdirSync(dir, { recursive: true });
    const earlier = path.join(dir, "same-1.jsonl");
    fs.writeFileSync(earlier, '{"earlier":true}\n');
    const announced: WrittenChunk[] = [];
    const writer = createChunkWriter({ dir, executionId: "same", rowsPerChunk: 2, onChunk: (c) => void announced.push(c) });
    await writer.write(batch("a", 0, 2)).catch(() => undefined);
    const err = (await writer.close().catch((e: unknown) => e)) as { code: Code; details: { field?: string }; message: string };
    expect(err.code).toBe(Code.AlreadyExists);
    expect(err.details.field).toBe("executionId");
    expect(err.message).toContain(earlier);
    expect(fs.readFileSync(earlier, "utf8")).toBe('{"earlier":true}\n');
    expect(announced).toEqual([]);
    expect(fs.readdirSync(dir)).toEqual(["same-1.jsonl"]);
  });

  it("refuses bad options and inconsistent batches with INVALID_ARGUMENT", async () => {
    expect(() => createChunkWriter({ dir, executionId: "../x" })).toThrow(expect.objectContaining({ code: Code.InvalidArgument }));
    expect(() => createChunkWriter({ dir, executionId: "e", rowsPerChunk: 0 })).toThrow(/rowsPerChunk/);
    expect(() => createChunkWriter({ dir, executionId: "e", maxChunksFinishing: 0 })).toThrow(/maxChunksFinishing/);
    const writer = createChunkWriter({ dir, executionId: "e" });
    await expect(writer.write({ artifact: "a", from: 0, to: 2, lines: ["{}"], indexes: [] })).rejects.toMatchObject({
      code: Code.InvalidArgument,
    });
  });

  it("writes encoded batches as they are, cutting them at chunk boundaries by their newlines", async () => {
    const chunks: WrittenChunk[] = [];
    const writer = createChunkWriter({ dir, executionId: "e", rowsPerChunk: 3, onChunk: (c) => void chunks.push(c) });
    // Positions 0..7; 2 is a row error. Multi-byte text checks that cuts fall on bytes, not characters.
    const indexes = [0, 1, 3, 4, 5, 6, 7];
    const rows = indexes.map((i) => ({ i, s: "é✓".repeat(i) }));
    const bytes = Buffer.from(rows.map((r) => JSON.stringify(r) + "\n").join(""), "utf8");
    await writer.write({ artifact: "a", from: 0, to: 8, lines: encodedLines(bytes, rows.length), indexes });
    await writer.close();
    expect(chunks.map((c) => [c.rows, c.ranges])).toEqual([
      [3, [{ artifact: "a", from: 0, to: 4 }]],
      [3, [{ artifact: "a", from: 4, to: 7 }]],
      [1, [{ artifact: "a", from: 7, to: 8 }]],
    ]);
    expect(chunks.flatMap((c) => readRows(c.path))).toEqual(rows);
    const lines = encodedLines(bytes, rows.length);
    expect(Buffer.from(lines.slice(2, 4).bytes).toString()).toBe(
      rows
        .slice(2, 4)
        .map((r) => JSON.stringify(r) + "\n")
        .join(""),
    );
    expect(lines.slice(5).length).toBe(2);
  });

  it("keeps nothing of a batch once write() resolves: bytes overwritten afterwards leave the chunks right", async () => {
    const chunks: WrittenChunk[] = [];
    const writer = createChunkWriter({ dir, executionId: "e", rowsPerChunk: 50, onChunk: (c) => void chunks.push(c) });
    const expected: unknown[] = [];
    let next = 0;
    // Rows of `pad` bytes each; the batch's bytes are overwritten as soon as write() resolves, as a pooled buffer is.
    const write = async (rows: number, pad: number) => {
      const objs = Array.from({ length: rows }, (_, k) => ({ i: next + k, pad: "p".repeat(pad) }));
      const bytes = Buffer.from(objs.map((o) => JSON.stringify(o) + "\n").join(""));
      await writer.write({ artifact: "a", from: next, to: next + rows, lines: encodedLines(bytes, rows), indexes: range(next, next + rows) });
      bytes.fill(0x78);
      expected.push(...objs);
      next += rows;
    };
    await write(30, 10); // small: all of it waits in the writer for the next batch
    await write(30, 10); // its first 20 rows close chunk 1, the other 10 wait
    await write(30, 3000); // about 90 KB: too large to copy, written at once
    await write(55, 25_000); // 10 rows close chunk 2, the other 45 (over 1 MiB) are written at once
    await write(3, 10);
    await writer.write(batch("a", next, next + 2)); // lines as strings between encoded batches, closing chunk 3
    expected.push({ artifact: "a", i: next }, { artifact: "a", i: next + 1 });
    next += 2;
    await write(4, 10);
    await writer.close();
    expect(chunks.map((c) => c.rows)).toEqual([50, 50, 50, 4]);
    expect(chunks.flatMap((c) => readRows(c.path))).toEqual(expected);
  });

  it("refuses encoded bytes whose newlines do not match the line count", async () => {
    const writer = createChunkWriter({ dir, executionId: "e", rowsPerChunk: 1 });
    const bytes = Buffer.from('{"a":1}\n{"a":2}\n');
    await expect(writer.write({ artifact: "a", from: 0, to: 3, lines: encodedLines(bytes, 3), indexes: [0, 1, 2] })).rejects.toMatchObject({
      code: Code.InvalidArgument,
    });
  });
});
