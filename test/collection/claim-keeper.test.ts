// The renewal of held claims on a fake clock: the keeper's timer and the claims' lease run on the same clock, which
// the tests move on (advance: timers fire as they fall due; stall: time passes with the event loop blocked).
import { describe, expect, it } from "vitest";
import { ClaimKeeper } from "../../src/collection/claim-keeper.js";
import { Claims, createManualClock } from "../../src/state/index.js";
import { sharedState } from "../state/helpers.js";

const LEASE = 3;

async function setup() {
  const clock = createManualClock();
  const state = sharedState(clock);
  const a = new Claims(await state.open(), { owner: "A", leaseSeconds: LEASE });
  const b = new Claims(await state.open(), { owner: "B", leaseSeconds: LEASE });
  const keeper = new ClaimKeeper(a, clock);
  return { clock, a, b, keeper };
}

describe("the claim keeper", () => {
  it("keeps an artifact this collector holds from others for as long as it runs, and gives it up when it stops", async () => {
    const { clock, b, keeper } = await setup();
    expect(await keeper.claim("x.log")).toBe(true);
    for (let s = 0; s < 10; s++) {
      await clock.advance(1000);
      expect(await b.claim("x.log")).toBe(false);
    }
    expect(keeper.holds("x.log")).toBe(true);
    await keeper.stop();
    expect(await b.claim("x.log")).toBe(true);
  });

  it("stops the reading of an artifact another collector took while this one stalled past its lease, and leaves it theirs", async () => {
    const { clock, b, keeper } = await setup();
    expect(await keeper.claim("x.log")).toBe(true);
    const lost = keeper.watch("x.log");
    clock.stall(LEASE * 1000 + 500);
    expect(await b.claim("x.log")).toBe(true);
    expect(lost.aborted).toBe(false);
    await clock.advance(0); // the loop comes back: the renewal that was due runs, late
    expect(lost.aborted).toBe(true);
    expect(keeper.holds("x.log")).toBe(false);
    await keeper.stop();
    expect((await b.holder("x.log"))?.execution).toBe("B");
    expect(await b.renew("x.log")).toBe(true);
  });

  it("gives a claim up again when a renewal under way took it back after it was released", async () => {
    const { clock, b, keeper } = await setup();
    expect(await keeper.claim("x.log")).toBe(true);
    // The claim lapsed unnoticed; a renewal starts (it will take the lapsed claim anew) and the artifact completes.
    clock.stall(LEASE * 1000 + 1);
    const round = keeper.renewAll();
    await keeper.release("x.log");
    await round;
    expect(await b.claim("x.log")).toBe(true);
  });
});
