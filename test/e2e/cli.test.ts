import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { listFiles, ROOT, runCli, tempDir } from "./helpers.js";

const SAMPLE_CLOUDTRAIL = join(ROOT, "sample", "cloudtrail");

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});
function scratch(): string {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return t.dir;
}

describe("tailkit collect --state", () => {
  it("refuses rediss:// and unknown schemes with exit 2 naming state, and creates no file named after the URL", async () => {
    const out = scratch();
    const cwd = scratch();
    const tls = await runCli(["collect", "aws", "--table", "aws_cloudtrail_log", "--path", SAMPLE_CLOUDTRAIL, "--out", out, "--state", "rediss://127.0.0.1:6380/x"]);
    expect(tls.code).toBe(2);
    expect(tls.stderr).toMatch(/state: rediss:\/\/ \(Redis over TLS\) is not supported yet/);
    const http = await runCli(["collect", "aws", "--table", "aws_cloudtrail_log", "--path", SAMPLE_CLOUDTRAIL, "--out", out, "--state", "http://127.0.0.1/state"], {}, cwd);
    expect(http.code).toBe(2);
    expect(http.stderr).toMatch(/state: unknown scheme "http:\/\/"/);
    expect(readdirSync(cwd)).toEqual([]);
    expect(listFiles(out)).toEqual([]);
  });
});
