// The manual clock the lease and retry tests run on: if it fired timers early, late or more than once, those tests
// would prove nothing.
import { describe, expect, it } from "vitest";
import { createManualClock } from "../../src/state/index.js";

describe("the manual clock", () => {
  it("fires sleeps and intervals as they fall due, in time order, and nothing after an interval is stopped", async () => {
    const clock = createManualClock(0);
    const fired: string[] = [];
    void clock.sleep(250).then(() => fired.push(`sleep@${clock.now()}`));
    const stop = clock.every(100, () => fired.push(`tick@${clock.now()}`));
    await clock.advance(99);
    expect(fired).toEqual([]);
    await clock.advance(201);
    expect(fired).toEqual(["tick@100", "tick@200", "sleep@250", "tick@300"]);
    stop();
    await clock.advance(1000);
    expect(fired).toHaveLength(4);
    expect(clock.now()).toBe(1300);
  });

  it("fires an interval once, late, after a stall, as a blocked event loop does", async () => {
    const clock = createManualClock(0);
    const ticks: number[] = [];
    clock.every(100, () => ticks.push(clock.now()));
    clock.stall(550);
    expect(ticks).toEqual([]);
    await clock.advance(0);
    expect(ticks).toEqual([550]);
    await clock.advance(100);
    expect(ticks).toEqual([550, 650]);
  });
});
