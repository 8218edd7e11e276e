import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { CompleteEvent, PluginDefinition, RowPage, RowSourceContext, RowSourceFactory } from "../../src/index.js";
import { PluginRuntime } from "../../src/plugin/index.js";
import { readChunks, scratchDirs } from "../e2e/helpers.js";
import { eventsTable } from "../sources/webhook/helpers.js";

// A push source (RowSource.push) as the runtime sees it: it gets a folder of its own that outlives the run, its rows
// reach a chunk while it waits for more, and a shutdown asks it to stop instead of cancelling the collection.

const scratch = scratchDirs();

/** What the source saw of its context, and how the test feeds it. */
interface Probe {
  ctx?: RowSourceContext;
  feed: ((page: unknown[]) => void) | undefined;
}

function pushPlugin(probe: Probe): PluginDefinition {
  const factory: RowSourceFactory<{ name?: string }> = {
    kind: "rows",
    type: "test_push",
    description: "pages fed by the test until it is asked to stop",
    configSchema: { type: "object", properties: { name: { type: "string" } }, additionalProperties: false },
    create: () => ({
      type: "test_push",
      push: true,
      async *read(_cursor, ctx): AsyncIterable<RowPage> {
        probe.ctx = ctx;
        const stream = { name: "push/one", location: "test://push", properties: {} };
        const queue: unknown[][] = [];
        let wake: (() => void) | undefined;
        probe.feed = (items) => {
          queue.push(items);
          wake?.();
        };
        ctx.stop?.addEventListener("abort", () => wake?.());
        for (;;) {
          const items = queue.shift();
          if (items !== undefined) yield { stream, items, cursor: null };
          else if (ctx.stop?.aborted || ctx.signal.aborted) return;
          else await new Promise<void>((r) => (wake = r));
        }
      },
    }),
  };
  return { name: "push", version: "1.0.0", tables: [{ ...eventsTable, sources: { test_push: eventsTable.sources["webhook"]! } }], sources: [factory] };
}

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 20));
}

describe("a push row source in the runtime", () => {
  it("gets a state folder under the output folder by type and name, its rows reach a chunk while it waits, and shutdown stops it", async () => {
    const out = scratch();
    const probe: Probe = { feed: undefined };
    const runtime = new PluginRuntime(pushPlugin(probe));
    const events: CompleteEvent[] = [];
    runtime.observe().subscribe((e) => e.type === "complete" && events.push(e));
    runtime.collect({ table: "events", source: { type: "test_push", config: { name: "../a b" } }, outputDir: out, rowsPerChunk: 1000 });
    await until(() => probe.feed !== undefined);
    // Escaped into one path segment: a name never reaches outside the folder.
    expect(probe.ctx!.stateDir).toBe(join(out, ".tailkit", "sources", "test_push", "%2E%2E%2Fa%20b"));
    expect(existsSync(probe.ctx!.stateDir!)).toBe(true);
    probe.feed!([{ id: "a" }, { id: "b" }]);
    // A chunk of 1000 rows holds two: written because the source waits, not because it is full.
    await until(() => readdirSync(out).some((n) => n.endsWith(".jsonl")));
    expect(readChunks(out).flatMap((c) => c.rows.map((r) => r["id"]))).toEqual(["a", "b"]);
    probe.feed!([{ id: "c" }]);
    await runtime.shutdown();
    expect(probe.ctx!.stop!.aborted).toBe(true);
    expect(probe.ctx!.signal.aborted).toBe(false);
    expect(events).toHaveLength(1);
    expect(events[0]!.error).toBeUndefined();
    expect(readChunks(out).flatMap((c) => c.rows.map((r) => r["id"]))).toEqual(["a", "b", "c"]);
  });
});
