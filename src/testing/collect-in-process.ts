import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { CollectionEvent, CompleteEvent } from "../contract/events.js";
import { PluginRuntime, type RuntimeOptions } from "../plugin/runtime.js";
import type { CollectOptions, PluginDefinition } from "../contract/plugin.js";

/** What collectInProcess returns: every event of the execution, its complete event, and the rows it wrote. */
export interface InProcessCollection {
  executionId: string;
  events: CollectionEvent[];
  complete: CompleteEvent;
  /** Rows of the execution's chunk files, in chunk order. */
  rows: Record<string, unknown>[];
}

/**
 * Runs one collection of a plugin definition in this process, without gRPC or a child process, and reads back the
 * chunks it wrote. For plugin authors' unit tests: the same runtime, pipeline and writer as `serve` uses.
 */
export async function collectInProcess(
  plugin: PluginDefinition,
  options: CollectOptions,
  runtimeOptions: Pick<RuntimeOptions, "dataSources"> = {},
): Promise<InProcessCollection> {
  // Extraction stays on this thread: test runners load TypeScript sources that worker threads cannot import.
  const runtime = new PluginRuntime({ ...plugin, module: undefined }, runtimeOptions);
  await runtime.loadDataSources();
  const events: CollectionEvent[] = [];
  const sub = runtime.observe().subscribe((e) => events.push(e));
  try {
    const executionId = runtime.collect(options);
    await runtime.idle();
    const mine = events.filter((e) => e.executionId === executionId);
    const complete = mine.find((e): e is CompleteEvent => e.type === "complete")!;
    const chunkFiles = readdirSync(options.outputDir)
      .map((name) => ({ name, m: new RegExp(`^${executionId.replace(/\./g, "\\.")}-(\\d+)\\.jsonl$`).exec(name) }))
      .filter((f) => f.m)
      .sort((a, b) => Number(a.m![1]) - Number(b.m![1]));
    const rows = chunkFiles.flatMap((f) =>
      readFileSync(join(options.outputDir, f.name), "utf8")
        .split("\n")
        .filter((l) => l.length > 0)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    );
    return { executionId, events: mine, complete, rows };
  } finally {
    sub.unsubscribe();
    await runtime.shutdown();
  }
}
