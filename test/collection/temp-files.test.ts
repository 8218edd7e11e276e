// Temp chunk files are a chunk's rows before its rename: one whose writer is dead is garbage, and anything else in the
// output folder (a live writer's temp file, a visible chunk) must stay.
import { spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { processAlive, removeStaleTempFiles } from "../../src/collection/temp-files.js";
import { tempDir } from "../e2e/helpers.js";

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

/** The pid of a process that ran and was reaped. */
function deadPid(): number {
  const pid = spawnSync("true").pid;
  if (pid === undefined) throw new Error("could not run `true`");
  return pid;
}

describe("stale temp files", () => {
  it("are removed when their writer is dead; a live writer's temp file and every visible chunk stay", async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const dead = deadPid();
    const files = {
      stale: `.exec_old-3.${dead}.jsonl.tmp`,
      live: `.exec_mine-1.${process.pid}.jsonl.tmp`,
      chunk: `exec_old-2.jsonl`,
      notTemp: `.exec_old-4.${dead}.jsonl`,
    };
    for (const name of Object.values(files)) writeFileSync(join(t.dir, name), "{}\n");
    await removeStaleTempFiles(t.dir);
    expect(existsSync(join(t.dir, files.stale))).toBe(false);
    expect(existsSync(join(t.dir, files.live))).toBe(true);
    expect(existsSync(join(t.dir, files.chunk))).toBe(true);
    expect(existsSync(join(t.dir, files.notTemp))).toBe(true);
  });

  it("are looked for in an output folder that does not exist yet without failing", async () => {
    await expect(removeStaleTempFiles(join(tempDir().dir, "missing"))).resolves.toBeUndefined();
  });

  it("judge a writer by its process: this one is alive, one that exited is not", () => {
    expect(processAlive(process.pid)).toBe(true);
    expect(processAlive(deadPid())).toBe(false);
  });
});
