import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CollectionState, defaultStatePath, localHost, parseStateLocation, type ClaimHolder } from "../../src/state/index.js";
import type { ArtifactInfo } from "../../src/contract/source.js";
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

  it("tells a grown file from a replaced one by its first bytes, and finds a renamed one under its old state", async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const st = await open(t.dir, "exec1");
    const text = Buffer.from("x".repeat(5000));
    const print = CollectionState.headPrint(text.subarray(0, 300))!;
    expect(print.bytes).toBe(300);
    expect(CollectionState.headPrint(text)!.bytes).toBe(4096);
    expect(CollectionState.headPrint(Buffer.alloc(0))).toBeUndefined();
    expect(CollectionState.startsWith(print, text)).toBe(true);
    expect(CollectionState.startsWith(print, text.subarray(0, 299))).toBe(false);
    expect(CollectionState.startsWith(print, Buffer.concat([Buffer.from("y"), text]))).toBe(false);

    // a.log collected: 7 rows, its first 300 bytes printed.
    await st.artifact("a.log");
    st.begin(info, { head: print, restartAt: 0 });
    await st.indexHead("a.log", print);
    await st.complete("a.log", 7, 7);
    const collected = (await st.artifact("a.log"))!;
    expect(collected).toMatchObject({ committed: 7, complete: true, head: print });
    // Grown: starts the same. Replaced: starts otherwise, or is smaller.
    expect(CollectionState.replaced(collected, { ...info, size: 50 }, text)).toBe(true);
    expect(CollectionState.replaced(collected, { ...info, size: 150 }, text)).toBe(false);
    expect(CollectionState.replaced(collected, { ...info, size: 150 }, Buffer.from("z".repeat(400)))).toBe(true);
    expect(CollectionState.replaced(collected, { ...info, size: 150 }, undefined)).toBe(false);
    // Renamed and grown: found by its first bytes, under its name or, once another file took the name, as moved.
    expect(await st.findByHead(text, "a.log.1")).toMatchObject({ committed: 7 });
    expect(await st.findByHead(text, "a.log")).toBeUndefined();
    expect(await st.findByHead(Buffer.from("z".repeat(400)), "a.log.1")).toBeUndefined();
    await st.moved(collected);
    await st.artifact("a.log");
    const other = CollectionState.headPrint(Buffer.from("z".repeat(400)))!;
    st.begin({ ...info, size: 400 }, { head: other, restartAt: 0 });
    await st.indexHead("a.log", other);
    await st.complete("a.log", 2, 2);
    expect(await st.artifact("a.log")).toMatchObject({ committed: 2, rows: 2, head: other });
    expect(await st.findByHead(text, "a.log.1")).toMatchObject({ committed: 7, head: print });
    await st.close();
  });

  it("finds a renamed file among files that share their first bytes by its whole print, grown or not, and keeps its id seed", async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const st = await open(t.dir, "exec1");
    // Three files with the same first 200 bytes (past the head key's 128), each of its own after that.
    const common = "c".repeat(200);
    const content = [1, 2, 3].map((k) => Buffer.from(common + String(k).repeat(800)));
    for (const [k, bytes] of content.entries()) {
      const name = `old/${k}.log`;
      await st.artifact(name);
      const print = CollectionState.headPrint(bytes)!;
      st.begin({ ...info, name, size: bytes.length }, { head: print, restartAt: 0, idSeed: `seed${k}` });
      await st.indexHead(name, print);
      await st.complete(name, 10 + k, 10 + k);
    }
    // Renamed, as they are: each is found as itself, never as the last one indexed under the shared key.
    for (const [k, bytes] of content.entries()) {
      expect(await st.findByHead(bytes, `new/${k}.log`)).toMatchObject({ committed: 10 + k, idSeed: `seed${k}` });
    }
    // Renamed and grown past their print: found among the candidates of the shared key, still each as itself.
    for (const [k, bytes] of content.entries()) {
      const grown = Buffer.concat([bytes, Buffer.from("g".repeat(5000))]);
      expect(await st.findByHead(grown, `new/${k}.log`)).toMatchObject({ committed: 10 + k, idSeed: `seed${k}` });
    }
    // Another file that starts alike is none of them.
    expect(await st.findByHead(Buffer.from(common + "4".repeat(800)), "new/4.log")).toBeUndefined();
    // The seed stays while the file goes on, and a file that starts over under the name has none of the old one's.
    st.begin({ ...info, name: "old/0.log" });
    expect(await st.complete("old/0.log", 12, 2)).toBeUndefined();
    expect(await st.artifact("old/0.log")).toMatchObject({ idSeed: "seed0", committed: 12 });
    st.begin({ ...info, name: "old/0.log" }, { restartAt: 0 });
    await st.complete("old/0.log", 1, 1);
    expect(await st.artifact("old/0.log")).not.toHaveProperty("idSeed");
    await st.close();
  });

  it("renews only a claim it still holds, takes a lapsed one back, and releases only its own", async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const a = await open(t.dir, "A", 1);
    const b = await open(t.dir, "B", 1);
    expect(await a.claim("x.log")).toBe(true);
    expect(await a.renew("x.log")).toBe(true);
    // A is held up past its lease; B takes the artifact. A's renewal then changes nothing, nor does its release.
    await new Promise((r) => setTimeout(r, 1100));
    expect(await b.claim("x.log")).toBe(true);
    expect(await a.renew("x.log")).toBe(false);
    await a.release("x.log");
    expect(await a.claim("x.log")).toBe(false);
    expect(await b.renew("x.log")).toBe(true);
    // B's claim lapses with nobody taking it: B's renewal takes it back.
    await new Promise((r) => setTimeout(r, 1100));
    expect(await b.renew("x.log")).toBe(true);
    expect(await a.claim("x.log")).toBe(false);
    await b.release("x.log");
    expect(await a.claim("x.log")).toBe(true);
    await a.close();
    await b.close();
  });

  it("says who holds a claim, takes one whose holder is gone at once, and leaves a live holder's alone", async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const judged: ClaimHolder[] = [];
    const withJudge = (owner: string, gone: boolean) =>
      CollectionState.open({
        location: parseStateLocation(join(t.dir, "state.sqlite"), t.dir),
        plugin: "p",
        table: "t",
        partition: "default",
        owner,
        holderGone: (holder) => {
          judged.push(holder);
          return gone;
        },
      });
    const a = await open(t.dir, "A");
    expect(await a.claim("x.log")).toBe(true);
    const holderA = { execution: "A", pid: process.pid, host: localHost() };
    expect(await a.claimHolder("x.log")).toEqual(holderA);
    // A live holder keeps its claim for its whole lease (30 s here).
    const b = await withJudge("B", false);
    expect(await b.claim("x.log")).toBe(false);
    expect(judged).toEqual([holderA]);
    // A holder known to be gone loses it at once, and cannot renew or release it afterwards.
    const c = await withJudge("C", true);
    expect(await c.claim("x.log")).toBe(true);
    expect(await c.claimHolder("x.log")).toEqual({ ...holderA, execution: "C" });
    expect(await a.renew("x.log")).toBe(false);
    await a.release("x.log");
    expect(await c.renew("x.log")).toBe(true);
    await c.release("x.log");
    expect(await a.claimHolder("x.log")).toBeUndefined();
    for (const st of [a, b, c]) await st.close();
  });
});
