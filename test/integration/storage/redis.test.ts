import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import * as Async from "../../../src/storage/async.js";
import * as Sync from "../../../src/storage/sync.js";
import { ReturnCode, storageEvents, t, type StorageEvent } from "../../../src/storage/index.js";
import { asyncOps, cases, runCase, syncOps } from "../../storage/cases.js";
import { REDIS, deletePrefix, freePort, keysUnder, requireRedis, startPrivateRedis, startSilentServer, uniquePrefix } from "./redis-helpers.js";

let prefix: string;
beforeAll(requireRedis);
beforeEach(() => {
  prefix = uniquePrefix();
});
afterEach(async () => {
  await deletePrefix(prefix);
});

const opts = (extra: Record<string, unknown> = {}) => ({ ...REDIS, keyPrefix: prefix, ...extra });

describe("redis: shared cases give the same results sync (worker) and async", () => {
  for (const c of cases) {
    it(c.name, async () => {
      const a = await Async.open("redis", opts({ keyPrefix: `${prefix}a:`, ...c.options }), c.keyType, c.valueType);
      const s = Sync.open("redis", opts({ keyPrefix: `${prefix}s:`, ...c.options }), c.keyType, c.valueType);
      expect(a.code).toBe(ReturnCode.SUCCESS);
      expect(s.code).toBe(ReturnCode.SUCCESS);
      const sh = s.value!;
      const asyncOut = await runCase(c, asyncOps(a.value!));
      const syncOut = await runCase(c, syncOps(sh));
      expect(asyncOut).toStrictEqual(c.expect);
      expect(syncOut).toStrictEqual(asyncOut);
      await a.value!.close();
      sh.close();
    });
  }
});

describe("redis backend", () => {
  it("stores under keyPrefix and keeps two prefixes apart", async () => {
    const a = (await Async.open("redis", opts({ keyPrefix: `${prefix}one:` }), t.string(), t.string())).value!;
    const b = Sync.open("redis", opts({ keyPrefix: `${prefix}two:` }), t.string(), t.string()).value!;
    await a.put({ key: "k", value: "from-one" });
    expect(b.get("k").code).toBe(ReturnCode.KEY_NOT_FOUND);
    b.put({ key: "k", value: "from-two" });
    expect((await a.get("k")).value).toBe("from-one");
    await a.erase("k");
    expect(b.get("k").value).toBe("from-two");
    expect(await keysUnder(prefix)).toEqual([`${prefix}two:tkjson1:"k"`]);
    await a.close();
    b.close();
  });

  for (const mode of ["async", "sync"] as const) {
    it(`expires with native PX: short gone, long kept, overwrite resets (${mode})`, async () => {
      const h =
        mode === "async" ? (await Async.open("redis", opts(), t.string(), t.string())).value! : Sync.open("redis", opts(), t.string(), t.string()).value!;
      await h.put({ key: "short", value: "s", expireTime: 0.15 });
      await h.put({ key: "long", value: "l", expireTime: 60 });
      await h.put({ key: "reset", value: "1", expireTime: 0.15 });
      await h.put({ key: "reset", value: "2" });
      await h.put({ key: "nx", value: "old", expireTime: 0.15 });
      expect((await h.put({ key: "nx", value: "new", overwrite: false })).code).toBe(ReturnCode.KEY_EXISTS);
      await new Promise((r) => setTimeout(r, 300));
      expect((await h.get("short")).code).toBe(ReturnCode.KEY_NOT_FOUND);
      expect((await h.get("long")).value).toBe("l");
      expect((await h.get("reset")).value).toBe("2");
      expect((await h.put({ key: "nx", value: "new", overwrite: false })).code).toBe(ReturnCode.SUCCESS);
      expect((await h.get("nx")).value).toBe("new");
      await h.close();
    });
  }

  for (const mode of ["async", "sync"] as const) {
    it(`pages getAll and size through SCAN, stops past the limit, and takes glob characters in the prefix literally (${mode})`, async () => {
      const o = opts({ keyPrefix: `${prefix}[g]*:` });
      const h = mode === "async" ? (await Async.open("redis", o, t.integer(), t.integer())).value! : Sync.open("redis", o, t.integer(), t.integer()).value!;
      const other = (await Async.open("redis", opts({ keyPrefix: `${prefix}gx:` }), t.integer(), t.integer())).value!;
      for (let i = 0; i < 2500; i++) await h.put({ key: i, value: i * 2 });
      await other.put({ key: 1, value: 1 });
      const all = await h.getAll({ limit: 2500 });
      expect(all.code).toBe(ReturnCode.SUCCESS);
      expect(all.value!.length).toBe(2500);
      expect(new Set(all.value!.map((e) => e.key)).size).toBe(2500);
      expect(all.value!.every((e) => e.value === e.key * 2)).toBe(true);
      expect((await h.getAll({ limit: 1200 })).code).toBe(ReturnCode.RESULT_TOO_LARGE);
      expect(await h.size()).toEqual({ code: ReturnCode.SUCCESS, value: 2500 });
      expect(await other.size()).toEqual({ code: ReturnCode.SUCCESS, value: 1 });
      await h.close();
      await other.close();
    });
  }

  it("gives CONNECTION_FAILED, naming backend and address, when no server answers at open", async () => {
    const port = await freePort();
    const started = Date.now();
    const a = await Async.open("redis", { port, connectTimeout: 500, keyPrefix: prefix }, t.string(), t.string());
    const s = Sync.open("redis", { port, connectTimeout: 500, keyPrefix: prefix }, t.string(), t.string());
    for (const r of [a, s]) {
      expect(r.code).toBe(ReturnCode.CONNECTION_FAILED);
      expect(r.error).toMatch(new RegExp(`^redis backend failed to open: no answer from redis at 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
    }
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  for (const mode of ["async", "sync"] as const) {
    it(`bounds open by connectTimeout when the server accepts the connection and never answers (${mode})`, async () => {
      const server = await startSilentServer();
      try {
        const o = { port: server.port, connectTimeout: 500, keyPrefix: prefix };
        const started = performance.now();
        const r = mode === "async" ? await Async.open("redis", o, t.string(), t.string()) : Sync.open("redis", o, t.string(), t.string());
        const took = performance.now() - started;
        // The sync open blocks this thread, so the server sees the connection only once the loop runs again.
        await expect.poll(() => server.accepted(), { timeout: 2_000, interval: 20 }).toBeGreaterThan(0);
        expect(r.code).toBe(ReturnCode.CONNECTION_FAILED);
        expect(r.error).toBe(`redis backend failed to open: no answer from redis at 127.0.0.1:${server.port}: no reply within connectTimeout (500 ms)`);
        // A generous bound that proves open is bounded (it took 5.5 s sync and 7-9 s async before), not a speed test.
        expect(took).toBeLessThan(3_000);
      } finally {
        await server.close();
      }
    });
  }

  for (const mode of ["async", "sync"] as const) {
    it(`says authentication failed when the server refuses a wrong or missing password (${mode})`, async () => {
      const server = await startPrivateRedis(undefined, { password: "right-secret" });
      try {
        const open = async (extra: Record<string, unknown>) => {
          const o = { port: server.port, connectTimeout: 1000, keyPrefix: prefix, ...extra };
          return mode === "async" ? await Async.open("redis", o, t.string(), t.string()) : Sync.open("redis", o, t.string(), t.string());
        };
        const wrong = await open({ password: "wrong-secret" });
        expect(wrong.code).toBe(ReturnCode.CONNECTION_FAILED);
        expect(wrong.error).toMatch(new RegExp(`^redis backend failed to open: authentication failed at redis 127\\.0\\.0\\.1:${server.port}: WRONGPASS`));
        const missing = await open({});
        expect(missing.code).toBe(ReturnCode.CONNECTION_FAILED);
        expect(missing.error).toMatch(
          new RegExp(
            `^redis backend failed to open: authentication failed at redis 127\\.0\\.0\\.1:${server.port}: the server requires a password and none was given \\(NOAUTH`,
          ),
        );
        const right = await open({ password: "right-secret" });
        expect(right.code).toBe(ReturnCode.SUCCESS);
        expect((await right.value!.put({ key: "k", value: "v" })).code).toBe(ReturnCode.SUCCESS);
        expect((await right.value!.get("k")).value).toBe("v");
        expect((await right.value!.close()).code).toBe(ReturnCode.SUCCESS);
      } finally {
        await server.kill();
      }
    });
  }

  it.each(["connectTimout", "hostname", "expireIntervall"])("refuses the unknown option name %s in both modules", async (name) => {
    const o = { ...REDIS, keyPrefix: prefix, [name]: 500 };
    const a = await Async.open("redis", o as never, t.string(), t.string());
    const s = Sync.open("redis", o as never, t.string(), t.string());
    for (const r of [a, s]) {
      expect(r.code).toBe(ReturnCode.INITIALIZATION_FAILED);
      expect(r.error).toBe(
        `redis backend failed to open: options.${name}: unknown option (known: serializer, clock, expireInterval, getAllLimit, host, port, db, username, password, keyPrefix, connectTimeout, operationTimeout)`,
      );
    }
  });

  it("names an invalid option", () => {
    const r = Sync.open("redis", { port: 70_000 }, t.string(), t.string());
    expect(r).toEqual({ code: ReturnCode.INITIALIZATION_FAILED, error: "redis backend failed to open: options.port: must be an integer 1..65535, got 70000" });
  });

  it("raises backend_opened once and backend_lost on close", async () => {
    const seen: StorageEvent[] = [];
    const sub = storageEvents.subscribe((e) => e.backend === "redis" && seen.push(e));
    const h = Sync.open("redis", opts(), t.string(), t.string()).value!;
    h.close();
    sub.unsubscribe();
    expect(seen.map((e) => [e.type, e.reason])).toEqual([
      ["backend_opened", undefined],
      ["backend_lost", "closed"],
    ]);
    expect(h.get("k").code).toBe(ReturnCode.NOT_CONNECTED);
  });

  for (const mode of ["async", "sync"] as const) {
    it(`raises backend_lost and gives CONNECTION_LOST when the server dies, then reconnects (${mode})`, async () => {
      const server = await startPrivateRedis();
      try {
        const o = { port: server.port, keyPrefix: prefix, connectTimeout: 500, operationTimeout: 1000 };
        const h = mode === "async" ? (await Async.open("redis", o, t.string(), t.string())).value! : Sync.open("redis", o, t.string(), t.string()).value!;
        const events: StorageEvent[] = [];
        h.events.subscribe((e) => events.push(e));
        expect((await h.put({ key: "k", value: "v" })).code).toBe(ReturnCode.SUCCESS);

        await server.kill();
        await expect.poll(() => events.map((e) => e.type), { timeout: 3_000, interval: 20 }).toEqual(["backend_opened", "backend_lost"]);
        expect(events[1]!.reason).toContain(`127.0.0.1:${server.port}`);
        const lost = await h.put({ key: "k", value: "v2" });
        expect(lost.code).toBe(ReturnCode.CONNECTION_LOST);
        expect(lost.error).toContain(`127.0.0.1:${server.port}`);
        expect((await h.get("k")).code).toBe(ReturnCode.CONNECTION_LOST);
        // One outage, one event, however many calls fail during it.
        expect(events.filter((e) => e.type === "backend_lost")).toHaveLength(1);

        const again = await startPrivateRedis(server.port);
        try {
          await expect.poll(async () => (await h.put({ key: "k", value: "back" })).code, { timeout: 8_000, interval: 100 }).toBe(ReturnCode.SUCCESS);
          expect((await h.get("k")).value).toBe("back");
          expect((await h.close()).code).toBe(ReturnCode.SUCCESS);
        } finally {
          await again.kill();
        }
      } finally {
        await server.kill();
      }
    });
  }
});
