import { RowErrorItem, SKIPPED_LINE } from "../contract/loader.js";
import type { ArtifactInfo } from "../contract/source.js";
import type { MapContext, Mapper } from "../contract/mapper.js";

/** A position that produced no row: the item or row was rejected by a loader or a mapper. */
export interface RowErrorRecord {
  /** Position within the artifact, in the same numbering as the rows. */
  position: number;
  /** "load" for a loader's RowErrorItem, "map" for a mapper that threw, or the operation a RowErrorItem names. */
  operation: string;
  message: string;
  /** Index of the loaded item the error came from (for line loaders, line number - 1). */
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
  /**
   * Where positions stop following items one for one, as [position, item, step] triples in order: from `position` on,
   * position p is item `item + step * (p - position)` (step 0: every position of one item that gave several rows;
   * step 1: one item per position again). Nearly every item of a line file gives one position, so this stays short.
   */
  private marks: number[] = [];

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
      const itemIndex = this.nextItem++;
      const before = this.nextPosition;
      if (item !== SKIPPED_LINE) this.apply(0, item, { artifact: this.artifact, itemIndex }, out);
      const given = this.nextPosition - before;
      if (given !== 1) this.mark(before, itemIndex, given);
    }
    out.to = this.nextPosition;
    return out;
  }

  /**
   * The index of the item that gave `position` (a position handed out already; the latest ones are found fastest).
   * For a line loader, the line number - 1 of a row: what its row errors are numbered by.
   */
  itemOf(position: number): number {
    const m = this.marks;
    let i = m.length - 3;
    while (i >= 0 && m[i]! > position) i -= 3;
    if (i < 0) return position;
    return m[i + 1]! + m[i + 2]! * (position - m[i]!);
  }

  /** Forgets how positions below `position` map to items: their row errors are reported. */
  forgetBefore(position: number): void {
    const m = this.marks;
    let keep = m.length - 3;
    while (keep > 0 && m[keep]! > position) keep -= 3;
    if (keep > 0) m.splice(0, keep);
  }

  /** Records that item `item`, which began at `position`, gave `given` positions instead of one. */
  private mark(position: number, item: number, given: number): void {
    const m = this.marks;
    // Several items in a row that give nothing leave one mark: the one where the next item starts.
    if (m.length > 0 && m[m.length - 3] === position) m.length -= 3;
    if (given > 1) m.push(position, item, 0);
    m.push(position + given, item + 1, 1);
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
