import { Code, TailkitError } from "../errors/index.js";
import { dataSourceName, type DataSource, type DataSourceLookup, type DataSourceRequirement } from "../contract/data-source.js";

/** Data sources by (namespace, id): what tables, mappers and the gRPC data-source service look them up in. */
export class DataSourceRegistry implements DataSourceLookup {
  private readonly byName = new Map<string, DataSource>();

  /** Adds a data source; ALREADY_EXISTS when one is registered under its (namespace, id). */
  register(source: DataSource): void {
    const name = dataSourceName(source);
    if (!Number.isInteger(source.version()) || source.version() < 1) {
      throw new TailkitError(Code.InvalidArgument, `data source ${name}: version must be a positive integer, got ${source.version()}`);
    }
    if (this.byName.has(name)) throw new TailkitError(Code.AlreadyExists, `data source ${name} is already registered`);
    this.byName.set(name, source);
  }

  /** The data source registered under (namespace, id), or undefined. */
  getDataSource(namespace: string, id: string): DataSource | undefined {
    return this.byName.get(`${namespace}/${id}`);
  }

  /** Every registered data source, in the order of registration. */
  list(): DataSource[] {
    return [...this.byName.values()];
  }

  /**
   * Checks that every requirement is registered in its version; throws INVALID_ARGUMENT (field "data_sources") naming
   * the first that is missing or of another version, for `who` ("table aws_vpc_flow_log").
   */
  check(requirements: readonly DataSourceRequirement[] | undefined, who: string): void {
    for (const r of requirements ?? []) {
      const name = `${r.namespace}/${r.id}`;
      const found = this.getDataSource(r.namespace, r.id);
      if (found === undefined) {
        const known = this.list().map(dataSourceName);
        throw new TailkitError(
          Code.InvalidArgument,
          `data_sources: ${who} needs data source ${name} (version ${r.version}), which is not registered${known.length ? `; registered: ${known.join(", ")}` : ""}`,
          { field: "data_sources" },
        );
      }
      if (found.version() !== r.version) {
        throw new TailkitError(
          Code.InvalidArgument,
          `data_sources: ${who} needs data source ${name} version ${r.version}, but version ${found.version()} is registered`,
          { field: "data_sources" },
        );
      }
    }
  }

  /** Forgets what every cache holds: called as an execution starts, so it reads what others wrote before. */
  refresh(): void {
    for (const s of this.byName.values()) s.refresh?.();
  }

  /** Closes every data source; the registry is empty afterwards. */
  close(): void {
    for (const s of this.byName.values()) {
      try {
        s.close?.();
      } catch {
        // Closing is best effort: the process may be on its way out.
      }
    }
    this.byName.clear();
  }
}
