import type { JSONSchema } from "./schema.js";
import type { SourceFactory } from "./source.js";
import type { TableDefinition } from "./table.js";

/**
 * Tables a plugin makes at Collect from a definition in the table config, under the name the request gives (the core
 * plugin's custom tables). The runtime checks the table config against configSchema, then calls create; extraction
 * workers call it again with the same name and config, so it must give the same table.
 */
export interface CustomTableFactory {
  /** JSON Schema of the table config that defines a table. */
  readonly configSchema: JSONSchema;
  /** Source types every custom table accepts. */
  readonly sourceTypes: readonly string[];
  /** The table named `name` as `tableConfig` defines it; throws INVALID_ARGUMENT naming the field for a bad definition. */
  create(name: string, tableConfig: Record<string, unknown>): TableDefinition;
}

/** A plugin: its tables and the source types they can read. */
export interface PluginDefinition {
  readonly name: string;
  readonly version: string;
  /**
   * URL of the module that exports this definition (pass `import.meta.url`). With it the SDK can load the tables in
   * worker threads and extract on every core; without it extraction runs on the main thread.
   */
  readonly module?: string | undefined;
  // Tables and sources are heterogeneous in their config types; the runtime validates configs against their schemas.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly tables: readonly TableDefinition<any, any>[];
  /** Source types offered besides the built-in ones ("file"): artifact sources and row sources. */
  readonly sources?: readonly SourceFactory[];
  /** Tables defined at Collect by their table config, for names that are not among `tables`. Default none. */
  readonly customTables?: CustomTableFactory | undefined;
}

/** One Collect call in domain form (the wire form is CollectRequest). */
export interface CollectOptions {
  table: string;
  /** Partition name; default "default". */
  partition?: string;
  source: { type: string; config?: Record<string, unknown> };
  tableConfig?: Record<string, unknown>;
  from?: Date;
  to?: Date;
  outputDir: string;
  /** Default: a new unique id. */
  executionId?: string;
  /** Default 10,000. */
  rowsPerChunk?: number;
  /** State location (see parseStateLocation); default: SQLite under outputDir/.tailkit/. */
  state?: string;
  /** Collect every artifact again, ignoring what state says was collected. Default false. */
  recollect?: boolean;
}

/** What Describe returns, in domain form. */
export interface PluginDescription {
  plugin: { name: string; version: string; sdkVersion: string };
  tables: {
    name: string;
    description: string;
    sourceTypes: string[];
    rowSchema: Record<string, unknown>;
    configSchema: Record<string, unknown>;
    sourceDefaults: Record<string, Record<string, unknown>>;
    /** Data sources the table reads, each with the version it needs. */
    dataSources: { namespace: string; id: string; version: number }[];
  }[];
  sources: { type: string; description: string; configSchema: Record<string, unknown> }[];
  /** Data sources the plugin holds. */
  dataSources: DataSourceDescription[];
}

/** A data source as Describe lists it. */
export interface DataSourceDescription {
  namespace: string;
  id: string;
  version: number;
  writeable: boolean;
  keys: { name: string; description: string; schema: Record<string, unknown> }[];
  valueSchema: Record<string, unknown>;
  /** JSON Schema of one entry of write; {} for a source that is not writeable. */
  entrySchema: Record<string, unknown>;
}
