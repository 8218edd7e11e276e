// Scheduling on a fake clock: which artifacts a collector takes, skips and waits for, when collectors share one state.
// The state, claims and claim keeper are the real ones on an SQLite file; only time is faked, and reading an artifact
// is stood in for by committing its rows in state.
import { describe, expect, it } from "vitest";
import { ClaimKeeper } from "../../src/collection/claim-keeper.js";
import { Completions } from "../../src/collection/completion.js";
import { Scheduler, type SchedulerOptions } from "../../src/collection/scheduler.js";
import type { ArtifactInfo } from "../../src/contract/source.js";
import { Claims, createManualClock, HeadIndex, Progress, type CoveragePlan, type ManualClock, type StateStore } from "../../src/state/index.js";
import { sharedState } from "../state/helpers.js";

const LEASE = 30;
/** Rows each artifact has. */
const ROWS = 100;

const info = (name: string): ArtifactInfo => ({ name, location: `/logs/${name}`, size: 5000, mtimeMs: 1, properties: {} });

async function* listing(names: string[]): AsyncGenerator<ArtifactInfo> {
  for (const name of names) yield info(name);
}

/** A collector on the shared state: its parts, and what it collected (artifact, first position written, when). */
function collector(store: StateStore, owner: string, clock: ManualClock) {
  const progress = new Progress(store, { owner });
  const claims = new Claims(store, { owner, leaseSeconds: LEASE });
  const keeper = new ClaimKeeper(claims, clock);
  const completions = new Completions(progress, keeper);
  const collected: { name: string; skip: number; at: number }[] = [];
  const skipped: string[] = [];
  const waiting: number[] = [];
  /** Writes an artifact's rows from plan.skip on, as one visible chunk. */
  const write = async (name: string, plan: CoveragePlan) => {
    await progress.commit([{ artifact: name, from: plan.skip, to: ROWS }]);
    completions.ended(name, ROWS, ROWS - plan.skip);
  };
  const scheduler = (over: Partial<SchedulerOptions> = {}) =>
    new Scheduler({
      state: { progress, heads: new HeadIndex(store), window: {}, leaseSeconds: LEASE },
      keeper,
      recollect: false,
      concurrency: 4,
      clock,
      startingPoint: async (i) => ({ idSeed: i.name }),
      collect: async (i, plan) => {
        collected.push({ name: i.name, skip: plan.skip, at: clock.now() });
        await write(i.name, plan);
      },
      flush: () => completions.all(),
      stopped: () => false,
      onSkip: (i) => skipped.push(i.name),
      onWaiting: (n) => waiting.push(n),
      ...over,
    });
  /** Schedules what `listed` gives, then completes what was read, as an execution does once its writer closed. */
  const run = (listed: AsyncIterable<ArtifactInfo>, over: Partial<SchedulerOptions> = {}) =>
    scheduler(over)
      .run(listed)
      .then(() => completions.all());
  /** Claims an artifact (with `by`: the claims alone, or the keeper that renews them) and starts it, outside any run. */
  const begin = async (name: string, by: Pick<Claims, "claim">) => {
    expect(await by.claim(name)).toBe(true);
    await progress.artifact(name);
    progress.begin(info(name));
  };
  return { progress, claims, keeper, completions, collected, skipped, waiting, run, write, begin };
}

/** Moves the clock on in steps until `run` settles (or a simulated hour passed). */
async function finish(clock: ManualClock, run: Promise<void>): Promise<void> {
  let settled = false;
  const done = run.finally(() => (settled = true));
  for (let i = 0; i < 14_400 && !settled; i++) await clock.advance(250);
  await done;
  expect(settled).toBe(true);
}

async function setup() {
  const clock = createManualClock();
  const state = sharedState(clock);
  const a = collector(await state.open(), "A", clock);
  const b = collector(await state.open(), "B", clock);
  return { clock, a, b };
}

describe("the scheduler", () => {
  it("defers an artifact another collector holds, and takes it over from its committed rows once that claim lapses", async () => {
    const { clock, a, b } = await setup();
    const t0 = clock.now();
    // B took b.log and wrote 40 of its rows; then it was killed on another host: its claim stays, unrenewed.
    await b.begin("b.log", b.claims);
    await b.progress.commit([{ artifact: "b.log", from: 0, to: 40 }]);
    await finish(clock, a.run(listing(["a.log", "b.log"])));
    expect(a.collected.map((c) => c.name)).toEqual(["a.log", "b.log"]);
    const takeover = a.collected[1]!;
    expect(takeover.at).toBeGreaterThanOrEqual(t0 + LEASE * 1000);
    expect(takeover.at).toBeLessThanOrEqual(t0 + LEASE * 1000 + 1000); // tried again every second
    expect(takeover.skip).toBe(40);
    expect(a.waiting[0]).toBe(1);
    expect(a.waiting.at(-1)).toBe(0);
    await a.keeper.stop();
  });

  it("skips a deferred artifact its holder finished meanwhile, rather than collecting it twice", async () => {
    const { clock, a, b } = await setup();
    const t0 = clock.now();
    await b.begin("b.log", b.keeper);
    const run = a.run(listing(["b.log"]));
    await clock.advance(5000);
    expect(a.collected).toEqual([]);
    // B writes all of b.log and gives its claim up, long before its lease would lapse.
    await b.write("b.log", { skip: 0, exclude: [] });
    await b.completions.all();
    await finish(clock, run);
    expect(clock.now()).toBeLessThan(t0 + LEASE * 1000);
    expect(a.collected).toEqual([]);
    expect(a.skipped).toEqual(["b.log"]);
    await a.keeper.stop();
    await b.keeper.stop();
  });

  it("skips artifacts collected already while they are unchanged, and collects the rest from where they stopped", async () => {
    const { clock, a } = await setup();
    await finish(clock, a.run(listing(["one.log", "two.log"])));
    expect(a.collected.map((c) => c.name)).toEqual(["one.log", "two.log"]);
    a.collected.length = 0;
    const changed = (async function* () {
      yield info("one.log");
      yield { ...info("two.log"), size: 9000 }; // grown
      yield info("three.log");
    })();
    await finish(clock, a.run(changed));
    expect(a.skipped).toEqual(["one.log"]);
    expect(a.collected.map((c) => [c.name, c.skip])).toEqual([
      ["two.log", ROWS],
      ["three.log", 0],
    ]);
    // --recollect takes them again.
    a.collected.length = 0;
    await finish(clock, a.run(listing(["one.log"]), { recollect: true }));
    expect(a.collected.map((c) => c.name)).toEqual(["one.log"]);
    await a.keeper.stop();
  });

  it("collects at most `concurrency` artifacts at once, each of them once", async () => {
    const { clock, a } = await setup();
    let running = 0;
    let most = 0;
    const names = Array.from({ length: 12 }, (_, i) => `${i}.log`);
    const run = a.run(listing(names), {
      concurrency: 3,
      collect: async (i, plan) => {
        a.collected.push({ name: i.name, skip: plan.skip, at: clock.now() });
        most = Math.max(most, ++running);
        await clock.sleep(1000);
        await a.write(i.name, plan);
        running--;
      },
    });
    await finish(clock, run);
    expect(most).toBe(3);
    expect(a.collected.map((c) => c.name).sort()).toEqual([...names].sort());
    await a.keeper.stop();
  });

  it("takes no more artifacts once the execution stopped", async () => {
    const { clock, a } = await setup();
    let stop = false;
    const run = a.run(listing(["1.log", "2.log", "3.log"]), {
      collect: async (i, plan) => {
        a.collected.push({ name: i.name, skip: plan.skip, at: clock.now() });
        stop = true;
      },
      stopped: () => stop,
    });
    await finish(clock, run);
    expect(a.collected.map((c) => c.name)).toEqual(["1.log"]);
    await a.keeper.stop();
  });
});
