// The execution gives each batch's buffer back once the writer is done with it, or once it drops the batch, and
// rows stay right while buffers are reused. Extraction runs inline here (TypeScript sources), on this thread's pool.
import { appendFileSync, mkdirSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { pooledBuffers, takeBuffer } from "../../src/collection/batch-buffers.js";
import { createJsonLinesMapper, createLinesLoader, type PluginDefinition, type TableDefinition } from "../../src/index.js";
import { collectInProcess } from "../../src/testing/index.js";
import { tempDir } from "../e2e/helpers.js";

/** JSON lines, 100 to a batch: each batch fits the encoder's first buffer, so only a batch given back fills the pool. */
const table: TableDefinition = {
  name: "small_batches",
  description: "JSON lines in batches of 100",
  sources: { file: { defaults: { file_layout: "{name}.log" } } },
  rowSchema: { type: "object" },
  loader: () => {
    const lines = createLinesLoader();
    return { name: "lines", load: (artifact, options) => lines.load(artifact, { ...options, batchSize: 100 }) };
  },
  mappers: () => [createJsonLinesMapper()],
  enrich: (row) => ({ tp_timestamp: row["ts"] as string }),
};
const plugin: PluginDefinition = { name: "buffers", version: "1.0.0", tables: [table] };

function lines(from: number, to: number): string {
  let out = "";
  for (let i = from; i < to; i++) out += JSON.stringify({ ts: "2024-05-01T10:00:00Z", n: i, text: `line ${i} `.repeat(20) }) + "\n";
  return out;
}

function emptyPool(): void {
  while (pooledBuffers() > 0) takeBuffer(0);
}

describe("batch buffers in an execution", () => {
  it("come back once written and once dropped on resume, and rows stay right", async () => {
    const tmp = tempDir();
    try {
      const data = join(tmp.dir, "data");
      const out = join(tmp.dir, "out");
      mkdirSync(data);
      const file = join(data, "app.log");
      writeFileSync(file, lines(0, 3050));
      const collect = () => collectInProcess(plugin, { table: "small_batches", source: { type: "file", config: { paths: [data] } }, outputDir: out });

      emptyPool();
      const first = await collect();
      expect(first.complete.error).toBeUndefined();
      expect(first.rows.map((r) => r["n"])).toEqual(Array.from({ length: 3050 }, (_, i) => i));
      expect(pooledBuffers()).toBeGreaterThan(0);

      // Touched but not grown: collected again from its committed position, so every batch is dropped, none written.
      const later = new Date(Date.now() + 5000);
      utimesSync(file, later, later);
      emptyPool();
      const touched = await collect();
      expect(touched.complete.status).toMatchObject({ artifactsSkipped: 0, artifactsExtracted: 1, rowsWritten: 0 });
      expect(pooledBuffers()).toBeGreaterThan(0);

      // Grown: the batch that straddles the committed position is cut, and only the new lines are written.
      appendFileSync(file, lines(3050, 4000));
      emptyPool();
      const grown = await collect();
      expect(grown.rows.map((r) => r["n"])).toEqual(Array.from({ length: 950 }, (_, i) => 3050 + i));
      expect(pooledBuffers()).toBeGreaterThan(0);
    } finally {
      tmp.cleanup();
    }
  });
});
