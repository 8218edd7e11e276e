import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import type { CollectionEvent, CompleteEvent, ErrorEvent } from "../contract/events.js";
import { Code, TailkitError } from "../errors/index.js";
import type { LaunchOptions, PluginClient } from "../host/index.js";
import { executionChunks } from "../host/chunks-on-disk.js";
import { spawnPlugin } from "../host/spawn.js";
import type { CollectOptions } from "../contract/plugin.js";
import { SDK_VERSION } from "../version.js";
import { formatDescription } from "./describe-text.js";
import { createProgressReporter, describeStatus } from "./progress.js";
import { addQueryCommands, conversionJson, createCollectConversion, reportConversion } from "./query-commands.js";
import { createPluginScaffold } from "./new-plugin.js";
import { resolvePlugin } from "./resolve-plugin.js";
import { tableDefConfig } from "./table-def.js";

/** Exit codes of the tailkit command. */
export const EXIT = { ok: 0, failed: 1, usage: 2, partial: 3, interrupted: 130 } as const;

function parseJsonOption(value: string, option: string): Record<string, unknown> {
  // A TailkitError, not commander's InvalidArgumentError: the message is printed as it is, without the option's
  // usage line and help around it.
  const field = option.replace(/^--/, "");
  let text = value;
  if (value.startsWith("@")) {
    try {
      text = readFileSync(value.slice(1), "utf8");
    } catch (err) {
      throw new TailkitError(Code.InvalidArgument, `${option}: cannot read ${value.slice(1)}: ${(err as Error).message}`, { field });
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new TailkitError(
      Code.InvalidArgument,
      `${option}: malformed JSON${value.startsWith("@") ? ` in ${value.slice(1)}` : ""}: ${(err as Error).message}`,
      { field },
    );
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new TailkitError(Code.InvalidArgument, `${option}: must be a JSON object`, { field });
  }
  return parsed as Record<string, unknown>;
}

function parseTime(value: string, option: string): Date {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new InvalidArgumentError(`${option}: not a date or ISO-8601 time: ${JSON.stringify(value)}`);
  return d;
}

function parseSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`must be a positive number of seconds, got ${JSON.stringify(value)}`);
  return n;
}

/** The option every command has: how long the plugin gets to start. */
function handshakeTimeoutOption(): Option {
  return new Option("--handshake-timeout <seconds>", "how long the plugin has to start and print its handshake line (default 60)").argParser(parseSeconds);
}

function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`must be a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

/** Flags about starting the plugin, of every command. */
interface PluginFlags {
  verbose?: boolean;
  /** Seconds. */
  handshakeTimeout?: number;
}

interface CollectFlags extends PluginFlags {
  table: string;
  source: string;
  path?: string[];
  fileLayout?: string;
  config?: Record<string, unknown>;
  tableConfig?: Record<string, unknown>;
  /** A table definition, `@file` or inline YAML/JSON: the core plugin's custom tables. */
  tableDef?: string;
  from?: Date;
  to?: Date;
  partition?: string;
  out: string;
  rowsPerChunk?: number;
  executionId?: string;
  output: "text" | "json";
  state?: string;
  recollect?: boolean;
  /** False with --no-convert: the chunks stay as they are. */
  convert: boolean;
}

async function withPlugin<T>(plugin: string, flags: PluginFlags, fn: (client: PluginClient) => Promise<T>): Promise<T> {
  const command = resolvePlugin(plugin);
  const options: LaunchOptions = {
    ...(flags.verbose ? { onStderr: (l: string) => process.stderr.write(`[plugin] ${l}\n`) } : {}),
    ...(flags.handshakeTimeout !== undefined ? { handshakeTimeoutMs: flags.handshakeTimeout * 1000 } : {}),
  };
  // The plugin starts first; gRPC and the protocol load here while it does.
  const spawned = spawnPlugin(command, options);
  const { connectPlugin } = await import("../host/plugin-client.js");
  const client = await connectPlugin(spawned, options);
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

async function runDescribe(plugin: string, flags: PluginFlags & { output: "text" | "json" }): Promise<number> {
  const d = await withPlugin(plugin, flags, (c) => c.describe());
  if (flags.output === "json") {
    process.stdout.write(`${JSON.stringify(d, null, 2)}\n`);
    return EXIT.ok;
  }
  process.stdout.write(formatDescription(d));
  return EXIT.ok;
}

async function runCollect(plugin: string, flags: CollectFlags): Promise<number> {
  const sourceConfig: Record<string, unknown> = { ...flags.config };
  // A shortcut and the same field in --config would leave one of them silently unused.
  if (flags.path?.length) {
    if (sourceConfig["paths"] !== undefined) throw conflict("--path", "paths");
    sourceConfig["paths"] = flags.path.map((p) => resolve(p));
  }
  if (flags.fileLayout) {
    if (sourceConfig["file_layout"] !== undefined) throw conflict("--file-layout", "file_layout");
    sourceConfig["file_layout"] = flags.fileLayout;
  }
  const outputDir = resolve(flags.out);
  const tableConfig = flags.tableDef !== undefined ? await tableDefConfig(flags.tableDef, flags.tableConfig) : flags.tableConfig;
  const req: CollectOptions = {
    table: flags.table,
    source: { type: flags.source, config: sourceConfig },
    outputDir,
    ...(tableConfig ? { tableConfig } : {}),
    ...(flags.partition ? { partition: flags.partition } : {}),
    ...(flags.from ? { from: flags.from } : {}),
    ...(flags.to ? { to: flags.to } : {}),
    ...(flags.rowsPerChunk ? { rowsPerChunk: flags.rowsPerChunk } : {}),
    ...(flags.executionId ? { executionId: flags.executionId } : {}),
    ...(flags.state ? { state: flags.state } : {}),
    ...(flags.recollect ? { recollect: true } : {}),
  };
  const json = flags.output === "json";
  const progress = json ? undefined : createProgressReporter(process.stderr);
  const errors: ErrorEvent[] = [];
  const chunks: string[] = [];
  let interrupted = false;
  const conversion = flags.convert ? createCollectConversion(outputDir, { quiet: json }) : undefined;

  // SIGTERM (a service manager, kill) is an interruption like Ctrl-C: the plugin is asked to stop, keeps the chunks it
  // finished, removes its temp files, and the run ends with exit 130. A second signal does not wait any more. A push
  // source (a webhook) runs until this stop: its collection then completes without error, and the run ends as it does.
  let client: PluginClient | undefined;
  let signals = 0;
  const onSignal = () => {
    interrupted = true;
    signals++;
    progress?.interrupt();
    if (signals > 1) client?.kill();
    else void client?.close();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  let complete: CompleteEvent;
  try {
    complete = await withPlugin(plugin, flags, async (c) => {
      client = c;
      let executionId: string | undefined;
      const early: CollectionEvent[] = [];
      const onEvent = (e: CollectionEvent) => {
        if (e.type === "error") {
          if (errors.length < 1000) errors.push(e);
          // Once interrupted, errors are the cancellation's own ("discovery was canceled"): the summary says it.
          if (!json && !interrupted) progress?.message(`error: ${e.message}`);
        } else if (e.type === "chunk_written") {
          chunks.push(e.path);
          conversion?.chunk(e.path);
        }
        progress?.update(e);
      };
      const sub = c.events.subscribe((e) => {
        if (executionId === undefined) early.push(e);
        else if (e.executionId === executionId) onEvent(e);
      });
      const converterReady = conversion?.start(c);
      try {
        if (interrupted) throw new TailkitError(Code.Canceled, "interrupted before the collection started");
        const started = await c.startCollection(req);
        executionId = started.executionId;
        conversion?.collected(req.table, started.rowSchema);
        for (const e of early) if (e.executionId === executionId) onEvent(e);
        // A signal that came while Collect was on its way found nothing to stop yet.
        if (interrupted) void c.close();
        const done = await c.waitForComplete(executionId);
        await converterReady;
        return done;
      } finally {
        sub.unsubscribe();
      }
    });
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    progress?.stop();
  }
  const converted = conversion ? await conversion.finish(complete) : undefined;
  // Stopped, not cancelled: a collection that completed without error after the signal (a push source drained) is done.
  if (interrupted && complete.error === undefined) interrupted = false;
  const code = report(complete, { json, errors, chunks, outputDir, interrupted, ...(converted ? { extra: conversionJson(converted) } : {}) });
  return converted ? reportConversion(converted, code, json) : code;
}

function conflict(flag: string, field: string): TailkitError {
  return new TailkitError(Code.InvalidArgument, `source.config.${field}: ${flag} and "${field}" in --config both give it; use one of them`, {
    field: `source.config.${field}`,
  });
}

function report(
  c: CompleteEvent,
  ctx: { json: boolean; errors: ErrorEvent[]; chunks: string[]; outputDir: string; interrupted: boolean; extra?: Record<string, unknown> },
): number {
  const s = c.status;
  const rowErrors = Object.values(s.rowErrors).reduce((a, b) => a + b, 0);
  const outcome = ctx.interrupted ? "interrupted" : c.error ? "failed" : s.artifactsFailed > 0 || rowErrors > 0 ? "partial" : "ok";
  const code = ctx.interrupted ? EXIT.interrupted : outcome === "failed" ? EXIT.failed : outcome === "partial" ? EXIT.partial : EXIT.ok;
  if (ctx.json) {
    const summary = {
      executionId: c.executionId,
      outcome,
      error: c.error ?? null,
      rows: c.rows,
      chunks: c.chunks,
      outputDir: ctx.outputDir,
      // A plugin that died may have made chunks visible that it never announced: they are on disk all the same.
      files: c.error || ctx.interrupted ? [...new Set([...ctx.chunks, ...executionChunks(ctx.outputDir, c.executionId).map((f) => f.path)])] : ctx.chunks,
      status: s,
      errors: ctx.errors.map((e) => ({ message: e.message, artifact: e.artifact ?? null, operation: e.operation ?? null, rowIndex: e.rowIndex ?? null })),
      ...ctx.extra,
    };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return code;
  }
  if (ctx.interrupted) {
    process.stderr.write(
      `interrupted: execution ${c.executionId} stopped; ${c.rows.toLocaleString("en-US")} rows in ${c.chunks} whole chunk files kept in ${ctx.outputDir} (run again to resume)\n`,
    );
    return code;
  }
  if (c.error) {
    process.stderr.write(`\ncollection ${c.executionId} failed: ${c.error}\n`);
    process.stderr.write(`so far: ${describeStatus(s)}\n`);
    return code;
  }
  // The source said why it found nothing (no file matched the layout): that, rather than "Collected 0 rows".
  const why = s.artifactsDiscovered === 0 && s.artifactsFailed === 0 ? ctx.errors.find((e) => e.operation === "discover" && !e.artifact) : undefined;
  const headline = why
    ? `Collected nothing: ${why.message}`
    : `${outcome === "ok" ? "Collected" : "Collected with errors:"} ${c.rows.toLocaleString("en-US")} rows into ${c.chunks} chunk files in ${ctx.outputDir}`;
  process.stdout.write(`\n${headline}\n  execution ${c.executionId}: ${describeStatus(s)}, ${(s.elapsedMs / 1000).toFixed(1)} s\n`);
  return code;
}

/** Builds the tailkit command; `run` returns the exit code instead of exiting, for tests. */
export function createCli(): Command {
  const program = new Command("tailkit")
    .description("Run tailkit log-collection plugins")
    .version(SDK_VERSION)
    // The whole help after every mistake buries the message that says what the mistake was.
    .showHelpAfterError("(tailkit <command> --help lists the options)")
    .exitOverride();
  program
    .command("describe")
    .description("list a plugin's tables, sources and config schemas")
    .argument("<plugin>", "plugin name (bundled or tailkit-plugin-<name> on PATH), path to a plugin executable, or a plugin's folder")
    .addOption(new Option("--output <format>", "text or json").choices(["text", "json"]).default("text"))
    .addOption(handshakeTimeoutOption())
    .action(async (plugin: string, flags: PluginFlags & { output: "text" | "json" }) => {
      process.exitCode = await runDescribe(plugin, flags);
    });
  program
    .command("collect")
    .description("collect one table of a plugin into JSONL chunk files")
    .argument("<plugin>", "plugin name (bundled or tailkit-plugin-<name> on PATH), path to a plugin executable, or a plugin's folder")
    .requiredOption("--table <name>", "table to collect")
    .option("--source <type>", "source type", "file")
    .option("--path <path...>", "file source: folders (or files) to read")
    .option("--file-layout <pattern>", "file source: layout pattern with {name} captures, relative to each path")
    .option("--config <json|@file>", "the source's full config as JSON, checked against its schema", (v) => parseJsonOption(v, "--config"))
    .option("--table-config <json|@file>", "the table's config as JSON", (v) => parseJsonOption(v, "--table-config"))
    .option("--table-def <@file|yaml>", "a custom table's definition, YAML or JSON (format, columns; see docs/FORMATS.md), for the core plugin")
    .option("--from <time>", "collect only data at or after this time (ISO-8601)", (v) => parseTime(v, "--from"))
    .option("--to <time>", "collect only data before this time (ISO-8601)", (v) => parseTime(v, "--to"))
    .option("--partition <name>", "partition name", "default")
    .requiredOption("--out <dir>", "folder for the chunk files")
    .option("--rows-per-chunk <n>", "rows per chunk file (default 10000)", parsePositiveInt)
    .option("--execution-id <id>", "execution id (default: a new one)")
    .option(
      "--state <location>",
      "collection state: an SQLite file path, or redis://host:port/prefix or postgres://host:port/database to share it (default: <out>/.tailkit/state.sqlite)",
    )
    .option("--recollect", "collect every artifact again, even those already collected")
    .option("--no-convert", "keep the JSONL chunk files; by default they are converted into Parquet under --out and deleted")
    .addOption(new Option("--output <format>", "text (progress on stderr) or json (one summary object on stdout)").choices(["text", "json"]).default("text"))
    .option("--verbose", "show the plugin's own log lines")
    .addOption(handshakeTimeoutOption())
    .action(async (plugin: string, flags: CollectFlags) => {
      process.exitCode = await runCollect(plugin, flags);
    });
  addQueryCommands(program);
  program
    .command("new")
    .description("start something new from a template")
    .command("plugin")
    .description("write a working plugin into ./<name>: one table, a fixture, a test running the conformance kit, a README")
    .argument("<name>", "the plugin's name: lowercase letters and digits joined by hyphens (the folder, and tailkit-plugin-<name>)")
    .action((name: string) => {
      const made = createPluginScaffold(name, process.cwd());
      process.stdout.write(
        `Created ${made.dir}: plugin ${name} with table ${made.table}.\nNext:\n  cd ${name} && npm install && npm test\n` +
          `  npx tailkit collect . --table ${made.table} --path fixtures --out out/\n`,
      );
    });
  return program;
}

/** Whether the command line asks for `--output json`: usage errors are then a JSON object on stdout too. */
function wantsJson(argv: readonly string[]): boolean {
  return argv.some((a, i) => a === "--output=json" || (a === "--output" && argv[i + 1] === "json"));
}

/** Exit code of an error that ended the command before any summary. */
function exitCodeOf(te: TailkitError): number {
  if (te.code === Code.Canceled) return EXIT.interrupted;
  return te.code === Code.InvalidArgument || te.code === Code.NotFound || te.code === Code.PermissionDenied || te.code === Code.AlreadyExists
    ? EXIT.usage
    : EXIT.failed;
}

/** Entry point of bin/tailkit.js. */
export async function main(argv: string[]): Promise<void> {
  const json = wantsJson(argv);
  const fail = (message: string, code: number, field?: string) => {
    if (json) {
      const outcome = code === EXIT.usage ? "usage" : code === EXIT.interrupted ? "interrupted" : "failed";
      process.stdout.write(`${JSON.stringify({ outcome, error: message, field: field ?? null, exitCode: code })}\n`);
    }
    process.exitCode = code;
  };
  try {
    await createCli().parseAsync(argv);
  } catch (err) {
    const e = err as { code?: unknown; exitCode?: number; message?: string };
    if (typeof e.code === "string" && e.code.startsWith("commander.")) {
      // commander already printed its message (help, version, or a usage error) on stderr.
      if (e.code === "commander.helpDisplayed" || e.code === "commander.version") process.exitCode = EXIT.ok;
      else fail(String(e.message ?? "").replace(/^error: /, ""), EXIT.usage);
      return;
    }
    const te = TailkitError.from(err);
    process.stderr.write(`error: ${te.message}\n`);
    fail(te.message, exitCodeOf(te), te.details.field);
  }
}
