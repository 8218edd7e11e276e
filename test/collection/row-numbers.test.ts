import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { extractArtifact } from "../../src/collection/extract-artifact.js";
import { createLinesLoader } from "../../src/loaders/index.js";
import type { Mapper } from "../../src/mappers/index.js";
import type { TableDefinition } from "../../src/contract/table.js";

let dir: string;
beforeEach(async () => {
  dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), "tailkit-rownum-"));
});
afterEach(async () => {
  await fs.promises.rm(dir, { recursive: true, force: true });
});

/** "#" lines are skipped by the loader, "-" lines dropped by the mapper, "2x" lines give two rows, "bad" lines fail enrich. */
const mapper: Mapper<string> = {
  name: "words",
  map(line) {
    if (line.startsWith("-")) return undefined;
    if (line === "throw") throw new Error("cannot map");
    const row = { ts: line === "bad" ? "never" : "2024-05-01T10:00:00Z", text: line };
    return line === "2x" ? [row, { ...row }] : row;
  },
};

const table: TableDefinition = {
  name: "words",
  description: "test lines",
  sources: { file: {} },
  rowSchema: { type: "object" },
  loader: () => createLinesLoader({ skipLines: (line) => line.startsWith("#") }),
  mappers: () => [mapper],
  enrich: (row) => ({ tp_timestamp: row["ts"] as string }),
};

async function errorsOf(lines: string[], batchSize?: number): Promise<[number, number | undefined, string][]> {
  const file = path.join(dir, "words.log");
  await fs.promises.writeFile(file, lines.join("\n") + "\n");
  const local = { info: { name: "words.log", location: file, properties: {} }, path: file, bytes: fs.statSync(file).size, release: async () => {} };
  const out: [number, number | undefined, string][] = [];
  const spec = {
    table,
    tableConfig: {},
    partition: "p",
    sourceType: "file",
    sourceName: "file",
    loaderOptions: { maxLineBytes: 20, ...(batchSize ? { batchSize } : {}) },
  };
  for await (const b of extractArtifact(local, spec)) for (const e of b.rowErrors) out.push([e.position, e.row, e.message]);
  // Within a batch, errors come by kind (mapping, then enrichment); by position they are in file order.
  return out.sort((x, y) => x[0] - y[0]);
}

describe("row error numbers on the reference path", () => {
  it("are the file's line numbers from 1, whatever lines before were skipped, dropped or gave several rows", async () => {
    const lines = ["#header", "ok", "-dropped", "2x", "bad", "throw", "#again", "y".repeat(30), "-", "bad"];
    const expected = [
      [3, 5, 'line 5: tp_timestamp is missing or not a valid time ("never")'],
      [4, 6, "line 6: words: cannot map"],
      [5, 8, "line 8: 30 bytes long, over the limit of 20 bytes (maxLineBytes)"],
      [6, 10, 'line 10: tp_timestamp is missing or not a valid time ("never")'],
    ];
    expect(await errorsOf(lines)).toEqual(expected);
    // Batches of two lines: numbers do not depend on where batches end.
    expect(await errorsOf(lines, 2)).toEqual(expected);
  });
});
