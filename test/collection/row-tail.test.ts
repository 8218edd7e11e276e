import { describe, expect, it } from "vitest";
import { ByteBatch } from "../../src/collection/byte-batch.js";
import { MAX_TIME_MS, RowTail } from "../../src/collection/row-tail.js";
import type { TableDefinition } from "../../src/contract/table.js";

const table = { name: "t" } as TableDefinition;
const artifact = { name: "a", location: "/data/ä.log", properties: {} };

describe("RowTail", () => {
  it("writes tp_timestamp and tp_date as toISOString and slice(0, 10) do, for any time a Date holds", () => {
    const tail = new RowTail({ table, partition: "p", sourceType: "file", sourceName: "s", artifact }, "default");
    tail.startBatch("2026-01-01T00:00:00.000Z");
    const times = [0, 1, 999, 1000, 86_399_999, 86_400_000, 1_700_000_000_000, 1_700_000_000_007, 253_402_300_799_999, 253_402_300_800_000, MAX_TIME_MS];
    let seed = 1;
    for (let i = 0; i < 2000; i++) {
      seed = (seed * 48271) % 2147483647;
      times.push(i % 2 === 0 ? 1_600_000_000_000 + seed * 37 : Math.floor((seed / 2147483647) * MAX_TIME_MS));
    }
    for (const ms of times) {
      const out = new ByteBatch();
      out.ensure(tail.room);
      tail.head(out, 35, ms);
      out.frag(tail.indexFallback);
      tail.afterIndex(out);
      const text = out.buf.toString("utf8", 0, out.pos);
      const iso = new Date(ms).toISOString();
      expect(JSON.parse(`{${text.slice(1)}}`)).toMatchObject({
        tp_id: expect.stringMatching(/z$/),
        tp_timestamp: iso,
        tp_date: iso.slice(0, 10),
        tp_index: "default",
        tp_source_location: "/data/ä.log",
      });
    }
  });
});
