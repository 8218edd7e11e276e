import type { ArtifactInfo } from "../../contract/source.js";

/** How an API source retries a call the API refused for now (throttled, 5xx, connection dropped). */
export interface RetryOptions {
  /** Attempts in all, the first included, before the call fails. Default 8. */
  attempts?: number;
  /** Delay before the first retry, in ms; it doubles each retry, up to maxDelayMs. Default 250. */
  baseDelayMs?: number;
  /** Longest delay between two attempts, in ms. Default 20,000. */
  maxDelayMs?: number;
}

/** One stream an API source reads: the key its cursor is kept under, and what collection state counts its rows as. */
export interface ApiStream {
  /** Stable identity of the stream within the source; the folded cursor is keyed by it. */
  key: string;
  info: ArtifactInfo;
}

/** Items read from one stream at once, and the stream's cursor after them (any JSON value). */
export interface StreamPage<Item, StreamCursor> {
  items: Item[];
  cursor: StreamCursor;
}

/** The cursor an API source saves: each stream's cursor, by stream key. */
export interface FoldedCursor<StreamCursor> {
  version: 1;
  streams: Record<string, StreamCursor>;
}
