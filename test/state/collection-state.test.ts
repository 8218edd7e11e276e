import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CollectionState, defaultStatePath, parseStateLocation } from "../../src/state/index.js";
import type { ArtifactInfo } from "../../src/sources/types.js";
import { tempDir } from "../e2e/helpers.js";

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

async function open(dir: string, owner: string, leaseSeconds?: number): Promise<CollectionState> {
  const st = await CollectionState.open({
    location: parseStateLocation(join(dir, "state.sqlite"), dir),
    plugin: "p",
    table: "t",
    partition: "default",
    owner,
    ...(leaseSeconds ? { leaseSeconds } : {}),
  });
  return st;
}

const info: ArtifactInfo = { name: "a.log", location: "/x/a.log", size: 100, mtimeMs: 5, properties: {} };

describe("collection state", () => {
  it("parses state locations and names the field when one is bad", () => {
    expect(parseStateLocation("", "/out")).toEqual({ backend: "sqlite", path: defaultStatePath("/out") });
    expect(defaultStatePath("/out")).toBe("/out/.tailkit/state.sqlite");
    expect(parseStateLocation("redis://10.1.2.3:6380/team?db=2&lease=5", "/out")).toEqual({
      backend: "redis",
      host: "10.1.2.3",
      port: 6380,
      db: 2,
      keyPrefix: "team:",
      leaseSeconds: 5,
    });
    expect(parseStateLocation("sqlite:/tmp/s.db", "/out")).toEqual({ backend: "sqlite", path: "/tmp/s.db" });
    expect(() => parseStateLocation("redis://h/p?lease=0", "/out")).toThrow(/state: lease/);
  });

  it("counts a pending chunk as committed only if it reached its final name", async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const visible = join(t.dir, "e-1.jsonl");
    const lost = join(t.dir, "e-2.jsonl");

    const a = await open(t.dir, "e");
    a.begin(info);
    await a.intent(visible, [{ artifact: "a.log", from: 0, to: 10 }]);
    writeFileSync(visible, "{}\n"); // the rename happened, then the process died before commit
    await a.close();

    const b = await open(t.dir, "e2");
    expect(await b.artifact("a.log")).toMatchObject({ committed: 10, complete: false });
    b.begin(info);
    await b.intent(lost, [{ artifact: "a.log", from: 10, to: 25 }]); // died before the rename
    await b.close();

    const c = await open(t.dir, "e3");
    const st = await c.artifact("a.log");
    expect(st).toMatchObject({ committed: 10 });
    expect(st?.pendingChunk).toBeUndefined();
    c.begin(info);
    await c.complete("a.log", 25, 25);
    expect(CollectionState.isDone(await c.artifact("a.log"), info)).toBe(true);
    expect(CollectionState.isDone(await c.artifact("a.log"), { ...info, size: 101 })).toBe(false);
    await c.close();
  });

  it("lets one collector claim an artifact at a time, and gives a lapsed claim to the next", async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const a = await open(t.dir, "A", 0.3);
    const b = await open(t.dir, "B", 0.3);
    expect(await a.claim("a.log")).toBe(true);
    expect(await a.claim("a.log")).toBe(true); // its own claim
    expect(await b.claim("a.log")).toBe(false);
    await new Promise((r) => setTimeout(r, 450));
    expect(await b.claim("a.log")).toBe(true);
    await b.release("a.log");
    expect(await a.claim("a.log")).toBe(true);
    await a.close();
    await b.close();
  });
});
