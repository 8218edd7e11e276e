import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { InvalidArgumentError, Option, type Command } from "commander";
import type { CompleteEvent } from "../contract/events.js";
import { TailkitError } from "../errors/index.js";
import type { PluginClient } from "../host/index.js";
import type { ConversionSummary, Converter, ConvertRowError } from "../query/convert.js";
import type { CompactSummary } from "../query/compact.js";
import { REJECTED_DIR } from "../query/conversion-log.js";
import type { QueryOutput, QuerySession } from "../query/query.js";

// src/query loads DuckDB's native module; it is imported when a command needs it, not when the CLI starts.
const loadConvert = () => import("../query/convert.js");
const loadCompact = () => import("../query/compact.js");
const loadQuery = () => import("../query/query.js");

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;
const EXIT_PARTIAL = 3;

function parsePositive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`must be a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

function describeRowError(e: ConvertRowError): string {
  return `convert: ${e.chunk} line ${e.line}${e.artifact ? ` (from ${e.artifact})` : ""}: ${e.message}`;
}

/** Everything conversion did in one command, for its report. */
export interface ConversionReport {
  dir: string;
  summary: ConversionSummary;
  compaction?: CompactSummary;
  /** Why the host's conversion is incomplete, if it is. */
  error?: string;
}

/** The conversion step of `tailkit collect`: converts chunks while the collection runs, and finishes at its end. */
export interface CollectConversion {
  /** Once the plugin is connected: reads the table schemas and opens the converter. */
  start(client: PluginClient): Promise<void>;
  /**
   * Once Collect answered: the row schema it gave for the table (a custom table's is only there). Chunks, the ones
   * left on disk included, are converted from then on, so that none is typed without it.
   */
  collected(table: string, rowSchema: Record<string, unknown> | undefined): void;
  /** A chunk_written event's file. */
  chunk(path: string): void;
  /** After `complete`: converts what is left, checks the count against what complete announced, compacts. */
  finish(complete: CompleteEvent): Promise<ConversionReport>;
}

/** Creates the conversion step of `tailkit collect --out DIR` (absent with --no-convert). */
export function createCollectConversion(dir: string, opts: { quiet: boolean }): CollectConversion {
  let converter: Converter | undefined;
  let starting: Promise<void> | undefined;
  let startError: string | undefined;
  const early: string[] = [];
  // Set by collected() (or finish(), should Collect have failed): until then chunks wait in `early`.
  let go = false;
  let schema: [string, Record<string, unknown>] | undefined;
  let queuedLeftovers = false;
  const flush = () => {
    if (!converter || !go) return;
    if (schema) converter.setSchema(...schema);
    schema = undefined;
    if (!queuedLeftovers) converter.addLeftovers();
    queuedLeftovers = true;
    for (const p of early.splice(0)) converter.add(p);
  };
  return {
    start(client) {
      starting = (async () => {
        const { createConverter } = await loadConvert();
        const described = await client.describe();
        const schemas = Object.fromEntries(described.tables.map((t) => [t.name, t.rowSchema]));
        converter = await createConverter({
          dir,
          schemas,
          onRowError: (e) => {
            if (!opts.quiet) process.stderr.write(`\nerror: ${describeRowError(e)}\n`);
          },
        });
        flush();
      })().catch((err: unknown) => {
        // Collection goes on without conversion; its chunks stay for a later run, and the report says why.
        startError = TailkitError.from(err).message;
      });
      return starting;
    },
    collected(table, rowSchema) {
      go = true;
      if (rowSchema) schema = [table, rowSchema];
      flush();
    },
    chunk(path) {
      early.push(path);
      flush();
    },
    async finish(complete) {
      await starting;
      go = true;
      flush();
      const conv = converter;
      if (!conv)
        return {
          dir,
          summary: { chunks: 0, rows: 0, files: 0, rowErrors: {}, errors: [], rejected: [], failed: [], byExecution: {} },
          error: startError ?? "not started",
        };
      // Chunks of this execution that no event announced (none should be) are on disk under its name.
      conv.addLeftovers();
      const summary = await conv.drain();
      const report: ConversionReport = { dir, summary };
      const converted = summary.byExecution[complete.executionId] ?? 0;
      if (summary.failed.length > 0) report.error = summary.failed.map((f) => `${f.chunks.join(", ")}: ${f.message}`).join("; ");
      else if (!complete.error && converted !== complete.chunks)
        report.error = `converted ${converted} chunks of execution ${complete.executionId}, but complete announced ${complete.chunks}`;
      if (report.error === undefined && !complete.error) {
        const { compactDataDir, AUTO_COMPACT_FILES } = await loadCompact();
        report.compaction = await compactDataDir({ dir, maxSmallFiles: AUTO_COMPACT_FILES });
      }
      await conv.close();
      return report;
    },
  };
}

/** The JSON summary fields of a conversion. */
export function conversionJson(r: ConversionReport): Record<string, unknown> {
  return {
    conversion: {
      dataDir: r.dir,
      chunks: r.summary.chunks,
      rows: r.summary.rows,
      files: r.summary.files,
      rowErrors: r.summary.rowErrors,
      errors: r.summary.errors.map((e) => ({ ...e, operation: "convert" })),
      rejected: r.summary.rejected.map((f) => join(r.dir, f)),
      error: r.error ?? null,
      compaction: r.compaction ?? null,
    },
  };
}

/** Prints a conversion's outcome (text mode) and returns the exit code given the collection's. */
export function reportConversion(r: ConversionReport, code: number, json: boolean): number {
  const refused = Object.values(r.summary.rowErrors).reduce((a, b) => a + b, 0);
  if (!json) {
    if (r.error) process.stderr.write(`conversion incomplete (chunks kept in ${r.dir}, a later run converts them): ${r.error}\n`);
    const byColumn = Object.entries(r.summary.rowErrors)
      .map(([c, n]) => `${c}: ${n}`)
      .join(", ");
    process.stdout.write(
      `  converted ${r.summary.rows.toLocaleString("en-US")} rows of ${r.summary.chunks} chunks into ${r.summary.files} Parquet files under ${r.dir}/tp_table=…` +
        (refused ? `; ${refused} rows refused by the schema (${byColumn}), kept with their errors in ${join(r.dir, REJECTED_DIR)}/` : "") +
        (r.compaction?.filesMerged ? `; compacted ${r.compaction.filesMerged} small files into ${r.compaction.filesWritten}` : "") +
        "\n",
    );
    for (const s of r.compaction?.skipped ?? []) process.stderr.write(`warning: compact: ${s.partition} left unmerged: ${s.message}\n`);
  }
  if (r.error && (code === EXIT_OK || code === EXIT_PARTIAL)) return EXIT_FAILED;
  if (refused > 0 && code === EXIT_OK) return EXIT_PARTIAL;
  return code;
}

async function runConvert(flags: { out: string; chunksPerUnit?: number; compact: boolean; retryRejected?: boolean; output: "text" | "json" }): Promise<number> {
  const dir = resolve(flags.out);
  const { createConverter, requeueRejected } = await loadConvert();
  const json = flags.output === "json";
  if (flags.retryRejected) {
    const requeued = requeueRejected(dir);
    if (!json) process.stdout.write(`  trying again the rejected rows of ${requeued.length} units, with the tables' current schemas\n`);
  }
  const converter = await createConverter({
    dir,
    ...(flags.chunksPerUnit ? { chunksPerUnit: flags.chunksPerUnit } : {}),
    onRowError: (e) => {
      if (!json) process.stderr.write(`error: ${describeRowError(e)}\n`);
    },
  });
  converter.addLeftovers();
  const summary = await converter.drain();
  await converter.close();
  const report: ConversionReport = { dir, summary };
  if (summary.failed.length > 0) report.error = summary.failed.map((f) => `${f.chunks.join(", ")}: ${f.message}`).join("; ");
  else if (flags.compact) {
    const { compactDataDir, AUTO_COMPACT_FILES } = await loadCompact();
    report.compaction = await compactDataDir({ dir, maxSmallFiles: AUTO_COMPACT_FILES });
  }
  if (json) process.stdout.write(`${JSON.stringify(conversionJson(report))}\n`);
  return reportConversion(report, EXIT_OK, json);
}

async function runCompact(flags: { out: string; smallMb?: number; output: "text" | "json" }): Promise<number> {
  const dir = resolve(flags.out);
  const { compactDataDir } = await loadCompact();
  const s = await compactDataDir({ dir, ...(flags.smallMb ? { smallBytes: flags.smallMb * 1024 * 1024 } : {}) });
  if (flags.output === "json") process.stdout.write(`${JSON.stringify(s)}\n`);
  else {
    process.stdout.write(
      `compacted ${s.filesMerged} small files of ${s.partitions} partitions into ${s.filesWritten} (${s.rows.toLocaleString("en-US")} rows) under ${dir}\n`,
    );
    for (const p of s.skipped) process.stderr.write(`error: compact: ${p.partition} left unmerged: ${p.message}\n`);
  }
  return s.skipped.length ? EXIT_PARTIAL : EXIT_OK;
}

async function runOne(session: QuerySession, sql: string, output: QueryOutput): Promise<number> {
  const { formatResult } = await loadQuery();
  try {
    process.stdout.write(formatResult(await session.run(sql), output));
    return EXIT_OK;
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    return EXIT_USAGE;
  }
}

async function readStdin(): Promise<string> {
  const parts: Buffer[] = [];
  for await (const p of process.stdin) parts.push(p as Buffer);
  return Buffer.concat(parts).toString("utf8");
}

async function interactive(session: QuerySession, output: QueryOutput): Promise<number> {
  process.stderr.write(`tables: ${session.tables.join(", ") || "(none)"}; end a statement with ";", .quit to leave\n`);
  const rl = createInterface({ input: process.stdin, output: process.stderr, prompt: "tailkit> " });
  let pending = "";
  rl.prompt();
  for await (const line of rl) {
    const trimmed = line.trim();
    if (pending === "" && (trimmed === ".quit" || trimmed === ".exit" || trimmed === "exit" || trimmed === "quit")) break;
    if (pending === "" && trimmed === ".tables") process.stdout.write(`${session.tables.join("\n")}\n`);
    else {
      pending += `${line}\n`;
      if (trimmed.endsWith(";")) {
        await runOne(session, pending, output);
        pending = "";
      }
    }
    rl.setPrompt(pending ? "     ...> " : "tailkit> ");
    rl.prompt();
  }
  rl.close();
  return EXIT_OK;
}

async function runQuery(sql: string | undefined, flags: { out: string; output: QueryOutput }): Promise<number> {
  const { openQuerySession } = await loadQuery();
  let session: QuerySession;
  try {
    session = await openQuerySession(flags.out);
  } catch (err) {
    process.stderr.write(`error: ${TailkitError.from(err).message}\n`);
    return EXIT_USAGE;
  }
  try {
    if (sql !== undefined) return await runOne(session, sql, flags.output);
    if (process.stdin.isTTY) return await interactive(session, flags.output);
    const text = await readStdin();
    if (text.trim() === "") {
      process.stderr.write("error: sql: no query given (as an argument, on stdin, or at the prompt of a terminal)\n");
      return EXIT_USAGE;
    }
    return await runOne(session, text, flags.output);
  } finally {
    session.close();
  }
}

/** Adds the `query`, `compact` and `convert` commands. */
export function addQueryCommands(program: Command): void {
  program
    .command("query")
    .description("run SQL over the collected tables (each a view over its Parquet files); a prompt when no SQL is given on a terminal")
    .argument("[sql]", "the query")
    .option("--out <dir>", "the data folder collect wrote to", ".")
    .addOption(new Option("--output <format>", "table, csv, json (an array) or jsonl").choices(["table", "csv", "json", "jsonl"]).default("table"))
    .action(async (sql: string | undefined, flags: { out: string; output: QueryOutput }) => {
      process.exitCode = await runQuery(sql, flags);
    });
  program
    .command("compact")
    .description("merge each partition's small Parquet files into one")
    .option("--out <dir>", "the data folder", ".")
    .option("--small-mb <n>", "files under this many MiB are merged (default 64)", parsePositive)
    .addOption(new Option("--output <format>", "text or json").choices(["text", "json"]).default("text"))
    .action(async (flags: { out: string; smallMb?: number; output: "text" | "json" }) => {
      process.exitCode = await runCompact(flags);
    });
  program
    .command("convert")
    .description("convert the chunk files left in a data folder (by --no-convert or a killed run) into Parquet")
    .option("--out <dir>", "the data folder", ".")
    .option("--chunks-per-unit <n>", "chunks converted together into one set of files (default 8)", parsePositive)
    .option("--no-compact", "do not merge small files afterwards")
    .option("--retry-rejected", "convert the rows kept in DIR/rejected/ again, with the tables' current schemas (those refused again stay there)")
    .addOption(new Option("--output <format>", "text or json").choices(["text", "json"]).default("text"))
    .action(async (flags: { out: string; chunksPerUnit?: number; compact: boolean; retryRejected?: boolean; output: "text" | "json" }) => {
      process.exitCode = await runConvert(flags);
    });
}
