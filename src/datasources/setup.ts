import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { Code, TailkitError } from "../errors/index.js";
import type { DataSource } from "../contract/data-source.js";
import { parseStateLocation, type StateLocation } from "../state/location.js";
import { ArtifactsDataSource, ExecutionsDataSource } from "./collected.js";
import { DnsDataSource, validateDnsOptions, type DnsOptions } from "./dns.js";
import { DataSourceRegistry } from "./registry.js";
import { openDataSourceStore, storageBesideState, type DataSourceStorage } from "./storage.js";

/**
 * The data-source part of a plugin's config (serve() reads it from the TAILKIT_DATA_SOURCES environment variable, as
 * JSON; collectInProcess and PluginRuntime take it as an option). Defaults in each field's comment.
 */
export interface DataSourcesConfig {
  /**
   * Where the built-in data sources keep their entries: an SQLite file path (`sqlite:<path>` or a plain path) or
   * `redis://host:port/prefix`. Default: beside each collection's state (`datasources.sqlite` next to its SQLite
   * state, the same Redis under `<prefix>:ds:`), and nowhere for the gRPC service outside collections.
   */
  storage?: string;
  /** Options of tailkit/dns. */
  dns?: DnsOptions;
  /**
   * Modules (paths or file: URLs) whose default export makes data sources: `(ctx) => DataSource | DataSource[]`, or
   * a promise of that. They are loaded in every thread that extracts. Default none.
   */
  modules?: string[];
}

/** What a data-source module's factory is given. */
export interface DataSourceModuleContext {
  /** The plugin's name. */
  plugin: string;
  /** The data-source storage as a location string (see DataSourcesConfig.storage), when there is one. */
  storage: string | undefined;
}

/** The factory a data-source module exports by default. */
export type DataSourceModuleFactory = (ctx: DataSourceModuleContext) => DataSource | DataSource[] | Promise<DataSource | DataSource[]>;

/** The data sources of one thread for one storage: plain data, so that it crosses into extraction workers. */
export interface DataSourcesSetup {
  plugin: string;
  /** Where dns and executions keep their entries; undefined: they fail with FAILED_PRECONDITION when used. */
  storage?: DataSourceStorage | undefined;
  /** The collection state that tailkit/artifacts reads; undefined: it fails with FAILED_PRECONDITION. */
  state?: StateLocation | undefined;
  dns?: DnsOptions | undefined;
  /** Absolute file: URLs. */
  modules?: string[] | undefined;
}

/** Checks a DataSourcesConfig; throws INVALID_ARGUMENT naming the field (under `data_sources.`). */
export function validateDataSourcesConfig(config: DataSourcesConfig): DataSourcesConfig {
  if (config === null || typeof config !== "object" || Array.isArray(config)) {
    throw new TailkitError(Code.InvalidArgument, "data_sources: must be an object", { field: "data_sources" });
  }
  for (const k of Object.keys(config)) {
    if (!["storage", "dns", "modules"].includes(k)) {
      throw new TailkitError(Code.InvalidArgument, `data_sources.${k}: unknown field (known: storage, dns, modules)`, { field: `data_sources.${k}` });
    }
  }
  if (config.storage !== undefined) parseStorage(config.storage);
  if (config.dns !== undefined) validateDnsOptions(config.dns, "data_sources.dns");
  if (config.modules !== undefined && (!Array.isArray(config.modules) || config.modules.some((m) => typeof m !== "string" || m === ""))) {
    throw new TailkitError(Code.InvalidArgument, "data_sources.modules: must be a list of module paths", { field: "data_sources.modules" });
  }
  return config;
}

/** A storage location string → DataSourceStorage; INVALID_ARGUMENT for PostgreSQL, which has no synchronous module. */
export function parseStorage(location: string): DataSourceStorage {
  let loc: StateLocation;
  try {
    loc = parseStateLocation(location, ".");
  } catch (err) {
    const e = TailkitError.from(err);
    throw new TailkitError(Code.InvalidArgument, e.message.replace(/^state:/, "data_sources.storage:"), { field: "data_sources.storage" });
  }
  if (loc.backend === "postgres") {
    throw new TailkitError(
      Code.InvalidArgument,
      "data_sources.storage: PostgreSQL has no synchronous module, and lookups are synchronous; use SQLite or Redis",
      {
        field: "data_sources.storage",
      },
    );
  }
  return loc.backend === "sqlite"
    ? { backend: "sqlite", path: loc.path }
    : { backend: "redis", host: loc.host, port: loc.port, db: loc.db, keyPrefix: loc.keyPrefix };
}

/** The setup of a collection: the configured storage, else the one beside its state. */
export function collectionSetup(plugin: string, config: DataSourcesConfig, state: StateLocation, outputDir: string): DataSourcesSetup {
  return {
    plugin,
    storage: config.storage !== undefined ? parseStorage(config.storage) : storageBesideState(state, outputDir),
    state,
    dns: config.dns,
    modules: moduleUrls(config.modules),
  };
}

/** The setup outside any collection (the gRPC data-source service): only what the config names. */
export function pluginSetup(plugin: string, config: DataSourcesConfig): DataSourcesSetup {
  return { plugin, storage: config.storage !== undefined ? parseStorage(config.storage) : undefined, dns: config.dns, modules: moduleUrls(config.modules) };
}

function moduleUrls(modules: string[] | undefined): string[] | undefined {
  return modules?.map((m) => (/^[a-z][a-z0-9+.-]*:/i.test(m) && !isAbsolute(m) ? m : pathToFileURL(resolve(m)).href));
}

function unconfigured(what: string): never {
  throw new TailkitError(Code.FailedPrecondition, `${what} has no storage here: set data_sources.storage in the plugin's config (TAILKIT_DATA_SOURCES)`);
}

/** The built-in data sources of namespace "tailkit" for a setup; stores open on first use. */
export function builtInDataSources(setup: DataSourcesSetup): DataSource[] {
  const { storage, state } = setup;
  const dnsStore = (): ReturnType<typeof openDataSourceStore> => (storage ? openDataSourceStore(storage, "tailkit_dns") : unconfigured("tailkit/dns"));
  const execStore = (): ReturnType<typeof openDataSourceStore> =>
    storage ? openDataSourceStore(storage, "tailkit_executions") : unconfigured("tailkit/executions");
  const stateStore = (): ReturnType<typeof openDataSourceStore> => {
    if (state === undefined) return unconfigured("tailkit/artifacts");
    if (state.backend === "postgres")
      throw new TailkitError(Code.FailedPrecondition, "tailkit/artifacts cannot read PostgreSQL state: it has no synchronous module");
    // Collection state's own table and key space (src/state/store.ts), read by the synchronous module.
    return state.backend === "sqlite"
      ? openDataSourceStore({ backend: "sqlite", path: state.path }, "tailkit_collection_state")
      : openDataSourceStore({ backend: "redis", host: state.host, port: state.port, db: state.db, keyPrefix: "" }, state.keyPrefix.replace(/:$/, ""));
  };
  return [new ArtifactsDataSource(stateStore, setup.plugin), new ExecutionsDataSource(execStore), new DnsDataSource(dnsStore, setup.dns ?? {})];
}

/** A registry of the built-ins of a setup, without its modules' sources (registerModules adds them). */
export function createBuiltInRegistry(setup: DataSourcesSetup): DataSourceRegistry {
  const registry = new DataSourceRegistry();
  for (const s of builtInDataSources(setup)) registry.register(s);
  return registry;
}

/** Registers what each module's factory gives. */
export async function registerModules(registry: DataSourceRegistry, setup: DataSourcesSetup): Promise<void> {
  const storage =
    setup.storage === undefined ? undefined : setup.storage.backend === "sqlite" ? setup.storage.path : `redis://${setup.storage.host}:${setup.storage.port}`;
  for (const url of setup.modules ?? []) {
    let mod: { default?: unknown };
    try {
      mod = (await import(url)) as { default?: unknown };
    } catch (err) {
      throw new TailkitError(Code.InvalidArgument, `data_sources.modules: cannot import ${url}: ${(err as Error).message}`, { field: "data_sources.modules" });
    }
    if (typeof mod.default !== "function") {
      throw new TailkitError(Code.InvalidArgument, `data_sources.modules: ${url} has no default export that makes data sources`, {
        field: "data_sources.modules",
      });
    }
    const made = await (mod.default as DataSourceModuleFactory)({ plugin: setup.plugin, storage });
    for (const s of Array.isArray(made) ? made : [made]) registry.register(s);
  }
}

const registries = new Map<string, Promise<DataSourceRegistry>>();

/**
 * The registry of this thread for `setup`, made once (each worker thread has its own, with its own store handles and
 * caches): the built-ins, then the modules' sources.
 */
export function registryFor(setup: DataSourcesSetup): Promise<DataSourceRegistry> {
  const key = JSON.stringify(setup);
  let r = registries.get(key);
  if (r === undefined) {
    r = (async () => {
      const registry = createBuiltInRegistry(setup);
      await registerModules(registry, setup);
      return registry;
    })();
    registries.set(key, r);
    // A setup that failed is tried again next time (a module fixed meanwhile).
    r.catch(() => registries.delete(key));
  }
  return r;
}

/** Closes and forgets every registry of this thread (tests, and a plugin's shutdown). */
export async function closeRegistries(): Promise<void> {
  const all = [...registries.values()];
  registries.clear();
  for (const r of all) (await r.catch(() => undefined))?.close();
}
