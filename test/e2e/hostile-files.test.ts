import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ROOT, runCli, tempDir } from "./helpers.js";

const SAMPLE_VPC = join(ROOT, "sample", "vpcflow");

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});
function scratch(): string {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return t.dir;
}

describe("--out that cannot be made", () => {
  it("refuses --out /proc/x at once with the path and the real errno, exit 2 (no endless mkdir)", async () => {
    const r = await runCli(["collect", "aws", "--table", "aws_vpc_flow_log", "--path", SAMPLE_VPC, "--out", "/proc/x/y"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("output_dir");
    expect(r.stderr).toContain("/proc/x");
    expect(r.stderr).toContain("ENOENT");
  });

  it("says EROFS, naming the folder, for --out on a read-only mount, exit 2", async () => {
    const dir = scratch();
    const ro = join(dir, "ro");
    mkdirSync(ro);
    // Root may mount; a test that cannot make the read-only file system fails here rather than pass on nothing.
    execFileSync("mount", ["-t", "tmpfs", "-o", "ro", "none", ro]);
    cleanups.push(() => execFileSync("umount", [ro]));
    const nested = await runCli(["collect", "aws", "--table", "aws_vpc_flow_log", "--path", SAMPLE_VPC, "--out", join(ro, "out", "deeper")]);
    expect(nested.code).toBe(2);
    expect(nested.stderr).toContain(`mkdir ${join(ro, "out")}`);
    expect(nested.stderr).toContain("EROFS");
    expect(nested.stderr).not.toContain("ENOENT");
    // The mount point itself exists: it is refused as not writable, before any state or chunk is tried.
    const existing = await runCli(["collect", "aws", "--table", "aws_vpc_flow_log", "--path", SAMPLE_VPC, "--out", ro, "--output", "json"]);
    expect(existing.code).toBe(2);
    expect(existing.stderr).toContain(`${ro} is not writable`);
    expect(existing.stderr).toContain("EROFS");
  });
});
