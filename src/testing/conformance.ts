import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type * as AjvModule from "ajv";
import type { Ajv as AjvClass } from "ajv";
import type { CollectOptions, PluginDefinition, PluginDescription } from "../contract/plugin.js";
import type { JSONSchema } from "../contract/schema.js";
import { TailkitError, Code } from "../errors/index.js";
import type { LaunchOptions } from "../host/spawn.js";
import { PluginRuntime } from "../plugin/runtime.js";
import { withTpFields } from "../plugin/tp-fields.js";
import { collectInProcess, type InProcessCollection } from "./collect-in-process.js";

// The conformance kit: what every plugin must do, checked the way a host relies on it. It runs the plugin's own
// definition in this process (the real runtime and pipeline, as collectInProcess does) and, given its executable,
// launches it as `tailkit` does. It depends on no test runner: a plugin's test calls checkPlugin and lets it throw.

/** Data one table collects in the conformance run: a source type, its config and what it must give. */
export interface TableFixture {
  /** Source type; default "file". */
  source?: string;
  /** The source's config, as a user gives it (the table's defaults for that source are laid under it). */
  config: Record<string, unknown>;
  /** The table's config; default none. */
  tableConfig?: Record<string, unknown>;
  /** Rows the fixture must give; default: at least one. */
  rows?: number;
  /** Its name in the report; default `<table> from <source>`. */
  label?: string;
}

/** A request the plugin must refuse with INVALID_ARGUMENT naming a field (beyond those the kit makes up itself). */
export interface InvalidConfigCase {
  table: string;
  source: { type: string; config?: Record<string, unknown> };
  tableConfig?: Record<string, unknown>;
  /** The field the refusal must name, e.g. "source.config.pattern"; default: any field. */
  field?: string;
  /** Its name in the report; default `<table> from <source type>`. */
  label?: string;
}

/** Options of checkPlugin; defaults in each field's comment. */
export interface ConformanceOptions {
  /** Fixtures per table name; every table of the plugin needs at least one. */
  fixtures: Readonly<Record<string, TableFixture | readonly TableFixture[]>>;
  /** Requests the plugin must refuse, naming a field; default none (the kit still tries its own). */
  invalidConfigs?: readonly InvalidConfigCase[];
  /** Path of the plugin executable: launched as a host does (handshake, health, Describe, Collect, Shutdown). Default: not checked. */
  executable?: string;
  /** How the executable is launched (extra environment, timeouts); default launchPlugin's. */
  launch?: LaunchOptions;
  /** Folder for the runs' output and state, removed at the end; default the system's temp folder. */
  tempDir?: string;
}

/** One check of the kit and what it found wrong (nothing when it passed). */
export interface ConformanceCheck {
  name: string;
  passed: boolean;
  problems: string[];
}

/** What checkPlugin found: every check, in the order run. */
export interface ConformanceReport {
  plugin: string;
  passed: boolean;
  checks: ConformanceCheck[];
  failures: ConformanceCheck[];
}

/** Thrown by checkPlugin when a check fails; its message lists every failed check and what it found. */
export class ConformanceError extends Error {
  readonly report: ConformanceReport;
  constructor(report: ConformanceReport) {
    super(formatConformanceReport(report));
    this.name = "ConformanceError";
    this.report = report;
  }
}

/** Plugin names are what `tailkit-plugin-<name>` and the CLI take; table names are SQL identifiers (query views). */
const PLUGIN_NAME = /^[a-z][a-z0-9]*([_-][a-z0-9]+)*$/;
const TABLE_NAME = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;
/** A field no real config has: the kit adds it to see that a typo is refused rather than ignored. */
const UNKNOWN_FIELD = "tailkit_conformance_unknown_field";
/** Problems of one check shown in the message; the rest are counted. */
const MAX_PROBLEMS = 5;

/**
 * Runs the conformance checks on a plugin and throws a ConformanceError listing every failed check when any fails;
 * returns the report when all pass. For a plugin's own test (any test runner, or none).
 */
export async function checkPlugin(plugin: PluginDefinition, options: ConformanceOptions): Promise<ConformanceReport> {
  const report = await runConformance(plugin, options);
  if (!report.passed) throw new ConformanceError(report);
  return report;
}

/** The report as text: a line per check, failed ones with what they found. */
export function formatConformanceReport(report: ConformanceReport): string {
  const head = report.passed
    ? `plugin ${report.plugin} passed all ${report.checks.length} conformance checks`
    : `plugin ${report.plugin} failed ${report.failures.length} of ${report.checks.length} conformance checks:`;
  const lines = [head];
  for (const c of report.passed ? [] : report.failures) {
    lines.push(`  ✗ ${c.name}`);
    for (const p of c.problems.slice(0, MAX_PROBLEMS)) lines.push(`      ${p}`);
    if (c.problems.length > MAX_PROBLEMS) lines.push(`      … and ${c.problems.length - MAX_PROBLEMS} more`);
  }
  return lines.join("\n");
}

/** Runs every check and returns the report without throwing. */
export async function runConformance(plugin: PluginDefinition, options: ConformanceOptions): Promise<ConformanceReport> {
  const checks: ConformanceCheck[] = [];
  const check = (name: string, problems: string[]) => checks.push({ name, passed: problems.length === 0, problems });
  const work = mkdtempSync(join(options.tempDir ?? tmpdir(), "tailkit-conformance-"));
  let dirs = 0;
  const outDir = () => join(work, `run-${++dirs}`);
  try {
    let description: PluginDescription;
    try {
      description = new PluginRuntime({ ...plugin, module: undefined }).describe();
    } catch (err) {
      // A definition the runtime refuses (a table twice, an unknown source type) leaves nothing else to check.
      check("definition accepted by the runtime", [TailkitError.from(err).message]);
      return finish(plugin.name, checks);
    }
    // Tables made at Collect from their table config (core's) are checked as Describe would list them.
    const custom = customTables(plugin, description, options.fixtures);
    if (plugin.customTables !== undefined) check("custom tables made from their fixtures' table config", custom.problems);
    const withCustom: PluginDescription = { ...description, tables: [...description.tables, ...custom.tables] };
    check("describe: names", nameProblems(withCustom));
    check("describe: descriptions", descriptionProblems(withCustom));
    check("describe: JSON Schemas valid", schemaProblems(withCustom));

    const fixtures = fixtureList(withCustom, options.fixtures);
    check("fixtures: one for every table", fixtures.problems);
    const collected: { fixture: ResolvedFixture; rows: number }[] = [];
    for (const f of fixtures.list) {
      const first = await tryCollect(plugin, f, outDir());
      check(`collects ${f.label}`, first.problems);
      if (!first.result) continue;
      check(`rows of ${f.label} satisfy the row schema`, rowSchemaProblems(withCustom, f, first.result.rows));
      const second = await tryCollect(plugin, f, outDir());
      check(`tp_id stable across two reads of ${f.label}`, second.result ? stabilityProblems(first.result.rows, second.result.rows) : second.problems);
      if (first.problems.length === 0) collected.push({ fixture: f, rows: first.result.rows.length });
    }

    const probes = [...madeUpInvalidConfigs(withCustom, fixtures.list), ...(options.invalidConfigs ?? []).map(declaredProbe)];
    const refusals = await invalidConfigProblems(plugin, probes, outDir);
    for (const [label, problems] of refusals) check(`bad config refused with a named field: ${label}`, problems);

    if (options.executable !== undefined) await checkExecutable(options.executable, options.launch ?? {}, description, collected[0], outDir(), check);
    return finish(plugin.name, checks);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function finish(plugin: string, checks: ConformanceCheck[]): ConformanceReport {
  const failures = checks.filter((c) => !c.passed);
  return { plugin, passed: failures.length === 0, checks, failures };
}

function nameProblems(d: PluginDescription): string[] {
  const problems: string[] = [];
  if (!PLUGIN_NAME.test(d.plugin.name)) problems.push(`plugin name ${JSON.stringify(d.plugin.name)} is not lowercase letters and digits joined by - or _`);
  if (!/^\d+\.\d+\.\d+/.test(d.plugin.version)) problems.push(`plugin version ${JSON.stringify(d.plugin.version)} is not a semantic version (1.2.3)`);
  if (d.tables.length === 0) problems.push("the plugin has no table");
  for (const t of d.tables) {
    if (!TABLE_NAME.test(t.name)) problems.push(`table name ${JSON.stringify(t.name)} is not snake_case (lowercase letters and digits joined by _)`);
    if (t.sourceTypes.length === 0) problems.push(`table ${t.name} accepts no source type`);
  }
  return problems;
}

function descriptionProblems(d: PluginDescription): string[] {
  const problems: string[] = [];
  for (const t of d.tables) if (!t.description?.trim()) problems.push(`table ${t.name} has no description`);
  for (const s of d.sources) if (!s.description?.trim()) problems.push(`source type ${s.type} has no description`);
  return problems;
}

const require = createRequire(import.meta.url);

/** An Ajv like the runtime's, with the formats row schemas use checked rather than ignored. */
function newAjv(): AjvClass {
  const isoTime = (s: string) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(s) && !Number.isNaN(Date.parse(s));
  const isoDate = (s: string) => /^\d{4}-\d{2}-\d{2}$/.test(s) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s);
  return new (require("ajv") as typeof AjvModule).Ajv({ allErrors: true, strict: false, logger: false, formats: { "date-time": isoTime, date: isoDate } });
}

/** Every schema Describe publishes, with where it is. */
function publishedSchemas(d: PluginDescription): { where: string; schema: Record<string, unknown> }[] {
  return [
    ...d.tables.flatMap((t) => [
      { where: `table ${t.name} rowSchema`, schema: t.rowSchema },
      { where: `table ${t.name} configSchema`, schema: t.configSchema },
    ]),
    ...d.sources.map((s) => ({ where: `source type ${s.type} configSchema`, schema: s.configSchema })),
  ];
}

/** The value at a JSON Pointer. */
function valueAt(doc: unknown, pointer: string): unknown {
  let v = doc;
  for (const part of pointer.split("/").slice(1)) v = (v as Record<string, unknown> | undefined)?.[part.replace(/~1/g, "/").replace(/~0/g, "~")];
  return v;
}

function schemaProblems(d: PluginDescription): string[] {
  const ajv = newAjv();
  const problems: string[] = [];
  for (const { where, schema } of publishedSchemas(d)) {
    if (!ajv.validateSchema(schema)) {
      // The first error says it; those after it are the same mistake seen through the meta-schema's anyOf branches.
      const first = ajv.errors?.[0];
      const at = first?.instancePath ?? "";
      problems.push(
        `${where} breaks the JSON Schema meta-schema: ${at || "/"} ${first?.message ?? "is invalid"} (it is ${JSON.stringify(valueAt(schema, at))})`,
      );
      continue;
    }
    try {
      ajv.compile(schema);
    } catch (err) {
      problems.push(`${where} does not compile: ${(err as Error).message}`);
    }
  }
  for (const t of d.tables) if (t.rowSchema["type"] !== "object") problems.push(`table ${t.name} rowSchema is not of type "object"`);
  return problems;
}

interface ResolvedFixture {
  table: string;
  source: string;
  config: Record<string, unknown>;
  tableConfig: Record<string, unknown> | undefined;
  rows: number | undefined;
  label: string;
}

/**
 * The custom tables the fixtures name (tables the plugin makes at Collect from their table config, when it has
 * PluginDefinition.customTables), each as Describe would list it: made from its first fixture's table config, with
 * the tp_* fields in its row schema. A plugin that makes custom tables needs a fixture of at least one.
 */
function customTables(
  plugin: PluginDefinition,
  d: PluginDescription,
  given: ConformanceOptions["fixtures"],
): { tables: PluginDescription["tables"]; problems: string[] } {
  const factory = plugin.customTables;
  if (factory === undefined) return { tables: [], problems: [] };
  const tables: PluginDescription["tables"] = [];
  const problems: string[] = [];
  for (const [name, value] of Object.entries(given)) {
    if (d.tables.some((t) => t.name === name)) continue;
    const first = (Array.isArray(value) ? value : [value])[0] as TableFixture | undefined;
    if (first?.tableConfig === undefined) {
      problems.push(`the fixture of ${name} has no tableConfig, so it defines no custom table`);
      continue;
    }
    try {
      const made = factory.create(name, first.tableConfig);
      tables.push({
        name,
        description: made.description,
        sourceTypes: Object.keys(made.sources),
        rowSchema: withTpFields(made.rowSchema),
        configSchema: factory.configSchema,
        sourceDefaults: Object.fromEntries(Object.entries(made.sources).map(([k, v]) => [k, v.defaults ?? {}])),
        dataSources: [],
      });
    } catch (err) {
      problems.push(`custom table ${name}: its fixture's table config is refused: ${TailkitError.from(err).message}`);
    }
  }
  if (tables.length === 0 && problems.length === 0)
    problems.push("the plugin makes custom tables: give a fixture of one, with the tableConfig that defines it");
  return { tables, problems };
}

function fixtureList(d: PluginDescription, given: ConformanceOptions["fixtures"]): { list: ResolvedFixture[]; problems: string[] } {
  const problems: string[] = [];
  const list: ResolvedFixture[] = [];
  for (const [table, value] of Object.entries(given)) {
    const t = d.tables.find((x) => x.name === table);
    if (!t) {
      problems.push(`fixtures name table ${table}, which the plugin does not have (it has ${d.tables.map((x) => x.name).join(", ")})`);
      continue;
    }
    for (const f of (Array.isArray(value) ? value : [value]) as TableFixture[]) {
      const source = f.source ?? "file";
      if (!t.sourceTypes.includes(source)) problems.push(`a fixture of table ${table} reads source type ${source}, which the table does not accept`);
      else list.push({ table, source, config: f.config, tableConfig: f.tableConfig, rows: f.rows, label: f.label ?? `${table} from ${source}` });
    }
  }
  for (const t of d.tables) if (!list.some((f) => f.table === t.name)) problems.push(`table ${t.name} has no fixture: give one in options.fixtures.${t.name}`);
  return { list, problems };
}

function collectOptions(f: ResolvedFixture, outputDir: string, config = f.config, tableConfig = f.tableConfig): CollectOptions {
  return { table: f.table, source: { type: f.source, config }, outputDir, ...(tableConfig ? { tableConfig } : {}) };
}

async function tryCollect(plugin: PluginDefinition, f: ResolvedFixture, outputDir: string): Promise<{ result?: InProcessCollection; problems: string[] }> {
  let result: InProcessCollection;
  try {
    result = await collectInProcess(plugin, collectOptions(f, outputDir));
  } catch (err) {
    return { problems: [`Collect refused the fixture: ${TailkitError.from(err).message}`] };
  }
  const problems: string[] = [];
  const { complete, rows } = result;
  if (complete.error !== undefined) problems.push(`the collection failed: ${complete.error}`);
  const errors = result.events.filter((e) => e.type === "error");
  for (const e of errors.slice(0, MAX_PROBLEMS)) problems.push(`error event${e.operation ? ` (${e.operation})` : ""}: ${e.message}`);
  if (errors.length > MAX_PROBLEMS) problems.push(`… ${errors.length} error events in all`);
  if (f.rows !== undefined && rows.length !== f.rows) problems.push(`gave ${rows.length} rows, the fixture expects ${f.rows}`);
  if (f.rows === undefined && rows.length === 0) problems.push("gave no rows");
  if (complete.rows !== rows.length) problems.push(`complete says ${complete.rows} rows, the chunk files hold ${rows.length}`);
  const wrongTable = rows.filter((r) => r["tp_table"] !== f.table).length;
  if (wrongTable > 0) problems.push(`${wrongTable} rows have a tp_table other than ${f.table}`);
  const wrongSource = rows.filter((r) => r["tp_source_type"] !== f.source).length;
  if (wrongSource > 0) problems.push(`${wrongSource} rows have a tp_source_type other than ${f.source}`);
  const ids = rows.map((r) => r["tp_id"]);
  if (ids.some((id) => typeof id !== "string" || id === "")) problems.push("some rows have no tp_id");
  else if (new Set(ids).size !== ids.length) problems.push(`${ids.length - new Set(ids).size} tp_id values are given to more than one row`);
  return { result, problems };
}

function rowSchemaProblems(d: PluginDescription, f: ResolvedFixture, rows: Record<string, unknown>[]): string[] {
  const schema = d.tables.find((t) => t.name === f.table)!.rowSchema;
  const ajv = newAjv();
  let validate;
  try {
    validate = ajv.compile(schema);
  } catch (err) {
    return [`the row schema does not compile, so no row could be checked: ${(err as Error).message.split(",")[0]}`];
  }
  const problems: string[] = [];
  let bad = 0;
  rows.forEach((row, i) => {
    if (validate(row)) return;
    if (++bad <= MAX_PROBLEMS) problems.push(`row ${i + 1} (tp_id ${String(row["tp_id"])}): ${ajv.errorsText(validate.errors, { dataVar: "row" })}`);
  });
  if (bad > MAX_PROBLEMS) problems.push(`${bad} of ${rows.length} rows break the row schema`);
  return problems;
}

/** The same fixture read twice (each time with fresh state) must give the same ids to the same rows. */
function stabilityProblems(first: Record<string, unknown>[], second: Record<string, unknown>[]): string[] {
  // What a row is, leaving out the one field that is meant to differ between reads.
  const content = (r: Record<string, unknown>) => JSON.stringify({ ...r, tp_ingest_timestamp: undefined, tp_id: undefined });
  const before = new Map(first.map((r) => [r["tp_id"], content(r)]));
  const missing = second.filter((r) => !before.has(r["tp_id"]));
  const changed = second.filter((r) => before.has(r["tp_id"]) && before.get(r["tp_id"]) !== content(r));
  const problems: string[] = [];
  if (second.length !== first.length) problems.push(`the first read gave ${first.length} rows, the second ${second.length}`);
  if (missing.length > 0) {
    problems.push(
      `${missing.length} of ${second.length} rows of the second read have a tp_id the first read did not give (e.g. ${String(missing[0]!["tp_id"])}): ` +
        "tp_id must depend only on the source and the row's place in its artifact (a location or name that changes between reads changes it)",
    );
  }
  if (changed.length > 0) problems.push(`${changed.length} tp_id values name a different row in the second read (e.g. ${String(changed[0]!["tp_id"])})`);
  return problems;
}

interface Probe {
  label: string;
  req: Omit<CollectOptions, "outputDir">;
  /** The field the refusal must name; a prefix when `prefix` is set. */
  field?: string;
  prefix?: boolean;
  /** Why the request is wrong, for the message when it is accepted. */
  why: string;
}

/** A value of another JSON type than the schema's `type`. */
function wrongValue(type: unknown): unknown {
  switch (type) {
    case "string":
      return 12345;
    case "number":
    case "integer":
      return "not a number";
    case "boolean":
      return "not a boolean";
    case "array":
      return "not an array";
    case "object":
      return "not an object";
    default:
      return undefined;
  }
}

/**
 * Requests made from each fixture that any plugin must refuse: an unknown field in the source config and in the table
 * config (a typo must not be ignored), and a field of the source config given a value of the wrong type.
 */
function madeUpInvalidConfigs(d: PluginDescription, fixtures: ResolvedFixture[]): Probe[] {
  const probes: Probe[] = [];
  for (const f of fixtures) {
    const base = { table: f.table, source: { type: f.source, config: f.config }, ...(f.tableConfig ? { tableConfig: f.tableConfig } : {}) };
    probes.push({
      label: `${f.label}, unknown source config field`,
      req: { ...base, source: { type: f.source, config: { ...f.config, [UNKNOWN_FIELD]: true } } },
      field: `source.config.${UNKNOWN_FIELD}`,
      why: `source.config.${UNKNOWN_FIELD} is no field of the source's config schema`,
    });
    probes.push({
      label: `${f.label}, unknown table config field`,
      req: { ...base, tableConfig: { ...f.tableConfig, [UNKNOWN_FIELD]: true } },
      field: `table_config.${UNKNOWN_FIELD}`,
      why: `table_config.${UNKNOWN_FIELD} is no field of the table's config schema`,
    });
    const props = (d.sources.find((s) => s.type === f.source)?.configSchema["properties"] ?? {}) as Record<string, JSONSchema>;
    const typed = Object.keys(f.config).find((k) => wrongValue(props[k]?.["type"]) !== undefined);
    if (typed !== undefined) {
      const value = wrongValue(props[typed]!["type"]);
      probes.push({
        label: `${f.label}, ${typed} of the wrong type`,
        req: { ...base, source: { type: f.source, config: { ...f.config, [typed]: value } } },
        field: `source.config.${typed}`,
        prefix: true,
        why: `source.config.${typed} is ${JSON.stringify(value)}, not of type ${String(props[typed]!["type"])}`,
      });
    }
  }
  return probes;
}

function declaredProbe(c: InvalidConfigCase): Probe {
  return {
    label: c.label ?? `${c.table} from ${c.source.type}`,
    req: { table: c.table, source: c.source, ...(c.tableConfig ? { tableConfig: c.tableConfig } : {}) },
    ...(c.field !== undefined ? { field: c.field } : {}),
    why: "the test declares this request invalid",
  };
}

/** Sends each probe to one runtime; a probe it accepts is cancelled at once. */
async function invalidConfigProblems(plugin: PluginDefinition, probes: Probe[], outDir: () => string): Promise<[string, string[]][]> {
  const runtime = new PluginRuntime({ ...plugin, module: undefined });
  const results: [string, string[]][] = [];
  try {
    for (const p of probes) {
      const problems: string[] = [];
      try {
        runtime.collect({ ...p.req, outputDir: outDir() });
        problems.push(`accepted, though ${p.why}`);
      } catch (err) {
        const e = TailkitError.from(err);
        const field = e.details.field;
        if (e.code !== Code.InvalidArgument) problems.push(`refused with ${Code[e.code]}, not INVALID_ARGUMENT: ${e.message}`);
        if (!field) {
          problems.push(
            `refused without naming the field (details.field is empty): ${JSON.stringify(e.message)}; throw a TailkitError with { field } so the user knows what to fix`,
          );
        } else if (p.field !== undefined && (p.prefix ? !field.startsWith(p.field) : field !== p.field)) {
          problems.push(`refused naming field ${field}, expected ${p.field}: ${e.message}`);
        }
      }
      results.push([p.label, problems]);
    }
  } finally {
    await runtime.shutdown();
  }
  return results;
}

type Check = (name: string, problems: string[]) => void;

/** Launches the executable as a host does: handshake and health (launchPlugin), Describe, one Collect, Shutdown. */
async function checkExecutable(
  executable: string,
  launch: LaunchOptions,
  d: PluginDescription,
  fixture: { fixture: ResolvedFixture; rows: number } | undefined,
  outputDir: string,
  check: Check,
): Promise<void> {
  // Loaded here: the rest of the kit runs without gRPC.
  const { launchPlugin } = await import("../host/plugin-client.js");
  let client;
  try {
    client = await launchPlugin(executable, launch);
  } catch (err) {
    check("executable starts and answers health", [`${executable}: ${TailkitError.from(err).message}`]);
    return;
  }
  check("executable starts and answers health", []);
  try {
    const problems: string[] = [];
    const served = await client.describe().catch((err: unknown) => {
      problems.push(`Describe failed: ${TailkitError.from(err).message}`);
      return undefined;
    });
    if (served === undefined) {
      check("executable describes the definition", problems);
      return;
    }
    if (served.plugin.name !== d.plugin.name || served.plugin.version !== d.plugin.version) {
      problems.push(`serves ${served.plugin.name} ${served.plugin.version}, the definition is ${d.plugin.name} ${d.plugin.version}`);
    }
    const names = (x: PluginDescription) => x.tables.map((t) => t.name).join(", ");
    if (names(served) !== names(d)) problems.push(`serves tables ${names(served)}, the definition has ${names(d)}`);
    check("executable describes the definition", problems);
    if (fixture !== undefined) {
      const problems: string[] = [];
      try {
        const id = await client.collect(collectOptions(fixture.fixture, outputDir));
        const complete = await client.waitForComplete(id);
        if (complete.error !== undefined) problems.push(`the collection failed: ${complete.error}`);
        if (complete.rows !== fixture.rows) problems.push(`gave ${complete.rows} rows over gRPC, ${fixture.rows} in process`);
      } catch (err) {
        problems.push(`Collect failed: ${TailkitError.from(err).message}`);
      }
      check(`executable collects ${fixture.fixture.label}`, problems);
    }
  } finally {
    const socket = client.address.startsWith("unix://") ? client.address.slice("unix://".length) : undefined;
    const exit = await client.close();
    const problems: string[] = [];
    if (exit.code !== 0) {
      problems.push(`after Shutdown it exited ${exit.signal ? `on ${exit.signal} (killed after the grace period)` : `with code ${exit.code}`}`);
    }
    if (socket !== undefined && existsSync(socket)) problems.push(`its socket ${socket} is still there after it exited`);
    const tail = client.stderr();
    if (problems.length > 0 && tail.length > 0) problems.push(`last stderr lines: ${tail.join(" | ")}`);
    check("executable shuts down cleanly", problems);
  }
}
