import { describe, expect, it } from "vitest";
import * as Async from "../../src/storage/async.js";
import * as Sync from "../../src/storage/sync.js";
import { ReturnCode, StorageBackendBase, createMemoryBackend, registerBackend, t, type MemoryBackend, type OperationResult } from "../../src/storage/index.js";
import { manualClock } from "./helpers.js";

const instances: MemoryBackend[] = [];
registerBackend(
  "memory",
  createMemoryBackend((b) => instances.push(b)),
);

class ThrowingBackend extends StorageBackendBase {
  readonly sync = true;
  protected doOpen(): OperationResult {
    return { code: ReturnCode.SUCCESS };
  }
  protected doPut(): OperationResult {
    throw new Error("disk on fire");
  }
  protected doGet(): OperationResult<string> {
    throw new Error("disk on fire");
  }
  protected doErase(): OperationResult {
    return { code: ReturnCode.SUCCESS };
  }
  protected doClose(): OperationResult {
    return { code: ReturnCode.DISCONNECTION_FAILED, error: "could not flush" };
  }
}
registerBackend("throwing", { validateOptions: () => undefined, create: (_o, ctx) => new ThrowingBackend(ctx) });

describe("StorageBackendBase", () => {
  it("rejects wrong key and value types without reaching the backend", () => {
    const h = Sync.open("memory", {}, t.string(), t.integer()).value!;
    const backend = instances.at(-1)!;
    expect(h.put({ key: 1 as never, value: 1 }).code).toBe(ReturnCode.KEY_TYPE_MISMATCH);
    expect(h.put({ key: "k", value: "1" as never }).code).toBe(ReturnCode.VAL_TYPE_MISMATCH);
    expect(h.get(1 as never).code).toBe(ReturnCode.KEY_TYPE_MISMATCH);
    expect(h.erase(null as never).code).toBe(ReturnCode.KEY_TYPE_MISMATCH);
    expect(backend.calls).toMatchObject({ put: 0, get: 0, erase: 0 });
    expect(h.put({ key: "k", value: 1 }).code).toBe(ReturnCode.SUCCESS);
    expect(backend.calls.put).toBe(1);
    h.close();
  });

  it("names the offending field in a type mismatch", () => {
    const h = Sync.open("memory", {}, t.string(), t.object({ pos: t.integer() })).value!;
    expect(h.put({ key: "k", value: { pos: "3" as never } })).toEqual({
      code: ReturnCode.VAL_TYPE_MISMATCH,
      error: "value is not {pos}: pos: expected integer, got string",
    });
    h.close();
  });

  it("turns a throwing backend into OPERATION_FAILED and passes its close code through", async () => {
    const h = (await Async.open("throwing", {}, t.string(), t.string())).value!;
    expect(await h.put({ key: "k", value: "v" })).toEqual({ code: ReturnCode.OPERATION_FAILED, error: "put: disk on fire" });
    expect((await h.get("k")).code).toBe(ReturnCode.OPERATION_FAILED);
    expect(await h.close()).toEqual({ code: ReturnCode.DISCONNECTION_FAILED, error: "could not flush" });
    expect((await h.get("k")).code).toBe(ReturnCode.NOT_CONNECTED);
  });

  it("refuses a compared put or erase on a backend that cannot compare, and checks the compared value's type", async () => {
    const h = (await Async.open("throwing", {}, t.string(), t.string())).value!;
    expect(await h.put({ key: "k", value: "v", ifValue: "w" })).toEqual({
      code: ReturnCode.OPERATION_FAILED,
      error: "put: the throwing backend cannot compare values (ifValue)",
    });
    expect((await h.erase("k", "w")).code).toBe(ReturnCode.OPERATION_FAILED);
    await h.close();
    const m = Sync.open("memory", {}, t.string(), t.integer()).value!;
    expect(m.put({ key: "k", value: 1, ifValue: "1" as never }).code).toBe(ReturnCode.VAL_TYPE_MISMATCH);
    expect(m.erase("k", "1" as never).code).toBe(ReturnCode.VAL_TYPE_MISMATCH);
    m.close();
  });

  it("gives ASYNC_ONLY when the sync module asks for an async-only backend", () => {
    const r = Sync.open("memory", { async: true } as never, t.string(), t.string());
    expect(r.code).toBe(ReturnCode.ASYNC_ONLY);
    expect(r.error).toBe("memory backend failed to open: it has no synchronous implementation; use the async module");
  });

  it("refuses an unknown option name of the memory backend in both modules", async () => {
    const s = Sync.open("memory", { asynch: true } as never, t.string(), t.string());
    const a = await Async.open("memory", { sweepdelay: 5 } as never, t.string(), t.string());
    expect(s).toEqual({
      code: ReturnCode.INITIALIZATION_FAILED,
      error: "memory backend failed to open: options.asynch: unknown option (known: serializer, clock, expireInterval, getAllLimit, async, sweepDelay)",
    });
    expect(a.code).toBe(ReturnCode.INITIALIZATION_FAILED);
    expect(a.error).toContain("options.sweepdelay: unknown option");
  });

  it("never runs two sweeps at once", async () => {
    const clock = manualClock();
    const h = (await Async.open("memory", { async: true, sweepDelay: 60, expireInterval: 0.01, clock: clock.now } as never, t.string(), t.string())).value!;
    const backend = instances.at(-1)!;
    await h.put({ key: "k", value: "v", expireTime: 1 });
    clock.advance(2_000);
    await expect.poll(() => h.sweepStats.skipped, { timeout: 3_000, interval: 10 }).toBeGreaterThan(2);
    expect(await h.sweep()).toMatchObject({ code: expect.stringMatching(/^(IN_PROGRESS|SUCCESS)$/) });
    await expect.poll(() => h.sweepStats.sweeps, { timeout: 3_000, interval: 10 }).toBeGreaterThan(1);
    expect(backend.calls.maxConcurrentSweeps).toBe(1);
    expect(backend.held).toBe(0);
    await h.close();
  });
});
