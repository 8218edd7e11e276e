import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { generate, mulberry32 } from "../../bench/gen/generate.mjs";
import { launchPlugin } from "../../src/host/index.js";
import { CollectionState, defaultStatePath, parseStateLocation, type ClaimHolder } from "../../src/state/index.js";
import { openAsync, t as types } from "../../src/storage/index.js";
import { AWS_PLUGIN, CLI, cloudTrailRecords, sigkill as kill, listFiles, readChunks, runCli, tempDir, type RunResult } from "./helpers.js";

function childPids(parent: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === parent) out.push(Number(d));
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

const cleanups: (() => void)[] = [];
afterAll(() => cleanups.forEach((c) => c()));

// Should a test fail or time out, leave no collector (or its plugin) running behind it. Only processes that have not
// exited are touched, so a pid the system has since reused is never signalled.
const spawned: ChildProcess[] = [];
afterEach(() => {
  for (const child of spawned.splice(0)) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    childPids(child.pid!).forEach(kill);
    kill(child.pid!);
  }
});
function scratch(): string {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return t.dir;
}

/** Every source record is in exactly one visible chunk, every chunk is whole, and no temp file is left. */
function expectExactlyOnce(data: string, out: string): void {
  const rows = readChunks(out).flatMap((c) => c.rows);
  const source = cloudTrailRecords(data);
  expect(rows.length).toBe(source.length);
  expect(new Set(rows.map((r) => r["tp_id"])).size).toBe(rows.length);
  expect(rows.map((r) => r["eventID"]).sort()).toEqual(source.map((r) => r["eventID"]).sort());
  expect(listFiles(out).filter((f) => !f.endsWith(".jsonl") && !f.startsWith(".tailkit/"))).toEqual([]);
}

/** State agrees with the files: every artifact complete, with all of its positions committed. */
async function expectStateAgrees(data: string, out: string, location = ""): Promise<void> {
  const state = await CollectionState.open({
    location: parseStateLocation(location, out),
    plugin: "aws",
    table: "aws_cloudtrail_log",
    partition: "default",
    owner: "test",
  });
  try {
    const root = data.split("/").at(-1)!;
    for (const f of listFiles(data)) {
      const records = (JSON.parse((await import("node:zlib")).gunzipSync(readFileSync(join(data, f))).toString()) as { Records: unknown[] }).Records.length;
      const st = await state.artifact(`${root}/${f}`);
      expect(st, f).toMatchObject({ complete: true, committed: records });
    }
  } finally {
    await state.close();
  }
}

describe("collection state", () => {
  let data: string;
  let total: number;
  beforeAll(async () => {
    data = join(scratch(), "logs");
    const gen = await generate({ kind: "cloudtrail", out: data, files: 24, recordsPerFile: 250, seed: 11 });
    total = gen.records;
  });

  it("collects nothing new on a second run, and only the added file on a third", async () => {
    const out = scratch();
    const args = ["collect", "--no-convert", "aws", "--table", "aws_cloudtrail_log", "--path", data, "--out", out, "--output", "json"];
    const first = JSON.parse((await runCli(args)).stdout) as { rows: number };
    expect(first.rows).toBe(total);
    const second = JSON.parse((await runCli(args)).stdout) as { rows: number; chunks: number; status: { artifactsSkipped: number } };
    expect(second).toMatchObject({ rows: 0, chunks: 0, status: { artifactsSkipped: 24 } });

    const extra = await generate({ kind: "cloudtrail", out: data + "-extra", files: 1, recordsPerFile: 37, seed: 99, start: "2024-06-01T00:00:00Z" });
    const { cpSync, rmSync } = await import("node:fs");
    cpSync(data + "-extra", data, { recursive: true });
    cleanups.push(() => rmSync(join(data, extra.fileList[0]!.path)));
    rmSync(data + "-extra", { recursive: true });
    const third = JSON.parse((await runCli(args)).stdout) as { rows: number; status: { artifactsSkipped: number; artifactsDiscovered: number } };
    expect(third.rows).toBe(37);
    expect(third.status).toMatchObject({ artifactsSkipped: 24, artifactsDiscovered: 1 });
    rmSync(join(data, extra.fileList[0]!.path));
    cleanups.pop();

    const recollect = JSON.parse((await runCli([...args, "--recollect"])).stdout) as { rows: number };
    expect(recollect.rows).toBe(total);
  });

  it("ends with every row exactly once after the plugin is SIGKILLed at random points (22 runs or more, 6 killed midway)", async () => {
    const out = scratch();
    // Seeded, so a failing kill schedule can be replayed.
    const random = mulberry32(20261125);
    // How long an uninterrupted collection takes here, to spread the kills over it.
    const timing = await launchPlugin(AWS_PLUGIN);
    const t0 = Date.now();
    const probeOut = scratch();
    await timing.waitForComplete(
      await timing.collect({ table: "aws_cloudtrail_log", source: { type: "file", config: { paths: [data] } }, outputDir: probeOut, rowsPerChunk: 700 }),
    );
    const duration = Date.now() - t0;
    await timing.close();

    let killed = 0;
    // A run that comes after the rows are all collected ends before any kill; on a loaded machine the collection's pace
    // varies from the probe's, and fewer kills land. Runs go on (seeded still) until six have died midway.
    for (let i = 0; i < 22 || (killed <= 5 && i < 60); i++) {
      const client = await launchPlugin(AWS_PLUGIN);
      const id = await client.collect({ table: "aws_cloudtrail_log", source: { type: "file", config: { paths: [data] } }, outputDir: out, rowsPerChunk: 700 });
      // Mostly within the collection's span, so most runs die midway; the rest exercise the kill after completion.
      // Half die at a random time, half after a random number of chunks: a slow machine, which makes the first kind
      // come late, does not move the second.
      const delay = random() * duration * 0.8;
      const afterChunks = Math.floor(random() * 3);
      let chunks = 0;
      const byTime = i % 2 === 0;
      const timer = byTime ? setTimeout(() => kill(client.pid!), delay) : undefined;
      const sub = client.events.subscribe((e) => {
        if (!byTime && e.executionId === id && e.type === "chunk_written" && ++chunks === afterChunks) kill(client.pid!);
      });
      if (!byTime && afterChunks === 0) kill(client.pid!);
      const complete = await client.waitForComplete(id);
      clearTimeout(timer);
      sub.unsubscribe();
      if (complete.error) {
        expect(complete.error).toMatch(/SIGKILL/);
        killed++;
      }
      await client.close();
    }
    expect(killed).toBeGreaterThan(5);
    const res = await runCli([
      "collect",
      "--no-convert",
      "aws",
      "--table",
      "aws_cloudtrail_log",
      "--path",
      data,
      "--out",
      out,
      "--output",
      "json",
      "--rows-per-chunk",
      "700",
    ]);
    expect(res.code).toBe(0);
    expectExactlyOnce(data, out);
    await expectStateAgrees(data, out);
  }, 240_000);

  it("ends with every row exactly once after the CLI and its plugin are SIGKILLed at 20 random points", async () => {
    const out = scratch();
    const random = mulberry32(7);
    const args = [
      CLI,
      "collect",
      "--no-convert",
      "aws",
      "--table",
      "aws_cloudtrail_log",
      "--path",
      data,
      "--out",
      out,
      "--rows-per-chunk",
      "500",
      "--output",
      "json",
    ];
    for (let i = 0; i < 20; i++) {
      const cli = spawn(process.execPath, args, { stdio: "ignore" });
      spawned.push(cli);
      const exited = new Promise<void>((r) => cli.once("exit", () => r()));
      // The CLI needs ~0.5 s to start its plugin; kill anywhere from before that to past the end of collection.
      await Promise.race([exited, new Promise((r) => setTimeout(r, 200 + random() * 1800))]);
      const plugins = childPids(cli.pid!);
      kill(cli.pid!);
      plugins.forEach(kill);
      await exited;
    }
    const res = await runCli(["collect", "--no-convert", "aws", "--table", "aws_cloudtrail_log", "--path", data, "--out", out, "--output", "json"]);
    expect(res.code).toBe(0);
    expectExactlyOnce(data, out);
    await expectStateAgrees(data, out);
  }, 240_000);

  it("splits one partition between three collectors sharing Redis, one killed midway, exactly once", async () => {
    const out = scratch();
    // Enough work (48 files of 1,000 records) that all three are still collecting when the others have started and
    // when the victim dies: the shared data set is collected by one collector before another is up.
    const data = join(scratch(), "logs");
    await generate({ kind: "cloudtrail", out: data, files: 48, recordsPerFile: 1000, seed: 12 });
    const prefix = `tailkit-test-${process.pid}-${Date.now()}`;
    const state = `redis://127.0.0.1:6379/${prefix}?lease=2`;
    const args = [
      CLI,
      "collect",
      "--no-convert",
      "aws",
      "--table",
      "aws_cloudtrail_log",
      "--path",
      data,
      "--out",
      out,
      "--rows-per-chunk",
      "300",
      "--output",
      "json",
      "--state",
      state,
    ];
    const runs = [0, 1, 2].map(() => {
      const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
      spawned.push(child);
      let stdout = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      const done = new Promise<{ code: number | null; stdout: string }>((r) => child.once("exit", (code) => r({ code, stdout })));
      return { child, done };
    });
    await new Promise((r) => setTimeout(r, 900));
    const victim = runs[1]!.child;
    const plugins = childPids(victim.pid!);
    kill(victim.pid!);
    plugins.forEach(kill);
    const results = await Promise.all(runs.map((r) => r.done));
    expect(results[0]!.code).toBe(0);
    expect(results[2]!.code).toBe(0);
    const a = JSON.parse(results[0]!.stdout) as { rows: number };
    const c = JSON.parse(results[2]!.stdout) as { rows: number };
    // Both survivors did part of the work.
    expect(a.rows).toBeGreaterThan(0);
    expect(c.rows).toBeGreaterThan(0);
    expectExactlyOnce(data, out);
    await expectStateAgrees(data, out, state);
    const { Redis } = await import("ioredis");
    const redis = new Redis({ host: "127.0.0.1", port: 6379 });
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  }, 120_000);
});

describe("claims across runs", () => {
  let data: string;
  let names: string[];
  beforeAll(async () => {
    // Big enough (48,000 records in chunks of 200) that a run stopped at its first chunk still holds claims.
    data = join(scratch(), "logs");
    await generate({ kind: "cloudtrail", out: data, files: 48, recordsPerFile: 1000, seed: 13 });
    names = listFiles(data).map((f) => `logs/${f}`);
  });

  const args = (out: string, ...more: string[]) => [
    CLI,
    "collect",
    "--no-convert",
    "aws",
    "--table",
    "aws_cloudtrail_log",
    "--path",
    data,
    "--out",
    out,
    "--rows-per-chunk",
    "200",
    ...more,
  ];

  /** The live claims on the collected artifacts in an output's state now, by artifact: read from the store itself. */
  async function claims(out: string): Promise<Map<string, unknown>> {
    const res = await openAsync("sqlite", { path: defaultStatePath(out), table: "tailkit_collection_state" }, types.string(), types.json());
    const store = res.value!;
    try {
      const held = new Map<string, unknown>();
      for (const name of names) {
        const claim = await store.get(`aws/aws_cloudtrail_log/default/claim/${name}`);
        if (claim.value !== undefined) held.set(name, claim.value);
      }
      return held;
    } finally {
      await store.close();
    }
  }

  /** Starts a collection (progress as text on stderr) and resolves once its first chunk is visible. */
  async function startCollecting(out: string): Promise<{ child: ChildProcess; exited: Promise<RunResult> }> {
    const child = spawn(process.execPath, args(out), { stdio: ["ignore", "pipe", "pipe"] });
    spawned.push(child);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<RunResult>((r) => child.once("close", (code, signal) => r({ code, signal, stdout, stderr })));
    let done = false;
    void exited.then(() => (done = true));
    while (!done && !readdirSync(out).some((n) => n.endsWith(".jsonl"))) await new Promise((r) => setTimeout(r, 20));
    return { child, exited };
  }

  /** The next run collects the rest at once: it never waits on a claim, and every record ends up exactly once. */
  async function expectNextRunCollectsAtOnce(out: string): Promise<void> {
    const res = await runCli(args(out).slice(1));
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).not.toMatch(/waiting for/);
    expectExactlyOnce(data, out);
    await expectStateAgrees(data, out);
  }

  it("gives up its claims when the run fails, so that the next run collects at once", async () => {
    const out = scratch();
    // Chunk files of this execution id cannot take their names (a folder is there): the first chunk fails the run.
    for (let seq = 1; seq <= 10; seq++) mkdirSync(join(out, `failing_run-${seq}.jsonl`));
    const failed = await runCli([...args(out).slice(1), "--execution-id", "failing_run", "--output", "json"]);
    expect(failed.code, failed.stderr).toBe(1);
    expect((JSON.parse(failed.stdout) as { error: string }).error).toMatch(/failing_run-1\.jsonl/);
    expect(await claims(out)).toEqual(new Map());
    for (let seq = 1; seq <= 10; seq++) rmSync(join(out, `failing_run-${seq}.jsonl`), { recursive: true });
    await expectNextRunCollectsAtOnce(out);
  }, 120_000);

  it("gives up its claims when the run is cancelled (SIGINT), so that the next run collects at once", async () => {
    const out = scratch();
    const run = await startCollecting(out);
    run.child.kill("SIGINT");
    const res = await run.exited;
    expect(res.code, res.stderr).toBe(130);
    // It stopped midway: some records are not collected yet, and nothing of theirs is claimed.
    expect(readChunks(out).flatMap((c) => c.rows).length).toBeLessThan(48_000);
    expect(await claims(out)).toEqual(new Map());
    await expectNextRunCollectsAtOnce(out);
  }, 120_000);

  it("takes at once the claims of a SIGKILLed collector on this host, which could not give them up", async () => {
    const out = scratch();
    const run = await startCollecting(out);
    const plugins = childPids(run.child.pid!);
    kill(run.child.pid!);
    plugins.forEach(kill);
    await run.exited;
    // The killed plugin's claims are still there, within their 30 s lease, naming a process that is gone.
    const held = [...(await claims(out)).values()] as ClaimHolder[];
    expect(held.length).toBeGreaterThan(0);
    expect(new Set(held.map((h) => h.pid))).toEqual(new Set(plugins));
    await expectNextRunCollectsAtOnce(out);
  }, 120_000);

  it("says on its progress line that it waits for an artifact another live collector holds, and collects it once given up", async () => {
    const out = scratch();
    const other = await CollectionState.open({
      location: parseStateLocation("", out),
      plugin: "aws",
      table: "aws_cloudtrail_log",
      partition: "default",
      owner: "other",
    });
    try {
      expect(await other.claim(names[5]!)).toBe(true);
      const child = spawn(process.execPath, args(out), { stdio: ["ignore", "pipe", "pipe"] });
      spawned.push(child);
      let stderr = "";
      let saidWaiting: () => void = () => undefined;
      const waiting = new Promise<void>((r) => (saidWaiting = r));
      child.stderr.on("data", (d: Buffer) => {
        stderr += d.toString();
        if (/waiting for 1 artifact held by other collectors/.test(stderr)) saidWaiting();
      });
      const exited = new Promise<number | null>((r) => child.once("close", (code) => r(code)));
      await Promise.race([waiting, exited]);
      expect(stderr).toMatch(/progress: .*waiting for 1 artifact held by other collectors/);
      await other.release(names[5]!);
      expect(await exited, stderr).toBe(0);
    } finally {
      await other.close();
    }
    expectExactlyOnce(data, out);
    await expectStateAgrees(data, out);
  }, 120_000);
});
