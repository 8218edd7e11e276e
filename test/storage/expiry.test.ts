import Database from "better-sqlite3";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import * as Async from "../../src/storage/async.js";
import * as Sync from "../../src/storage/sync.js";
import { ReturnCode, t } from "../../src/storage/index.js";
import { manualClock, tempDir } from "./helpers.js";

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

function rows(path: string, table = "tailkit_storage"): number {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe("expiry on sqlite with an injected clock", () => {
  it("hides a short entry before any sweep and keeps a long one", () => {
    const clock = manualClock();
    const path = join(dir, "e.db");
    const h = Sync.open("sqlite", { path, clock: clock.now, expireInterval: 0 }, t.string(), t.string()).value!;
    h.put({ key: "short", value: "s", expireTime: 1 });
    h.put({ key: "long", value: "l", expireTime: 3600 });
    h.put({ key: "forever", value: "f" });
    clock.advance(999);
    expect(h.get("short").value).toBe("s");
    clock.advance(1);
    expect(h.get("short").code).toBe(ReturnCode.KEY_NOT_FOUND);
    expect(h.get("long").value).toBe("l");
    expect(h.get("forever").value).toBe("f");
    // Not swept yet: the row is still there, only hidden.
    expect(rows(path)).toBe(3);
    expect(h.sweepStats.sweeps).toBe(0);
    h.close();
  });

  it("resets expiry on overwrite, with or without a new expireTime", () => {
    const clock = manualClock();
    const h = Sync.open("sqlite", { path: join(dir, "o.db"), clock: clock.now, expireInterval: 0 }, t.string(), t.string()).value!;
    h.put({ key: "a", value: "1", expireTime: 10 });
    h.put({ key: "b", value: "1", expireTime: 10 });
    clock.advance(9_000);
    h.put({ key: "a", value: "2", expireTime: 10 });
    h.put({ key: "b", value: "2" });
    clock.advance(5_000);
    expect(h.get("a")).toEqual({ code: ReturnCode.SUCCESS, value: "2" });
    expect(h.get("b")).toEqual({ code: ReturnCode.SUCCESS, value: "2" });
    clock.advance(5_000);
    expect(h.get("a").code).toBe(ReturnCode.KEY_NOT_FOUND);
    clock.advance(1_000_000);
    expect(h.get("b").value).toBe("2");
    h.close();
  });

  it("lets overwrite=false put onto an expired key", async () => {
    const clock = manualClock();
    const h = (await Async.open("sqlite", { path: join(dir, "x.db"), clock: clock.now, expireInterval: 0 }, t.string(), t.string())).value!;
    await h.put({ key: "k", value: "old", expireTime: 1 });
    expect((await h.put({ key: "k", value: "new", overwrite: false })).code).toBe(ReturnCode.KEY_EXISTS);
    clock.advance(1_000);
    expect((await h.put({ key: "k", value: "new", overwrite: false })).code).toBe(ReturnCode.SUCCESS);
    clock.advance(1_000_000);
    expect(await h.get("k")).toEqual({ code: ReturnCode.SUCCESS, value: "new" });
    await h.close();
  });

  it("sweep deletes only expired rows and counts them", () => {
    const clock = manualClock();
    const path = join(dir, "s.db");
    const h = Sync.open("sqlite", { path, clock: clock.now, expireInterval: 0 }, t.string(), t.integer()).value!;
    for (let i = 0; i < 10; i++) h.put({ key: `k${i}`, value: i, expireTime: i < 4 ? 1 : 100 });
    clock.advance(2_000);
    expect(h.sweep()).toEqual({ code: ReturnCode.SUCCESS, value: 4 });
    expect(rows(path)).toBe(6);
    expect(h.sweepStats).toMatchObject({ sweeps: 1, expiredEntries: 4, failed: 0 });
    h.close();
  });

  it("runs the sweeper every expireInterval", async () => {
    const clock = manualClock();
    const path = join(dir, "timer.db");
    const h = Sync.open("sqlite", { path, clock: clock.now, expireInterval: 0.02 }, t.string(), t.string()).value!;
    h.put({ key: "k", value: "v", expireTime: 1 });
    clock.advance(5_000);
    await expect.poll(() => rows(path), { timeout: 2_000, interval: 20 }).toBe(0);
    expect(h.sweepStats.sweeps).toBeGreaterThan(0);
    h.close();
    const after = h.sweepStats.sweeps;
    await new Promise((r) => setTimeout(r, 80));
    // The timer stops with the handle.
    expect(h.sweepStats.sweeps).toBe(after);
  });
});
