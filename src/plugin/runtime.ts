import { randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import { resolve } from "node:path";
// rxjs's main entry loads all of rxjs (some 400 modules, a fifth of a second of start-up on the critical path of
// every plugin launch); the package exports its internal modules, and these are the few the SDK uses.
import { Observable } from "rxjs/internal/Observable";
import { Subject } from "rxjs/internal/Subject";
import { runExecution } from "../collection/execution.js";
import type { CollectionEvent, CompleteEvent, StartedEvent, StatusEvent } from "../contract/events.js";
import { Code, TailkitError, invalidArgument } from "../errors/index.js";
import { validateConfig, warmSchemas, type JSONSchema } from "../schema/index.js";
import { loadSqliteDriver } from "../storage/backends/sqlite.js";
import { createFileSystemSourceFactory } from "../sources/filesystem/index.js";
import { isRowSourceFactory, type ArtifactSource, type RowSource, type SourceFactory } from "../contract/source.js";
import { runRowExecution } from "../collection/row-execution.js";
import { parseStateLocation } from "../state/index.js";
import type { TableDefinition } from "../contract/table.js";
import { SDK_VERSION } from "../version.js";
import { createOutputDirectory } from "../writer/output-dir.js";
import { convertedChunkOf } from "../query/conversion-log.js";
import { withTpFields } from "./tp-fields.js";
import { resolveTableSource, tableSourceProblems } from "../tables/table-source.js";
import type { CollectOptions, DataSourceDescription, PluginDefinition, PluginDescription } from "../contract/plugin.js";
import { isWriteable, type TableInitContext } from "../contract/data-source.js";
import type { DataSourceRegistry } from "../datasources/registry.js";
import type { ExecutionsDataSource } from "../datasources/collected.js";
import {
  collectionSetup,
  createBuiltInRegistry,
  pluginSetup,
  registerModules,
  registryFor,
  validateDataSourcesConfig,
  type DataSourcesConfig,
  type DataSourcesSetup,
} from "../datasources/setup.js";

const EXECUTION_ID = /^[A-Za-z0-9_.]{1,128}$/;
const MAX_ROWS_PER_CHUNK = 1_000_000;
const EMPTY_OBJECT_SCHEMA: JSONSchema = { type: "object", properties: {}, additionalProperties: false };

/**
 * A table's config schema as the runtime checks it: an object schema that does not say what other fields may be is
 * closed, so that a misspelt field is refused as it is in a source config instead of being ignored.
 */
function tableConfigSchema(schema: JSONSchema | undefined): JSONSchema {
  if (schema === undefined) return EMPTY_OBJECT_SCHEMA;
  const open = ["additionalProperties", "patternProperties", "unevaluatedProperties"].some((k) => schema[k] !== undefined);
  if (schema["type"] !== "object" || open) return schema;
  return { ...schema, properties: schema["properties"] ?? {}, additionalProperties: false };
}

interface ExecutionRecord {
  /** The row schema of the execution's table (a custom table's is made by its Collect). */
  rowSchema?: JSONSchema;
  started?: StartedEvent;
  lastStatus?: StatusEvent;
  complete?: CompleteEvent;
  abort: AbortController;
  /** A push source's execution: asked to stop through this (it drains and completes), cancelled through abort. */
  stop?: AbortController;
  done: Promise<void>;
  /** Where tailkit/executions records this execution, and the chain of its records (in event order). */
  dataSources?: DataSourcesSetup;
  recording?: Promise<void>;
}

/** Runtime tuning that is not part of the wire request. */
export interface RuntimeOptions {
  /** Completed executions remembered for observers that attach late. Default 100. */
  keepCompleted?: number;
  /** Default status interval of executions, in ms. Default 1,000. */
  statusIntervalMs?: number;
  /** Folder for executions' temp folders (downloads). Default: the system's temp folder. */
  tempRoot?: string;
  /** The data-source part of the plugin's config (serve() reads TAILKIT_DATA_SOURCES). Default: built-ins only. */
  dataSources?: DataSourcesConfig;
}

/**
 * Builds the table's loader and mappers for the source once at Collect, so that a table config they refuse (a
 * log_format that does not parse) fails the request naming table_config.<field>, not every artifact later.
 */
function checkTableSource(table: TableDefinition<unknown>, sourceType: string, tableConfig: unknown, ctx: TableInitContext): void {
  try {
    resolveTableSource(table, sourceType, tableConfig, ctx);
  } catch (err) {
    const e = TailkitError.from(err, Code.InvalidArgument);
    const field = e.details.field;
    if (field === undefined || field.startsWith("table_config")) throw e;
    const message = e.message.startsWith(`${field}: `) ? e.message.slice(field.length + 2) : e.message;
    throw new TailkitError(e.code, `table_config.${field}: ${message}`, { ...e.details, field: `table_config.${field}` }, { cause: err });
  }
}

/** Makes a new execution id: sortable by time, unique enough to share one output folder. */
export function newExecutionId(): string {
  return `exec_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
}

/**
 * Refuses an execution id whose chunk files are already in the output folder, or were and went into Parquet (the
 * host's conversion log lists them): its chunks would take the same names, and state would record them for the
 * artifacts of both runs. ALREADY_EXISTS naming field execution_id.
 */
function refuseUsedExecutionId(outputDir: string, executionId: string): void {
  const prefix = `${executionId}-`;
  let names: string[];
  try {
    // Chunk files: anything else under such a name (a folder) is no earlier run's chunk, and the writer names it.
    names = readdirSync(outputDir, { withFileTypes: true })
      .filter((d) => !d.isDirectory())
      .map((d) => d.name);
  } catch (err) {
    throw invalidArgument("output_dir", `cannot list ${outputDir}: ${(err as Error).message}`);
  }
  const onDisk = names.find((n) => n.startsWith(prefix) && /^\d+\.jsonl$/.test(n.slice(prefix.length)));
  const converted = onDisk === undefined ? convertedChunkOf(outputDir, executionId) : undefined;
  const used = onDisk !== undefined ? `${onDisk} exists` : converted !== undefined ? `${converted} was converted to Parquet there` : undefined;
  if (used !== undefined) {
    throw new TailkitError(
      Code.AlreadyExists,
      `execution_id: ${executionId} is already in use in ${outputDir} (${used}); give another id, or none for a new one`,
      { field: "execution_id" },
    );
  }
}

/**
 * A plugin's behaviour without any transport: describe, validate and start collections, and publish events.
 * The gRPC layer (serve) and in-process test helpers both drive this.
 */
export class PluginRuntime {
  readonly plugin: PluginDefinition;
  private readonly subject = new Subject<CollectionEvent>();
  private readonly executions = new Map<string, ExecutionRecord>();
  private readonly sources = new Map<string, SourceFactory>();
  private readonly options: RuntimeOptions;
  private collectCalled = false;
  private readonly tableConfigSchemas = new Map<string, JSONSchema>();
  private readonly dataSourcesConfig: DataSourcesConfig;
  /** The plugin's data sources outside collections: what Collect checks tables against and the gRPC service serves. */
  private readonly catalog: DataSourceRegistry;
  private modulesLoaded: Promise<void> | undefined;
  private modulesReady: boolean;

  constructor(plugin: PluginDefinition, options: RuntimeOptions = {}) {
    this.plugin = plugin;
    this.options = options;
    this.dataSourcesConfig = validateDataSourcesConfig(options.dataSources ?? {});
    this.catalog = createBuiltInRegistry(pluginSetup(plugin.name, this.dataSourcesConfig));
    this.modulesReady = (this.dataSourcesConfig.modules ?? []).length === 0;
    for (const f of [createFileSystemSourceFactory(), ...(plugin.sources ?? [])]) this.sources.set(f.type, f);
    const names = new Set<string>();
    for (const t of plugin.tables) {
      if (names.has(t.name)) throw new TailkitError(Code.InvalidArgument, `plugin ${plugin.name}: table ${t.name} is defined twice`);
      names.add(t.name);
      this.tableConfigSchemas.set(t.name, tableConfigSchema(t.configSchema));
      for (const s of Object.keys(t.sources)) {
        if (!this.sources.has(s)) throw new TailkitError(Code.InvalidArgument, `plugin ${plugin.name}: table ${t.name} names unknown source type ${s}`);
      }
      // Said when the plugin starts, not at the first Collect of that source.
      const problems = tableSourceProblems(t, (type) => !isRowSourceFactory(this.sources.get(type)!));
      if (problems.length > 0) throw new TailkitError(Code.InvalidArgument, `plugin ${plugin.name}: ${problems.join("; ")}`);
    }
  }

  /**
   * Does ahead what the first Collect would otherwise do on its way: compiles the config schemas and loads the SQLite
   * driver of the default state, as steps that a plugin executable runs one per turn of the event loop right after
   * its handshake, so that the host's first calls are answered in between.
   */
  warmSteps(): (() => void)[] {
    const schemas = [...[...this.sources.values()].map((s) => s.configSchema), ...this.tableConfigSchemas.values()];
    return [loadSqliteDriver, ...schemas.map((schema) => () => warmSchemas([schema]))];
  }

  /**
   * Loads the data-source modules the config names into the catalogue, once; serve() and collectInProcess wait for it
   * before the first Collect. Throws INVALID_ARGUMENT naming a module that does not load or makes no data sources.
   */
  loadDataSources(): Promise<void> {
    this.modulesLoaded ??= registerModules(this.catalog, pluginSetup(this.plugin.name, this.dataSourcesConfig)).then(() => {
      this.modulesReady = true;
    });
    return this.modulesLoaded;
  }

  /** The plugin's data sources outside collections (the gRPC data-source service reads and writes these). */
  get dataSources(): DataSourceRegistry {
    return this.catalog;
  }

  /** Whether a Collect has come: steps still to warm are no longer worth their time (the collection did its own). */
  get collecting(): boolean {
    return this.collectCalled;
  }

  /** The plugin's catalogue. */
  describe(): PluginDescription {
    return {
      plugin: { name: this.plugin.name, version: this.plugin.version, sdkVersion: SDK_VERSION },
      tables: this.plugin.tables.map((t) => ({
        name: t.name,
        description: t.description,
        sourceTypes: Object.keys(t.sources),
        rowSchema: withTpFields(t.rowSchema),
        configSchema: this.tableConfigSchemas.get(t.name)!,
        sourceDefaults: Object.fromEntries(Object.entries(t.sources).map(([k, v]) => [k, v.defaults ?? {}])),
        dataSources: (t.dataSources ?? []).map((r) => ({ namespace: r.namespace, id: r.id, version: r.version })),
      })),
      sources: [...this.sources.values()].map((s) => ({ type: s.type, description: s.description, configSchema: s.configSchema })),
      dataSources: this.catalog.list().map((s): DataSourceDescription => ({
        namespace: s.namespace(),
        id: s.id(),
        version: s.version(),
        writeable: isWriteable(s),
        keys: s.keys().map((k) => ({ name: k.name, description: k.description ?? "", schema: k.schema })),
        valueSchema: s.schema(),
        entrySchema: isWriteable(s) ? s.entrySchema() : {},
      })),
    };
  }

  /**
   * Every event from now on. Executions already known are summarised first (started and latest status, or complete),
   * so an observer that attaches late still learns how each one ended.
   */
  observe(): Observable<CollectionEvent> {
    return new Observable<CollectionEvent>((subscriber) => {
      for (const rec of this.executions.values()) {
        if (rec.complete) {
          subscriber.next(rec.complete);
          continue;
        }
        if (rec.started) subscriber.next(rec.started);
        if (rec.lastStatus) subscriber.next(rec.lastStatus);
      }
      const sub = this.subject.subscribe(subscriber);
      return () => sub.unsubscribe();
    });
  }

  /** Validates the request and starts the execution; returns its id at once. Throws INVALID_ARGUMENT naming the bad field. */
  collect(req: CollectOptions): string {
    this.collectCalled = true;
    if (!req.table) throw invalidArgument("table", "is required");
    const { table, tableConfig } = this.resolveTable(req);
    if (!this.modulesReady) {
      throw new TailkitError(Code.FailedPrecondition, "data_sources: the data-source modules are not loaded yet (PluginRuntime.loadDataSources)", {
        field: "data_sources",
      });
    }
    // Before anything is opened or read: a table without the data sources it was written for would write wrong rows.
    this.catalog.check(table.dataSources, `table ${table.name}`);
    const sourceType = req.source?.type;
    if (!sourceType) throw invalidArgument("source.type", "is required");
    const support = table.sources[sourceType];
    const factory = this.sources.get(sourceType);
    if (!support || !factory) {
      throw invalidArgument(
        "source.type",
        `table ${table.name} cannot collect from source type ${JSON.stringify(sourceType)}; it accepts ${Object.keys(table.sources).join(", ")}`,
      );
    }
    const sourceConfig = validateConfig<Record<string, unknown>>(factory.configSchema, { ...support.defaults, ...req.source.config }, "source.config");
    checkTableSource(table, sourceType, tableConfig, this.catalog);
    if (!req.outputDir) throw invalidArgument("output_dir", "is required");
    const rowsPerChunk = req.rowsPerChunk || 10_000;
    if (!Number.isInteger(rowsPerChunk) || rowsPerChunk < 1 || rowsPerChunk > MAX_ROWS_PER_CHUNK) {
      throw invalidArgument("rows_per_chunk", `must be an integer from 1 to ${MAX_ROWS_PER_CHUNK}`);
    }
    if (req.from && req.to && req.from.getTime() >= req.to.getTime()) throw invalidArgument("from", "must be before to");
    const executionId = req.executionId || newExecutionId();
    if (!EXECUTION_ID.test(executionId)) throw invalidArgument("execution_id", "must be 1-128 letters, digits, '_' or '.'");
    if (this.executions.has(executionId))
      throw new TailkitError(Code.AlreadyExists, `execution_id: ${executionId} is already in use`, { field: "execution_id" });
    const outputDir = resolve(req.outputDir);
    try {
      createOutputDirectory(outputDir, "output_dir");
    } catch (err) {
      // A folder that cannot be made or written is a bad request, whatever the errno: refused before anything runs.
      const e = TailkitError.from(err);
      throw new TailkitError(Code.InvalidArgument, e.message, { ...e.details, field: "output_dir" }, { cause: err });
    }
    refuseUsedExecutionId(outputDir, executionId);
    const stateLocation = parseStateLocation(req.state ?? "", outputDir);
    let source;
    try {
      source = factory.create(sourceConfig);
    } catch (err) {
      // Sources name fields relative to their own config; the caller knows them under source.config.
      const e = TailkitError.from(err, Code.InvalidArgument);
      if (e.details.field && !e.details.field.startsWith("source.")) {
        throw new TailkitError(e.code, `source.config.${e.message}`, { ...e.details, field: `source.config.${e.details.field}` });
      }
      throw e;
    }

    const abort = new AbortController();
    const dataSources = collectionSetup(this.plugin.name, this.dataSourcesConfig, stateLocation, outputDir);
    const rec: ExecutionRecord = { abort, done: Promise.resolve(), dataSources, rowSchema: table.rowSchema };
    this.executions.set(executionId, rec);
    const common = {
      executionId,
      table,
      tableConfig,
      partition: req.partition || "default",
      sourceType,
      sourceName: typeof sourceConfig["name"] === "string" ? sourceConfig["name"] : sourceType,
      from: req.from,
      to: req.to,
      outputDir,
      rowsPerChunk,
      statusIntervalMs: this.options.statusIntervalMs,
      state: { location: stateLocation, plugin: this.plugin.name, recollect: req.recollect ?? false },
      signal: abort.signal,
      emit: (e: CollectionEvent) => this.publish(rec, e),
      dataSources,
    };
    if (isRowSourceFactory(factory) && (source as RowSource).push) rec.stop = new AbortController();
    rec.done = isRowSourceFactory(factory)
      ? runRowExecution({ ...common, source: source as RowSource, stop: rec.stop?.signal })
      : runExecution({
          ...common,
          source: source as ArtifactSource,
          pluginModule: this.plugin.module,
          pluginName: this.plugin.name,
          tempRoot: this.options.tempRoot,
        });
    return executionId;
  }

  /**
   * The table a Collect names, with its checked config: one of the plugin's tables, else, when the plugin has custom
   * tables, the one its table config defines (checked here, so a bad definition fails the request naming its field).
   */
  private resolveTable(req: CollectOptions): { table: TableDefinition<unknown>; tableConfig: unknown } {
    const table = this.plugin.tables.find((t) => t.name === req.table) as TableDefinition<unknown> | undefined;
    if (table) return { table, tableConfig: validateConfig<unknown>(this.tableConfigSchemas.get(table.name)!, req.tableConfig ?? {}, "table_config") };
    const custom = this.plugin.customTables;
    const known = this.plugin.tables.map((t) => t.name).join(", ") || "none";
    if (!custom) throw invalidArgument("table", `unknown table ${JSON.stringify(req.table)}; this plugin has ${known}`);
    if (req.tableConfig?.["definition"] === undefined) {
      throw invalidArgument(
        "table_config.definition",
        `table ${JSON.stringify(req.table)} is not one of this plugin's (${known}), so its table config must define it (tailkit collect --table-def @file)`,
      );
    }
    const tableConfig = validateConfig<Record<string, unknown>>(tableConfigSchema(custom.configSchema), req.tableConfig, "table_config");
    const made = custom.create(req.table, tableConfig) as TableDefinition<unknown>;
    for (const s of Object.keys(made.sources)) {
      if (!this.sources.has(s)) throw new TailkitError(Code.Internal, `plugin ${this.plugin.name}: custom table ${made.name} names unknown source type ${s}`);
    }
    const problems = tableSourceProblems(made, (type) => !isRowSourceFactory(this.sources.get(type)!));
    if (problems.length > 0) throw new TailkitError(Code.Internal, `plugin ${this.plugin.name}: ${problems.join("; ")}`);
    return { table: made, tableConfig };
  }

  /** The row schema of an execution's table, as its Collect resolved it (a custom table's included). */
  rowSchemaOf(executionId: string): JSONSchema | undefined {
    return this.executions.get(executionId)?.rowSchema;
  }

  /**
   * Cancels running executions and waits for their complete events. A push source's execution (a webhook) is asked to
   * stop instead: it stops taking rows, writes those it took and completes as usual; a second shutdown cancels it.
   */
  async shutdown(): Promise<void> {
    const running = [...this.executions.values()].filter((r) => !r.complete);
    for (const r of running) {
      if (r.stop !== undefined && !r.stop.signal.aborted) r.stop.abort();
      else r.abort.abort();
    }
    await Promise.all(running.map((r) => r.done));
    await Promise.all([...this.executions.values()].map((r) => r.recording ?? Promise.resolve()));
    this.catalog.close();
    this.subject.complete();
  }

  /** Resolves when every execution started so far has completed (and been recorded in tailkit/executions). */
  async idle(): Promise<void> {
    await Promise.all([...this.executions.values()].map((r) => r.done));
    await Promise.all([...this.executions.values()].map((r) => r.recording ?? Promise.resolve()));
  }

  private publish(rec: ExecutionRecord, e: CollectionEvent): void {
    if (e.type === "started") rec.started = e;
    else if (e.type === "status") rec.lastStatus = e;
    else if (e.type === "complete") {
      rec.complete = e;
      this.forgetOldExecutions();
    }
    if (e.type === "started" || e.type === "complete") this.record(rec, e);
    this.subject.next(e);
  }

  /**
   * Records the execution in tailkit/executions as it starts and ends. Best effort: a store that cannot take the
   * record does not fail the collection, whose rows are good; it is said on stderr.
   */
  private record(rec: ExecutionRecord, e: StartedEvent | CompleteEvent): void {
    const setup = rec.dataSources;
    if (setup === undefined) return;
    rec.recording = (rec.recording ?? Promise.resolve()).then(async () => {
      try {
        const executions = (await registryFor(setup)).getDataSource("tailkit", "executions") as ExecutionsDataSource;
        if (e.type === "started") executions.started(e);
        else executions.completed(e, rec.started);
      } catch (err) {
        process.stderr.write(`${this.plugin.name}: tailkit/executions: ${err instanceof Error ? err.message : String(err)}\n`);
      }
    });
  }

  private forgetOldExecutions(): void {
    const keep = this.options.keepCompleted ?? 100;
    const done = [...this.executions.entries()].filter(([, r]) => r.complete);
    for (const [id] of done.slice(0, Math.max(0, done.length - keep))) this.executions.delete(id);
  }
}
