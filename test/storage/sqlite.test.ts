import Database from "better-sqlite3";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import * as Async from "../../src/storage/async.js";
import * as Sync from "../../src/storage/sync.js";
import { ReturnCode, storageEvents, t, type StorageEvent } from "../../src/storage/index.js";
import { asyncOps, cases, runCase, syncOps } from "./cases.js";
import { tempDir } from "./helpers.js";

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

describe("sqlite: shared cases give the same results sync and async", () => {
  for (const c of cases) {
    it(c.name, async () => {
      const path = join(dir, "cases.db");
      const a = await Async.open("sqlite", { path, table: "async_t", ...c.options }, c.keyType, c.valueType);
      const s = Sync.open("sqlite", { path, table: "sync_t", ...c.options }, c.keyType, c.valueType);
      expect(a.code).toBe(ReturnCode.SUCCESS);
      expect(s.code).toBe(ReturnCode.SUCCESS);
      const ah = a.value!;
      const sh = s.value!;
      const asyncOut = await runCase(c, asyncOps(ah));
      const syncOut = await runCase(c, syncOps(sh));
      expect(asyncOut).toStrictEqual(c.expect);
      expect(syncOut).toStrictEqual(asyncOut);
      await ah.close();
      sh.close();
    });
  }
});

describe("sqlite backend", () => {
  it("keeps data across reopen of the same file", () => {
    const path = join(dir, "persist.db");
    const first = Sync.open("sqlite", { path }, t.string(), t.json()).value!;
    expect(first.put({ key: "k", value: { n: 1 } }).code).toBe(ReturnCode.SUCCESS);
    first.close();
    const second = Sync.open("sqlite", { path }, t.string(), t.json()).value!;
    expect(second.get("k")).toEqual({ code: ReturnCode.SUCCESS, value: { n: 1 } });
    second.close();
  });

  it("uses WAL for files", () => {
    const path = join(dir, "wal.db");
    Sync.open("sqlite", { path }, t.string(), t.string()).value!.close();
    const raw = new Database(path);
    expect(raw.pragma("journal_mode", { simple: true })).toBe("wal");
    raw.close();
  });

  it("works in :memory:", async () => {
    const h = (await Async.open("sqlite", { path: ":memory:" }, t.string(), t.integer())).value!;
    expect((await h.put({ key: "a", value: 1 })).code).toBe(ReturnCode.SUCCESS);
    expect(await h.get("a")).toEqual({ code: ReturnCode.SUCCESS, value: 1 });
    expect((await h.close()).code).toBe(ReturnCode.SUCCESS);
  });

  it("keeps two tables in one file apart", () => {
    const path = join(dir, "shared.db");
    const a = Sync.open("sqlite", { path, table: "alpha" }, t.string(), t.string()).value!;
    const b = Sync.open("sqlite", { path, table: "beta" }, t.string(), t.string()).value!;
    a.put({ key: "k", value: "from-alpha" });
    expect(b.get("k").code).toBe(ReturnCode.KEY_NOT_FOUND);
    b.put({ key: "k", value: "from-beta" });
    expect(a.get("k").value).toBe("from-alpha");
    expect(b.get("k").value).toBe("from-beta");
    a.erase("k");
    expect(b.get("k").value).toBe("from-beta");
    a.close();
    b.close();
  });

  it("reports a bad database path as OPERATION_FAILED naming the path, in both modules", async () => {
    const path = join(dir, "no", "such", "dir", "x.db");
    const s = Sync.open("sqlite", { path }, t.string(), t.string());
    const a = await Async.open("sqlite", { path }, t.string(), t.string());
    for (const r of [s, a]) {
      expect(r.code).toBe(ReturnCode.OPERATION_FAILED);
      expect(r.error).toContain(path);
      expect(r.error).toMatch(/^sqlite backend failed to open: /);
      expect(r.value).toBeUndefined();
    }
  });

  it("gives TIMEOUT when another connection holds the write lock", async () => {
    const path = join(dir, "busy.db");
    const h = Sync.open("sqlite", { path, busyTimeout: 50 }, t.string(), t.string()).value!;
    const ah = (await Async.open("sqlite", { path, busyTimeout: 50 }, t.string(), t.string())).value!;
    expect(h.put({ key: "before", value: "v" }).code).toBe(ReturnCode.SUCCESS);
    const other = new Database(path);
    other.exec("BEGIN IMMEDIATE");
    try {
      const started = Date.now();
      const r = h.put({ key: "k", value: "v" });
      expect(r.code).toBe(ReturnCode.TIMEOUT);
      expect(r.error).toContain("locked");
      expect(Date.now() - started).toBeGreaterThanOrEqual(40);
      expect((await ah.put({ key: "k", value: "v" })).code).toBe(ReturnCode.TIMEOUT);
      // WAL readers are not blocked by a writer.
      expect(h.get("before")).toEqual({ code: ReturnCode.SUCCESS, value: "v" });
    } finally {
      other.exec("ROLLBACK");
      other.close();
    }
    expect(h.put({ key: "k", value: "v" }).code).toBe(ReturnCode.SUCCESS);
    h.close();
    await ah.close();
  });

  it("reports stored data without the serializer prefix as UNSERIALIZATION_FAILED", () => {
    const path = join(dir, "foreign.db");
    const h = Sync.open("sqlite", { path, table: "t1" }, t.string(), t.string()).value!;
    h.put({ key: "k", value: "v" });
    const raw = new Database(path);
    raw.prepare(`UPDATE t1 SET value = ?`).run('"v"');
    raw.close();
    const r = h.get("k");
    expect(r.code).toBe(ReturnCode.UNSERIALIZATION_FAILED);
    expect(r.error).toContain("tkjson1:");
    h.close();
  });

  it("reports a stored value of another type as UNSERIALIZATION_FAILED", () => {
    const path = join(dir, "retyped.db");
    const w = Sync.open("sqlite", { path }, t.string(), t.string()).value!;
    w.put({ key: "k", value: "text" });
    w.close();
    const r = Sync.open("sqlite", { path }, t.string(), t.integer()).value!;
    const got = r.get("k");
    expect(got.code).toBe(ReturnCode.UNSERIALIZATION_FAILED);
    expect(got.error).toContain("integer");
    r.close();
  });
});

describe("open: options and failures", () => {
  it("names a missing required option", async () => {
    const r = await Async.open("sqlite", {} as never, t.string(), t.string());
    expect(r.code).toBe(ReturnCode.INITIALIZATION_FAILED);
    expect(r.error).toBe('sqlite backend failed to open: options.path: is required (a file path or ":memory:")');
  });

  it.each([
    [{ path: ":memory:", table: "x; DROP TABLE y" }, "options.table"],
    [{ path: ":memory:", busyTimeout: -1 }, "options.busyTimeout"],
    [{ path: ":memory:", expireInterval: "soon" }, "options.expireInterval"],
    [{ path: ":memory:", clock: 5 }, "options.clock"],
    [{ path: ":memory:", serializer: {} }, "options.serializer"],
    [{ path: 7 }, "options.path"],
  ])("names an invalid option %j", (options, name) => {
    const r = Sync.open("sqlite", options as never, t.string(), t.string());
    expect(r.code).toBe(ReturnCode.INITIALIZATION_FAILED);
    expect(r.error).toContain(`sqlite backend failed to open: ${name}:`);
  });

  it.each(["pathh", "busy_timeout", "expireIntervall"])("refuses the unknown option name %s in both modules", async (name) => {
    const options = { path: join(dir, "unknown.db"), [name]: 1 };
    const s = Sync.open("sqlite", options as never, t.string(), t.string());
    const a = await Async.open("sqlite", options as never, t.string(), t.string());
    for (const r of [s, a]) {
      expect(r).toEqual({
        code: ReturnCode.INITIALIZATION_FAILED,
        error: `sqlite backend failed to open: options.${name}: unknown option (known: serializer, clock, expireInterval, getAllLimit, path, table, busyTimeout)`,
      });
    }
  });

  it("takes an option set to undefined as not given", () => {
    const r = Sync.open("sqlite", { path: ":memory:", table: undefined, other: undefined } as never, t.string(), t.string());
    expect(r.code).toBe(ReturnCode.SUCCESS);
    r.value!.close();
  });

  it("refuses an unknown backend and a non-descriptor type", async () => {
    const unknown = await Async.open("cassandra", {}, t.string(), t.string());
    expect(unknown.code).toBe(ReturnCode.INITIALIZATION_FAILED);
    expect(unknown.error).toContain("cassandra");
    expect(unknown.error).toContain("sqlite, redis");
    const badType = Sync.open("sqlite", { path: ":memory:" }, "string" as never, t.string());
    expect(badType.code).toBe(ReturnCode.INITIALIZATION_FAILED);
    expect(badType.error).toContain("keyType");
  });

  it("raises backend_opened once per open and backend_lost on close, on the handle and module-wide", async () => {
    const seen: StorageEvent[] = [];
    const sub = storageEvents.subscribe((e) => seen.push(e));
    const h = (await Async.open("sqlite", { path: join(dir, "ev.db") }, t.string(), t.string())).value!;
    const onHandle: string[] = [];
    let completed = false;
    h.events.subscribe({ next: (e) => onHandle.push(e.type), complete: () => (completed = true) });
    await h.put({ key: "k", value: "v" });
    await h.close();
    sub.unsubscribe();
    const mine = seen.filter((e) => e.backend === "sqlite" && e.handleId === seen[0]!.handleId);
    expect(mine.map((e) => e.type)).toEqual(["backend_opened", "backend_lost"]);
    expect(mine[1]!.reason).toBe("closed");
    expect(onHandle).toEqual(["backend_opened", "backend_lost"]);
    expect(completed).toBe(true);
  });
});
