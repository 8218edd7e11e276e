import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { parquetIds, parquetQuery } from "../query/helpers.js";
import { CLI, ROOT, cloudTrailRecords, listFiles, readChunks, runCli, tempDir, vpcFlowLines } from "./helpers.js";

const SAMPLE_CLOUDTRAIL = join(ROOT, "sample", "cloudtrail");
const SAMPLE_VPC = join(ROOT, "sample", "vpcflow");
const SAMPLE_NGINX = join(ROOT, "sample", "nginx");

const cleanups: (() => void)[] = [];
const spawned: ChildProcess[] = [];
afterEach(() => {
  for (const c of spawned.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  while (cleanups.length) cleanups.pop()!();
});
function scratch(): string {
  const t = tempDir("tailkit-query-");
  cleanups.push(t.cleanup);
  return t.dir;
}

function chunkIds(dir: string): string[] {
  return readChunks(dir)
    .flatMap((c) => c.rows.map((r) => r["tp_id"] as string))
    .sort();
}

function leftChunks(dir: string): string[] {
  return readdirSync(dir).filter((n) => n.endsWith(".jsonl"));
}

interface CollectSummary {
  rows: number;
  chunks: number;
  conversion: {
    rows: number;
    chunks: number;
    files: number;
    error: string | null;
    rowErrors: Record<string, number>;
    rejected: string[];
    errors: { column: string; line: number; chunk: string; operation: string }[];
  };
}

/** Bytes by action, from the flow log lines themselves, equal what a query over the Parquet says. */
async function vpcBytesByAction(dir: string): Promise<void> {
  const sums = new Map<string, number>();
  for (const line of vpcFlowLines(SAMPLE_VPC)) {
    const f = line.split(" ");
    if (f[9] !== "-") sums.set(f[12]!, (sums.get(f[12]!) ?? 0) + Number(f[9]));
  }
  const sql = "select action, sum(bytes)::BIGINT as bytes from aws_vpc_flow_log where bytes is not null group by action order by action";
  const res = await runCli(["query", "--out", dir, "--output", "json", sql]);
  expect(res.code, res.stderr).toBe(0);
  expect(JSON.parse(res.stdout)).toEqual([...sums].sort((a, b) => a[0].localeCompare(b[0])).map(([action, bytes]) => ({ action, bytes })));
}

describe("collect converts chunks into Parquet", () => {
  const sets = [
    {
      table: "aws_cloudtrail_log",
      plugin: "aws",
      path: SAMPLE_CLOUDTRAIL,
      rows: () => cloudTrailRecords(SAMPLE_CLOUDTRAIL).length,
      // Typed by the row schema; eventCategory and managementEvent are not in it and keep their inferred types.
      types: {
        eventTime: "TIMESTAMP",
        tp_timestamp: "TIMESTAMP",
        readOnly: "BOOLEAN",
        tp_ips: "VARCHAR[]",
        eventName: "VARCHAR",
        tp_date: "DATE",
        eventCategory: "VARCHAR",
        managementEvent: "BOOLEAN",
      },
    },
    {
      table: "aws_vpc_flow_log",
      plugin: "aws",
      path: SAMPLE_VPC,
      rows: () => vpcFlowLines(SAMPLE_VPC).length,
      check: vpcBytesByAction,
      types: { srcport: "BIGINT", bytes: "BIGINT", start: "BIGINT", action: "VARCHAR", tp_timestamp: "TIMESTAMP" },
    },
    {
      table: "nginx_access_log",
      plugin: "nginx",
      path: SAMPLE_NGINX,
      rows: undefined,
      types: { status: "BIGINT", body_bytes_sent: "BIGINT", tp_timestamp: "TIMESTAMP" },
    },
  ];
  for (const set of sets) {
    it(`${set.table}: the Parquet under --out holds the chunks' rows, each tp_id once, and no chunk is left`, async () => {
      const chunked = scratch();
      const converted = scratch();
      const base = ["collect", set.plugin, "--table", set.table, "--path", set.path, "--output", "json", "--rows-per-chunk", "300"];
      const a = await runCli([...base, "--out", chunked, "--no-convert"]);
      expect(a.code, a.stderr).toBe(0);
      const b = await runCli([...base, "--out", converted]);
      expect(b.code, b.stderr).toBe(0);
      const summary = JSON.parse(b.stdout) as CollectSummary;
      expect(summary.conversion.error).toBeNull();
      expect(summary.conversion.chunks).toBe(summary.chunks);
      const expected = chunkIds(chunked);
      if (set.rows) expect(expected).toHaveLength(set.rows());
      expect(summary.conversion.rows).toBe(expected.length);
      // tp_id depends on the source and position only, so both runs give the same ids.
      expect(await parquetIds(converted)).toEqual(expected);
      expect(leftChunks(converted)).toEqual([]);
      if (set.check) await set.check(converted);
      if (set.types) {
        const described = await parquetQuery(converted, "DESCRIBE SELECT * FROM t");
        expect(Object.fromEntries(described.map((r) => [r["column_name"] as string, r["column_type"] as string]))).toMatchObject(set.types);
      }
      expect(
        listFiles(converted)
          .filter((f) => !f.startsWith(".tailkit/"))
          .every((f) => /^tp_table=[^/]+\/tp_partition=[^/]+\/tp_index=[^/]+\/tp_date=\d{4}-\d{2}-\d{2}\/[^/]+\.parquet$/.test(f)),
      ).toBe(true);
    });
  }
});

describe("tailkit query", () => {
  let shared: { dir: string; cleanup: () => void } | undefined;
  async function collected(): Promise<string> {
    if (shared) return shared.dir;
    shared = tempDir("tailkit-query-");
    const res = await runCli(["collect", "aws", "--table", "aws_cloudtrail_log", "--path", SAMPLE_CLOUDTRAIL, "--out", shared.dir, "--output", "json"]);
    expect(res.code, res.stderr).toBe(0);
    return shared.dir;
  }
  afterAll(() => shared?.cleanup());

  const topErrors = () => {
    const counts = new Map<string, number>();
    for (const r of cloudTrailRecords(SAMPLE_CLOUDTRAIL))
      if (typeof r["errorCode"] === "string") counts.set(r["errorCode"], (counts.get(r["errorCode"]) ?? 0) + 1);
    return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([code, n]) => ({ errorCode: code, n }));
  };
  const SQL = "select errorCode, count(*) as n from aws_cloudtrail_log where errorCode is not null group by errorCode order by n desc, errorCode";

  it("answers with --output json as computed from the input files, and jsonl the same rows", async () => {
    const out = await collected();
    const json = await runCli(["query", "--out", out, "--output", "json", SQL]);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(topErrors());
    const jsonl = await runCli(["query", "--out", out, "--output", "jsonl", SQL]);
    expect(jsonl.code).toBe(0);
    expect(
      jsonl.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as unknown),
    ).toEqual(topErrors());
  });

  it("prints csv with a header, and an aligned table", async () => {
    const out = await collected();
    const csv = await runCli(["query", "--out", out, "--output", "csv", SQL]);
    expect(csv.code).toBe(0);
    expect(csv.stdout).toBe(["errorCode,n", ...topErrors().map((e) => `${e.errorCode},${e.n}`)].join("\n") + "\n");
    const table = await runCli(["query", "--out", out, SQL]);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split("\n");
    const width = Math.max("errorCode".length, ...topErrors().map((e) => e.errorCode.length));
    expect(lines[0]).toBe(`${"errorCode".padEnd(width)} │ ${"n".padStart(String(topErrors()[0]!.n).length)}`);
    expect(lines.slice(2, -1)).toEqual(topErrors().map((e) => `${e.errorCode.padEnd(width)} │ ${String(e.n).padStart(String(topErrors()[0]!.n).length)}`));
    expect(lines.at(-1)).toBe(`(${topErrors().length} rows)`);
  });

  it("prunes by the hive columns: where tp_date = ... counts that day's records", async () => {
    const out = await collected();
    const day = "2024-03-02";
    const expected = cloudTrailRecords(SAMPLE_CLOUDTRAIL).filter((r) => String(r["eventTime"]).startsWith(day)).length;
    const res = await runCli(["query", "--out", out, "--output", "json", `select count(*) as n from aws_cloudtrail_log where tp_date = '${day}'`]);
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout)).toEqual([{ n: expected }]);
  });

  it("opens a prompt on a terminal when no SQL is given, and answers statements ended by ;", async () => {
    const out = await collected();
    // script(1) gives the CLI a pseudo-terminal as its stdin and stdout.
    const child = spawn("script", ["-qec", `${process.execPath} ${CLI} query --out ${out}`, "/dev/null"], { stdio: ["pipe", "pipe", "ignore"] });
    spawned.push(child);
    let text = "";
    child.stdout.on("data", (d: Buffer) => (text += d.toString()));
    const until = async (what: string) => {
      while (!text.includes(what) && child.exitCode === null) await new Promise((r) => setTimeout(r, 20));
    };
    await until("tailkit> ");
    child.stdin.write("select count(*) as n\nfrom aws_cloudtrail_log;\n");
    await until("(1 row)");
    child.stdin.write(".quit\n");
    await new Promise((r) => child.once("close", r));
    expect(text).toContain("...> ");
    expect(text).toMatch(new RegExp(`^\\s*${cloudTrailRecords(SAMPLE_CLOUDTRAIL).length}\\s*$`, "m"));
    expect(child.exitCode).toBe(0);
  });

  it("a bad query exits 2 with DuckDB's message", async () => {
    const out = await collected();
    const res = await runCli(["query", "--out", out, "select nope from aws_cloudtrail_log"]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/Binder Error: Referenced column "nope" not found/);
    expect(res.stdout).toBe("");
    const missing = await runCli(["query", "--out", join(out, "nowhere"), "select 1"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("holds no converted data");
  });
});

describe("rows that break the schema", () => {
  it("are reported by column (operation convert) and the rest of the chunk is kept", async () => {
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
      "--rows-per-chunk",
      "400",
    ]);
    expect(res.code).toBe(0);
    const chunks = readChunks(out);
    const first = join(out, chunks[0]!.name);
    const lines = readFileSync(first, "utf8").trimEnd().split("\n");
    const broken = [lines[3]!, lines[10]!, lines[12]!].map((l) => JSON.parse(l) as Record<string, unknown>);
    lines[3] = JSON.stringify({ ...broken[0], eventTime: "yesterday" });
    const { eventSource: _gone, ...noSource } = broken[1]!;
    lines[10] = JSON.stringify(noSource);
    // DuckDB's reader would quietly take "true" for the BOOLEAN readOnly.
    lines[12] = JSON.stringify({ ...broken[2], readOnly: "true" });
    writeFileSync(first, `${lines.join("\n")}\n`);
    const all = chunkIds(out);

    // The schema comes from the collect that converts; a plain collect again (nothing new) sets it, then converts.
    const conv = await runCli(["collect", "aws", "--table", "aws_cloudtrail_log", "--path", SAMPLE_CLOUDTRAIL, "--out", out, "--output", "json"]);
    expect(conv.code, conv.stderr).toBe(3);
    const summary = JSON.parse(conv.stdout) as CollectSummary;
    expect(summary.conversion.rowErrors).toEqual({ eventTime: 1, eventSource: 1, readOnly: 1 });
    expect(summary.conversion.errors.map((e) => [e.chunk, e.line, e.column, e.operation])).toEqual([
      [chunks[0]!.name, 4, "eventTime", "convert"],
      [chunks[0]!.name, 11, "eventSource", "convert"],
      [chunks[0]!.name, 13, "readOnly", "convert"],
    ]);
    const refusedIds = broken.map((b) => b["tp_id"]);
    const kept = all.filter((id) => !refusedIds.includes(id)).sort();
    expect(await parquetIds(out)).toEqual(kept);
    expect(leftChunks(out)).toEqual([]);
    // The refused rows outlive their chunk, whole, in the data folder's rejected/.
    expect(summary.conversion.rejected).toHaveLength(1);
    const rejected = readFileSync(summary.conversion.rejected[0]!, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { column: string; row: Record<string, unknown> });
    expect(rejected.map((r) => [r.column, r.row["tp_id"]])).toEqual([
      ["eventTime", refusedIds[0]],
      ["eventSource", refusedIds[1]],
      ["readOnly", refusedIds[2]],
    ]);
    // And SQL can look at them: tailkit_rejected is a view over those files.
    const q = await runCli(["query", "--out", out, "--output", "json", `select "column", "row"->>'tp_id' as id, message from tailkit_rejected order by line`]);
    expect(q.code, q.stderr).toBe(0);
    const seen = JSON.parse(q.stdout) as { column: string; id: string; message: string }[];
    expect(seen.map((r) => [r.column, r.id])).toEqual([
      ["eventTime", refusedIds[0]],
      ["eventSource", refusedIds[1]],
      ["readOnly", refusedIds[2]],
    ]);
    expect(seen[2]!.message).toContain("readOnly");

    // Tried again with the same schema, they are refused again, once each, and nothing else changes.
    const retry = await runCli(["convert", "--out", out, "--retry-rejected", "--output", "json"]);
    expect(retry.code, retry.stderr).toBe(3);
    const again = JSON.parse(retry.stdout) as CollectSummary;
    expect(again.conversion.rowErrors).toEqual({ eventTime: 1, eventSource: 1, readOnly: 1 });
    expect(again.conversion.rejected.map((f) => basename(f))).toEqual([
      `retry_${chunks[0]!.name.replace(/\.jsonl$/, "").replace(/[^A-Za-z0-9_.]/g, "_")}-1.jsonl`,
    ]);
    expect(await parquetIds(out)).toEqual(kept);
    const q2 = await runCli(["query", "--out", out, "--output", "json", "select count(*)::INTEGER as n from tailkit_rejected"]);
    expect(JSON.parse(q2.stdout)).toEqual([{ n: 3 }]);
  });
});

/** Resolves once fewer than `count` chunks are left in dir (the converter is at work), or the child exits. */
async function conversionUnderway(dir: string, count: number, child: ChildProcess): Promise<void> {
  while (leftChunks(dir).length >= count && child.exitCode === null && child.signalCode === null) await new Promise((r) => setTimeout(r, 10));
}

describe("a host killed during conversion", () => {
  it("converts every row exactly once after 10 SIGKILLs at random moments, and leaves no chunk behind", async () => {
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
      "--rows-per-chunk",
      "10",
    ]);
    expect(res.code).toBe(0);
    const expected = chunkIds(out);
    expect(leftChunks(out).length).toBeGreaterThan(100);
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const killedMidway: number[] = [];
    for (let kill = 0; kill < 10; kill++) {
      const before = leftChunks(out).length;
      const child = spawn(process.execPath, [CLI, "convert", "--out", out, "--chunks-per-unit", "1"], { stdio: "ignore" });
      spawned.push(child);
      // Once it has converted a chunk, a random moment later: inside a COPY, a rename, the record or a delete.
      await conversionUnderway(out, before, child);
      await new Promise((r) => setTimeout(r, random() * 150));
      child.kill("SIGKILL");
      await new Promise((r) => child.once("close", r));
      if (child.signalCode === "SIGKILL" && leftChunks(out).length > 0) killedMidway.push(before - leftChunks(out).length);
    }
    expect(killedMidway).toHaveLength(10);
    const final = await runCli(["convert", "--out", out, "--output", "json"]);
    expect(final.code, final.stderr).toBe(0);
    expect(leftChunks(out)).toEqual([]);
    expect(listFiles(out).filter((f) => f.endsWith(".tmp") || f.startsWith(".tailkit/staging/"))).toEqual([]);
    expect(await parquetIds(out)).toEqual(expected);
  });

  it("compaction killed at random moments, run again, keeps every row exactly once", async () => {
    const out = scratch();
    expect(
      (await runCli(["collect", "--no-convert", "aws", "--table", "aws_cloudtrail_log", "--path", SAMPLE_CLOUDTRAIL, "--out", out, "--rows-per-chunk", "20"]))
        .code,
    ).toBe(0);
    const expected = chunkIds(out);
    const conv = await runCli(["convert", "--out", out, "--chunks-per-unit", "1", "--no-compact"]);
    expect(conv.code, conv.stderr).toBe(0);
    const small = listFiles(out).filter((f) => f.endsWith(".parquet"));
    expect(small.length).toBeGreaterThan(60);
    let seed = 11;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let kill = 0; kill < 3; kill++) {
      const child = spawn(process.execPath, [CLI, "compact", "--out", out], { stdio: "ignore" });
      spawned.push(child);
      // Once its first merged file exists (in staging or in place), a random moment later.
      while (!listFiles(out).some((f) => f.includes("compact-")) && child.exitCode === null) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, random() * 100));
      child.kill("SIGKILL");
      await new Promise((r) => child.once("close", r));
    }
    const final = await runCli(["compact", "--out", out]);
    expect(final.code, final.stderr).toBe(0);
    const files = listFiles(out).filter((f) => f.endsWith(".parquet"));
    expect(files.every((f) => f.includes("/compact-"))).toBe(true);
    expect(await parquetIds(out)).toEqual(expected);
  });

  it("a collect killed while converting, run again, has every record of the input once in Parquet", async () => {
    const out = scratch();
    const args = [CLI, "collect", "aws", "--table", "aws_cloudtrail_log", "--path", SAMPLE_CLOUDTRAIL, "--out", out, "--rows-per-chunk", "40"];
    for (let kill = 0; kill < 3; kill++) {
      const child = spawn(process.execPath, args, { stdio: "ignore" });
      spawned.push(child);
      while (listFiles(out).filter((f) => f.endsWith(".parquet")).length <= kill && child.exitCode === null) await new Promise((r) => setTimeout(r, 10));
      // SIGKILL of the host only: its plugin sees the parent go and stops, as after a crash.
      child.kill("SIGKILL");
      await new Promise((r) => child.once("close", r));
    }
    const res = await runCli(args.slice(1));
    expect(res.code, res.stderr).toBe(0);
    expect(leftChunks(out)).toEqual([]);
    const ids = await parquetIds(out);
    const records = cloudTrailRecords(SAMPLE_CLOUDTRAIL);
    expect(ids).toHaveLength(records.length);
    expect(new Set(ids).size).toBe(records.length);
    const events = (await parquetQuery(out, "SELECT eventID FROM t ORDER BY eventID")).map((r) => r["eventID"]);
    expect(events).toEqual(records.map((r) => r["eventID"]).sort());
  });
});
