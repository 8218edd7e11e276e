// Claims on a fake clock: a lease lapses when the clock says so, not after a real wait. Two collectors are two
// connections to one SQLite state file, as two processes on a host are.
import { describe, expect, it } from "vitest";
import { Claims, createManualClock, localHost, type ClaimHolder } from "../../src/state/index.js";
import { sharedState } from "./helpers.js";

const LEASE = 30;

async function collectors(holderGone?: (holder: ClaimHolder) => boolean) {
  const clock = createManualClock();
  const state = sharedState(clock);
  const a = new Claims(await state.open(), { owner: "A", leaseSeconds: LEASE });
  const b = new Claims(await state.open(), { owner: "B", leaseSeconds: LEASE, holderGone });
  return { clock, state, a, b };
}

describe("claims", () => {
  it("hold an artifact for one collector until its lease lapses, and then for the next one", async () => {
    const { clock, a, b } = await collectors();
    expect(await a.claim("x.log")).toBe(true);
    expect(await a.claim("x.log")).toBe(true); // its own claim, claimed again
    expect(await b.claim("x.log")).toBe(false);
    clock.stall(LEASE * 1000 - 1);
    expect(await b.claim("x.log")).toBe(false); // a millisecond before the lease lapses
    clock.stall(1);
    expect(await b.claim("x.log")).toBe(true);
    expect(await b.holder("x.log")).toEqual({ execution: "B", pid: process.pid, host: localHost() });
    expect(await a.claim("x.log")).toBe(false);
  });

  it("renew a claim for a whole lease from the renewal, and never take back one another collector took", async () => {
    const { clock, a, b } = await collectors();
    expect(await a.claim("x.log")).toBe(true);
    clock.stall(20_000);
    expect(await a.renew("x.log")).toBe(true);
    clock.stall(20_000); // 40 s after the claim, 20 s after the renewal
    expect(await b.claim("x.log")).toBe(false);
    // A stalls past its lease; B takes the artifact. A's renewal and release change nothing of B's claim.
    clock.stall(LEASE * 1000);
    expect(await b.claim("x.log")).toBe(true);
    expect(await a.renew("x.log")).toBe(false);
    await a.release("x.log");
    expect((await a.holder("x.log"))?.execution).toBe("B");
    expect(await b.renew("x.log")).toBe(true);
  });

  it("take a lapsed claim back on renewal when nobody took it meanwhile", async () => {
    const { clock, a, b } = await collectors();
    expect(await a.claim("x.log")).toBe(true);
    clock.stall(LEASE * 1000 + 1);
    expect(await a.renew("x.log")).toBe(true);
    expect(await b.claim("x.log")).toBe(false);
  });

  it("are given up by their holder only, so the next collector takes the artifact at once", async () => {
    const { a, b } = await collectors();
    expect(await a.claim("x.log")).toBe(true);
    await b.release("x.log"); // compare-and-delete: B's release leaves A's claim
    expect(await b.claim("x.log")).toBe(false);
    await a.release("x.log");
    expect(await a.holder("x.log")).toBeUndefined();
    expect(await b.claim("x.log")).toBe(true);
  });

  it("of a holder known to be gone are taken at once; a live holder's wait for their lease", async () => {
    const judged: ClaimHolder[] = [];
    const { a, b, state } = await collectors((holder) => {
      judged.push(holder);
      return holder.execution === "A";
    });
    expect(await a.claim("x.log")).toBe(true);
    expect(await b.claim("x.log")).toBe(true);
    expect(judged).toEqual([{ execution: "A", pid: process.pid, host: localHost() }]);
    // The dead holder's renewal finds the claim taken.
    expect(await a.renew("x.log")).toBe(false);
    // A live holder (C) keeps its claim from B.
    const c = new Claims(await state.open(), { owner: "C", leaseSeconds: LEASE });
    expect(await c.claim("y.log")).toBe(true);
    expect(await b.claim("y.log")).toBe(false);
  });

  it("of a dead holder go to one collector only when two take them at once", async () => {
    const clock = createManualClock();
    const state = sharedState(clock);
    const gone = (holder: ClaimHolder) => holder.execution === "A";
    const a = new Claims(await state.open(), { owner: "A", leaseSeconds: LEASE });
    const b = new Claims(await state.open(), { owner: "B", leaseSeconds: LEASE, holderGone: gone });
    const c = new Claims(await state.open(), { owner: "C", leaseSeconds: LEASE, holderGone: gone });
    expect(await a.claim("x.log")).toBe(true);
    const won = await Promise.all([b.claim("x.log"), c.claim("x.log")]);
    expect(won.filter(Boolean)).toHaveLength(1);
    expect((await a.holder("x.log"))?.execution).toBe(won[0] ? "B" : "C");
  });
});
