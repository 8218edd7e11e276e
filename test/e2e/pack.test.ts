// The package as a plugin author gets it: `npm pack` of this repository (its dist/ from `npm run build`), installed
// into a scratch project (laid out as npm would, no registry); the README's plugin example, taken from README.md as it stands, and a copy
// of plugins/nginx/src, compiled there with tsc against the installed package; each collected through the installed
// CLI. It shows that "files" and "exports" give a package that works, that the README's example is correct as printed,
// and that a plugin built the documented way serves once: one handshake line, no processes of its own, and as many
// threads as its worker pool.
import { spawn } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE } from "../../src/plugin/handshake.js";
import { ROOT, childOf, listFiles, readChunks, runProcess, tempDir, type RunResult } from "./helpers.js";

/** The README's example files, each a ```ts block after a `<!-- readme-example: NAME -->` line. */
function readmeExample(): Record<string, string> {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const files: Record<string, string> = {};
  for (const m of readme.matchAll(/<!-- readme-example: (\S+) -->\n```ts\n([\s\S]*?)```/g)) files[m[1]!] = m[2]!;
  return files;
}

/** Log lines the example's table reads, and the rows it must make of them. */
const APP_LOG = [
  "2024-03-01T12:00:00Z WARN alice disk almost full",
  "2024-03-01T12:00:05Z INFO bob logged in",
  "2024-03-02T08:30:00Z ERROR carol cannot write /var/data",
];
const APP_ROWS = [
  {
    time: "2024-03-01T12:00:00Z",
    level: "WARN",
    user: "alice",
    message: "disk almost full",
    tp_timestamp: "2024-03-01T12:00:00.000Z",
    tp_usernames: ["alice"],
  },
  { time: "2024-03-01T12:00:05Z", level: "INFO", user: "bob", message: "logged in", tp_timestamp: "2024-03-01T12:00:05.000Z", tp_usernames: ["bob"] },
  {
    time: "2024-03-02T08:30:00Z",
    level: "ERROR",
    user: "carol",
    message: "cannot write /var/data",
    tp_timestamp: "2024-03-02T08:30:00.000Z",
    tp_usernames: ["carol"],
  },
];
/** Extraction workers the plugins get here: their threads are what the bounds below allow for. */
const WORKERS = 2;
const HANDSHAKE = /^1\|1\|unix\|.+\|grpc$/;

let work: { dir: string; cleanup: () => void };
let baseline: Promise<number> | undefined;
let project: string;
let tsc: RunResult;

function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  return runProcess(command, args, { TAILKIT_EXTRACT_WORKERS: String(WORKERS), ...env }, project);
}

function ok(res: RunResult, what: string): RunResult {
  expect(res.code, `${what}:\n${res.stdout}\n${res.stderr}`).toBe(0);
  return res;
}

/**
 * Installs the tarball as npm would lay it out, without a registry: its contents become node_modules/tailkit, its bin
 * is linked into node_modules/.bin, and its dependencies are this repository's own install (the same versions, with
 * better-sqlite3 already built for this Node), seen through a node_modules folder inside the package. What is tested is
 * the tarball: its files, its exports and its bin.
 */
async function install(tarball: string): Promise<void> {
  const into = join(project, "node_modules", "tailkit");
  mkdirSync(into, { recursive: true });
  ok(await runProcess("tar", ["-xzf", tarball, "-C", into, "--strip-components=1"], {}, project), "tar -x");
  symlinkSync(join(ROOT, "node_modules"), join(into, "node_modules"), "dir");
  mkdirSync(join(project, "node_modules", ".bin"));
  symlinkSync(join("..", "tailkit", "bin", "tailkit.js"), join(project, "node_modules", ".bin", "tailkit"));
}

beforeAll(async () => {
  work = tempDir("tailkit-pack-");
  project = join(work.dir, "project");
  mkdirSync(project);
  const packed = ok(await runProcess("npm", ["pack", "--json", "--pack-destination", work.dir], {}, ROOT), "npm pack");
  const tarball = join(work.dir, (JSON.parse(packed.stdout) as { filename: string }[])[0]!.filename);
  writeFileSync(join(project, "package.json"), `${JSON.stringify({ name: "scratch", version: "1.0.0", private: true, type: "module" }, null, 2)}\n`);
  await install(tarball);

  // The example as README.md prints it; plugins/nginx/src as it is; both compiled in one tsc run (typescript and
  // @types/node from this repository's node_modules). skipLibCheck, as most projects have it: checking the declarations
  // of the package and all its dependencies would triple the compile time.
  mkdirSync(join(project, "example"));
  for (const [name, text] of Object.entries(readmeExample())) writeFileSync(join(project, "example", name), text);
  // Not "nginx/": the CLI takes a name that exists in its working folder for a path, and the bundled nginx runs here too.
  cpSync(join(ROOT, "plugins", "nginx", "src"), join(project, "my-nginx"), { recursive: true });
  writeFileSync(
    join(project, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        module: "nodenext",
        moduleResolution: "nodenext",
        strict: true,
        rootDir: ".",
        outDir: "dist",
        skipLibCheck: true,
        types: ["node"],
        typeRoots: [join(ROOT, "node_modules", "@types")],
      },
      include: ["example/**/*.ts", "my-nginx/**/*.ts"],
    }),
  );
  tsc = await run(process.execPath, [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"]);
  if (existsSync(join(project, "dist", "example", "main.js"))) chmodSync(join(project, "dist", "example", "main.js"), 0o755);
  // The nginx plugin's entry has no shebang: like this repository, it gets a two-line executable.
  mkdirSync(join(project, "bin"));
  writeFileSync(join(project, "bin", "tailkit-plugin-nginx"), `#!/usr/bin/env node\nimport "../dist/my-nginx/main.js";\n`);
  chmodSync(join(project, "bin", "tailkit-plugin-nginx"), 0o755);
}, 150_000);

afterAll(() => work?.cleanup());

/** tsc's errors about files below `prefix` of the scratch project. */
function compileErrors(prefix: string): string[] {
  return `${tsc.stdout}${tsc.stderr}`.split("\n").filter((l) => l.startsWith(prefix));
}

/** The installed package's CLI, run in the scratch project. */
function tailkit(args: string[]): Promise<RunResult> {
  return run(join(project, "node_modules", ".bin", "tailkit"), args);
}

/** Threads of a process (Linux /proc), or 0 once it is gone. */
function threadsOf(pid: number): number {
  try {
    return Number(/^Threads:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** Watches a process until stopped: the most threads it had, and whether it ever had a child process. */
function watch(pid: () => number | undefined): { stop(): { maxThreads: number; hadChild: boolean } } {
  let maxThreads = 0;
  let hadChild = false;
  const tick = () => {
    const p = pid();
    if (p === undefined) return;
    maxThreads = Math.max(maxThreads, threadsOf(p));
    if (childOf(p) !== undefined) hadChild = true;
  };
  const timer = setInterval(tick, 20);
  return {
    stop: () => {
      clearInterval(timer);
      tick();
      return { maxThreads, hadChild };
    },
  };
}

/**
 * Runs a plugin executable as a host starts it, for `ms` after its handshake line, then SIGTERM: everything it printed
 * on stdout, how it ended, and what it had meanwhile.
 */
function servePlugin(path: string, workers: number, ms: number): Promise<{ stdout: string[]; code: number | null; maxThreads: number; hadChild: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(path, [], {
      cwd: project,
      env: { ...process.env, [MAGIC_COOKIE_KEY]: MAGIC_COOKIE_VALUE, TAILKIT_EXTRACT_WORKERS: String(workers) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const watcher = watch(() => child.pid);
    let stdout = "";
    let stderr = "";
    let timer: NodeJS.Timeout | undefined;
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      timer ??= setTimeout(() => child.kill("SIGTERM"), ms);
    });
    const limit = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      clearTimeout(limit);
      const seen = watcher.stop();
      if (stdout === "") reject(new Error(`${path} printed no handshake line (exit ${code}); stderr:\n${stderr}`));
      else resolve({ stdout: stdout.split("\n").filter((l) => l.length > 0), code, ...seen });
    });
  });
}

/** Threads the README example's plugin process has of its own: served with no extraction workers. */
function ownThreads(): Promise<number> {
  baseline ??= servePlugin(join(project, "dist", "example", "main.js"), 0, 1500).then((r) => r.maxThreads);
  return baseline;
}

/** `tailkit collect --output json --no-convert` with the plugin process watched while it runs. */
async function collect(plugin: string, table: string, data: string, out: string) {
  const cli = spawn(
    join(project, "node_modules", ".bin", "tailkit"),
    ["collect", plugin, "--table", table, "--path", data, "--out", out, "--no-convert", "--output", "json"],
    {
      cwd: project,
      env: { ...process.env, TAILKIT_EXTRACT_WORKERS: String(WORKERS) },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let pluginPid: number | undefined;
  const watcher = watch(() => (pluginPid ??= cli.pid !== undefined ? childOf(cli.pid) : undefined));
  let stdout = "";
  let stderr = "";
  cli.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  cli.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => cli.on("close", resolve));
  const seen = watcher.stop();
  expect(code, stderr).toBe(0);
  return { summary: JSON.parse(stdout) as { outcome: string; rows: number }, stderr, pluginSeen: pluginPid !== undefined, ...seen };
}

describe("the packed package, installed", () => {
  it("has its CLI, its entry points and its bundled plugins", async () => {
    const imports = ["tailkit", "tailkit/plugin", "tailkit/host", "tailkit/storage", "tailkit/testing"];
    const res = ok(
      await run(process.execPath, [
        "--input-type=module",
        "-e",
        `for (const m of ${JSON.stringify(imports)}) console.log(m, Object.keys(await import(m)).length > 0);`,
      ]),
      "importing the entry points",
    );
    expect(res.stdout.trim().split("\n")).toEqual(imports.map((m) => `${m} true`));
    for (const bundled of ["aws", "core", "nginx"]) {
      const described = ok(await tailkit(["describe", bundled, "--output", "json"]), `tailkit describe ${bundled}`);
      expect(JSON.parse(described.stdout)).toMatchObject({ plugin: { name: bundled } });
    }
  });

  it("builds the README's plugin example as printed, and it serves once: one handshake line, no processes, bounded threads", async () => {
    expect(Object.keys(readmeExample()).sort()).toEqual(["main.ts", "plugin.ts"]);
    expect(compileErrors("example/")).toEqual([]);
    const main = join(project, "dist", "example", "main.js");
    const described = ok(await tailkit(["describe", main, "--output", "json"]), "tailkit describe (the README example)");
    expect(JSON.parse(described.stdout)).toMatchObject({ plugin: { name: "example", version: "0.1.0" }, tables: [{ name: "app_log" }] });

    // Long enough after the handshake for its workers to import the definition's module: a module that served again
    // would have printed more lines, or started more than its workers, by then. A Node process's own threads are those
    // it has with no workers; each worker adds one.
    const [own, served] = await Promise.all([ownThreads(), servePlugin(main, WORKERS, 1500)]);
    expect(served.stdout).toEqual([expect.stringMatching(HANDSHAKE)]);
    expect(served.code).toBe(0);
    expect(served.hadChild).toBe(false);
    expect(own).toBeGreaterThan(0);
    expect(served.maxThreads).toBeLessThanOrEqual(own + WORKERS);
  });

  it("collects the README example's table through the installed CLI, rows as its table maps them", async () => {
    const logs = join(work.dir, "app-logs");
    mkdirSync(logs);
    writeFileSync(join(logs, "app.log"), `${APP_LOG.join("\n")}\n`);
    const out = join(work.dir, "app-out");
    const res = await collect(join(project, "dist", "example", "main.js"), "app_log", logs, out);
    expect(res.summary).toMatchObject({ outcome: "ok", rows: APP_LOG.length });
    const rows = readChunks(out).flatMap((c) => c.rows);
    expect(
      rows.map((r) => ({
        time: r["time"],
        level: r["level"],
        user: r["user"],
        message: r["message"],
        tp_timestamp: r["tp_timestamp"],
        tp_usernames: r["tp_usernames"],
      })),
    ).toEqual(APP_ROWS);
    expect(rows.every((r) => r["tp_table"] === "app_log" && typeof r["tp_id"] === "string")).toBe(true);
    // Lines a plugin prints on stdout after its handshake reach the host's stderr: none looks like another handshake.
    expect(res.stderr.split("\n").filter((l) => HANDSHAKE.test(l.trim()))).toEqual([]);
    expect(res.pluginSeen).toBe(true);
    expect(res.hadChild).toBe(false);
    // Its own threads and the pool's; 2 more for thread-pool threads that an idle plugin may not have started yet.
    expect(res.maxThreads).toBeLessThanOrEqual((await ownThreads()) + WORKERS + 2);
  });

  it("builds a copy of plugins/nginx/src against the package and collects sample/nginx with it", async () => {
    expect(compileErrors("my-nginx/")).toEqual([]);
    const sample = join(ROOT, "sample", "nginx");
    const out = join(work.dir, "nginx-out");
    const res = await collect(join(project, "bin", "tailkit-plugin-nginx"), "nginx_access_log", sample, out);
    // Every access log line, rotated and gzipped ones too, is a row with its address, time and status.
    const COMBINED = /^(\S+) - \S+ \[([^\]]+)\] "(?:[^"\\]|\\.)*" (\d{3}) /;
    const expected = listFiles(sample)
      .filter((f) => f.includes("access.log"))
      .flatMap((f) => {
        const raw = readFileSync(join(sample, f));
        return (f.endsWith(".gz") ? gunzipSync(raw) : raw)
          .toString("utf8")
          .split("\n")
          .filter((l) => l.length > 0);
      })
      .map((l) => {
        const m = COMBINED.exec(l)!;
        return `${m[1]} ${m[2]} ${m[3]}`;
      })
      .sort();
    expect(expected.length).toBeGreaterThan(0);
    expect(res.summary).toMatchObject({ outcome: "ok", rows: expected.length });
    const rows = readChunks(out).flatMap((c) => c.rows);
    expect(rows.map((r) => [r["remote_addr"], r["time_local"], r["status"]].map(String).join(" ")).sort()).toEqual(expected);
    expect(rows.every((r) => r["tp_table"] === "nginx_access_log" && r["tp_source_ip"] === r["remote_addr"])).toBe(true);
    expect(res.hadChild).toBe(false);
  });
});
