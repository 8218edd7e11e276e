import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ConversionLog } from "../../src/query/conversion-log.js";
import type { ArtifactInfo } from "../../src/contract/source.js";
import { CollectionState, parseStateLocation } from "../../src/state/index.js";
import { tempDir } from "../e2e/helpers.js";

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

const info: ArtifactInfo = { name: "a.log", location: "/x/a.log", size: 100, mtimeMs: 5, properties: {} };

async function open(dir: string, owner: string): Promise<CollectionState> {
  return CollectionState.open({ location: parseStateLocation("", dir), plugin: "p", table: "t", partition: "default", owner });
}

describe("collection state and converted chunks", () => {
  it("counts a pending chunk the host converted and deleted as committed, and one never renamed as not", async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const converted = join(t.dir, "e-1.jsonl");
    const lost = join(t.dir, "e-2.jsonl");

    // The plugin renamed e-1 into place and died before commit; the host converted it, recorded it, deleted it.
    const a = await open(t.dir, "e");
    a.begin(info);
    await a.intent(converted, [{ artifact: "a.log", from: 0, to: 10 }]);
    await a.close();
    const log = ConversionLog.open(t.dir);
    log.recordConversion("e-1", [{ name: "e-1.jsonl", errors: 0 }], []);
    log.close();

    const b = await open(t.dir, "e2");
    expect(await b.artifact("a.log")).toMatchObject({ committed: 10, complete: false });
    b.begin(info);
    // This one died before its rename: no file, no record.
    await b.intent(lost, [{ artifact: "a.log", from: 10, to: 25 }]);
    await b.close();

    const c = await open(t.dir, "e3");
    expect(await c.artifact("a.log")).toMatchObject({ committed: 10 });
    await c.close();
  });
});
