import { existsSync } from "node:fs";
import { Code, TailkitError } from "../errors/index.js";
import { chunkWasConverted } from "../query/conversion-log.js";
import type { ArtifactInfo } from "../contract/source.js";
import type { ChunkRange } from "../writer/types.js";
import { advanceCoverage, coversWindow, isUnbounded, planCoverage, type CoveragePlan, type CoveredWindow, type TimeWindow } from "./coverage.js";
import { stored, type StateStore } from "./store.js";
import type { ArtifactState, HeadPrint } from "./types.js";

/**
 * Whether a chunk reached its final name: it is there, or the host converted it to Parquet and deleted it (recording
 * that first), which makes it just as visible.
 */
export function chunkVisible(path: string): boolean {
  return existsSync(path) || chunkWasConverted(path);
}

/** Options of Progress. */
export interface ProgressOptions {
  /** The execution that collects: recorded in each artifact's state. */
  owner: string;
  /** The time window this collection writes (its from/to): what its commits record as collected. Default: every time. */
  window?: TimeWindow | undefined;
  /** Whether a chunk a crashed run left pending reached its final name. Default: chunkVisible. */
  chunkVisible?: ((path: string) => boolean) | undefined;
}

/** How begin() starts an artifact; see there. */
export interface BeginOptions {
  head?: HeadPrint | undefined;
  restartAt?: number | undefined;
  restartWindows?: CoveredWindow[] | undefined;
  idSeed?: string | undefined;
}

/**
 * True when the artifact's rows in `window` (default: every time) are all collected and it has not changed since
 * (same size, ETag and mtime where known).
 */
export function isDone(state: ArtifactState | undefined, info: ArtifactInfo, window: TimeWindow = {}): boolean {
  if (state === undefined) return false;
  if (!state.complete && (state.end === undefined || !coversWindow(state.committed, state.windows, window, state.end))) return false;
  if (info.size !== undefined && state.size !== undefined && info.size !== state.size) return false;
  if (info.etag !== undefined && state.etag !== undefined && info.etag !== state.etag) return false;
  if (info.mtimeMs !== undefined && state.mtimeMs !== undefined && info.mtimeMs !== state.mtimeMs) return false;
  return true;
}

/**
 * How far each artifact is collected: the positions in durable, visible chunks, and the chunk that was about to
 * become visible when a run died.
 *
 * The commit order that makes a killed collection resume exactly once:
 * chunk data durable under a temp name → intent(pending chunk) → rename → commit(committed = to) → announce.
 * After a crash, an artifact's pending chunk is resolved by looking at the disk: if the chunk is visible its rows
 * count as committed, otherwise they do not; either way no row is in the output twice or missing.
 */
export class Progress {
  /** The artifacts this execution tracks (artifact() read them, begin() started them), as it last saved them. */
  private readonly cache = new Map<string, ArtifactState>();
  private readonly visible: (path: string) => boolean;

  constructor(
    private readonly store: StateStore,
    private readonly options: ProgressOptions,
  ) {
    this.visible = options.chunkVisible ?? chunkVisible;
  }

  /** The time window this collection writes. */
  get window(): TimeWindow {
    return this.options.window ?? {};
  }

  /**
   * The artifact's state, with a pending chunk from a crashed run resolved against the disk. Undefined when the
   * artifact was never collected.
   */
  async artifact(name: string): Promise<ArtifactState | undefined> {
    const raw = (await this.store.get("artifact", name, `reading ${name}`)) as ArtifactState | undefined;
    if (!raw) return undefined;
    if (raw.pendingChunk !== undefined) {
      if (this.visible(raw.pendingChunk) && raw.pendingTo !== undefined) advance(raw, raw.pendingWindow ?? {}, raw.pendingTo);
      raw.pendingChunk = undefined;
      raw.pendingTo = undefined;
      raw.pendingWindow = undefined;
      await this.save(name, raw);
    }
    this.cache.set(name, raw);
    return raw;
  }

  /**
   * Starts tracking an artifact this execution will collect (after artifact()) and says which of its rows to write.
   * `restartAt` starts it over at that position, as another file than the state's (one that replaced it under its
   * name, or came from another name), with `restartWindows` as what was collected of that file in bounded windows;
   * `head` is the print of its first bytes now, `idSeed` the tp_id prefix of its rows.
   */
  begin(info: ArtifactInfo, opts: BeginOptions = {}): CoveragePlan {
    const prev = this.cache.get(info.name);
    const restart = opts.restartAt !== undefined;
    const st: ArtifactState = {
      size: info.size,
      etag: info.etag,
      mtimeMs: info.mtimeMs,
      location: info.location,
      collectedAtMs: restart ? undefined : prev?.collectedAtMs,
      committed: restart ? opts.restartAt! : (prev?.committed ?? 0),
      windows: restart ? opts.restartWindows : prev?.windows,
      complete: false,
      end: restart ? undefined : prev?.end,
      rows: restart ? 0 : (prev?.rows ?? 0),
      execution: this.options.owner,
      head: opts.head ?? (restart ? undefined : prev?.head),
      idSeed: opts.idSeed ?? (restart ? undefined : prev?.idSeed),
    };
    this.cache.set(info.name, st);
    return planCoverage(st.committed, st.windows, this.window);
  }

  /**
   * The artifact was read up to `bytes` only (its last line is unfinished): state records that size, so that a later
   * collection sees it changed and reads the rest.
   */
  readUpTo(name: string, bytes: number): void {
    this.tracked(name).size = bytes;
  }

  /** Before a chunk becomes visible: record, per artifact, the chunk that would move it forward. */
  async intent(path: string, ranges: readonly ChunkRange[]): Promise<void> {
    for (const r of ranges) {
      const st = this.tracked(r.artifact);
      st.pendingChunk = path;
      st.pendingTo = r.to;
      st.pendingWindow = isUnbounded(this.window) ? undefined : this.window;
      await this.save(r.artifact, st);
    }
  }

  /** After a chunk is visible (or for positions no chunk holds): those positions are collected. */
  async commit(ranges: readonly ChunkRange[]): Promise<void> {
    for (const r of ranges) {
      const st = this.tracked(r.artifact);
      advance(st, this.window, r.to);
      st.pendingChunk = undefined;
      st.pendingTo = undefined;
      st.pendingWindow = undefined;
      await this.save(r.artifact, st);
    }
  }

  /**
   * The artifact was read to its end (`end` positions) and every row of this collection's window is committed: later
   * runs for that window skip it while it is unchanged. It is complete once that holds for every time.
   */
  async complete(name: string, end: number, rows: number): Promise<void> {
    const st = this.tracked(name);
    st.rows += rows;
    advance(st, this.window, end);
    st.end = end;
    st.complete = st.committed >= end;
    st.collectedAtMs = Date.now();
    await this.save(name, st);
    // tailkit/artifacts finds an artifact by its location too: the last name collected from there.
    if (st.location !== undefined) await this.store.put("location", st.location, name, `indexing ${st.location}`);
  }

  private tracked(name: string): ArtifactState {
    const st = this.cache.get(name);
    if (!st) throw new TailkitError(Code.Internal, `state: artifact ${name} is not being collected by this execution`);
    return st;
  }

  private async save(name: string, st: ArtifactState): Promise<void> {
    await this.store.put("artifact", name, stored(st), `saving ${name}`);
  }
}

/** Records positions [0, to) of `window` as collected in the state, simplifying its windows. */
function advance(st: ArtifactState, window: TimeWindow, to: number): void {
  const next = advanceCoverage(st.committed, st.windows, window, to);
  st.committed = next.committed;
  st.windows = next.windows.length > 0 ? next.windows : undefined;
}
