// Resume from committed positions: what a collection killed at each step of a chunk's commit leaves in state, and what
// the next collection then writes. "Renamed" stands for the chunk file reaching its final name, the step between
// intent and commit; a crash is a collector that stops where it is and a new one opening the same state.
import { describe, expect, it } from "vitest";
import type { ArtifactInfo } from "../../src/contract/source.js";
import { createManualClock, isDone, Progress, type TimeWindow } from "../../src/state/index.js";
import { sharedState } from "./helpers.js";

const info: ArtifactInfo = { name: "a.log", location: "/logs/a.log", size: 1000, mtimeMs: 5, properties: {} };

function setup() {
  const state = sharedState(createManualClock());
  const renamed = new Set<string>();
  const collector = async (owner: string, window?: TimeWindow) =>
    new Progress(await state.open(), { owner, window, chunkVisible: (path) => renamed.has(path) });
  return { renamed, collector };
}

describe("progress", () => {
  it("does not count the rows of a chunk whose collector died before renaming it: the next run writes them", async () => {
    const { collector } = setup();
    const a = await collector("A");
    await a.artifact("a.log");
    a.begin(info);
    await a.intent("/out/A-1.jsonl", [{ artifact: "a.log", from: 0, to: 10 }]);
    // A dies here: the chunk is still under its temp name.
    const b = await collector("B");
    const st = await b.artifact("a.log");
    expect(st).toMatchObject({ committed: 0, complete: false });
    expect(st?.pendingChunk).toBeUndefined();
    expect(b.begin(info).skip).toBe(0);
  });

  it("counts the rows of a chunk renamed before its collector died: the next run starts after them", async () => {
    const { renamed, collector } = setup();
    const a = await collector("A");
    await a.artifact("a.log");
    a.begin(info);
    await a.intent("/out/A-1.jsonl", [{ artifact: "a.log", from: 0, to: 10 }]);
    await a.commit([{ artifact: "a.log", from: 0, to: 10 }]);
    await a.intent("/out/A-2.jsonl", [{ artifact: "a.log", from: 10, to: 25 }]);
    renamed.add("/out/A-2.jsonl");
    // A dies here, between the rename and the commit.
    const b = await collector("B");
    expect(await b.artifact("a.log")).toMatchObject({ committed: 25 });
    expect(b.begin(info).skip).toBe(25);
    // The resolution is saved: a chunk that is later gone (converted, cleaned up) does not take it back.
    renamed.clear();
    expect(await (await collector("C")).artifact("a.log")).toMatchObject({ committed: 25 });
  });

  it("resolves a chunk that holds rows of several artifacts the same way for each of them", async () => {
    const { renamed, collector } = setup();
    const a = await collector("A");
    const other = { ...info, name: "b.log", location: "/logs/b.log" };
    for (const i of [info, other]) {
      await a.artifact(i.name);
      a.begin(i);
    }
    const ranges = [
      { artifact: "a.log", from: 0, to: 7 },
      { artifact: "b.log", from: 0, to: 3 },
    ];
    await a.intent("/out/A-1.jsonl", ranges);
    renamed.add("/out/A-1.jsonl");
    const b = await collector("B");
    expect(await b.artifact("a.log")).toMatchObject({ committed: 7 });
    expect(await b.artifact("b.log")).toMatchObject({ committed: 3 });
  });

  it("counts rows committed for a time window for that window only, pending or committed", async () => {
    const { renamed, collector } = setup();
    const may = { from: Date.UTC(2024, 4, 1), to: Date.UTC(2024, 5, 1) };
    const a = await collector("A", may);
    await a.artifact("a.log");
    a.begin(info);
    await a.intent("/out/A-1.jsonl", [{ artifact: "a.log", from: 0, to: 40 }]);
    renamed.add("/out/A-1.jsonl");
    // Dies after the rename. A run for May goes on after position 40; one for every time reads from the start
    // but drops May's rows below 40, which are written.
    const b = await collector("B", may);
    expect(await b.artifact("a.log")).toMatchObject({ committed: 0, windows: [{ ...may, committed: 40 }] });
    expect(b.begin(info)).toEqual({ skip: 40, exclude: [] });
    const c = await collector("C");
    await c.artifact("a.log");
    expect(c.begin(info)).toEqual({ skip: 0, exclude: [{ ...may, committed: 40 }] });
  });

  it("says an artifact is done for the windows it was read to its end in, while it has not changed", async () => {
    const { collector } = setup();
    const may = { from: Date.UTC(2024, 4, 1), to: Date.UTC(2024, 5, 1) };
    const a = await collector("A", may);
    await a.artifact("a.log");
    a.begin(info);
    await a.complete("a.log", 50, 20);
    const st = await a.artifact("a.log");
    expect(st).toMatchObject({ complete: false, end: 50, rows: 20 });
    expect(isDone(st, info, may)).toBe(true);
    expect(isDone(st, info, { from: Date.UTC(2024, 4, 10), to: Date.UTC(2024, 4, 20) })).toBe(true);
    expect(isDone(st, info)).toBe(false);
    expect(isDone(st, info, { from: Date.UTC(2024, 3, 1), to: Date.UTC(2024, 4, 2) })).toBe(false);
    // Every time, to its end: complete, and done while size, ETag and mtime stay.
    const b = await collector("B");
    await b.artifact("a.log");
    b.begin(info);
    await b.complete("a.log", 50, 30);
    const all = await b.artifact("a.log");
    expect(all).toMatchObject({ complete: true, committed: 50, rows: 50 });
    expect(isDone(all, info)).toBe(true);
    expect(isDone(all, { ...info, size: 1200 })).toBe(false);
    expect(isDone(all, { ...info, mtimeMs: 6 })).toBe(false);
    expect(isDone(all, { ...info, etag: "x" })).toBe(true); // no ETag known to compare
    expect(isDone(undefined, info)).toBe(false);
  });

  it("records an artifact read short of an unfinished last line at the size it was read to, so the rest is read later", async () => {
    const { collector } = setup();
    const a = await collector("A");
    await a.artifact("a.log");
    a.begin(info);
    a.readUpTo("a.log", 900);
    await a.complete("a.log", 12, 12);
    const st = await a.artifact("a.log");
    expect(st).toMatchObject({ size: 900, complete: true });
    expect(isDone(st, info)).toBe(false);
    expect(isDone(st, { ...info, size: 900 })).toBe(true);
  });

  it("starts a replaced artifact over, and keeps counting the rows of one that goes on", async () => {
    const { collector } = setup();
    const a = await collector("A");
    await a.artifact("a.log");
    a.begin(info, { idSeed: "s1" });
    await a.commit([{ artifact: "a.log", from: 0, to: 30 }]);
    await a.complete("a.log", 30, 30);
    const b = await collector("B");
    await b.artifact("a.log");
    expect(b.begin({ ...info, size: 2000 })).toEqual({ skip: 30, exclude: [] });
    await b.complete("a.log", 45, 15);
    expect(await b.artifact("a.log")).toMatchObject({ committed: 45, rows: 45, idSeed: "s1" });
    // Rotated: another file under the name starts at 0, with none of the old one's rows or seed.
    b.begin({ ...info, size: 10 }, { restartAt: 0, idSeed: "s2" });
    await b.complete("a.log", 2, 2);
    expect(await b.artifact("a.log")).toMatchObject({ committed: 2, rows: 2, idSeed: "s2" });
  });

  it("refuses to move an artifact it is not collecting", async () => {
    const { collector } = setup();
    const a = await collector("A");
    await expect(a.commit([{ artifact: "never.log", from: 0, to: 1 }])).rejects.toThrow(/not being collected by this execution/);
  });
});
