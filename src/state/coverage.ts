/**
 * What of an artifact has been collected, as time windows over its positions.
 *
 * A collection with a time range (`--from`/`--to`) writes only the rows inside that range, so "positions [0, n) are
 * collected" is true only for those times. State therefore keeps, besides the positions collected for every time
 * (ArtifactState.committed), a few bounded windows, each with how far its positions are collected. A row (position p,
 * time t) is already in the output when p < committed, or when some window holds t and p < that window's committed.
 *
 * Plain data and pure functions: they run in extraction workers too, once per row where a window applies.
 */

/** A time range in ms since the epoch, [from, to); an absent bound is open. */
export interface TimeWindow {
  from?: number | undefined;
  to?: number | undefined;
}

/** A bounded time window and how far its positions are collected: rows at positions [0, committed) in it are written. */
export interface CoveredWindow extends TimeWindow {
  committed: number;
}

/** The window of a collection's from/to. */
export function timeWindow(from: Date | undefined, to: Date | undefined): TimeWindow {
  return { ...(from !== undefined ? { from: from.getTime() } : {}), ...(to !== undefined ? { to: to.getTime() } : {}) };
}

/** True when the window has no bound: every time. */
export function isUnbounded(w: TimeWindow): boolean {
  return w.from === undefined && w.to === undefined;
}

/** True when both windows are the same range. */
export function sameWindow(a: TimeWindow, b: TimeWindow): boolean {
  return a.from === b.from && a.to === b.to;
}

/** True when every time of `inner` is in `outer`. */
export function containsWindow(outer: TimeWindow, inner: TimeWindow): boolean {
  const fromOk = outer.from === undefined || (inner.from !== undefined && inner.from >= outer.from);
  const toOk = outer.to === undefined || (inner.to !== undefined && inner.to <= outer.to);
  return fromOk && toOk;
}

/** True when the windows share a time. */
export function windowsIntersect(a: TimeWindow, b: TimeWindow): boolean {
  const lo = Math.max(a.from ?? -Infinity, b.from ?? -Infinity);
  const hi = Math.min(a.to ?? Infinity, b.to ?? Infinity);
  return lo < hi;
}

/** True when the row at `position` with time `ms` is in one of the windows below its committed position. */
export function isCovered(windows: readonly CoveredWindow[], position: number, ms: number): boolean {
  for (let i = 0; i < windows.length; i++) {
    const w = windows[i]!;
    if (position < w.committed && (w.from === undefined || ms >= w.from) && (w.to === undefined || ms < w.to)) return true;
  }
  return false;
}

/** What a collection of `window` must do with an artifact whose coverage is (committed, windows). */
export interface CoveragePlan {
  /** Positions below this are collected for every time the window holds: they need not even be read. */
  skip: number;
  /** Windows whose rows past `skip` are already written: rows in them are dropped as they are read. */
  exclude: CoveredWindow[];
}

/** Plans one artifact's collection for a time window, from what state says was collected. */
export function planCoverage(committed: number, windows: readonly CoveredWindow[] | undefined, window: TimeWindow): CoveragePlan {
  let skip = committed;
  for (const w of windows ?? []) if (containsWindow(w, window) && w.committed > skip) skip = w.committed;
  const exclude = (windows ?? []).filter((w) => w.committed > skip && windowsIntersect(w, window)).map((w) => ({ ...w }));
  return { skip, exclude };
}

/**
 * Records that positions [0, to) of `window` are collected, and returns the simplified coverage: windows that the
 * positions collected for every time already cover are dropped, windows with the same committed position that
 * touch or overlap are merged, and windows that together hold every time raise `committed`.
 */
export function advanceCoverage(
  committed: number,
  windows: readonly CoveredWindow[] | undefined,
  window: TimeWindow,
  to: number,
): { committed: number; windows: CoveredWindow[] } {
  let all = committed;
  const list = (windows ?? []).map((w) => ({ ...w }));
  if (isUnbounded(window)) all = Math.max(all, to);
  else {
    const own = list.find((w) => sameWindow(w, window));
    if (own) own.committed = Math.max(own.committed, to);
    else list.push({ ...window, committed: to });
  }
  return simplifyCoverage(all, list);
}

/** The same coverage with no redundant window (see advanceCoverage). */
export function simplifyCoverage(committed: number, windows: readonly CoveredWindow[]): { committed: number; windows: CoveredWindow[] } {
  let all = committed;
  let list = windows.filter((w) => w.committed > all).map((w) => ({ ...w }));
  // Merge windows with equal committed positions that overlap or touch: [a, b) and [b, c) at n are [a, c) at n.
  let merged = true;
  while (merged) {
    merged = false;
    list.sort((a, b) => (a.from ?? -Infinity) - (b.from ?? -Infinity));
    for (let i = 0; i < list.length && !merged; i++) {
      for (let j = i + 1; j < list.length && !merged; j++) {
        const a = list[i]!;
        const b = list[j]!;
        if (a.committed !== b.committed) continue;
        const touch = (a.to ?? Infinity) >= (b.from ?? -Infinity) && (b.to ?? Infinity) >= (a.from ?? -Infinity);
        if (!touch) continue;
        const from = a.from === undefined || b.from === undefined ? undefined : Math.min(a.from, b.from);
        const to = a.to === undefined || b.to === undefined ? undefined : Math.max(a.to, b.to);
        list.splice(j, 1);
        list[i] = { ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}), committed: a.committed };
        merged = true;
      }
    }
  }
  // Windows that hold every time are positions collected for every time.
  const everything = list.find((w) => isUnbounded(w));
  if (everything) {
    all = Math.max(all, everything.committed);
    list = list.filter((w) => w !== everything && w.committed > all);
  }
  // A window inside another that is collected at least as far says nothing more.
  list = list.filter((w, i) => !list.some((o, k) => k !== i && containsWindow(o, w) && o.committed >= w.committed && !(sameWindow(o, w) && k > i)));
  return { committed: all, windows: list };
}

/** True when the artifact's rows of `window` are all collected: every position up to `end` is, for those times. */
export function coversWindow(committed: number, windows: readonly CoveredWindow[] | undefined, window: TimeWindow, end: number): boolean {
  return planCoverage(committed, windows, window).skip >= end;
}
