import { Code, TailkitError } from "../errors/index.js";
import type { Loader } from "../contract/loader.js";
import type { Mapper } from "../contract/mapper.js";
import type { TableDefinition, TableSource } from "../contract/table.js";
import type { TableInitContext } from "../contract/data-source.js";
import { lineFormatOf, type LineFormat } from "../collection/line-format.js";

/** How a table reads one of its source types, with the table's defaults filled in. */
export interface ResolvedTableSource {
  loader: Loader | undefined;
  mappers: readonly Mapper[];
  /** The byte-level fast path a table helper attached to the entry, if any. */
  lineFormat: LineFormat | undefined;
}

/**
 * What `table` does with items of `sourceType`: the entry's own loader and mappers, else the table's. Throws INTERNAL
 * when the table does not accept the source type (callers check that first, with a message for the user).
 */
export function resolveTableSource<C>(table: TableDefinition<C, object>, sourceType: string, config: C, ctx: TableInitContext): ResolvedTableSource {
  const entry: TableSource<C, unknown, object> | undefined = table.sources[sourceType];
  if (entry === undefined) throw new TailkitError(Code.Internal, `table ${table.name} does not accept source type ${sourceType}`);
  const mappers: readonly Mapper[] | undefined = entry.mappers !== undefined ? entry.mappers(config, ctx) : table.mappers?.(config, ctx);
  return {
    loader: entry.loader !== undefined ? entry.loader(config, ctx) : table.loader?.(config, ctx),
    mappers: mappers ?? [],
    lineFormat: lineFormatOf(entry),
  };
}

/**
 * Problems of a table's source entries that would only show at the first Collect: an artifact source type without a
 * loader, a source without mappers. `isArtifactSource` tells the source types that hand over artifacts.
 */
export function tableSourceProblems<C, R extends object>(table: TableDefinition<C, R>, isArtifactSource: (type: string) => boolean): string[] {
  const problems: string[] = [];
  for (const [type, entry] of Object.entries(table.sources)) {
    if (entry.mappers === undefined && table.mappers === undefined)
      problems.push(`table ${table.name}: source ${type} has no mappers, and the table gives none`);
    if (isArtifactSource(type) && entry.loader === undefined && table.loader === undefined && lineFormatOf(entry) === undefined) {
      problems.push(`table ${table.name}: source ${type} reads artifacts but has no loader, and the table gives none`);
    }
  }
  return problems;
}
