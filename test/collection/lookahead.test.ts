import { describe, expect, it } from "vitest";
import { lookahead } from "../../src/collection/lookahead.js";

/** A source of n numbers that records how far it was pulled and whether it was ended. */
function counting(n: number, failAt?: number) {
  const seen = { pulled: 0, returned: false };
  async function* gen(): AsyncGenerator<number> {
    try {
      for (let i = 0; i < n; i++) {
        if (i === failAt) throw new Error(`broken at ${i}`);
        seen.pulled++;
        yield i;
        await Promise.resolve();
      }
    } finally {
      seen.returned = true;
    }
  }
  return { seen, source: gen() };
}

const settle = () => new Promise((r) => setTimeout(r, 20));

describe("lookahead over discovery", () => {
  it("lists ahead of its consumer up to its bound, keeps the order, and says when discovery ended", async () => {
    const { seen, source } = counting(100);
    let listed = 0;
    let ended = false;
    const it = lookahead(
      source,
      30,
      () => listed++,
      () => (ended = true),
    )[Symbol.asyncIterator]();
    expect((await it.next()).value).toBe(0);
    await settle();
    // One taken, thirty waiting: the source is pulled no further than the bound.
    expect(seen.pulled).toBe(31);
    expect(listed).toBe(31);
    expect(ended).toBe(false);
    const rest: number[] = [];
    for (let r = await it.next(); !r.done; r = await it.next()) rest.push(r.value);
    expect(rest).toEqual(Array.from({ length: 99 }, (_, i) => i + 1));
    expect(listed).toBe(100);
    expect(ended).toBe(true);
  });

  it("gives the items before a failure, then the failure", async () => {
    const { source } = counting(10, 4);
    const got: number[] = [];
    let ended = false;
    await expect(
      (async () => {
        for await (const x of lookahead(
          source,
          100,
          () => undefined,
          () => (ended = true),
        ))
          got.push(x);
      })(),
    ).rejects.toThrow("broken at 4");
    expect(got).toEqual([0, 1, 2, 3]);
    expect(ended).toBe(false);
  });

  it("ends the source when its consumer stops early", async () => {
    const { seen, source } = counting(1000);
    for await (const x of lookahead(
      source,
      5,
      () => undefined,
      () => undefined,
    ))
      if (x === 2) break;
    expect(seen.returned).toBe(true);
    expect(seen.pulled).toBeLessThan(10);
  });
});
