// Head prints: how state finds a file again once it was renamed or rotated (perhaps grown since), so that its rows
// go on from where they were and keep their ids, and never takes another file that starts alike for it.
import { describe, expect, it } from "vitest";
import type { ArtifactInfo } from "../../src/contract/source.js";
import { createManualClock, HeadIndex, headPrint, Progress, replaced, startsWith, type StateStore } from "../../src/state/index.js";
import { sharedState } from "./helpers.js";

const info = (name: string, size: number): ArtifactInfo => ({ name, location: `/logs/${name}`, size, properties: {} });

/** One collector's view of the state: its progress and the head index. */
function collector(store: StateStore, owner: string) {
  const progress = new Progress(store, { owner });
  const heads = new HeadIndex(store);
  /** Collects `content` under `name` to `rows` positions, printing and indexing its first bytes. */
  const collect = async (name: string, content: Buffer, rows: number, idSeed: string) => {
    await progress.artifact(name);
    const print = headPrint(content)!;
    progress.begin(info(name, content.length), { head: print, restartAt: 0, idSeed });
    await heads.indexHead(name, print);
    await progress.complete(name, rows, rows);
  };
  return { progress, heads, collect };
}

describe("head prints", () => {
  it("tell a grown file from a replaced one by its first bytes", () => {
    const text = Buffer.from("x".repeat(5000));
    const print = headPrint(text.subarray(0, 300))!;
    expect(print.bytes).toBe(300);
    expect(headPrint(text)!.bytes).toBe(4096);
    expect(headPrint(Buffer.alloc(0))).toBeUndefined();
    expect(startsWith(print, text)).toBe(true);
    expect(startsWith(print, text.subarray(0, 299))).toBe(false);
    const state = { size: 300, head: print };
    expect(replaced(state, info("a.log", 5000), text)).toBe(false); // grown
    expect(replaced(state, info("a.log", 200), undefined)).toBe(true); // truncated
    expect(replaced(state, info("a.log", 5000), Buffer.from("y".repeat(5000)))).toBe(true); // another file
    expect(replaced(state, info("a.log", 5000), undefined)).toBe(false); // no bytes to tell by
  });
});

describe("the head index", () => {
  it("finds a renamed file under its old state, grown or not, and a rotated one once its name holds another file", async () => {
    const state = sharedState(createManualClock());
    const { progress, heads, collect } = collector(await state.open(), "A");
    const first = Buffer.from("first file\n".repeat(20));
    await collect("app.log", first, 20, "seed1");
    // Renamed to app.log.1: found as itself; under its own name it is not "another" file.
    expect(await heads.findByHead(first, "app.log.1")).toMatchObject({ committed: 20, idSeed: "seed1" });
    expect(await heads.findByHead(first, "app.log")).toBeUndefined();
    const grown = Buffer.concat([first, Buffer.from("more\n".repeat(1000))]);
    expect(await heads.findByHead(grown, "app.log.1")).toMatchObject({ committed: 20, idSeed: "seed1" });
    // Rotated: app.log holds a new file; the old state moves aside and is found for the name the old file went to.
    const old = (await progress.artifact("app.log"))!;
    await heads.moved(old);
    await collect("app.log", Buffer.from("second file\n".repeat(3)), 3, "seed2");
    expect(await heads.findByHead(grown, "app.log.1")).toMatchObject({ committed: 20, idSeed: "seed1" });
    expect(await heads.findByHead(Buffer.from("a file never collected\n"), "new.log")).toBeUndefined();
  });

  it("never takes a file that shares a long header for another, renamed or grown", async () => {
    const state = sharedState(createManualClock());
    const { heads, collect } = collector(await state.open(), "A");
    const header = "#Version: 1.0\n#Fields: date time ip method uri status bytes agent\n".repeat(4); // over the 128-byte key
    const files = [1, 2, 3].map((k) => Buffer.from(header + `${k} row\n`.repeat(100)));
    for (const [k, content] of files.entries()) await collect(`old/${k}.log`, content, 10 + k, `seed${k}`);
    for (const [k, content] of files.entries()) {
      expect(await heads.findByHead(content, `new/${k}.log`)).toMatchObject({ committed: 10 + k, idSeed: `seed${k}` });
      const grown = Buffer.concat([content, Buffer.from("g".repeat(5000))]);
      expect(await heads.findByHead(grown, `new/${k}.log`)).toMatchObject({ committed: 10 + k, idSeed: `seed${k}` });
    }
    expect(await heads.findByHead(Buffer.from(header + "4 row\n".repeat(100)), "new/4.log")).toBeUndefined();
  });

  it("does not offer a file whose chunk is pending (its collector may have died mid-commit) as another's state", async () => {
    const state = sharedState(createManualClock());
    const { progress, heads } = collector(await state.open(), "A");
    const content = Buffer.from("pending\n".repeat(50));
    await progress.artifact("a.log");
    const print = headPrint(content)!;
    progress.begin(info("a.log", content.length), { head: print, restartAt: 0 });
    await heads.indexHead("a.log", print);
    await progress.intent("/out/A-1.jsonl", [{ artifact: "a.log", from: 0, to: 50 }]);
    expect(await heads.findByHead(content, "a.log.1")).toBeUndefined();
    await progress.commit([{ artifact: "a.log", from: 0, to: 50 }]);
    expect(await heads.findByHead(content, "a.log.1")).toMatchObject({ committed: 50 });
  });

  it("loses no file that collectors index under one head key at the same time", async () => {
    const clock = createManualClock();
    const state = sharedState(clock);
    const a = collector(await state.open(), "A");
    const b = collector(await state.open(), "B");
    const header = "h".repeat(200);
    const mine = Buffer.from(header + "a".repeat(300));
    const theirs = Buffer.from(header + "b".repeat(300));
    await Promise.all([a.collect("a.log", mine, 5, "sa"), b.collect("b.log", theirs, 6, "sb")]);
    // Only the head key's candidate list finds a file that grew past its print: both must be in it.
    const grow = (content: Buffer) => Buffer.concat([content, Buffer.from("z".repeat(5000))]);
    expect(await a.heads.findByHead(grow(mine), "a.log.1")).toMatchObject({ committed: 5, idSeed: "sa" });
    expect(await a.heads.findByHead(grow(theirs), "b.log.1")).toMatchObject({ committed: 6, idSeed: "sb" });
  });
});
