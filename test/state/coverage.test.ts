import { describe, expect, it } from "vitest";
import { advanceCoverage, containsWindow, isCovered, planCoverage, simplifyCoverage, type CoveredWindow, type TimeWindow } from "../../src/state/coverage.js";

/** A small seeded PRNG, so that a failing case can be run again. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const inWindow = (w: TimeWindow, t: number) => (w.from === undefined || t >= w.from) && (w.to === undefined || t < w.to);

describe("coverage of an artifact by time windows", () => {
  it("writes every row of every window asked for exactly once, over random runs, ranges and kills", () => {
    for (let seed = 1; seed <= 400; seed++) {
      const rnd = prng(seed);
      const n = 1 + Math.floor(rnd() * 40);
      // Rows' times come from a few values, so that windows cut through them.
      const times = Array.from({ length: n }, () => Math.floor(rnd() * 10));
      const bound = () => (rnd() < 0.3 ? undefined : Math.floor(rnd() * 11));
      let committed = 0;
      let windows: CoveredWindow[] = [];
      const written = new Map<number, number>();
      const asked: TimeWindow[] = [];
      for (let run = 0; run < 8; run++) {
        let w: TimeWindow = { from: bound(), to: bound() };
        if (w.from !== undefined && w.to !== undefined && w.from >= w.to) w = { from: w.to, to: w.from + 1 };
        const killed = rnd() < 0.35;
        const stopAt = killed ? Math.floor(rnd() * (n + 1)) : n;
        const plan = planCoverage(committed, windows, w);
        for (let p = plan.skip; p < stopAt; p++) {
          const t = times[p]!;
          if (!inWindow(w, t) || isCovered(plan.exclude, p, t)) continue;
          written.set(p, (written.get(p) ?? 0) + 1);
        }
        const next = advanceCoverage(committed, windows, w, Math.max(plan.skip, stopAt));
        committed = next.committed;
        windows = next.windows;
        if (!killed) asked.push(w);
        // No row twice, ever.
        for (const [p, count] of written) expect(count, `seed ${seed}: position ${p} written ${count} times`).toBe(1);
        // Every row of every window a run finished is written.
        for (const a of asked) {
          for (let p = 0; p < n; p++) {
            if (inWindow(a, times[p]!)) expect(written.has(p), `seed ${seed}: position ${p} (time ${times[p]}) of window ${JSON.stringify(a)} lost`).toBe(true);
          }
        }
      }
    }
  });

  it("lets an unbounded collection after a --from one write only the older rows of the files it read", () => {
    const after = advanceCoverage(0, undefined, { from: 600 }, 10);
    expect(after).toEqual({ committed: 0, windows: [{ from: 600, committed: 10 }] });
    const plan = planCoverage(after.committed, after.windows, {});
    expect(plan.skip).toBe(0);
    expect(isCovered(plan.exclude, 3, 599)).toBe(false);
    expect(isCovered(plan.exclude, 3, 600)).toBe(true);
    expect(isCovered(plan.exclude, 10, 700)).toBe(false);
    // Once it has read the file to its end, everything is collected for every time and the window says nothing more.
    expect(advanceCoverage(after.committed, after.windows, {}, 10)).toEqual({ committed: 10, windows: [] });
  });

  it("merges windows that meet at the same position, and windows that hold every time become committed", () => {
    const a = advanceCoverage(0, undefined, { to: 100 }, 7);
    const b = advanceCoverage(a.committed, a.windows, { from: 100, to: 200 }, 7);
    expect(b.windows).toEqual([{ to: 200, committed: 7 }]);
    const c = advanceCoverage(b.committed, b.windows, { from: 150 }, 7);
    expect(c).toEqual({ committed: 7, windows: [] });
    expect(planCoverage(c.committed, c.windows, { from: 10, to: 20 }).skip).toBe(7);
  });

  it("skips, without reading, positions that a window holding the whole range has collected", () => {
    const cov = simplifyCoverage(2, [{ from: 0, to: 1000, committed: 9 }]);
    expect(planCoverage(cov.committed, cov.windows, { from: 10, to: 20 })).toEqual({ skip: 9, exclude: [] });
    expect(planCoverage(cov.committed, cov.windows, { from: 500, to: 2000 })).toEqual({ skip: 2, exclude: [{ from: 0, to: 1000, committed: 9 }] });
    expect(containsWindow({}, { from: 1 })).toBe(true);
    expect(containsWindow({ from: 1 }, {})).toBe(false);
  });
});
