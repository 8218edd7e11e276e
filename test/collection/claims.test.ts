// A collector held up past its claim's lease, whose artifact another collector took meanwhile, stops reading it at its
// next renewal and says so, instead of writing the artifact's rows beside the other collector. Needs Redis on
// 127.0.0.1:6379 (shared state is where claims matter; .ci/run starts it).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createJsonLinesMapper, type PluginDefinition, type TableDefinition } from "../../src/index.js";
import { collectInProcess } from "../../src/testing/index.js";
import { CollectionState, parseStateLocation } from "../../src/state/index.js";
import { tempDir } from "../e2e/helpers.js";

describe("claims in an execution", () => {
  it("stop reading an artifact whose claim lapsed and was taken by another collector, and report it", async () => {
    const tmp = tempDir();
    const data = join(tmp.dir, "data");
    const out = join(tmp.dir, "out");
    mkdirSync(data);
    writeFileSync(join(data, "a.log"), "the loader below makes the lines\n");
    const url = `redis://127.0.0.1:6379/tailkit-test-claims-${process.pid}-${Date.now()}?lease=1`;
    const other = await CollectionState.open({ location: parseStateLocation(url, out), plugin: "claims", table: "slow", partition: "default", owner: "B" });
    let batches = 0;
    const table: TableDefinition = {
      name: "slow",
      description: "30 batches of 10 lines, slowly; held up for longer than the lease after the second",
      sources: { file: { defaults: { file_layout: "{name}.log" } } },
      rowSchema: { type: "object" },
      loader: () => ({
        name: "slow",
        load: async function* (artifact, options) {
          for (let b = 0; b < 30; b++) {
            if (b === 2) {
              // Held up (the event loop too, so no renewal runs) past the 1 s lease; B takes the artifact meanwhile.
              const until = Date.now() + 1400;
              while (Date.now() < until);
              expect(await other.claim(artifact.info.name)).toBe(true);
            }
            options?.signal?.throwIfAborted();
            batches++;
            yield Array.from({ length: 10 }, (_, i) => JSON.stringify({ ts: "2024-05-01T10:00:00Z", n: b * 10 + i }));
            await new Promise((r) => setTimeout(r, 60));
          }
        },
      }),
      mappers: () => [createJsonLinesMapper()],
      enrich: (row) => ({ tp_timestamp: row["ts"] as string }),
    };
    const plugin: PluginDefinition = { name: "claims", version: "1.0.0", tables: [table] };
    try {
      const res = await collectInProcess(plugin, { table: "slow", source: { type: "file", config: { paths: [data] } }, outputDir: out, state: url });
      const errors = res.events.filter((e) => e.type === "error");
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ operation: "claim", artifact: "data/a.log" });
      expect((errors[0] as { message: string }).message).toMatch(/claim and another collector took the artifact/);
      expect(res.complete.status.artifactsFailed).toBe(1);
      // It stopped within a renewal period or so (a third of the lease, 60 ms a batch), far from all 30 batches.
      expect(batches).toBeLessThan(15);
      expect(res.rows.length).toBeLessThan(150);
      // B still holds the artifact: A's renewals and release left its claim alone.
      expect(await other.renew("data/a.log")).toBe(true);
    } finally {
      await other.close();
      tmp.cleanup();
    }
  });
});
