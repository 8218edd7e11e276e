import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CLOUDTRAIL_PATH_RE,
  VPC_HEADER,
  VPC_PATH_RE,
  generate,
  writeTruncatedGzip,
  type GenerateOptions,
  type GenerateSummary,
} from "../../bench/gen/generate.mjs";

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "tailkit-gen-test-"));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** sha256 of every file, keyed by its path relative to the output root. */
async function digests(summary: GenerateSummary): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const f of summary.fileList) {
    out.set(
      f.path,
      createHash("sha256")
        .update(await readFile(join(summary.out, f.path)))
        .digest("hex"),
    );
  }
  return out;
}

async function gunzipText(summary: GenerateSummary, path: string): Promise<string> {
  return gunzipSync(await readFile(join(summary.out, path))).toString("utf8");
}

describe("bench/gen/generate.mjs", () => {
  const base = { files: 6, recordsPerFile: 25, seed: 7, accounts: 2, regions: ["us-east-1", "eu-west-1"] } as const;

  for (const kind of ["cloudtrail", "vpc"] as const) {
    it(`${kind}: the same seed gives identical bytes, another seed different ones`, async () => {
      const opts = (out: string, seed: number): GenerateOptions => ({ ...base, regions: [...base.regions], kind, out: join(root, out), seed });
      const a = await digests(await generate(opts(`${kind}-a`, 7)));
      const b = await digests(await generate(opts(`${kind}-b`, 7)));
      const c = await digests(await generate(opts(`${kind}-c`, 8)));
      expect(a.size).toBe(base.files);
      expect([...b]).toEqual([...a]);
      expect([...c.values()].some((h, i) => h === [...a.values()][i])).toBe(false);
    });
  }

  it("cloudtrail: AWS key layout, the asked record count per file, records inside the file's hour", async () => {
    const s = await generate({ ...base, regions: [...base.regions], kind: "cloudtrail", out: join(root, "ct") });
    expect(s.records).toBe(base.files * base.recordsPerFile);
    expect(new Set(s.fileList.map((f) => f.path.split("/")[1]))).toEqual(new Set(s.accounts));
    for (const f of s.fileList) {
      const m = CLOUDTRAIL_PATH_RE.exec(f.path);
      expect(m, f.path).not.toBeNull();
      const [, account, region, y, mo, d] = m!;
      expect(base.regions).toContain(region);
      const { Records } = JSON.parse(await gunzipText(s, f.path)) as { Records: Record<string, unknown>[] };
      expect(Records).toHaveLength(base.recordsPerFile);
      const hh = /T(\d{2})\d{2}Z_/.exec(f.path)![1];
      for (const r of Records) {
        expect(r.recipientAccountId).toBe(account);
        expect(r.eventTime).toMatch(new RegExp(`^${y}-${mo}-${d}T${hh}:\\d{2}:\\d{2}Z$`));
        expect(r.eventType).toBe("AwsApiCall");
        expect(r.eventID).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        expect(["IAMUser", "AssumedRole", "AWSService"]).toContain((r.userIdentity as { type: string }).type);
      }
    }
  });

  it("vpc: AWS key layout, the version-2 header, then exactly the asked number of 14-field lines", async () => {
    const s = await generate({ ...base, regions: [...base.regions], kind: "vpc", out: join(root, "vpc"), recordsPerFile: 400 });
    for (const f of s.fileList) {
      expect(f.path).toMatch(VPC_PATH_RE);
      const lines = (await gunzipText(s, f.path)).split("\n");
      expect(lines.pop()).toBe("");
      expect(lines[0]).toBe("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status");
      expect(lines[0]).toBe(VPC_HEADER);
      expect(lines).toHaveLength(400 + 1);
      const account = f.path.split("/")[1];
      for (const line of lines.slice(1)) {
        const p = line.split(" ");
        expect(p).toHaveLength(14);
        expect(p[0]).toBe("2");
        expect(p[1]).toBe(account);
        expect(p[2]).toMatch(/^eni-[0-9a-f]{17}$/);
        expect(["OK", "NODATA", "SKIPDATA"]).toContain(p[13]);
        if (p[13] === "OK") expect(["ACCEPT", "REJECT"]).toContain(p[12]);
        else expect([...p.slice(3, 10), p[12]]).toEqual(Array(8).fill("-"));
        expect(Number(p[11])).toBeGreaterThanOrEqual(Number(p[10]));
      }
    }
  });

  it("corrupt files are listed in the summary and fail to gunzip or to parse", async () => {
    const s = await generate({ ...base, regions: [...base.regions], kind: "cloudtrail", out: join(root, "bad"), corrupt: 2, corruptKind: "mixed" });
    expect(s.corruptFiles.map((c) => c.kind).sort()).toEqual(["badcontent", "truncated"]);
    const truncated = s.corruptFiles.find((c) => c.kind === "truncated")!;
    const badContent = s.corruptFiles.find((c) => c.kind === "badcontent")!;
    await expect(gunzipText(s, truncated.path)).rejects.toThrow(/unexpected end of file/);
    const text = await gunzipText(s, badContent.path);
    expect(() => JSON.parse(text)).toThrow(SyntaxError);
    // The other files are intact.
    const good = s.fileList.filter((f) => !f.corrupt);
    expect(good).toHaveLength(base.files - 2);
    for (const f of good) expect(JSON.parse(await gunzipText(s, f.path)).Records).toHaveLength(base.recordsPerFile);
  });

  it("writeTruncatedGzip writes a prefix of a valid gzip that gunzip rejects", async () => {
    const path = join(root, "trunc", "x.json.gz");
    const n = await writeTruncatedGzip(path, JSON.stringify({ Records: Array.from({ length: 200 }, (_, i) => ({ i })) }));
    const buf = await readFile(path);
    expect(buf.length).toBe(n);
    expect(buf.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expect(() => gunzipSync(buf)).toThrow(/unexpected end of file/);
  });

  it("rejects bad options with a clear message", async () => {
    await expect(generate({ kind: "vpc", out: join(root, "x"), files: 0, recordsPerFile: 1 })).rejects.toThrow(/files must be a positive integer/);
    await expect(generate({ kind: "nope" as "vpc", out: join(root, "x"), files: 1, recordsPerFile: 1 })).rejects.toThrow(/kind must be/);
  });
});
