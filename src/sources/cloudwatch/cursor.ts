/** An event's place in a stream's order: by timestamp, then by eventId, so that every read of a stream agrees. */
export type EventKey = readonly [timestamp: number, eventId: string];

/**
 * What a stream's cursor keeps: every event stamped before `since` that will ever be collected has been; of those
 * stamped at or after it, exactly `ids` have. The last of `ids` is the newest event collected.
 */
export interface LogStreamCursor {
  since: number;
  /** [timestamp, eventId] of the events collected stamped at or after `since`, in (timestamp, eventId) order. */
  ids: [number, string][];
}

/** Orders events by (timestamp, eventId). */
export function compareKeys(a: EventKey, b: EventKey): number {
  return a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0);
}

/**
 * The cursor once `events` are collected too: `since` follows the newest event less the lag (never going back), and
 * the ids stamped before it are let go. More than `maxIds` ids move `since` up to keep the newest `maxIds` (all the
 * ids of one millisecond are kept together, so one millisecond is never half remembered).
 */
export function advanceCursor(
  cursor: LogStreamCursor | undefined,
  events: readonly { timestamp: number; eventId: string }[],
  lagMs: number,
  maxIds: number,
): LogStreamCursor {
  const all: [number, string][] = [...(cursor?.ids ?? []), ...events.map((e): [number, string] => [e.timestamp, e.eventId])].sort(compareKeys);
  if (all.length === 0) return cursor ?? { since: 0, ids: [] };
  let since = Math.max(cursor?.since ?? -Infinity, all[all.length - 1]![0] - lagMs);
  let first = all.findIndex((k) => k[0] >= since);
  if (all.length - first > maxIds) {
    since = all[all.length - maxIds]![0];
    first = all.findIndex((k) => k[0] >= since);
  }
  return { since, ids: all.slice(first) };
}
