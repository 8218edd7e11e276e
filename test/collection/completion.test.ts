// An artifact read to its end is complete in state (later runs skip it) only once its last rows are in a visible
// chunk; until then a killed run must read it again, and its claim stays with this collector.
import { describe, expect, it } from "vitest";
import { ClaimKeeper } from "../../src/collection/claim-keeper.js";
import { Completions } from "../../src/collection/completion.js";
import type { ArtifactInfo } from "../../src/contract/source.js";
import { Claims, createManualClock, Progress } from "../../src/state/index.js";
import { sharedState } from "../state/helpers.js";

const info = (name: string): ArtifactInfo => ({ name, location: `/logs/${name}`, size: 100, properties: {} });

describe("completions", () => {
  it("complete an artifact and give its claim up once the chunk with its last rows is visible, and only once", async () => {
    const clock = createManualClock();
    const state = sharedState(clock);
    const store = await state.open();
    const progress = new Progress(store, { owner: "A" });
    const keeper = new ClaimKeeper(new Claims(store, { owner: "A", leaseSeconds: 30 }), clock);
    const other = new Claims(await state.open(), { owner: "B", leaseSeconds: 30 });
    const completions = new Completions(progress, keeper);
    for (const name of ["a.log", "empty.log"]) {
      expect(await keeper.claim(name)).toBe(true);
      await progress.artifact(name);
      progress.begin(info(name));
    }
    completions.ended("a.log", 10, 10);
    completions.ended("empty.log", 0, 0);
    await progress.commit([{ artifact: "a.log", from: 0, to: 6 }]);
    await completions.visible([{ artifact: "a.log", from: 0, to: 6 }]);
    expect(await progress.artifact("a.log")).toMatchObject({ committed: 6, complete: false });
    expect(await other.claim("a.log")).toBe(false);
    await progress.commit([{ artifact: "a.log", from: 6, to: 10 }]);
    await completions.visible([{ artifact: "a.log", from: 6, to: 10 }]);
    expect(await progress.artifact("a.log")).toMatchObject({ committed: 10, complete: true, rows: 10 });
    expect(await other.claim("a.log")).toBe(true);
    // An artifact no chunk holds rows of completes once everything written is visible; the others are not counted again.
    expect((await progress.artifact("empty.log"))?.complete).not.toBe(true);
    await completions.all();
    expect(await progress.artifact("empty.log")).toMatchObject({ complete: true, rows: 0 });
    expect(await progress.artifact("a.log")).toMatchObject({ rows: 10 });
    await keeper.stop();
  });
});
