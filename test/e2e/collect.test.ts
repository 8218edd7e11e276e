import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { generate } from "../../bench/gen/generate.mjs";
import { AWS_PLUGIN, CLI, ROOT, cloudTrailRecords, listFiles, readChunks, runCli, runProcess, tempDir, vpcFlowLines } from "./helpers.js";

const SAMPLE_CLOUDTRAIL = join(ROOT, "sample", "cloudtrail");
const SAMPLE_VPC = join(ROOT, "sample", "vpcflow");

interface Summary {
  executionId: string;
  outcome: string;
  error: string | null;
  rows: number;
  chunks: number;
  files: string[];
  status: { artifactsDiscovered: number; artifactsExtracted: number; artifactsFailed: number; rowErrors: Record<string, number> };
  errors: { message: string; artifact: string | null; operation: string | null }[];
}

/** The plugin process a CLI launched (its only child). */
function pluginOf(cli: number): number {
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === cli) return Number(d);
    } catch {
      // gone meanwhile
    }
  }
  throw new Error(`no child process of ${cli}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie still answers; it has exited all the same.
    return !readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z ");
  } catch {
    return false;
  }
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});
function scratch(): string {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return t.dir;
}

/** Chunk names are <executionId>-<seq>.jsonl with seq 1..n, and the summary's counts are what is on disk. */
function expectWholeChunks(out: string, summary: Summary, rowsPerChunk: number) {
  const chunks = readChunks(out);
  expect(chunks.map((c) => c.name)).toEqual(chunks.map((_, i) => `${summary.executionId}-${i + 1}.jsonl`));
  expect(summary.chunks).toBe(chunks.length);
  const rows = chunks.flatMap((c) => c.rows);
  expect(summary.rows).toBe(rows.length);
  for (const c of chunks.slice(0, -1)) expect(c.rows).toHaveLength(rowsPerChunk);
  expect(new Set(rows.map((r) => r["tp_id"])).size).toBe(rows.length);
  // No temporary or partial files are left beside the chunks.
  expect(listFiles(out).filter((f) => !f.endsWith(".jsonl") && !f.startsWith(".tailkit/"))).toEqual([]);
  return rows;
}

describe("tailkit collect with the aws plugin", () => {
  it("collects every CloudTrail record of the sample exactly once, enriched", async () => {
    const out = scratch();
    const res = await runCli([
      "collect",
      "--no-convert",
      "aws",
      "--table",
      "aws_cloudtrail_log",
      "--path",
      SAMPLE_CLOUDTRAIL,
      "--out",
      out,
      "--output",
      "json",
      "--rows-per-chunk",
      "400",
    ]);
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    const summary = JSON.parse(res.stdout) as Summary;
    expect(summary.outcome).toBe("ok");
    const rows = expectWholeChunks(out, summary, 400);

    const source = cloudTrailRecords(SAMPLE_CLOUDTRAIL);
    expect(source.length).toBeGreaterThan(1000);
    expect(rows.map((r) => r["eventID"]).sort()).toEqual(source.map((r) => r["eventID"]).sort());
    expect(summary.status.artifactsExtracted).toBe(listFiles(SAMPLE_CLOUDTRAIL).filter((f) => f.endsWith(".json.gz")).length);

    const row = rows.find((r) => r["eventID"] === source[0]!["eventID"])!;
    expect(row["tp_table"]).toBe("aws_cloudtrail_log");
    expect(row["tp_partition"]).toBe("default");
    expect(row["tp_source_type"]).toBe("file");
    expect(row["tp_timestamp"]).toBe(new Date(source[0]!["eventTime"] as string).toISOString());
    expect(row["tp_date"]).toBe((row["tp_timestamp"] as string).slice(0, 10));
    expect(row["tp_index"]).toBe(source[0]!["recipientAccountId"]);
    expect(String(row["tp_source_location"])).toMatch(/^\/.*\/AWSLogs\/\d{12}\/CloudTrail\/.*\.json\.gz$/);
  });

  it("gives the same tp_id to the same record on a second run", async () => {
    const [a, b] = [scratch(), scratch()];
    for (const out of [a, b]) {
      const res = await runCli([
        "collect",
        "--no-convert",
        "aws",
        "--table",
        "aws_cloudtrail_log",
        "--path",
        SAMPLE_CLOUDTRAIL,
        "--out",
        out,
        "--output",
        "json",
      ]);
      expect(res.code).toBe(0);
    }
    const ids = (dir: string) =>
      new Map(
        readChunks(dir)
          .flatMap((c) => c.rows)
          .map((r) => [r["eventID"], r["tp_id"]]),
      );
    expect(ids(b)).toEqual(ids(a));
  });

  it("collects every VPC flow log line of the sample exactly once", async () => {
    const out = scratch();
    const res = await runCli([
      "collect",
      "--no-convert",
      "aws",
      "--table",
      "aws_vpc_flow_log",
      "--path",
      SAMPLE_VPC,
      "--out",
      out,
      "--output",
      "json",
      "--rows-per-chunk",
      "1000",
    ]);
    expect(res.code).toBe(0);
    const summary = JSON.parse(res.stdout) as Summary;
    const rows = expectWholeChunks(out, summary, 1000);
    const lines = vpcFlowLines(SAMPLE_VPC);
    expect(rows).toHaveLength(lines.length);
    const key = (r: Record<string, unknown>) =>
      ["interface_id", "srcaddr", "dstaddr", "srcport", "dstport", "start", "bytes"].map((f) => String(r[f])).join(" ");
    const fromLines = lines.map((l) => {
      const f = l.split(" ");
      const v = (s: string) => (s === "-" ? "null" : s);
      return `${v(f[2]!)} ${v(f[3]!)} ${v(f[4]!)} ${v(f[5]!)} ${v(f[6]!)} ${v(f[10]!)} ${v(f[9]!)}`;
    });
    expect(rows.map(key).sort()).toEqual(fromLines.sort());
    const accepted = rows.find((r) => r["log_status"] === "OK")!;
    expect(accepted["tp_source_ip"]).toBe(accepted["srcaddr"]);
    expect(accepted["tp_destination_ip"]).toBe(accepted["dstaddr"]);
    expect(accepted["tp_timestamp"]).toBe(new Date((accepted["start"] as number) * 1000).toISOString());
  });

  it("reports a truncated gzip and a malformed document by file name and still collects every other artifact", async () => {
    const data = scratch();
    const out = scratch();
    const gen = await generate({ kind: "cloudtrail", out: data, files: 8, recordsPerFile: 50, seed: 7, corrupt: 2, corruptKind: "mixed" });
    const bad = gen.corruptFiles.map((f: { path: string }) => f.path);
    expect(bad).toHaveLength(2);

    const res = await runCli(["collect", "--no-convert", "aws", "--table", "aws_cloudtrail_log", "--path", data, "--out", out, "--output", "json"]);
    expect(res.code).toBe(3);
    const summary = JSON.parse(res.stdout) as Summary;
    expect(summary.outcome).toBe("partial");
    expect(summary.status.artifactsFailed).toBe(2);
    for (const path of bad) {
      const e = summary.errors.find((x) => x.artifact?.endsWith(path));
      expect(e, `an error event for ${path}`).toBeDefined();
      expect(e!.message).toContain(path);
    }
    expect(summary.errors.map((e) => e.message).join("\n")).toMatch(/truncated|unexpected end/i);
    expect(summary.errors.map((e) => e.message).join("\n")).toMatch(/JSON/);
    const rows = readChunks(out).flatMap((c) => c.rows);
    expect(rows).toHaveLength(6 * 50);
  });

  it("reports malformed flow log lines as row errors naming the file and keeps the good lines", async () => {
    const data = scratch();
    const out = scratch();
    const gen = await generate({ kind: "vpc", out: data, files: 4, recordsPerFile: 100, seed: 3, corrupt: 1, corruptKind: "badcontent" });
    const badPath = gen.corruptFiles[0]!.path;
    const res = await runCli(["collect", "--no-convert", "aws", "--table", "aws_vpc_flow_log", "--path", data, "--out", out, "--output", "json"]);
    expect(res.code).toBe(3);
    const summary = JSON.parse(res.stdout) as Summary;
    expect(summary.status.rowErrors["map"]).toBe(2);
    const rowErrors = summary.errors.filter((e) => e.operation === "map");
    expect(rowErrors).toHaveLength(2);
    for (const e of rowErrors) expect(e.message).toContain(badPath);
    expect(readChunks(out).flatMap((c) => c.rows)).toHaveLength(400);
  });

  it("exits 2 naming the field when the source config is invalid, and writes nothing", async () => {
    const out = scratch();
    const res = await runCli(["collect", "--no-convert", "aws", "--table", "aws_cloudtrail_log", "--config", '{"paths": 5}', "--out", out]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("source.config.paths");
    expect(listFiles(out).filter((f) => !f.startsWith(".tailkit/"))).toEqual([]);
  });

  it("exits 2 naming the table when the table is unknown", async () => {
    const res = await runCli(["collect", "--no-convert", "aws", "--table", "aws_nope", "--path", SAMPLE_CLOUDTRAIL, "--out", scratch()]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/table: unknown table "aws_nope".*aws_cloudtrail_log/);
  });

  it("exits 2 when a path does not exist, naming it", async () => {
    const res = await runCli(["collect", "--no-convert", "aws", "--table", "aws_cloudtrail_log", "--path", "/nonexistent/logs", "--out", scratch()]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("source.config.paths[0]: /nonexistent/logs does not exist");
  });

  it("reports a plugin killed mid-collection as a failure, leaving only whole chunks visible", async () => {
    const data = scratch();
    const out = scratch();
    await generate({ kind: "cloudtrail", out: data, files: 120, recordsPerFile: 400, seed: 5 });
    const cli = spawn(
      process.execPath,
      [CLI, "collect", "--no-convert", "aws", "--table", "aws_cloudtrail_log", "--path", data, "--out", out, "--rows-per-chunk", "500"],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stderr = "";
    cli.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => cli.once("exit", (code) => r(code)));
    // Kill the plugin once the first chunk is visible, well before the 48,000 rows are done.
    while (!readdirSync(out).some((f) => f.endsWith(".jsonl"))) await new Promise((r) => setTimeout(r, 20));
    const plugin = pluginOf(cli.pid!);
    process.kill(plugin, "SIGKILL");
    expect(await exited).toBe(1);
    expect(stderr).toMatch(/failed: plugin exited on signal SIGKILL/);
    const chunks = readChunks(out);
    expect(chunks.length).toBeGreaterThan(0);
    for (const c of chunks) expect(c.rows).toHaveLength(500);
    expect(listFiles(out).filter((f) => f.endsWith(".jsonl") && !/^exec_\w+-\d+\.jsonl$/.test(f))).toEqual([]);
  });

  it("stops the plugin when its host dies", async () => {
    const data = scratch();
    await generate({ kind: "cloudtrail", out: data, files: 60, recordsPerFile: 400, seed: 6 });
    const cli = spawn(process.execPath, [CLI, "collect", "--no-convert", "aws", "--table", "aws_cloudtrail_log", "--path", data, "--out", scratch()], {
      stdio: "ignore",
    });
    let plugin: number | undefined;
    while (plugin === undefined) {
      await new Promise((r) => setTimeout(r, 50));
      try {
        plugin = pluginOf(cli.pid!);
      } catch {
        // not started yet
      }
    }
    process.kill(cli.pid!, "SIGKILL");
    const deadline = Date.now() + 15_000;
    while (alive(plugin) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(alive(plugin)).toBe(false);
  });

  it("refuses to run a plugin started without the host's cookie", async () => {
    const res = await runProcess(AWS_PLUGIN, [], { TAILKIT_PLUGIN_MAGIC_COOKIE: "" });
    expect(res.code).toBe(1);
    expect(res.stdout).toBe("");
    expect(res.stderr).toMatch(/started by a tailkit host/);
  });

  it("describes the plugin's tables as text and as JSON", async () => {
    const text = await runCli(["describe", "aws"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("aws_cloudtrail_log");
    const json = await runCli(["describe", "aws", "--output", "json"]);
    const d = JSON.parse(json.stdout) as { tables: { name: string; sourceDefaults: Record<string, { file_layout?: string }> }[] };
    expect(d.tables.map((t) => t.name)).toEqual(["aws_cloudtrail_log", "aws_vpc_flow_log", "aws_route53_resolver_query_log"]);
    expect(d.tables[0]!.sourceDefaults["file"]!.file_layout).toContain("CloudTrail");
    expect(existsSync(AWS_PLUGIN)).toBe(true);
  });
});
