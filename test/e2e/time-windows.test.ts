import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { ROOT, cloudTrailRecords, listFiles, readChunks, runCli, tempDir } from "./helpers.js";

const CLOUDTRAIL = join(ROOT, "sample", "cloudtrail");
const NGINX = join(ROOT, "sample", "nginx");
const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

/** Collects into out and returns the rows the run wrote, by its summary. */
async function collect(args: string[], out: string): Promise<number> {
  const res = await runCli(["collect", "--no-convert", ...args, "--out", out, "--output", "json"]);
  expect(res.code, res.stderr).toBe(0);
  return (JSON.parse(res.stdout) as { rows: number }).rows;
}

/** Every row of every chunk in out, and how many distinct tp_ids they have. */
function rowsIn(out: string): { rows: Record<string, unknown>[]; ids: number } {
  const rows = readChunks(out).flatMap((c) => c.rows);
  return { rows, ids: new Set(rows.map((r) => r["tp_id"])).size };
}

describe("collections with a time range", () => {
  it("leave the rest of the files they read to a later collection: CloudTrail --from, then without", async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const from = "2024-03-02T06:00:00Z";
    const records = cloudTrailRecords(CLOUDTRAIL);
    const inRange = records.filter((r) => Date.parse(r["eventTime"] as string) >= Date.parse(from)).length;
    expect(inRange).toBeGreaterThan(0);
    expect(inRange).toBeLessThan(records.length);

    const first = await collect(["aws", "--table", "aws_cloudtrail_log", "--path", CLOUDTRAIL, "--from", from], t.dir);
    expect(first).toBe(inRange);
    const second = await collect(["aws", "--table", "aws_cloudtrail_log", "--path", CLOUDTRAIL], t.dir);
    expect(second).toBe(records.length - inRange);

    const { rows, ids } = rowsIn(t.dir);
    expect(rows).toHaveLength(records.length);
    expect(ids).toBe(records.length);
    expect(new Set(rows.map((r) => r["eventID"]))).toEqual(new Set(records.map((r) => r["eventID"])));
    // Nothing is left: a third run, and a run of the first range again, write nothing.
    expect(await collect(["aws", "--table", "aws_cloudtrail_log", "--path", CLOUDTRAIL], t.dir)).toBe(0);
    expect(await collect(["aws", "--table", "aws_cloudtrail_log", "--path", CLOUDTRAIL, "--from", from], t.dir)).toBe(0);
  });

  it("collect each nginx line once over --from, --to and open runs that overlap", async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const lines = listFiles(NGINX)
      .filter((f) => f.includes("access.log"))
      .flatMap((f) => {
        const raw = readFileSync(join(NGINX, f));
        return (f.endsWith(".gz") ? gunzipSync(raw) : raw)
          .toString()
          .split("\n")
          .filter((l) => l.length > 0);
      });
    const args = ["nginx", "--table", "nginx_access_log", "--path", NGINX];
    const a = await collect([...args, "--from", "2024-03-03"], t.dir);
    const b = await collect([...args, "--from", "2024-03-02", "--to", "2024-03-04"], t.dir);
    const c = await collect(args, t.dir);
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(0);
    expect(c).toBeGreaterThan(0);
    const { rows, ids } = rowsIn(t.dir);
    expect(a + b + c).toBe(lines.length);
    expect(rows).toHaveLength(lines.length);
    expect(ids).toBe(lines.length);
    expect(await collect(args, t.dir)).toBe(0);
  });

  it("collect again with --recollect", async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const args = ["aws", "--table", "aws_cloudtrail_log", "--path", CLOUDTRAIL, "--from", "2024-03-03T00:00:00Z"];
    const first = await collect(args, t.dir);
    expect(first).toBeGreaterThan(0);
    expect(await collect([...args, "--recollect"], t.dir)).toBe(first);
  });
});
