import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Code, TailkitError } from "../../src/errors/index.js";
import { createChunkWriter } from "../../src/writer/index.js";
import { createOutputDirectory } from "../../src/writer/output-dir.js";

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tailkit-outdir-"));
});
afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

function thrown(fn: () => void): TailkitError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TailkitError);
    return err as TailkitError;
  }
  throw new Error("expected a throw");
}

describe("createOutputDirectory", () => {
  it("makes every missing level and accepts a folder that exists", () => {
    const dir = path.join(tmp, "a", "b", "c");
    createOutputDirectory(dir);
    expect(fs.statSync(dir).isDirectory()).toBe(true);
    createOutputDirectory(dir);
  });

  it("ends under /proc with ENOENT and the path, where fs.mkdir's recursive mode never returns", () => {
    const e = thrown(() => createOutputDirectory("/proc/tailkit-x/y", "output_dir"));
    expect(e.message).toMatch(/^output_dir: cannot create \/proc\/tailkit-x\/y: mkdir \/proc\/tailkit-x failed with ENOENT/);
    expect(e.details).toMatchObject({ field: "output_dir", operation: "write" });
  });

  it("names a file in the way", () => {
    fs.writeFileSync(path.join(tmp, "file"), "x");
    const e = thrown(() => createOutputDirectory(path.join(tmp, "file", "sub")));
    expect(e.code).toBe(Code.FailedPrecondition);
    expect(e.message).toContain(`${path.join(tmp, "file")} exists and is not a folder`);
  });

  it("is what the chunk writer uses: its first write fails with the path under /proc, not forever", async () => {
    const writer = createChunkWriter({ dir: "/proc/tailkit-x", executionId: "e1", rowsPerChunk: 1 });
    await expect(writer.write({ artifact: "a", from: 0, to: 1, indexes: [0], lines: ["{}"] })).rejects.toThrow(/mkdir \/proc\/tailkit-x failed with ENOENT/);
  });
});
