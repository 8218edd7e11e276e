import type { ArtifactInfo } from "./source.js";

/** Where an item comes from, for mappers that need it and for error messages. */
export interface MapContext {
  artifact: ArtifactInfo;
  /** Index of the item within the artifact, as the loader produced it (line number - 1, document number). */
  itemIndex: number;
}

/**
 * Turns one item into rows. Synchronous on purpose: it runs once per record on the hot path.
 * Return one row, an array of rows (an extractor such as CloudTrail's Records[]), or undefined to drop the item.
 * Throw to reject the item: the chain records a row error for the "map" operation and goes on.
 */
export interface Mapper<In = unknown, Out = unknown> {
  readonly name: string;
  map(item: In, ctx: MapContext): Out | Out[] | undefined;
}
