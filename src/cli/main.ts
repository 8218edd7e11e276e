import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import type { CollectionEvent, CompleteEvent, ErrorEvent } from "../collection/events.js";
import { Code, TailkitError } from "../errors/index.js";
import type { PluginClient } from "../host/index.js";
import { spawnPlugin } from "../host/spawn.js";
import type { CollectOptions } from "../plugin/types.js";
import { SDK_VERSION } from "../version.js";
import { createProgressReporter, describeStatus } from "./progress.js";
import { addQueryCommands, conversionJson, createCollectConversion, reportConversion } from "./query-commands.js";
import { resolvePlugin } from "./resolve-plugin.js";

/** Exit codes of the tailkit command. */
export const EXIT = { ok: 0, failed: 1, usage: 2, partial: 3, interrupted: 130 } as const;

function parseJsonOption(value: string, option: string): Record<string, unknown> {
  let text = value;
  if (value.startsWith("@")) {
    try {
      text = readFileSync(value.slice(1), "utf8");
    } catch (err) {
      throw new InvalidArgumentError(`${option}: cannot read ${value.slice(1)}: ${(err as Error).message}`);
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new InvalidArgumentError(`${option}: malformed JSON: ${(err as Error).message}`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new InvalidArgumentError(`${option}: must be a JSON object`);
  return parsed as Record<string, unknown>;
}

function parseTime(value: string, option: string): Date {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new InvalidArgumentError(`${option}: not a date or ISO-8601 time: ${JSON.stringify(value)}`);
  return d;
}

function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`must be a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

interface CollectFlags {
  table: string;
  source: string;
  path?: string[];
  fileLayout?: string;
  config?: Record<string, unknown>;
  tableConfig?: Record<string, unknown>;
  from?: Date;
  to?: Date;
  partition?: string;
  out: string;
  rowsPerChunk?: number;
  executionId?: string;
  output: "text" | "json";
  verbose?: boolean;
  state?: string;
  recollect?: boolean;
  /** False with --no-convert: the chunks stay as they are. */
  convert: boolean;
}

async function withPlugin<T>(plugin: string, verbose: boolean, fn: (client: PluginClient) => Promise<T>): Promise<T> {
  const command = resolvePlugin(plugin);
  const options = verbose ? { onStderr: (l: string) => process.stderr.write(`[plugin] ${l}\n`) } : {};
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

async function runDescribe(plugin: string, flags: { output: "text" | "json" }): Promise<number> {
  const d = await withPlugin(plugin, false, (c) => c.describe());
  if (flags.output === "json") {
    process.stdout.write(`${JSON.stringify(d, null, 2)}\n`);
    return EXIT.ok;
  }
  const lines = [`${d.plugin.name} ${d.plugin.version} (tailkit SDK ${d.plugin.sdkVersion})`, "", "Tables:"];
  for (const t of d.tables) {
    lines.push(`  ${t.name}  [sources: ${t.sourceTypes.join(", ")}]`, `    ${t.description}`);
    for (const [src, defaults] of Object.entries(t.sourceDefaults)) {
      for (const [k, v] of Object.entries(defaults)) lines.push(`    ${src}.${k} default: ${JSON.stringify(v)}`);
    }
  }
  lines.push("", "Sources:");
  for (const s of d.sources) lines.push(`  ${s.type}: ${s.description}`);
  process.stdout.write(`${lines.join("\n")}\n`);
  return EXIT.ok;
}

async function runCollect(plugin: string, flags: CollectFlags): Promise<number> {
  const sourceConfig: Record<string, unknown> = { ...flags.config };
  if (flags.path?.length) sourceConfig["paths"] = flags.path.map((p) => resolve(p));
  if (flags.fileLayout) sourceConfig["file_layout"] = flags.fileLayout;
  const outputDir = resolve(flags.out);
  const req: CollectOptions = {
    table: flags.table,
    source: { type: flags.source, config: sourceConfig },
    outputDir,
    ...(flags.tableConfig ? { tableConfig: flags.tableConfig } : {}),
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

  const complete = await withPlugin(plugin, flags.verbose ?? false, async (client) => {
    let executionId: string | undefined;
    const early: CollectionEvent[] = [];
    const onEvent = (e: CollectionEvent) => {
      if (e.type === "error") {
        if (errors.length < 1000) errors.push(e);
        if (!json) process.stderr.write(`\nerror: ${e.message}\n`);
      } else if (e.type === "chunk_written") {
        chunks.push(e.path);
        conversion?.chunk(e.path);
      }
      progress?.update(e);
    };
    const sub = client.events.subscribe((e) => {
      if (executionId === undefined) early.push(e);
      else if (e.executionId === executionId) onEvent(e);
    });
    const onSigint = () => {
      interrupted = true;
      void client.close();
    };
    process.once("SIGINT", onSigint);
    const converterReady = conversion?.start(client);
    try {
      executionId = await client.collect(req);
      for (const e of early) if (e.executionId === executionId) onEvent(e);
      const done = await client.waitForComplete(executionId);
      await converterReady;
      return done;
    } finally {
      process.off("SIGINT", onSigint);
      sub.unsubscribe();
    }
  });
  progress?.stop();
  const converted = conversion ? await conversion.finish(complete) : undefined;
  const code = report(complete, { json, errors, chunks, outputDir, interrupted, ...(converted ? { extra: conversionJson(converted) } : {}) });
  return converted ? reportConversion(converted, code, json) : code;
}

function report(
  c: CompleteEvent,
  ctx: { json: boolean; errors: ErrorEvent[]; chunks: string[]; outputDir: string; interrupted: boolean; extra?: Record<string, unknown> },
): number {
  const s = c.status;
  const rowErrors = Object.values(s.rowErrors).reduce((a, b) => a + b, 0);
  const outcome = c.error ? "failed" : s.artifactsFailed > 0 || rowErrors > 0 ? "partial" : "ok";
  const code = ctx.interrupted ? EXIT.interrupted : outcome === "failed" ? EXIT.failed : outcome === "partial" ? EXIT.partial : EXIT.ok;
  if (ctx.json) {
    const summary = {
      executionId: c.executionId,
      outcome,
      error: c.error ?? null,
      rows: c.rows,
      chunks: c.chunks,
      outputDir: ctx.outputDir,
      files: ctx.chunks,
      status: s,
      errors: ctx.errors.map((e) => ({ message: e.message, artifact: e.artifact ?? null, operation: e.operation ?? null, rowIndex: e.rowIndex ?? null })),
      ...ctx.extra,
    };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return code;
  }
  if (c.error) {
    process.stderr.write(`\ncollection ${c.executionId} failed: ${c.error}\n`);
    process.stderr.write(`so far: ${describeStatus(s)}\n`);
    return code;
  }
  process.stdout.write(
    `\n${outcome === "ok" ? "Collected" : "Collected with errors:"} ${c.rows.toLocaleString("en-US")} rows into ${c.chunks} chunk files in ${ctx.outputDir}\n` +
      `  execution ${c.executionId}: ${describeStatus(s)}, ${(s.elapsedMs / 1000).toFixed(1)} s\n`,
  );
  return code;
}

/** Builds the tailkit command; `run` returns the exit code instead of exiting, for tests. */
export function createCli(): Command {
  const program = new Command("tailkit")
    .description("Run tailkit log-collection plugins")
    .version(SDK_VERSION)
    .showHelpAfterError()
    .exitOverride();
  program
    .command("describe")
    .description("list a plugin's tables, sources and config schemas")
    .argument("<plugin>", "plugin name (bundled or tailkit-plugin-<name> on PATH) or path to a plugin executable")
    .addOption(new Option("--output <format>", "text or json").choices(["text", "json"]).default("text"))
    .action(async (plugin: string, flags: { output: "text" | "json" }) => {
      process.exitCode = await runDescribe(plugin, flags);
    });
  program
    .command("collect")
    .description("collect one table of a plugin into JSONL chunk files")
    .argument("<plugin>", "plugin name (bundled or tailkit-plugin-<name> on PATH) or path to a plugin executable")
    .requiredOption("--table <name>", "table to collect")
    .option("--source <type>", "source type", "file")
    .option("--path <path...>", "file source: folders (or files) to read")
    .option("--file-layout <pattern>", "file source: layout pattern with {name} captures, relative to each path")
    .option("--config <json|@file>", "the source's full config as JSON, checked against its schema", (v) => parseJsonOption(v, "--config"))
    .option("--table-config <json|@file>", "the table's config as JSON", (v) => parseJsonOption(v, "--table-config"))
    .option("--from <time>", "collect only data at or after this time (ISO-8601)", (v) => parseTime(v, "--from"))
    .option("--to <time>", "collect only data before this time (ISO-8601)", (v) => parseTime(v, "--to"))
    .option("--partition <name>", "partition name", "default")
    .requiredOption("--out <dir>", "folder for the chunk files")
    .option("--rows-per-chunk <n>", "rows per chunk file (default 10000)", parsePositiveInt)
    .option("--execution-id <id>", "execution id (default: a new one)")
    .option("--state <location>", "collection state: an SQLite file path, or redis://host:port/prefix to share it (default: <out>/.tailkit/state.sqlite)")
    .option("--recollect", "collect every artifact again, even those already collected")
    .option("--no-convert", "keep the JSONL chunk files; by default they are converted into Parquet under --out and deleted")
    .addOption(new Option("--output <format>", "text (progress on stderr) or json (one summary object on stdout)").choices(["text", "json"]).default("text"))
    .option("--verbose", "show the plugin's own log lines")
    .action(async (plugin: string, flags: CollectFlags) => {
      process.exitCode = await runCollect(plugin, flags);
    });
  addQueryCommands(program);
  return program;
}

/** Entry point of bin/tailkit.js. */
export async function main(argv: string[]): Promise<void> {
  try {
    await createCli().parseAsync(argv);
  } catch (err) {
    const e = err as { code?: unknown; exitCode?: number };
    if (typeof e.code === "string" && e.code.startsWith("commander.")) {
      // commander already printed its message (help, version, or a usage error).
      process.exitCode = e.code === "commander.helpDisplayed" || e.code === "commander.version" ? EXIT.ok : EXIT.usage;
      return;
    }
    const te = TailkitError.from(err);
    process.stderr.write(`error: ${te.message}\n`);
    process.exitCode = te.code === Code.InvalidArgument || te.code === Code.NotFound || te.code === Code.PermissionDenied || te.code === Code.AlreadyExists ? EXIT.usage : EXIT.failed;
  }
}
