import { createServer, connect, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as Async from "../../../src/storage/async.js";
import * as Sync from "../../../src/storage/sync.js";
import { ReturnCode, registeredBackends, t, type StorageEvent } from "../../../src/storage/index.js";
import { registerPostgresBackend } from "../../../src/storage-postgres/index.js";
import { asyncOps, cases, runCase } from "../../storage/cases.js";
import { freePort } from "./redis-helpers.js";
import { POSTGRES_URL, dropTables, requirePostgres, sql, uniqueTablePrefix } from "./postgres-helpers.js";

const builtIn = registeredBackends();
registerPostgresBackend();
const prefix = uniqueTablePrefix("pgtest");
let tables = 0;
const table = () => `${prefix}_${tables++}`;

beforeAll(requirePostgres);
afterAll(() => dropTables(prefix));

describe("postgres: shared cases, async (the backend has no synchronous implementation)", () => {
  for (const c of cases) {
    it(c.name, async () => {
      const a = await Async.open("postgres", { url: POSTGRES_URL, table: table(), ...c.options }, c.keyType, c.valueType);
      expect(a.code).toBe(ReturnCode.SUCCESS);
      expect(await runCase(c, asyncOps(a.value!))).toStrictEqual(c.expect);
      await a.value!.close();
    });
  }
});

/** A TCP relay to the shared server that can be cut and restored, as a network outage looks to a client. */
async function startRelay(port: number): Promise<{ cut: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((inbound) => {
    const outbound = connect(5432, "127.0.0.1");
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on("error", () => undefined);
      s.on("close", () => sockets.delete(s));
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    cut: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe("postgres backend", () => {
  it("is registered by a call through tailkit/storage's registry, not built in", () => {
    expect(builtIn).not.toContain("postgres");
    expect(registeredBackends()).toContain("postgres");
  });

  it("answers ASYNC_ONLY from the sync module", () => {
    const r = Sync.open("postgres", { url: POSTGRES_URL, table: table() } as never, t.string(), t.string());
    expect(r.code).toBe(ReturnCode.ASYNC_ONLY);
    expect(r.error).toMatch(/^postgres backend failed to open: it has no synchronous implementation/);
  });

  it("creates its table if missing and keeps data across reopen", async () => {
    const name = table();
    const first = (await Async.open("postgres", { url: POSTGRES_URL, table: name }, t.string(), t.json())).value!;
    const { rows } = await sql(`SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position`, [name]);
    expect(rows).toEqual([
      { column_name: "key", data_type: "text" },
      { column_name: "value", data_type: "text" },
      { column_name: "expire_at", data_type: "bigint" },
    ]);
    await first.put({ key: "k", value: { n: 1 } });
    await first.close();
    const second = (await Async.open("postgres", { url: `postgresql://postgres@127.0.0.1:5432/test`, table: name }, t.string(), t.json())).value!;
    expect(await second.get("k")).toEqual({ code: ReturnCode.SUCCESS, value: { n: 1 } });
    await second.close();
  });

  it("opens one table from many handles at once, and keeps two tables apart", async () => {
    const name = table();
    const opened = await Promise.all(Array.from({ length: 6 }, () => Async.open("postgres", { url: POSTGRES_URL, table: name }, t.string(), t.string())));
    expect(opened.map((r) => r.code)).toEqual(Array(6).fill(ReturnCode.SUCCESS));
    const other = (await Async.open("postgres", { url: POSTGRES_URL, table: table() }, t.string(), t.string())).value!;
    await opened[0]!.value!.put({ key: "k", value: "from-first" });
    expect((await opened[5]!.value!.get("k")).value).toBe("from-first");
    expect((await other.get("k")).code).toBe(ReturnCode.KEY_NOT_FOUND);
    await Promise.all([...opened.map((r) => r.value!.close()), other.close()]);
  });

  it("lets exactly one of many concurrent put-if-absent and compare-and-set calls win", async () => {
    const name = table();
    const handles = await Promise.all(
      Array.from({ length: 4 }, async () => (await Async.open("postgres", { url: POSTGRES_URL, table: name }, t.string(), t.string())).value!),
    );
    const claims = await Promise.all(Array.from({ length: 24 }, (_, i) => handles[i % 4]!.put({ key: "claim", value: `c${i}`, overwrite: false })));
    expect(claims.filter((r) => r.code === ReturnCode.SUCCESS)).toHaveLength(1);
    expect(claims.filter((r) => r.code === ReturnCode.KEY_EXISTS)).toHaveLength(23);
    const holder = (await handles[0]!.get("claim")).value!;
    const renewals = await Promise.all(Array.from({ length: 24 }, (_, i) => handles[i % 4]!.put({ key: "claim", value: `r${i}`, ifValue: holder })));
    expect(renewals.filter((r) => r.code === ReturnCode.SUCCESS)).toHaveLength(1);
    expect(renewals.filter((r) => r.code === ReturnCode.KEY_EXISTS)).toHaveLength(23);
    await Promise.all(handles.map((h) => h.close()));
  });

  it("expires on the server's clock and sweeps expired rows away", async () => {
    const name = table();
    const h = (await Async.open("postgres", { url: POSTGRES_URL, table: name, expireInterval: 0 }, t.string(), t.string())).value!;
    await h.put({ key: "short", value: "s", expireTime: 0.2 });
    await h.put({ key: "long", value: "l", expireTime: 60 });
    await h.put({ key: "short-nx", value: "old", expireTime: 0.2 });
    expect((await h.put({ key: "short-nx", value: "new", overwrite: false })).code).toBe(ReturnCode.KEY_EXISTS);
    await new Promise((r) => setTimeout(r, 400));
    expect((await h.get("short")).code).toBe(ReturnCode.KEY_NOT_FOUND);
    expect((await h.put({ key: "short-nx", value: "new", overwrite: false })).code).toBe(ReturnCode.SUCCESS);
    expect(await h.size()).toEqual({ code: ReturnCode.SUCCESS, value: 2 });
    expect(await h.sweep()).toEqual({ code: ReturnCode.SUCCESS, value: 1 });
    expect((await sql(`SELECT key FROM "${name}" ORDER BY key`)).rows.map((r: { key: string }) => r.key)).toEqual(['tkjson1:"long"', 'tkjson1:"short-nx"']);
    await h.close();
  });

  it("stops reading one entry past the limit", async () => {
    const h = (await Async.open("postgres", { url: POSTGRES_URL, table: table() }, t.integer(), t.integer())).value!;
    for (let i = 0; i < 300; i += 50) await Promise.all(Array.from({ length: 50 }, (_, j) => h.put({ key: i + j, value: i + j })));
    expect((await h.getAll({ limit: 300 })).value).toHaveLength(300);
    const before = h.metrics.bytesIn;
    const tooMany = await h.getAll({ limit: 100 });
    expect(tooMany).toEqual({ code: ReturnCode.RESULT_TOO_LARGE, error: expect.stringContaining("more than 100 live entries") });
    // The store handed over the limit plus one entry (18 to 22 bytes each: tkjson1:N twice), not all 300.
    const read = h.metrics.bytesIn - before;
    expect(read).toBeGreaterThanOrEqual(101 * 18);
    expect(read).toBeLessThanOrEqual(101 * 22);
    await h.close();
  });

  it("gives CONNECTION_FAILED naming the address, never the password, when nothing answers at open", async () => {
    const port = await freePort();
    const started = Date.now();
    const r = await Async.open("postgres", { url: `postgres://postgres:s3cret@127.0.0.1:${port}/test`, connectTimeout: 500 }, t.string(), t.string());
    expect(r.code).toBe(ReturnCode.CONNECTION_FAILED);
    expect(r.error).toMatch(new RegExp(`^postgres backend failed to open: no answer from postgres at 127\\.0\\.0\\.1:${port}/test: .*ECONNREFUSED`));
    expect(r.error).not.toContain("s3cret");
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it("gives CONNECTION_FAILED for a database that does not exist", async () => {
    const r = await Async.open("postgres", { url: "postgres://postgres@127.0.0.1:5432/tailkit_no_such_db" }, t.string(), t.string());
    expect(r.code).toBe(ReturnCode.CONNECTION_FAILED);
    expect(r.error).toContain("tailkit_no_such_db");
  });

  it.each([
    [{}, "options.url: is required"],
    [{ url: "redis://127.0.0.1/x" }, "options.url: must be a postgres:// or postgresql:// URL"],
    [{ url: POSTGRES_URL, table: "x; DROP TABLE y" }, "options.table: must match"],
    [{ url: POSTGRES_URL, poolSize: 0 }, "options.poolSize: must be a positive integer"],
    [
      { url: POSTGRES_URL, tabel: "x" },
      "options.tabel: unknown option (known: serializer, clock, expireInterval, getAllLimit, url, table, connectTimeout, operationTimeout, poolSize)",
    ],
  ])("names a bad option %j", async (options, message) => {
    const r = await Async.open("postgres", options as never, t.string(), t.string());
    expect(r.code).toBe(ReturnCode.INITIALIZATION_FAILED);
    expect(r.error).toContain(`postgres backend failed to open: ${message}`);
  });

  it("gives CONNECTION_LOST and one backend_lost while the server is unreachable, then works again", async () => {
    const port = await freePort();
    let relay = await startRelay(port);
    const url = `postgres://postgres@127.0.0.1:${port}/test`;
    const h = (await Async.open("postgres", { url, table: table(), connectTimeout: 500, operationTimeout: 2000 }, t.string(), t.string())).value!;
    const events: StorageEvent[] = [];
    h.events.subscribe((e) => events.push(e));
    expect((await h.put({ key: "k", value: "v" })).code).toBe(ReturnCode.SUCCESS);
    await relay.cut();
    const lost = await h.put({ key: "k", value: "v2" });
    expect(lost.code).toBe(ReturnCode.CONNECTION_LOST);
    expect(lost.error).toContain(`127.0.0.1:${port}/test`);
    expect((await h.get("k")).code).toBe(ReturnCode.CONNECTION_LOST);
    expect(h.isOpen).toBe(true);
    expect(events.filter((e) => e.type === "backend_lost")).toHaveLength(1);
    relay = await startRelay(port);
    await expect.poll(async () => (await h.put({ key: "k", value: "back" })).code, { timeout: 5_000, interval: 100 }).toBe(ReturnCode.SUCCESS);
    expect((await h.get("k")).value).toBe("back");
    expect(h.metrics.operations.put).toMatchObject({ SUCCESS: 2, CONNECTION_LOST: 1 });
    expect((await h.close()).code).toBe(ReturnCode.SUCCESS);
    await relay.cut();
  });
});
