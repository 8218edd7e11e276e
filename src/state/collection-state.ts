import type { ArtifactInfo } from "../contract/source.js";
import type { ChunkRange } from "../writer/types.js";
import { Claims, type ClaimHolder } from "./claims.js";
import { systemClock, type Clock } from "./clock.js";
import type { CoveragePlan, TimeWindow } from "./coverage.js";
import { HeadIndex, headPrint, replaced, startsWith } from "./head-index.js";
import type { StateLocation } from "./location.js";
import { isDone, Progress, type BeginOptions } from "./progress.js";
import { StateStore } from "./store.js";
import type { ArtifactState, HeadPrint } from "./types.js";

/** Options of openCollectionState; defaults in each field's comment. */
export interface CollectionStateOptions {
  location: StateLocation;
  plugin: string;
  table: string;
  partition: string;
  /** Who claims artifacts: the execution id. */
  owner: string;
  /** Seconds a claim lasts without renewal; a crashed collector's claims come back after this. Default: the location's, else 30. */
  leaseSeconds?: number;
  /** The time window this collection writes (its from/to): what its commits record as collected. Default: every time. */
  window?: TimeWindow;
  /**
   * Whether the collector holding a claim is known to be gone (a killed process on this host), so that its claims are
   * taken at once instead of after their lease. Default: never known; claims of others wait for their lease.
   */
  holderGone?: ((holder: ClaimHolder) => boolean) | undefined;
  /** What judges when claims lapse (SQLite state; Redis keeps its own time). Default: the machine's clock. */
  clock?: Clock | undefined;
  /** Whether a chunk a crashed run left pending reached its final name. Default: it is there, or was converted. */
  chunkVisible?: ((path: string) => boolean) | undefined;
}

/**
 * Collection state of one (plugin, table, partition): which artifacts are collected and how far (Progress), where
 * files are found again under other names (HeadIndex), claims that split artifacts between collectors sharing the
 * state (Claims), and cursors for API sources. One store under all of them; this class only puts them together.
 */
export class CollectionState {
  /** How far each artifact is collected, and the resolution of chunks a crashed run left pending. */
  readonly progress: Progress;
  /** Files by their first bytes. */
  readonly heads: HeadIndex;
  /** Which collector reads which artifact. */
  readonly claims: Claims;

  private constructor(
    private readonly store: StateStore,
    options: CollectionStateOptions,
  ) {
    this.progress = new Progress(store, { owner: options.owner, window: options.window, chunkVisible: options.chunkVisible });
    this.heads = new HeadIndex(store);
    this.claims = new Claims(store, {
      owner: options.owner,
      leaseSeconds: options.leaseSeconds ?? options.location.leaseSeconds ?? 30,
      holderGone: options.holderGone,
    });
  }

  /** Opens the state store; throws UNAVAILABLE (or INVALID_ARGUMENT) saying which backend failed and why. */
  static async open(options: CollectionStateOptions): Promise<CollectionState> {
    const store = await StateStore.open(options.location, `${options.plugin}/${options.table}/${options.partition}`, options.clock ?? systemClock);
    return new CollectionState(store, options);
  }

  /** Seconds a claim lasts without renewal. */
  get leaseSeconds(): number {
    return this.claims.leaseSeconds;
  }

  /** The time window this collection writes. */
  get window(): TimeWindow {
    return this.progress.window;
  }

  /** See Progress.artifact. */
  artifact(name: string): Promise<ArtifactState | undefined> {
    return this.progress.artifact(name);
  }

  /** See isDone. */
  static isDone(state: ArtifactState | undefined, info: ArtifactInfo, window: TimeWindow = {}): boolean {
    return isDone(state, info, window);
  }

  /** See headPrint. */
  static headPrint(head: Uint8Array): HeadPrint | undefined {
    return headPrint(head);
  }

  /** See startsWith. */
  static startsWith(print: HeadPrint, head: Uint8Array): boolean {
    return startsWith(print, head);
  }

  /** See replaced. */
  static replaced(state: ArtifactState, info: ArtifactInfo, head: Uint8Array | undefined): boolean {
    return replaced(state, info, head);
  }

  /** See HeadIndex.moved. */
  moved(state: ArtifactState): Promise<void> {
    return this.heads.moved(state);
  }

  /** See HeadIndex.findByHead. */
  findByHead(head: Uint8Array, name: string): Promise<ArtifactState | undefined> {
    return this.heads.findByHead(head, name);
  }

  /** See HeadIndex.indexHead. */
  indexHead(name: string, print: HeadPrint): Promise<void> {
    return this.heads.indexHead(name, print);
  }

  /** See Progress.begin. */
  begin(info: ArtifactInfo, opts: BeginOptions = {}): CoveragePlan {
    return this.progress.begin(info, opts);
  }

  /** See Progress.readUpTo. */
  readUpTo(name: string, bytes: number): void {
    this.progress.readUpTo(name, bytes);
  }

  /** See Claims.claim. */
  claim(name: string): Promise<boolean> {
    return this.claims.claim(name);
  }

  /** See Claims.holder. */
  claimHolder(name: string): Promise<ClaimHolder | undefined> {
    return this.claims.holder(name);
  }

  /** See Claims.renew. */
  renew(name: string): Promise<boolean> {
    return this.claims.renew(name);
  }

  /** See Claims.release. */
  release(name: string): Promise<void> {
    return this.claims.release(name);
  }

  /** See Progress.intent. */
  intent(path: string, ranges: readonly ChunkRange[]): Promise<void> {
    return this.progress.intent(path, ranges);
  }

  /** See Progress.commit. */
  commit(ranges: readonly ChunkRange[]): Promise<void> {
    return this.progress.commit(ranges);
  }

  /** See Progress.complete. */
  complete(name: string, end: number, rows: number): Promise<void> {
    return this.progress.complete(name, end, rows);
  }

  /** The saved cursor of an API source, or undefined. */
  async cursor(source: string): Promise<unknown> {
    return this.store.get("cursor", source, `reading cursor of ${source}`);
  }

  /** Saves an API source's cursor. */
  async saveCursor(source: string, value: unknown): Promise<void> {
    await this.store.put("cursor", source, value, `saving cursor of ${source}`);
  }

  /** Closes the store. */
  async close(): Promise<void> {
    await this.store.close();
  }
}
