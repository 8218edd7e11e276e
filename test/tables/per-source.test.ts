import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  chain,
  createLinesLoader,
  createRegexMapper,
  defineTable,
  TailkitError,
  Code,
  type Mapper,
  type PluginDefinition,
  type RowPage,
  type RowSourceFactory,
} from "../../src/index.js";
import { collectInProcess } from "../../src/testing/index.js";
import { tempDir } from "../e2e/helpers.js";

// One table, two source types that hold the same events in different shapes: log lines in files, and objects an API
// pages through with a cursor. Each source type names its own loader and mappers; the rows come out alike.

interface EventRow extends Record<string, unknown> {
  at: string;
  level: string;
  text: string;
}

/** What the API gives: its own field names, a severity in capitals. */
interface ApiEvent {
  id: number;
  time: string;
  severity: string;
  message: string;
}

/** The API's events; a test appends to it between collections. */
const feed: ApiEvent[] = [];
/** Makes the API fail (as a throttled API does) when asked for the page at this index. */
let failAt: number | undefined;
/** Before failing, wait until a chunk is in this folder, so that the rows before the failure are on disk. */
let waitForChunkIn: string | undefined;
const PAGE = 3;

async function chunkIn(dir: string): Promise<void> {
  for (let i = 0; i < 200 && !readdirSync(dir).some((n) => n.endsWith(".jsonl")); i++) await new Promise((r) => setTimeout(r, 25));
}

const apiSource: RowSourceFactory<{ name?: string }> = {
  kind: "rows",
  type: "test_api",
  description: "events from an in-memory API, three per page, with the next index as the cursor",
  configSchema: { type: "object", properties: { name: { type: "string" } }, additionalProperties: false },
  create: () => ({
    type: "test_api",
    async *read(cursor) {
      let at = typeof cursor === "number" ? cursor : 0;
      while (at < feed.length) {
        if (failAt !== undefined && at >= failAt) {
          if (waitForChunkIn !== undefined) await chunkIn(waitForChunkIn);
          throw new TailkitError(Code.Unavailable, "ThrottlingException: rate exceeded");
        }
        const items = feed.slice(at, at + PAGE);
        at += items.length;
        const page: RowPage<ApiEvent> = { stream: { name: "api/events", location: "test-api://events", properties: {} }, items, cursor: at };
        yield page;
      }
    },
  }),
};

const fromApi: Mapper<ApiEvent, EventRow> = {
  name: "api_event",
  map: (e) => ({ at: e.time, level: e.severity.toLowerCase(), text: e.message }),
};

const eventsTable = defineTable({
  name: "events",
  description: "application events, from log files or from the API",
  rowSchema: { type: "object", required: ["at", "level", "text"] },
  sources: {
    file: {
      loader: () => createLinesLoader(),
      mappers: () => chain(createRegexMapper<EventRow>(/^(?<at>\S+) (?<level>[a-z]+) (?<text>.*)$/)),
    },
    test_api: { mappers: () => chain(fromApi) },
  },
  enrich: (row: EventRow) => ({ tp_timestamp: row.at, tp_tags: [row.level] }),
});

const plugin: PluginDefinition = { name: "per_source", version: "1.0.0", tables: [eventsTable], sources: [apiSource] };

const cleanups: (() => void)[] = [];
afterEach(() => {
  cleanups.splice(0).forEach((c) => c());
  feed.length = 0;
  failAt = undefined;
  waitForChunkIn = undefined;
});
function scratch(): string {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return t.dir;
}

const event = (i: number): ApiEvent => ({
  id: i,
  time: `2024-05-01T10:00:${String(i).padStart(2, "0")}Z`,
  severity: i % 2 ? "WARN" : "INFO",
  message: `event ${i}`,
});
const fields = (rows: Record<string, unknown>[]) => rows.map((r) => ({ at: r["at"], level: r["level"], text: r["text"] }));

describe("a table with its own mappers per source type", () => {
  it("collects log lines from files and objects from an API into the same rows", async () => {
    const data = scratch();
    writeFileSync(join(data, "app.log"), "2024-05-01T10:00:00Z info event 0\n2024-05-01T10:00:01Z warn event 1\n");
    for (let i = 0; i < 2; i++) feed.push(event(i));

    const fromFiles = await collectInProcess(plugin, {
      table: "events",
      source: { type: "file", config: { paths: [data], file_layout: "{file}.log" } },
      outputDir: scratch(),
    });
    const fromApiRun = await collectInProcess(plugin, { table: "events", source: { type: "test_api" }, outputDir: scratch() });

    expect(fromFiles.complete.error).toBeUndefined();
    expect(fromApiRun.complete.error).toBeUndefined();
    const expected = [
      { at: "2024-05-01T10:00:00Z", level: "info", text: "event 0" },
      { at: "2024-05-01T10:00:01Z", level: "warn", text: "event 1" },
    ];
    expect(fields(fromFiles.rows)).toEqual(expected);
    expect(fields(fromApiRun.rows)).toEqual(expected);
    expect(fromFiles.rows[0]).toMatchObject({ tp_source_type: "file", tp_tags: ["info"], tp_timestamp: "2024-05-01T10:00:00.000Z" });
    expect(fromApiRun.rows[1]).toMatchObject({ tp_source_type: "test_api", tp_source_location: "test-api://events", tp_tags: ["warn"] });
  });

  it("collects from the API's saved cursor: a rerun gives only new events, and one the API failed midway loses and repeats none", async () => {
    const out = scratch();
    const collect = () => collectInProcess(plugin, { table: "events", source: { type: "test_api" }, outputDir: out, rowsPerChunk: 2 });
    for (let i = 0; i < 7; i++) feed.push(event(i));
    const first = await collect();
    expect(first.complete.error).toBeUndefined();
    expect(first.rows.map((r) => r["text"])).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => `event ${i}`));

    const nothing = await collect();
    expect(nothing.rows).toEqual([]);

    // Eleven more; the API fails when asked for the page after the next two: the run stops with some of their rows
    // written, and the rest come with the next run.
    for (let i = 7; i < 18; i++) feed.push(event(i));
    failAt = 13;
    const failed = await collect();
    expect(failed.complete.error).toContain("ThrottlingException");
    expect(failed.rows.length).toBeGreaterThan(0);

    failAt = undefined;
    const resumed = await collect();
    expect(resumed.complete.error).toBeUndefined();

    // Every event once over all runs, with ids that never repeat.
    const all = [...first.rows, ...failed.rows, ...resumed.rows];
    expect(all.map((r) => r["text"])).toEqual(feed.map((e) => e.message));
    expect(new Set(all.map((r) => r["tp_id"])).size).toBe(18);
  });

  it("drops, when it reads pages again, the rows an earlier run wrote past its last saved cursor", async () => {
    const out = scratch();
    for (let i = 0; i < 5; i++) feed.push(event(i));
    // Two rows a chunk: page [0, 1, 2] puts rows 0 and 1 in a chunk and row 2 in the next, unfinished one. The API then
    // fails (once the first chunk is on disk), so the run ends with rows 0 and 1 written, row 2 lost with its chunk, and
    // no cursor saved: the page was not wholly durable.
    failAt = 3;
    waitForChunkIn = out;
    const first = await collectInProcess(plugin, { table: "events", source: { type: "test_api" }, outputDir: out, rowsPerChunk: 2 });
    expect(first.complete.error).toContain("ThrottlingException");
    expect(first.rows.map((r) => r["text"])).toEqual(["event 0", "event 1"]);

    failAt = undefined;
    const second = await collectInProcess(plugin, { table: "events", source: { type: "test_api" }, outputDir: out, rowsPerChunk: 2 });
    expect(second.complete.error).toBeUndefined();
    expect(second.rows.map((r) => r["text"])).toEqual(["event 2", "event 3", "event 4"]);
    expect(new Set([...first.rows, ...second.rows].map((r) => r["tp_id"])).size).toBe(5);
  });

  it("refuses, when the plugin starts, a source entry that reads artifacts without a loader", () => {
    const noLoader = defineTable({
      name: "broken",
      description: "names the file source but gives it no loader",
      rowSchema: { type: "object" },
      sources: { file: { mappers: () => chain(fromApi) } },
      enrich: (row: EventRow) => ({ tp_timestamp: row.at }),
    });
    const broken: PluginDefinition = { name: "broken", version: "1.0.0", tables: [noLoader] };
    return expect(
      collectInProcess(broken, { table: "broken", source: { type: "file", config: { paths: ["/nonexistent"] } }, outputDir: scratch() }),
    ).rejects.toThrow(/table broken: source file reads artifacts but has no loader/);
  });
});
