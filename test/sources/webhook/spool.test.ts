import { appendFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Spool } from "../../../src/sources/webhook/index.js";
import { scratchDirs } from "../../e2e/helpers.js";

const scratch = scratchDirs();
const rec = (items: unknown[]) => Buffer.from(JSON.stringify(items));
const items = (read: { payloads: Buffer[] }) => read.payloads.flatMap((p) => JSON.parse(p.toString()) as unknown[]);

describe("the webhook's spool", () => {
  it("reads again from an offset the same records, across reopenings, and counts the rows after it", async () => {
    const dir = scratch();
    const first = await Spool.open(dir, undefined);
    await Promise.all([first.append(rec([1, 2]), 2), first.append(rec([3]), 1)]);
    const all = await first.read(first.start, 1000, 1 << 20);
    expect(items(all)).toEqual([1, 2, 3]);
    const afterOne = await first.read(first.start, 2, 1 << 20);
    expect(items(afterOne)).toEqual([1, 2]);
    await first.close();

    const again = await Spool.open(dir, afterOne.next);
    expect(again.rowsAfterStart).toBe(1);
    expect(items(await again.read(again.start, 1000, 1 << 20))).toEqual([3]);
    await again.append(rec([4]), 1);
    expect(items(await again.read(afterOne.next, 1000, 1 << 20))).toEqual([3, 4]);
    await again.close();
  });

  it("cuts off a record a crash left half written, and goes on after the last whole one", async () => {
    const dir = scratch();
    const spool = await Spool.open(dir, undefined);
    await spool.append(rec(["kept"]), 1);
    const end = spool.end;
    await spool.close();
    const last = join(dir, readdirSync(dir).sort().at(-1)!);
    // A header that promises 100 bytes, and 3 of them: an append the crash cut short, never acknowledged.
    const torn = Buffer.alloc(15);
    torn.writeUInt32LE(100, 0);
    appendFileSync(last, torn);
    const reopened = await Spool.open(dir, undefined);
    expect(statSync(last).size).toBe(end - Number(readdirSync(dir).sort()[0]!.slice(0, 16)));
    expect(reopened.end).toBe(end);
    await reopened.append(rec(["after"]), 1);
    expect(items(await reopened.read(reopened.start, 1000, 1 << 20))).toEqual(["kept", "after"]);
    await reopened.close();
  });

  it("never gives offsets below a saved cursor, even when the spool was removed", async () => {
    const dir = scratch();
    const spool = await Spool.open(dir, 5000);
    expect(spool.start).toBe(5000);
    await spool.append(rec(["x"]), 1);
    expect(items(await spool.read(5000, 10, 1 << 20))).toEqual(["x"]);
    expect(spool.end).toBeGreaterThan(5000);
    await spool.close();
  });
});
