import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generate } from "../../bench/gen/generate.mjs";
import { S3_CREDENTIALS, startS3, type S3Server } from "../sources/s3/s3-server.js";
import { CLI, childOf, cloudTrailRecords, readChunks, runCli, tempDir } from "./helpers.js";

// The CLI and the AWS plugin executable collecting from a real S3-compatible server on loopback.

const BUCKET = "cli-trail";
let s3: S3Server;
let data: string;
const cleanups: (() => void)[] = [];

function scratch(): string {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return t.dir;
}

beforeAll(async () => {
  data = join(scratch(), "logs");
  await generate({ kind: "cloudtrail", out: data, files: 80, recordsPerFile: 50, seed: 23 });
  s3 = await startS3([BUCKET]);
  await s3.uploadDir(BUCKET, data);
}, 120_000);

afterAll(async () => {
  await s3?.close();
  cleanups.forEach((c) => c());
});

function collectArgs(out: string): string[] {
  const config = { bucket: BUCKET, endpoint: s3.endpoint, force_path_style: true, region: "us-east-1", ...S3_CREDENTIALS };
  return [
    "collect",
    "--no-convert",
    "aws",
    "--table",
    "aws_cloudtrail_log",
    "--source",
    "aws_s3_bucket",
    "--config",
    JSON.stringify(config),
    "--out",
    out,
    "--rows-per-chunk",
    "200",
    "--output",
    "json",
  ];
}

const chunkCount = (dir: string) => readdirSync(dir).filter((f) => f.endsWith(".jsonl")).length;

describe("collect from S3 through the CLI", () => {
  it("ends with every record exactly once after the CLI and its plugin are SIGKILLed midway, five times", async () => {
    const out = scratch();
    const total = cloudTrailRecords(data).length;
    let killedMidway = 0;
    for (let i = 1; i <= 5; i++) {
      const before = chunkCount(out);
      const cli = spawn(process.execPath, [CLI, ...collectArgs(out)], { stdio: "ignore", env: { ...process.env, AWS_EC2_METADATA_DISABLED: "true" } });
      const exited = new Promise<number | null>((r) => cli.once("exit", (code) => r(code)));
      // Killed once this run has written i more chunks: midway, wherever the machine's pace puts it.
      let done = false;
      void exited.then(() => (done = true));
      while (!done && chunkCount(out) < before + i) await new Promise((r) => setTimeout(r, 20));
      const plugin = childOf(cli.pid!);
      if (!done) {
        killedMidway++;
        process.kill(cli.pid!, "SIGKILL");
        if (plugin !== undefined) process.kill(plugin, "SIGKILL");
      }
      await exited;
    }
    expect(killedMidway).toBeGreaterThanOrEqual(3);
    const res = await runCli(collectArgs(out), { AWS_EC2_METADATA_DISABLED: "true" });
    expect(res.code, res.stderr).toBe(0);
    const rows = readChunks(out).flatMap((c) => c.rows);
    expect(rows.length).toBe(total);
    expect(new Set(rows.map((r) => r["tp_id"])).size).toBe(total);
    expect(rows.map((r) => String(r["eventID"])).sort()).toEqual(
      cloudTrailRecords(data)
        .map((r) => String(r["eventID"]))
        .sort(),
    );
    // And a run after that finds nothing new.
    const again = await runCli(collectArgs(out), { AWS_EC2_METADATA_DISABLED: "true" });
    expect(again.code).toBe(0);
    expect(readChunks(out).flatMap((c) => c.rows).length).toBe(total);
  }, 240_000);

  it("describes the aws_s3_bucket source and its config fields", async () => {
    const res = await runCli(["describe", "aws", "--output", "json"]);
    expect(res.code, res.stderr).toBe(0);
    const described = JSON.parse(res.stdout) as { sources: { type: string; configSchema: { properties: Record<string, unknown>; required: string[] } }[] };
    const s3Source = described.sources.find((s) => s.type === "aws_s3_bucket");
    expect(s3Source?.configSchema.required).toEqual(["bucket"]);
    expect(Object.keys(s3Source?.configSchema.properties ?? {})).toEqual(
      expect.arrayContaining([
        "bucket",
        "prefix",
        "region",
        "file_layout",
        "endpoint",
        "force_path_style",
        "profile",
        "access_key",
        "secret_key",
        "session_token",
      ]),
    );
  }, 60_000);
});
