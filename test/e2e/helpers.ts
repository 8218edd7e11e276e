import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterEach } from "vitest";

/** The repository root. */
export const ROOT = resolve(import.meta.dirname, "../..");
/** The built CLI. */
export const CLI = join(ROOT, "bin", "tailkit.js");
/** The built AWS plugin executable. */
export const AWS_PLUGIN = join(ROOT, "plugins", "aws", "bin", "tailkit-plugin-aws");

/** What a finished process printed. */
export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the tailkit CLI to its end. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): Promise<RunResult> {
  return runProcess(process.execPath, [CLI, ...args], env, cwd);
}

/** Runs a command to its end, collecting its output. */
export function runProcess(command: string, args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"], ...(cwd ? { cwd } : {}) });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code, signal) => resolvePromise({ code, signal, stdout, stderr }));
  });
}

/**
 * Calls `service/method` of a plugin on its unix socket with buf curl, which knows no proto but what server reflection
 * tells it (as any off-the-shelf client would); resolves to the JSON answer.
 */
export async function bufCurl(address: string, method: string, body: unknown): Promise<unknown> {
  const socket = address.replace(/^unix:\/\//, "");
  const args = [
    "buf",
    "curl",
    "--protocol",
    "grpc",
    "--http2-prior-knowledge",
    "--unix-socket",
    socket,
    `http://localhost/${method}`,
    "-d",
    JSON.stringify(body),
  ];
  const { stdout } = await promisify(execFile)("npx", args, { cwd: ROOT });
  return JSON.parse(stdout) as unknown;
}

/** A fresh temp folder; removed by the returned cleanup. */
export function tempDir(prefix = "tailkit-test-"): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** For a test file: makes fresh temp folders, each removed after the test that made it. */
export function scratchDirs(): () => string {
  const cleanups: (() => void)[] = [];
  afterEach(() => cleanups.splice(0).forEach((c) => c()));
  return () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    return t.dir;
  };
}

/** Every file below dir, relative paths, sorted. */
export function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath ?? (d as unknown as { path: string }).path, d.name).slice(dir.length + 1))
    .sort();
}

/** Chunk files of an output folder, in sequence order, with their rows parsed. */
export function readChunks(dir: string): { name: string; sequence: number; executionId: string; rows: Record<string, unknown>[] }[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith(".jsonl"))
    .map((name) => {
      const m = /^(.+)-(\d+)\.jsonl$/.exec(name);
      if (!m) throw new Error(`unexpected chunk name ${name}`);
      const text = readFileSync(join(dir, name), "utf8");
      if (text.length > 0 && !text.endsWith("\n")) throw new Error(`${name} does not end with a newline`);
      const rows = text
        .split("\n")
        .filter((l) => l.length > 0)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      return { name, sequence: Number(m[2]), executionId: m[1]!, rows };
    })
    .sort((a, b) => a.executionId.localeCompare(b.executionId) || a.sequence - b.sequence);
}

/** CloudTrail records of every readable .json.gz below dir, read straight from the files. */
export function cloudTrailRecords(dir: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const f of listFiles(dir).filter((p) => p.endsWith(".json.gz"))) {
    out.push(...(JSON.parse(gunzipSync(readFileSync(join(dir, f))).toString("utf8")) as { Records: Record<string, unknown>[] }).Records);
  }
  return out;
}

/** VPC flow log record lines (header excluded) of every .log.gz below dir. */
export function vpcFlowLines(dir: string): string[] {
  const out: string[] = [];
  for (const f of listFiles(dir).filter((p) => p.endsWith(".log.gz"))) {
    const lines = gunzipSync(readFileSync(join(dir, f)))
      .toString("utf8")
      .split("\n");
    out.push(...lines.filter((l) => l.length > 0 && !l.startsWith("version ")));
  }
  return out;
}

/** SIGKILLs a process, if it is still there. */
export function sigkill(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
}

/** The first child process of pid, or undefined while it has none (Linux /proc). */
export function childOf(pid: number): number | undefined {
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid) return Number(d);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}
