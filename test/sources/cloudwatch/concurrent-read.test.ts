import { describe, expect, it, vi } from "vitest";
import { createCloudWatchLogsSourceFactory, type CloudWatchLogEvent, type RowPage, type RowSource } from "../../../src/index.js";
import type { LogStreamCursor } from "../../../src/sources/cloudwatch/index.js";
import type { FoldedCursor } from "../../../src/sources/api/index.js";
import type { FakeCloudWatchLogs } from "../../support/cloudwatch-logs-server.js";
import { fakeServer, sourceConfig } from "./helpers.js";

const server = fakeServer();
const T = Date.parse("2024-05-01T10:00:00Z");

type Page = RowPage<CloudWatchLogEvent> & { cursor: FoldedCursor<LogStreamCursor> };

function source(fake: FakeCloudWatchLogs, concurrency: number): RowSource<CloudWatchLogEvent> {
  const factory = createCloudWatchLogsSourceFactory({ retry: { attempts: 6, baseDelayMs: 1, maxDelayMs: 4 }, pageLimit: 5 });
  return factory.create(sourceConfig(fake, { log_group_name: "app", max_concurrency: concurrency }) as never) as RowSource<CloudWatchLogEvent>;
}

/** Every page of one read from `cursor`, the source closed after; `slowMs`: the time each page takes the consumer. */
async function readAll(fake: FakeCloudWatchLogs, concurrency: number, cursor?: unknown, signal = new AbortController().signal, slowMs = 0): Promise<Page[]> {
  const src = source(fake, concurrency);
  const pages: Page[] = [];
  try {
    for await (const page of src.read(cursor, { signal })) {
      pages.push(page as Page);
      // A consumer behind the readers: their queue fills, and they wait with pages fetched and not yet handed on.
      if (slowMs > 0) await new Promise((resolve) => setTimeout(resolve, slowMs));
    }
  } finally {
    await src.close?.();
  }
  return pages;
}

/** `n` events of stream `s`, two to a millisecond, so that pages end inside a millisecond. */
function fill(fake: FakeCloudWatchLogs, streams: number, n: number): Map<string, string[]> {
  const ids = new Map<string, string[]>();
  for (let i = 0; i < streams; i++) {
    const name = `s-${String(i).padStart(2, "0")}`;
    ids.set(
      name,
      fake.put(
        "app",
        name,
        Array.from({ length: n }, (_, j) => ({ timestamp: T + Math.floor(j / 2), message: `${name} ${j}` })),
      ),
    );
  }
  return ids;
}

/** The events in a stream's order: (timestamp, eventId). */
const inOrder = (ids: string[], fake: FakeCloudWatchLogs, stream: string) => {
  const events = fake.groups.get("app")!.get(stream)!;
  return [...ids].sort((a, b) => {
    const ea = events.find((e) => e.eventId === a)!;
    const eb = events.find((e) => e.eventId === b)!;
    return ea.timestamp - eb.timestamp || (a < b ? -1 : 1);
  });
};

describe("ApiRowSourceBase reading CloudWatch streams at once", () => {
  it("gives each stream's pages in its order, interleaved, each page's cursor moving only the stream it came from", async () => {
    const fake = server();
    fake.latencyMs = 3;
    const ids = fill(fake, 6, 18);

    const pages = await readAll(fake, 4, undefined, undefined, 8);

    const byStream = new Map<string, string[]>();
    let previous: FoldedCursor<LogStreamCursor>["streams"] = {};
    for (const page of pages) {
      const stream = page.items[0]!.logStreamName;
      expect(page.items.every((e) => e.logStreamName === stream)).toBe(true);
      byStream.set(stream, [...(byStream.get(stream) ?? []), ...page.items.map((e) => e.eventId)]);
      // The page's own stream moves to its last event; every other stream stays where its last page left it.
      const now = page.cursor.streams;
      expect(now[stream]!.ids.at(-1)![1]).toBe(page.items.at(-1)!.eventId);
      expect(Object.keys(now).sort()).toEqual([...new Set([...Object.keys(previous), stream])].sort());
      for (const [other, c] of Object.entries(previous)) if (other !== stream) expect(now[other]).toEqual(c);
      previous = now;
    }
    for (const [stream, list] of ids) expect(byStream.get(stream)).toEqual(inOrder(list, fake, stream));
    // Read at once: some stream's pages have another's between them.
    const order = pages.map((p) => p.items[0]!.logStreamName);
    expect(order.some((s, i) => i > 0 && s !== order[i - 1] && order.indexOf(s) < i - 1 && order.lastIndexOf(s) > i)).toBe(true);
  });

  it("resumes from the cursor of any page with the rest of every stream, each event once", async () => {
    const fake = server();
    fake.latencyMs = 2;
    const ids = fill(fake, 5, 14);
    const all = [...ids.values()].flat().sort();

    const pages = await readAll(fake, 4, undefined, undefined, 4);
    fake.latencyMs = 0;
    for (let k = 0; k < pages.length; k += 2) {
      const before = pages.slice(0, k + 1).flatMap((p) => p.items.map((e) => e.eventId));
      const after = (await readAll(fake, 3, pages[k]!.cursor)).flatMap((p) => p.items.map((e) => e.eventId));
      expect([...before, ...after].sort()).toEqual(all);
    }
  });

  it("stops reading while the consumer is behind: a few pages ahead at most", async () => {
    const fake = server();
    fill(fake, 8, 20);
    const src = source(fake, 4);
    const it = src.read(undefined, { signal: new AbortController().signal })[Symbol.asyncIterator]();
    try {
      expect((await it.next()).done).toBe(false);
      // Held on its first page: left alone, the readers would fetch the group's 40 pages in far less than this.
      await new Promise((resolve) => setTimeout(resolve, 300));
      // A queue of 4 pages, and each of the 4 readers waiting for room with one page fetched.
      const ahead = fake.calls("FilterLogEvents").length;
      expect(ahead).toBeLessThanOrEqual(1 + 4 + 4);
      let rest = 0;
      while (!(await it.next()).done) rest++;
      expect(fake.calls("FilterLogEvents").length).toBeGreaterThan(30);
      expect(rest).toBeGreaterThan(ahead);
    } finally {
      await it.return?.();
      await src.close?.();
    }
  });

  it("stops every read in flight when the collection is cancelled", async () => {
    const fake = server();
    fill(fake, 8, 6);
    // Listing answers; reading hangs, as a far endpoint that is slow to answer.
    fake.latencyMs = (op) => (op === "FilterLogEvents" ? 60_000 : 0);
    const abort = new AbortController();
    const reading = readAll(fake, 4, undefined, abort.signal);
    reading.catch(() => undefined);
    await vi.waitFor(() => expect(fake.inFlight.get("FilterLogEvents")).toBe(4));

    abort.abort();

    await expect(reading).rejects.toThrow(/collection was cancelled/);
    await vi.waitFor(() => expect(fake.dropped).toBe(4));
    expect(fake.inFlight.get("FilterLogEvents")).toBe(0);
    expect(fake.calls("FilterLogEvents")).toEqual([]);
  });

  it("fails the read with a stream's failure that is not its own alone, and stops the other streams", async () => {
    const fake = server();
    fill(fake, 6, 20);
    fake.latencyMs = (op) => (op === "FilterLogEvents" ? 5 : 0);
    fake.inject = (op, body) =>
      op === "FilterLogEvents" && (body["logStreamNames"] as string[])[0] === "s-02" && body["nextToken"] !== undefined
        ? { status: 400, type: "AccessDeniedException", message: "not for you" }
        : undefined;

    await expect(readAll(fake, 4)).rejects.toThrow(/^FilterLogEvents: AccessDeniedException: not for you$/);
    // The streams after the first four were never started.
    const started = new Set(fake.requests.filter((r) => r.operation === "FilterLogEvents").map((r) => (r.body["logStreamNames"] as string[])[0]));
    expect(started.has("s-05")).toBe(false);
  });
});
