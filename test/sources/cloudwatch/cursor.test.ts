import { describe, expect, it } from "vitest";
import { createCloudWatchLogsSourceFactory, type CloudWatchLogEvent, type RowPage } from "../../../src/index.js";
import { advanceCursor } from "../../../src/sources/cloudwatch/index.js";
import { fakeServer, sourceConfig } from "./helpers.js";

const server = fakeServer();
const T = Date.parse("2024-05-01T10:00:00Z");

async function pages(cursor: unknown): Promise<RowPage<CloudWatchLogEvent>[]> {
  const source = createCloudWatchLogsSourceFactory({ pageLimit: 5 }).create(sourceConfig(server(), { log_group_name: "app" }) as never);
  const out: RowPage<CloudWatchLogEvent>[] = [];
  for await (const page of source.read(cursor, { signal: new AbortController().signal })) out.push(page as RowPage<CloudWatchLogEvent>);
  await source.close?.();
  return out;
}

describe("the CloudWatch Logs cursor", () => {
  it("read again from a saved cursor gives the events that came after it in the same order, and late ones after those", async () => {
    const fake = server();
    fake.put(
      "app",
      "a",
      Array.from({ length: 20 }, (_, i) => ({ timestamp: T + Math.floor(i / 2), message: `e${i}` })),
    );
    const first = await pages(undefined);
    const saved = first[1]!.cursor;
    const after = first.slice(2).flatMap((p) => p.items.map((e) => e.eventId));

    // A late event, stamped before the newest event the saved cursor holds, arrives before the read is resumed.
    const [late] = fake.put("app", "a", [{ timestamp: T + 1, message: "late" }]);
    const again = (await pages(saved)).flatMap((p) => p.items.map((e) => e.eventId));

    expect(again).toEqual([...after, late]);
  });

  it("keeps the event ids of the lag window, at most maxIds of them, never half of one millisecond", () => {
    const ev = (timestamp: number, eventId: string) => ({ timestamp, eventId });
    let c = advanceCursor(undefined, [ev(0, "a"), ev(1_000, "b"), ev(400_000, "c")], 300_000, 10);
    // 400 s less the 300 s lag: what is older is let go.
    expect(c).toEqual({ since: 100_000, ids: [[400_000, "c"]] });
    c = advanceCursor(c, [ev(400_001, "e"), ev(400_001, "d"), ev(400_001, "f"), ev(400_002, "g")], 300_000, 3);
    // Over 3 ids: since moves up to the newest 3, then back to the start of their first millisecond.
    expect(c).toEqual({
      since: 400_001,
      ids: [
        [400_001, "d"],
        [400_001, "e"],
        [400_001, "f"],
        [400_002, "g"],
      ],
    });
    // It never moves back.
    expect(advanceCursor(c, [ev(10, "z")], 300_000, 3).since).toBe(400_001);
  });
});
