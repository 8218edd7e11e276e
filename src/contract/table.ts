import type { Loader } from "./loader.js";
import type { Mapper } from "./mapper.js";
import type { EnrichContext, TableEnrichment } from "./row.js";
import type { JSONSchema } from "./schema.js";
import type { DataSourceRequirement, TableInitContext } from "./data-source.js";

declare const chainTypes: unique symbol;

/**
 * Mappers applied in order, whose first takes items of type In and whose last gives rows of type Out. Made by chain(),
 * which checks at compile time that each mapper takes what the one before gives; at run time it is the array.
 */
export interface Chain<In, Out> extends ReadonlyArray<Mapper<never, unknown>> {
  /** Type only: never set. */
  readonly [chainTypes]?: (item: In) => Out;
}

/** How a table reads one source type it accepts. */
export interface TableSource<Config = Record<string, unknown>, Item = unknown, R extends object = Record<string, unknown>> {
  /** Laid under the user's config of this source (e.g. the AWS file layout); what the user gives wins. */
  readonly defaults?: Record<string, unknown>;
  /**
   * Opens this source's artifacts (files, objects); default: the table's loader. An artifact source needs one or the
   * other; a row source (an API, a webhook) yields items itself and uses none.
   */
  loader?(config: Config, ctx: TableInitContext): Loader<Item>;
  /** Turns each item of this source into rows (see chain()); default: the table's mappers. `ctx` gives data sources. */
  mappers?(config: Config, ctx: TableInitContext): Chain<Item, R>;
}

/**
 * A table a plugin collects: the source types it accepts, how each one's items become rows, and the table's own
 * common fields of a row. Define one with defineTable, which checks the types.
 */
export interface TableDefinition<Config = Record<string, unknown>, R extends object = Record<string, unknown>> {
  readonly name: string;
  readonly description: string;
  /**
   * JSON Schema of the rows, published by Describe. Its `required` fields are checked on every row: a row without one
   * is a "validate" row error naming the field.
   */
  readonly rowSchema: JSONSchema;
  /** JSON Schema of the table's own config; default: an object with no required fields. */
  readonly configSchema?: JSONSchema;
  /** Source types this table accepts, each with its defaults and, where it reads otherwise, its loader and mappers. */
  // The item type differs between sources; each entry was checked against its own by defineTable.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly sources: Readonly<Record<string, TableSource<Config, any, R>>>;
  /** The loader of sources that name none. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  loader?(config: Config, ctx: TableInitContext): Loader<any>;
  /** The mappers of sources that name none. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  mappers?(config: Config, ctx: TableInitContext): Chain<any, R>;
  /**
   * Data sources the table reads, with the version each was written for: a Collect of the table fails with
   * INVALID_ARGUMENT naming one that is missing or of another version, before any row is read. Describe lists them.
   */
  readonly dataSources?: readonly DataSourceRequirement[];
  /** Table-specific tp_* fields of a mapped row; throw to reject the row (an "enrich" row error). */
  enrich(row: R, ctx: EnrichContext): TableEnrichment;
}

/**
 * Defines a table, checking that every source's loader yields what its first mapper takes and that its mappers end in
 * rows of type R, the type enrich reads. `R` is usually inferred from enrich's parameter.
 */
export function defineTable<
  R extends object,
  Config = Record<string, unknown>,
  Item = unknown,
  Items extends Record<string, unknown> = Record<string, unknown>,
>(
  table: Omit<TableDefinition<Config, R>, "sources" | "loader" | "mappers"> & {
    readonly sources: { readonly [K in keyof Items]: TableSource<Config, Items[K], R> };
    loader?(config: Config, ctx: TableInitContext): Loader<Item>;
    mappers?(config: Config, ctx: TableInitContext): Chain<Item, R>;
  },
): TableDefinition<Config, R> {
  return table;
}

/** A mapper chain of one mapper. */
export function chain<A, B>(m1: Mapper<A, B>): Chain<A, B>;
/** A mapper chain of two mappers, the second taking what the first gives. */
export function chain<A, B, C>(m1: Mapper<A, B>, m2: Mapper<B, C>): Chain<A, C>;
export function chain<A, B, C, D>(m1: Mapper<A, B>, m2: Mapper<B, C>, m3: Mapper<C, D>): Chain<A, D>;
export function chain<A, B, C, D, E>(m1: Mapper<A, B>, m2: Mapper<B, C>, m3: Mapper<C, D>, m4: Mapper<D, E>): Chain<A, E>;
export function chain<A, B, C, D, E, F>(m1: Mapper<A, B>, m2: Mapper<B, C>, m3: Mapper<C, D>, m4: Mapper<D, E>, m5: Mapper<E, F>): Chain<A, F>;
export function chain(...mappers: Mapper<never, unknown>[]): Chain<unknown, unknown> {
  return mappers;
}
