import { spawn, type ChildProcess } from "node:child_process";
import { Code, TailkitError } from "../errors/index.js";
import { HOST_PID_KEY, MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE } from "../plugin/handshake.js";

// Starting a plugin process and reading its handshake line: nothing here loads gRPC, so a host can spawn the plugin
// first and load the rest while the plugin starts.

/** Options of launchPlugin; defaults in each field's comment. */
export interface LaunchOptions {
  args?: string[];
  /** Extra environment for the plugin, over this process's. */
  env?: NodeJS.ProcessEnv;
  /** How long the plugin has to print its handshake line, in ms. Default 60,000 (go-plugin's minute). */
  handshakeTimeoutMs?: number;
  /** How long Shutdown waits for the plugin to exit before SIGKILL, in ms. Default 5,000. */
  shutdownGraceMs?: number;
  /** Receives each line the plugin writes to stderr. Default: kept only for error messages. */
  onStderr?: (line: string) => void;
  /** Lines of stderr kept for error messages. Default 20. */
  stderrLines?: number;
}

/** How a plugin process ended. */
export interface PluginExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A plugin process that has been started, and its handshake line to come. */
export interface SpawnedPlugin {
  command: string;
  child: ChildProcess;
  /** The handshake line; rejects (and kills the process) when it does not come, or the process dies first. */
  handshake: Promise<string>;
  /** The last lines of stderr, for error messages. */
  tail: string[];
  exited: Promise<PluginExit>;
  /** "; stderr:\n…" with the kept lines, or "". */
  stderrText: () => string;
}

/** Starts a plugin executable with the magic cookie and begins reading its handshake line. */
export function spawnPlugin(command: string, options: LaunchOptions = {}): SpawnedPlugin {
  const child = spawn(command, options.args ?? [], {
    env: { ...process.env, ...options.env, [MAGIC_COOKIE_KEY]: MAGIC_COOKIE_VALUE, PLUGIN_PROTOCOL_VERSIONS: "1", [HOST_PID_KEY]: String(process.pid) },
    stdio: ["pipe", "pipe", "pipe"],
  });
  const timeoutMs = options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
  const tail: string[] = [];
  const keep = options.stderrLines ?? 20;
  let partial = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => {
    const lines = (partial + chunk).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) {
      tail.push(line);
      if (tail.length > keep) tail.shift();
      options.onStderr?.(line);
    }
  });
  const exited = new Promise<PluginExit>((resolve) => {
    child.once("exit", (code, signal) => {
      if (partial) {
        tail.push(partial);
        options.onStderr?.(partial);
      }
      resolve({ code, signal });
    });
  });
  const spawnError = new Promise<never>((_, reject) =>
    child.once("error", (err) => reject(new TailkitError(Code.FailedPrecondition, `cannot start plugin ${command}: ${err.message}`))),
  );
  spawnError.catch(() => undefined);
  const stderrText = () => (tail.length ? `; stderr:\n${tail.join("\n")}` : "");

  const handshake = Promise.race([
    new Promise<string>((resolve) => {
      let buf = "";
      const onData = (chunk: Buffer) => {
        buf += chunk.toString("utf8");
        const nl = buf.indexOf("\n");
        if (nl >= 0) {
          child.stdout.off("data", onData);
          resolve(buf.slice(0, nl));
        }
      };
      child.stdout.on("data", onData);
    }),
    exited.then((info) => {
      throw new TailkitError(Code.FailedPrecondition, `plugin ${command} exited ${describeExit(info)} before its handshake${stderrText()}`);
    }),
    spawnError,
    new Promise<never>((_, reject) =>
      setTimeout(
        () =>
          reject(
            new TailkitError(
              Code.DeadlineExceeded,
              `plugin ${command} printed no handshake line within ${formatSeconds(timeoutMs)} and was stopped${stderrText() || "; it wrote nothing to stderr"}`,
            ),
          ),
        timeoutMs,
      ).unref(),
    ),
  ]).catch((err: unknown) => {
    abandonPlugin(child);
    throw err;
  });
  // Plugins may log to stdout after the handshake (go-plugin forwards it); treat it like stderr.
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => options.onStderr?.(chunk.trimEnd()));
  handshake.catch(() => undefined);
  return { command, child, handshake, tail, exited, stderrText };
}

/** How long a plugin has to print its handshake line by default, in ms: go-plugin's minute. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 60_000;

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}

/**
 * Kills a plugin that will not be used and lets go of its pipes: a wrapper script's children may hold them open
 * after the plugin itself is dead, and the host would wait on them forever.
 */
export function abandonPlugin(child: ChildProcess): void {
  child.kill("SIGKILL");
  child.stdin?.destroy();
  child.stdout?.destroy();
  child.stderr?.destroy();
}

/** "with code 1", "on signal SIGKILL". */
export function describeExit(info: PluginExit): string {
  return info.signal ? `on signal ${info.signal}` : `with code ${info.code}`;
}
