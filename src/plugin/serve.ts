import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { format } from "node:util";
import * as grpc from "@grpc/grpc-js";
import { prewarmExtractor } from "../collection/extract.js";
import { createPluginServer } from "./grpc-server.js";
import { formatHandshake, HOST_PID_KEY, MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE } from "./handshake.js";
import { PluginRuntime, type RuntimeOptions } from "./runtime.js";
import type { PluginDefinition } from "../contract/plugin.js";

/** Options of serve(); defaults in each field's comment. */
export interface ServeOptions extends RuntimeOptions {
  /** How often to check that the host is still alive, in ms. Default 1,000. */
  parentCheckIntervalMs?: number;
  /** How long running executions get to finish cancelling at shutdown, in ms. Default 5,000. */
  shutdownGraceMs?: number;
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

/**
 * Runs a plugin as an executable: checks the host's magic cookie, serves gRPC on a private unix socket, prints the
 * handshake line on stdout, and exits on Shutdown, on SIGTERM/SIGINT, or when the host process dies.
 * Never returns while the plugin runs.
 */
export async function serve(plugin: PluginDefinition, options: ServeOptions = {}): Promise<void> {
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

  const dir = mkdtempSync(join(tmpdir(), "tailkit-plugin-"));
  chmodSync(dir, 0o700);
  const socket = join(dir, "plugin.sock");
  // Executions' temp folders live in the private folder too, so whoever removes it (this process on exit, or the host
  // once it saw this process killed) removes them with it.
  const runtime = new PluginRuntime(plugin, { ...options, tempRoot: options.tempRoot ?? dir });

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
  // A host launches a plugin to collect: its extraction workers load the plugin while the host connects.
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
