import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ArtifactInfo } from "../../../src/contract/source.js";
import { CollectionState, parseStateLocation } from "../../../src/state/index.js";
import { POSTGRES_URL, dropTables, requirePostgres, sql, uniqueTablePrefix } from "../storage/postgres-helpers.js";

const prefix = uniqueTablePrefix("pgstate");
beforeAll(requirePostgres);
afterAll(() => dropTables(prefix));

const info: ArtifactInfo = { name: "a.log", location: "/x/a.log", size: 100, mtimeMs: 5, properties: {} };

async function open(location: string, owner: string): Promise<CollectionState> {
  return CollectionState.open({ location: parseStateLocation(location, "/unused"), plugin: "p", table: "t", partition: "default", owner });
}

describe("collection state on postgres:// (--state)", () => {
  it("shares claims and progress between collectors, in the table the URL names, with the lease it gives", async () => {
    const table = `${prefix}_claims`;
    const location = `${POSTGRES_URL}?table=${table}&lease=0.3`;
    const a = await open(location, "A");
    const b = await open(location, "B");
    expect(a.leaseSeconds).toBe(0.3);
    expect(await a.claim("a.log")).toBe(true);
    expect(await b.claim("a.log")).toBe(false);
    a.begin(info);
    await a.complete("a.log", 25, 25);
    expect(await b.artifact("a.log")).toMatchObject({ committed: 25, complete: true });
    // A's claim lapses on the server's clock; then B takes it.
    await new Promise((r) => setTimeout(r, 450));
    expect(await b.claim("a.log")).toBe(true);
    await b.release("a.log");
    expect(await a.claim("a.log")).toBe(true);
    const { rows } = await sql(`SELECT count(*)::int AS n FROM "${table}"`);
    expect((rows[0] as { n: number }).n).toBeGreaterThan(0);
    await a.close();
    await b.close();
  });
});
