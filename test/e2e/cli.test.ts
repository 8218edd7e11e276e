import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { generate } from "../../bench/gen/generate.mjs";
import { launchPlugin } from "../../src/host/index.js";
import { AWS_PLUGIN, childOf, CLI, listFiles, readChunks, ROOT, runCli, tempDir } from "./helpers.js";

const SAMPLE_CLOUDTRAIL = join(ROOT, "sample", "cloudtrail");
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

/** Whether a process runs (a zombie has exited all the same). */
function running(pid: number): boolean {
  try {
    return !readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z ");
  } catch {
    return false;
  }
}

describe("tailkit collect --state", () => {
  it("refuses rediss:// and unknown schemes with exit 2 naming state, and creates no file named after the URL", async () => {
    const out = scratch();
    const cwd = scratch();
    const tls = await runCli([
      "collect",
      "--no-convert",
      "aws",
      "--table",
      "aws_cloudtrail_log",
      "--path",
      SAMPLE_CLOUDTRAIL,
      "--out",
      out,
      "--state",
      "rediss://127.0.0.1:6380/x",
    ]);
    expect(tls.code).toBe(2);
    expect(tls.stderr).toMatch(/state: rediss:\/\/ \(Redis over TLS\) is not supported yet/);
    const http = await runCli(
      ["collect", "--no-convert", "aws", "--table", "aws_cloudtrail_log", "--path", SAMPLE_CLOUDTRAIL, "--out", out, "--state", "http://127.0.0.1/state"],
      {},
      cwd,
    );
    expect(http.code).toBe(2);
    expect(http.stderr).toMatch(/state: unknown scheme "http:\/\/"/);
    expect(readdirSync(cwd)).toEqual([]);
    expect(listFiles(out)).toEqual([]);
  });
});

describe("tailkit collect --execution-id", () => {
  it("refuses an id whose chunks are already in the output folder, with exit 2 naming execution_id, and leaves them as they were", async () => {
    const out = scratch();
    const first = await runCli([
      "collect",
      "--no-convert",
      "aws",
      "--table",
      "aws_cloudtrail_log",
      "--path",
      SAMPLE_CLOUDTRAIL,
      "--out",
      out,
      "--execution-id",
      "fixed1",
      "--output",
      "json",
    ]);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    const before = new Map(
      readdirSync(out)
        .filter((n) => n.endsWith(".jsonl"))
        .map((n) => [n, readFileSync(join(out, n), "utf8")]),
    );
    expect([...before.keys()]).toContain("fixed1-1.jsonl");

    const second = await runCli([
      "collect",
      "--no-convert",
      "aws",
      "--table",
      "aws_vpc_flow_log",
      "--path",
      SAMPLE_VPC,
      "--out",
      out,
      "--execution-id",
      "fixed1",
    ]);
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(/execution_id: fixed1 is already in use in .*\(fixed1-1\.jsonl exists\)/);
    const after = new Map(
      readdirSync(out)
        .filter((n) => n.endsWith(".jsonl"))
        .map((n) => [n, readFileSync(join(out, n), "utf8")]),
    );
    expect(after).toEqual(before);
  });

  it("refuses an id whose chunks went into Parquet, so that its files and the state of its artifacts stay as they were", async () => {
    const out = scratch();
    const first = await runCli([
      "collect",
      "aws",
      "--table",
      "aws_cloudtrail_log",
      "--path",
      SAMPLE_CLOUDTRAIL,
      "--out",
      out,
      "--execution-id",
      "fixed2",
      "--output",
      "json",
    ]);
    expect(first.code, first.stderr).toBe(0);
    expect(readdirSync(out).filter((n) => n.endsWith(".jsonl"))).toEqual([]);
    const second = await runCli(["collect", "aws", "--table", "aws_vpc_flow_log", "--path", SAMPLE_VPC, "--out", out, "--execution-id", "fixed2"]);
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(/execution_id: fixed2 is already in use in .*\(fixed2-1\.jsonl was converted to Parquet there\)/);
  });
});

describe("tailkit usage errors", () => {
  it("refuses --path when --config gives paths too, naming the field", async () => {
    const out = scratch();
    const res = await runCli([
      "collect",
      "--no-convert",
      "aws",
      "--table",
      "aws_cloudtrail_log",
      "--path",
      SAMPLE_CLOUDTRAIL,
      "--config",
      JSON.stringify({ paths: [SAMPLE_VPC] }),
      "--out",
      out,
    ]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/source\.config\.paths: --path and "paths" in --config both give it/);
    expect(listFiles(out)).toEqual([]);
  });

  it("prints a malformed --config's message without the whole help", async () => {
    const res = await runCli(["collect", "--no-convert", "aws", "--table", "aws_cloudtrail_log", "--config", "{bad", "--out", scratch()]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/^error: --config: malformed JSON: /);
    expect(res.stderr).not.toContain("Options:");
    expect(res.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("with --output json gives usage and config errors as one JSON object on stdout, exit 2", async () => {
    const missing = await runCli(["collect", "--no-convert", "aws", "--out", scratch(), "--output", "json"]);
    expect(missing.code).toBe(2);
    expect(JSON.parse(missing.stdout)).toMatchObject({ outcome: "usage", exitCode: 2, error: expect.stringContaining("--table") });
    const malformed = await runCli(["collect", "--no-convert", "aws", "--table", "aws_cloudtrail_log", "--config", "[1]", "--out", scratch(), "--output=json"]);
    expect(malformed.code).toBe(2);
    expect(JSON.parse(malformed.stdout)).toEqual({ outcome: "usage", error: "--config: must be a JSON object", field: "config", exitCode: 2 });
    const unknownTable = await runCli([
      "collect",
      "--no-convert",
      "aws",
      "--table",
      "aws_nope",
      "--path",
      SAMPLE_CLOUDTRAIL,
      "--out",
      scratch(),
      "--output",
      "json",
    ]);
    expect(unknownTable.code).toBe(2);
    expect(JSON.parse(unknownTable.stdout)).toMatchObject({ outcome: "usage", field: "table" });
  });
});

describe("tailkit describe", () => {
  it("shows in text form each table's columns, tp_* fields included, and each source's config fields", async () => {
    const res = await runCli(["describe", "aws"]);
    expect(res.code).toBe(0);
    const lines = res.stdout.split("\n").map((l) => l.trim().replace(/ {2,}/g, " | "));
    expect(lines).toContain("eventTime | string (date-time) | required");
    expect(lines.some((l) => l.startsWith("tp_ingest_timestamp | string (date-time) | required | "))).toBe(true);
    expect(lines.some((l) => l.startsWith("tp_destination_ip | string|null | optional | "))).toBe(true);
    expect(lines.some((l) => l.startsWith("paths | string[] | required | Folders to collect from, or single files"))).toBe(true);
    expect(lines.some((l) => l.startsWith("extensions | string[] | optional | Only collect files"))).toBe(true);
  });

  it("publishes the tp_* fields in the JSON row schema, and collect refuses an unknown table config field", async () => {
    const json = await runCli(["describe", "aws", "--output", "json"]);
    const d = JSON.parse(json.stdout) as { tables: { rowSchema: { properties: Record<string, unknown>; required: string[] } }[] };
    expect(d.tables[0]!.rowSchema.required).toEqual(expect.arrayContaining(["tp_ingest_timestamp", "tp_date", "tp_source_location"]));
    const res = await runCli([
      "collect",
      "--no-convert",
      "aws",
      "--table",
      "aws_cloudtrail_log",
      "--path",
      SAMPLE_CLOUDTRAIL,
      "--table-config",
      '{"bogus":1}',
      "--out",
      scratch(),
    ]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("table_config.bogus: unknown field");
  });
});

describe("tailkit collect when the plugin dies", () => {
  it("reports as written the rows and chunks that are on disk for the execution, not zero", async () => {
    const data = scratch();
    const out = scratch();
    await generate({ kind: "cloudtrail", out: data, files: 120, recordsPerFile: 400, seed: 5 });
    const tmp = scratch();
    const cli = spawn(
      process.execPath,
      [CLI, "collect", "--no-convert", "aws", "--table", "aws_cloudtrail_log", "--path", data, "--out", out, "--rows-per-chunk", "500", "--output", "json"],
      {
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, TMPDIR: tmp },
      },
    );
    let stdout = "";
    cli.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((r) => cli.once("exit", (code) => r(code)));
    while (!readdirSync(out).some((f) => f.endsWith(".jsonl"))) await new Promise((r) => setTimeout(r, 20));
    process.kill(childOf(cli.pid!)!, "SIGKILL");
    expect(await exited).toBe(1);
    const summary = JSON.parse(stdout) as {
      executionId: string;
      rows: number;
      chunks: number;
      files: string[];
      status: { rowsWritten: number; chunksWritten: number };
    };
    const chunks = readChunks(out);
    const onDisk = chunks.flatMap((c) => c.rows).length;
    expect(onDisk).toBeGreaterThan(0);
    expect(summary.rows).toBe(onDisk);
    expect(summary.chunks).toBe(chunks.length);
    expect(summary.status).toMatchObject({ rowsWritten: onDisk, chunksWritten: chunks.length });
    expect([...summary.files].sort()).toEqual(chunks.map((c) => join(out, c.name)).sort());
    // The killed plugin's socket folder (and the execution's temp folder in it) went with it.
    expect(readdirSync(tmp)).toEqual([]);
  });

  it("removes the socket folder of a plugin that was SIGKILLed", async () => {
    const tmp = scratch();
    const client = await launchPlugin(AWS_PLUGIN, { env: { TMPDIR: tmp } });
    const socketDir = client.address.replace(/^unix:\/\//, "").replace(/\/plugin\.sock$/, "");
    expect(socketDir.startsWith(tmp)).toBe(true);
    expect(existsSync(socketDir)).toBe(true);
    process.kill(client.pid!, "SIGKILL");
    expect(await client.close()).toEqual({ code: null, signal: "SIGKILL" });
    expect(existsSync(socketDir)).toBe(false);
    expect(readdirSync(tmp)).toEqual([]);
  });

  it("leaves no socket folder, temp folder or temp chunk when its host is SIGKILLed", async () => {
    const data = scratch();
    const out = scratch();
    const tmp = scratch();
    await generate({ kind: "cloudtrail", out: data, files: 120, recordsPerFile: 400, seed: 8 });
    const cli = spawn(
      process.execPath,
      [CLI, "collect", "--no-convert", "aws", "--table", "aws_cloudtrail_log", "--path", data, "--out", out, "--rows-per-chunk", "500"],
      {
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, TMPDIR: tmp },
      },
    );
    const exited = new Promise<void>((r) => cli.once("exit", () => r()));
    while (!readdirSync(out).some((f) => f.endsWith(".jsonl"))) await new Promise((r) => setTimeout(r, 20));
    const plugin = childOf(cli.pid!)!;
    process.kill(cli.pid!, "SIGKILL");
    await exited;
    // The plugin sees its host gone within a second and stops; wait for it to be gone (or a zombie).
    while (running(plugin)) await new Promise((r) => setTimeout(r, 50));
    expect(readdirSync(tmp)).toEqual([]);
    expect(listFiles(out).filter((f) => !f.endsWith(".jsonl") && !f.startsWith(".tailkit/"))).toEqual([]);
  });
});

describe("tailkit collect on SIGTERM", () => {
  it("stops as on Ctrl-C: whole chunks kept, no temp file left, exit 130 with a one-line summary", async () => {
    const data = scratch();
    const out = scratch();
    const tmp = scratch();
    await generate({ kind: "cloudtrail", out: data, files: 120, recordsPerFile: 400, seed: 9 });
    const cli = spawn(
      process.execPath,
      [CLI, "collect", "--no-convert", "aws", "--table", "aws_cloudtrail_log", "--path", data, "--out", out, "--rows-per-chunk", "500"],
      {
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, TMPDIR: tmp },
      },
    );
    let stderr = "";
    cli.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => cli.once("close", (code) => r(code)));
    while (!readdirSync(out).some((f) => f.endsWith(".jsonl"))) await new Promise((r) => setTimeout(r, 20));
    process.kill(cli.pid!, "SIGTERM");
    expect(await exited).toBe(130);
    const chunks = readChunks(out);
    const rows = chunks.flatMap((c) => c.rows).length;
    // Progress lines (every 5 s off a terminal) aside, the summary is one line.
    expect(
      stderr
        .trim()
        .split("\n")
        .filter((l) => !l.startsWith("progress: ")),
    ).toEqual([
      `interrupted: execution ${chunks[0]!.executionId} stopped; ${rows.toLocaleString("en-US")} rows in ${chunks.length} whole chunk files kept in ${out} (run again to resume)`,
    ]);
    for (const c of chunks) expect(c.rows).toHaveLength(500);
    expect(listFiles(out).filter((f) => !f.endsWith(".jsonl") && !f.startsWith(".tailkit/"))).toEqual([]);
    expect(readdirSync(tmp)).toEqual([]);
  });
});

describe("tailkit with a plugin that never prints its handshake", () => {
  it("ends describe and collect after --handshake-timeout, quoting the plugin's stderr", async () => {
    const dir = scratch();
    const pids = join(dir, "pids");
    // A wrapper script whose child keeps the pipes open after the script is killed.
    const script = join(dir, "tailkit-plugin-silent");
    writeFileSync(script, `#!/bin/sh\necho "silent: waiting for a licence server" >&2\nsleep 600 &\necho $! >> ${pids}\nwait\n`, { mode: 0o755 });
    cleanups.push(() => {
      for (const pid of existsSync(pids) ? readFileSync(pids, "utf8").split("\n").filter(Boolean) : []) {
        try {
          process.kill(Number(pid), "SIGKILL");
        } catch {
          // already gone
        }
      }
    });
    const d = await runCli(["describe", script, "--handshake-timeout", "1"]);
    expect(d.code).toBe(1);
    expect(d.stderr).toContain(`plugin ${script} printed no handshake line within 1 s and was stopped; stderr:\nsilent: waiting for a licence server`);
    const c = await runCli(["collect", "--no-convert", script, "--table", "t", "--out", scratch(), "--handshake-timeout", "0.5", "--output", "json"]);
    expect(c.code).toBe(1);
    expect(JSON.parse(c.stdout)).toMatchObject({ outcome: "failed", error: expect.stringContaining("printed no handshake line within 0.5 s") });
  });
});
