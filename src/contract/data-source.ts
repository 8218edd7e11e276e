import { Code, TailkitError } from "../errors/index.js";
import type { JSONSchema } from "./schema.js";

/** One kind of key a data source accepts: its name and a JSON Schema of such a key. */
export interface DataSourceKeyKind {
  readonly name: string;
  readonly description?: string;
  readonly schema: JSONSchema;
}

/**
 * A versioned lookup that mappers and tables read while rows are made (after Tracee's data sources): which domain an
 * address was resolved from, what is known of an artifact. `get` runs on the hot path, once per row, so it is
 * synchronous; implementations keep a bounded in-memory cache in front of their store.
 */
export interface DataSource<K = unknown, V = unknown> {
  namespace(): string;
  id(): string;
  /** A whole number; a change that breaks readers gets the next one. Tables declare the version they read. */
  version(): number;
  /** The kinds of key `get` accepts. */
  keys(): readonly DataSourceKeyKind[];
  /** JSON Schema of what `get` returns. */
  schema(): JSONSchema;
  /** The value of `key`. Throws KeyNotSupported for a key of no kind in keys(), DataNotFound when there is none. */
  get(key: K): V;
  /** As get, but undefined where get throws DataNotFound: a miss costs no exception. */
  lookup(key: K): V | undefined;
  /** Forgets what the cache holds, so that the next reads see what others wrote meanwhile. */
  refresh?(): void;
  /** Lets go of the store. */
  close?(): void;
}

/** A data source that others can feed: another process through gRPC, or a table's mapper. */
export interface WriteableDataSource<K = unknown, V = unknown, E = unknown> extends DataSource<K, V> {
  readonly writeable: true;
  /** JSON Schema of one entry `write` takes. */
  entrySchema(): JSONSchema;
  /** Stores the entries; throws FailedToUnmarshal, naming the entry and field, for one that is not valid (none is stored then). */
  write(entries: readonly E[]): void;
  /** Removes the entries of these keys (a missing one is no error). Throws KeyNotSupported for a key of no kind. */
  delete(keys: readonly K[]): void;
}

/**
 * The shared part of a data source: its name and version from the constructor, and `get` from `lookup` (DataNotFound
 * for a miss). A subclass gives keys(), schema() and lookup(), throwing KeyNotSupported for a key of no kind.
 */
export abstract class DataSourceBase<K = unknown, V = unknown> implements DataSource<K, V> {
  constructor(
    private readonly ns: string,
    private readonly name: string,
    private readonly v: number,
  ) {}

  namespace(): string {
    return this.ns;
  }
  id(): string {
    return this.name;
  }
  version(): number {
    return this.v;
  }
  abstract keys(): readonly DataSourceKeyKind[];
  abstract schema(): JSONSchema;
  abstract lookup(key: K): V | undefined;

  get(key: K): V {
    const v = this.lookup(key);
    if (v === undefined) throw new DataNotFound(`${this.ns}/${this.name}`, key);
    return v;
  }

  /** Throws KeyNotSupported for `key`, saying why. */
  protected refuse(key: unknown, why: string, field = "key"): never {
    throw new KeyNotSupported(`${this.ns}/${this.name}`, key, why, field);
  }
}

/** True for a data source that can be written to. */
export function isWriteable(source: DataSource): source is WriteableDataSource {
  return (source as Partial<WriteableDataSource>).writeable === true && typeof (source as Partial<WriteableDataSource>).write === "function";
}

/** A data source a table reads, and the version it was written for. */
export interface DataSourceRequirement {
  readonly namespace: string;
  readonly id: string;
  readonly version: number;
}

/** How tables, mappers and loaders reach data sources: given to them when they are made, and to enrich. */
export interface DataSourceLookup {
  /** The data source registered under (namespace, id), or undefined. */
  getDataSource(namespace: string, id: string): DataSource | undefined;
}

/** What a table's loader and mappers are made with, besides the config. */
export type TableInitContext = DataSourceLookup;

/** `get` of a key that has no value. NOT_FOUND. */
export class DataNotFound extends TailkitError {
  constructor(source: string, key: unknown) {
    super(Code.NotFound, `${source}: no data for key ${JSON.stringify(key)}`, { field: "key" });
  }
}

/** A key of no kind the data source accepts. INVALID_ARGUMENT naming the field. */
export class KeyNotSupported extends TailkitError {
  constructor(source: string, key: unknown, why: string, field = "key") {
    super(Code.InvalidArgument, `${field}: ${source} does not take key ${JSON.stringify(key)}: ${why}`, { field });
  }
}

/** A value given to write that is not a valid entry. INVALID_ARGUMENT naming the field (e.g. "entries[2].ips[0]"). */
export class FailedToUnmarshal extends TailkitError {
  constructor(field: string, why: string) {
    super(Code.InvalidArgument, `${field}: ${why}`, { field });
  }
}

/** "namespace/id", as messages name a data source. */
export function dataSourceName(source: Pick<DataSource, "namespace" | "id">): string {
  return `${source.namespace()}/${source.id()}`;
}
