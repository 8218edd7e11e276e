import { RowErrorItem } from "../loaders/types.js";
import type { ArtifactInfo } from "../sources/types.js";
import type { MapContext, Mapper } from "./types.js";

/** A position that produced no row: the item or row was rejected by a loader or a mapper. */
export interface RowErrorRecord {
  /** Position within the artifact, in the same numbering as the rows. */
  position: number;
  /** "load" for a loader's RowErrorItem, "map" for a mapper that threw, or the operation a RowErrorItem names. */
  operation: string;
  message: string;
  /** Index of the loaded item the error came from (for line loaders, line number - 1 unless lines were skipped). */
  itemIndex: number;
}

/** What one batch of items became. Rows and errors share one position counter, so together they fill [from, to). */
export interface MappedBatch {
  rows: unknown[];
  /** Position of each row, ascending; same length as rows. */
  positions: number[];
  errors: RowErrorRecord[];
  /** First position of this batch. */
  from: number;
  /** One past the last position of this batch; the next batch starts here. */
  to: number;
}

/**
 * Applies mappers, in order, to the items of one artifact, batch after batch. Synchronous on purpose: no promise per row.
 * One chain serves one artifact, because it numbers rows and errors across batches: a position is the row's place in
 * the artifact, stable from run to run, which is what chunk ranges and collection state record.
 */
export class MapperChain {
  private nextPosition = 0;
  private nextItem = 0;

  constructor(
    private readonly mappers: readonly Mapper[],
    private readonly artifact: ArtifactInfo,
  ) {}

  /** Positions handed out so far: the `to` of the last batch. */
  get position(): number {
    return this.nextPosition;
  }

  /** Items seen so far. */
  get itemCount(): number {
    return this.nextItem;
  }

  /** Maps one batch of loaded items; a failing item becomes an error record and the batch goes on. */
  map(items: readonly unknown[]): MappedBatch {
    const out: MappedBatch = { rows: [], positions: [], errors: [], from: this.nextPosition, to: this.nextPosition };
    for (const item of items) {
      const ctx: MapContext = { artifact: this.artifact, itemIndex: this.nextItem++ };
      this.apply(0, item, ctx, out);
    }
    out.to = this.nextPosition;
    return out;
  }

  private apply(stage: number, value: unknown, ctx: MapContext, out: MappedBatch): void {
    if (value instanceof RowErrorItem) {
      out.errors.push({
        position: this.nextPosition++,
        operation: value.operation,
        message: value.message,
        itemIndex: ctx.itemIndex,
      });
      return;
    }
    if (stage === this.mappers.length) {
      out.rows.push(value);
      out.positions.push(this.nextPosition++);
      return;
    }
    const mapper = this.mappers[stage]!;
    let result: unknown;
    try {
      result = mapper.map(value, ctx);
    } catch (err) {
      out.errors.push({
        position: this.nextPosition++,
        operation: "map",
        message: `${mapper.name}: ${err instanceof Error ? err.message : String(err)}`,
        itemIndex: ctx.itemIndex,
      });
      return;
    }
    if (result === undefined) return;
    if (Array.isArray(result)) {
      for (const v of result) if (v !== undefined) this.apply(stage + 1, v, ctx, out);
    } else {
      this.apply(stage + 1, result, ctx, out);
    }
  }
}

/** Creates the mapper chain of one artifact. */
export function createMapperChain(mappers: readonly Mapper[], artifact: ArtifactInfo): MapperChain {
  return new MapperChain(mappers, artifact);
}
