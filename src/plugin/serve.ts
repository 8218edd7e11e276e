import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { format } from "node:util";
import { isMainThread } from "node:worker_threads";
import * as grpc from "@grpc/grpc-js";
import { checkPluginModule, prewarmExtractor } from "../collection/extract.js";
import { moduleRefusal } from "../collection/worker-pool.js";
import { createPluginServer } from "./grpc-server.js";
import { EXTRACTION_WORKER_GLOBAL, formatHandshake, HOST_PID_KEY, MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE, type ExtractionWorkerHook } from "./handshake.js";
import { PluginRuntime, type RuntimeOptions } from "./runtime.js";
import type { PluginDefinition } from "../contract/plugin.js";
import { Code, TailkitError } from "../errors/index.js";
import type { DataSourcesConfig } from "../datasources/setup.js";

/** Options of serve(); defaults in each field's comment. */
export interface ServeOptions extends RuntimeOptions {
  /** How often to check that the host is still alive, in ms. Default 1,000. */
  parentCheckIntervalMs?: number;
  /** How long running executions get to finish cancelling at shutdown, in ms. Default 5,000. */
  shutdownGraceMs?: number;
}

/** Environment variable holding the data-source part of the plugin's config, as JSON (DataSourcesConfig). */
export const DATA_SOURCES_ENV = "TAILKIT_DATA_SOURCES";

/** DataSourcesConfig from TAILKIT_DATA_SOURCES; INVALID_ARGUMENT when it is not JSON. */
function dataSourcesFromEnv(): DataSourcesConfig | undefined {
  const text = process.env[DATA_SOURCES_ENV];
  if (text === undefined || text === "") return undefined;
  try {
    return JSON.parse(text) as DataSourcesConfig;
  } catch (err) {
    throw new TailkitError(Code.InvalidArgument, `${DATA_SOURCES_ENV}: malformed JSON: ${(err as Error).message}`, { field: "data_sources" });
  }
}

function parentPid(): number {
  // process.ppid is read once at startup in Node 20; /proc tells the current parent, which becomes 1 (or a
  // subreaper) when the host dies.
  try {
    const stat = readFileSync("/proc/self/stat", "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[1]);
  } catch {
    return process.ppid;
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, as someone else's.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The stack frame that called serve(), as "file:line:column" or "function (file:line:column)". */
function callerOfServe(): string | undefined {
  const holder: { stack?: string } = {};
  Error.captureStackTrace(holder, serve);
  return holder.stack?.split("\n")[1]?.trim().replace(/^at /, "");
}

/**
 * Why the definition's module cannot be the one extraction workers load, or undefined when it can or when no worker will
 * import it (extraction inline). One warm worker imports it and answers: the handshake waits for that import, which
 * the first collection would wait for anyway, and the worker stays for that collection.
 */
async function refuseModule(plugin: PluginDefinition): Promise<string | undefined> {
  let check;
  try {
    check = checkPluginModule({ pluginModule: plugin.module, pluginName: plugin.name });
  } catch (err) {
    // Bad worker settings in the environment: the collection that uses them reports them, by field.
    process.stderr.write(`${plugin.name}: the plugin module was not checked: ${err instanceof Error ? err.message : String(err)}\n`);
    return undefined;
  }
  if (check === undefined) return undefined;
  return moduleRefusal(
    await check,
    plugin.module!,
    plugin.name,
    plugin.tables.map((t) => t.name),
  );
}

/**
 * Runs a plugin as an executable: checks the host's magic cookie, serves gRPC on a private unix socket, prints the
 * handshake line on stdout, and exits on Shutdown, on SIGTERM/SIGINT, or when the host process dies.
 * Never returns while the plugin runs.
 *
 * With `plugin.module` set, that module is imported in a worker thread before the handshake: it must export this
 * definition (by name) and must not call serve() when imported, or the plugin exits with code 1 saying why, on stderr.
 * Called off the main thread, serve() returns at once and does nothing (in an extraction worker it tells the worker,
 * which is how a module that serves when imported is found).
 */
export async function serve(plugin: PluginDefinition, options: ServeOptions = {}): Promise<void> {
  if (!isMainThread) {
    const hook = (globalThis as Record<symbol, unknown>)[Symbol.for(EXTRACTION_WORKER_GLOBAL)] as ExtractionWorkerHook | undefined;
    hook?.serveCalled(plugin.name, callerOfServe());
    return;
  }
  if (process.env[MAGIC_COOKIE_KEY] !== MAGIC_COOKIE_VALUE) {
    process.stderr.write(
      `${plugin.name}: this is a tailkit plugin; it is started by a tailkit host, not run directly.\n` +
        `Try: tailkit describe <path to this plugin>   (the host sets ${MAGIC_COOKIE_KEY})\n`,
    );
    process.exit(1);
  }
  // stdout carries the handshake only; anything a plugin author logs goes to stderr.
  const toStderr = (...args: unknown[]) => void process.stderr.write(`${format(...args)}\n`);
  console.log = toStderr;
  console.info = toStderr;
  console.debug = toStderr;

  // A host that died closed the pipes: writing to them must not crash the plugin before it has cleaned up.
  process.stdout.on("error", () => undefined);
  process.stderr.on("error", () => undefined);

  // The worker imports the module while this thread binds the socket.
  const refusal = plugin.module !== undefined ? refuseModule(plugin) : Promise.resolve(undefined);

  const dir = mkdtempSync(join(tmpdir(), "tailkit-plugin-"));
  chmodSync(dir, 0o700);
  const socket = join(dir, "plugin.sock");
  // Executions' temp folders live in the private folder too, so whoever removes it (this process on exit, or the host
  // once it saw this process killed) removes them with it.
  let runtime: PluginRuntime;
  try {
    const dataSources = options.dataSources ?? dataSourcesFromEnv();
    runtime = new PluginRuntime(plugin, { ...options, tempRoot: options.tempRoot ?? dir, ...(dataSources ? { dataSources } : {}) });
    // The modules' data sources are known before the host can Collect (which checks tables against them).
    await runtime.loadDataSources();
  } catch (err) {
    process.stderr.write(`${plugin.name}: ${err instanceof Error ? err.message : String(err)}\n`);
    rmSync(dir, { recursive: true, force: true });
    process.exit(1);
  }

  let stopping = false;
  const stop = (reason: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`${plugin.name}: shutting down (${reason})\n`);
    const force = setTimeout(() => {
      server.forceShutdown();
      cleanup();
      process.exit(code);
    }, options.shutdownGraceMs ?? 5000);
    force.unref();
    void runtime.shutdown().finally(() => {
      server.tryShutdown(() => {
        cleanup();
        process.exit(code);
      });
    });
  };
  const cleanup = () => {
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  };

  const server = createPluginServer(runtime, () => stop("shutdown requested by host"));
  await new Promise<void>((resolve, reject) => {
    server.bindAsync(`unix://${socket}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve()));
  });
  chmodSync(socket, 0o600);

  const refused = await refusal;
  if (refused !== undefined) {
    // Before the handshake: the host reports that the plugin failed to start, with this stderr.
    process.stderr.write(`${refused}\n`);
    server.forceShutdown();
    cleanup();
    process.exit(1);
  }

  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  // A closed terminal: without a handler the plugin would die without removing its folder.
  process.on("SIGHUP", () => stop("SIGHUP"));
  process.on("exit", cleanup);
  // The parent changes when the host dies. A plugin slow to start may find its host gone already, its parent init from
  // the start: a tailkit host gives its pid, and a host process that no longer exists is gone too.
  const parent = parentPid();
  const host = Number(process.env[HOST_PID_KEY]) || undefined;
  const checkHost = () => {
    if (parentPid() !== parent || (host !== undefined && !processExists(host))) stop("host process exited", 1);
  };
  const watch = setInterval(checkHost, options.parentCheckIntervalMs ?? 1000);
  watch.unref();
  checkHost();

  process.stdout.write(`${formatHandshake("unix", socket)}\n`);
  // A host launches a plugin to collect: the rest of its extraction workers load the plugin while the host connects.
  // Not before the handshake: on a busy machine they would only slow the one whose answer the handshake waits for.
  if (plugin.module !== undefined && process.env["TAILKIT_PREWARM_WORKERS"] !== "0") {
    try {
      prewarmExtractor({ pluginModule: plugin.module, pluginName: plugin.name });
    } catch (err) {
      process.stderr.write(`${plugin.name}: extraction workers not started ahead: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  }
  // Schemas and the SQLite driver load while the host connects, not when its Collect comes; the steps left when it
  // comes would only take CPU from the collection.
  const steps = runtime.warmSteps();
  const next = () => {
    const step = steps.shift();
    if (step === undefined || runtime.collecting) return;
    try {
      step();
      setImmediate(next);
    } catch (err) {
      process.stderr.write(`${plugin.name}: could not prepare ahead (the first collection will): ${err instanceof Error ? err.message : String(err)}\n`);
    }
  };
  setImmediate(next);
}
