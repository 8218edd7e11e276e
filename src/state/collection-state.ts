import { createHash } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { Code, TailkitError } from "../errors/index.js";
import { chunkWasConverted } from "../query/conversion-log.js";
import type { ArtifactInfo } from "../sources/types.js";
import { openAsync, ReturnCode, t, type Handle } from "../storage/index.js";
import type { ChunkRange } from "../writer/types.js";

/** What state remembers of one artifact. */
export interface ArtifactState {
  size?: number | undefined;
  etag?: string | undefined;
  mtimeMs?: number | undefined;
  /** Positions [0, committed) are in durable, visible chunks. */
  committed: number;
  /** Set between "chunk data durable" and "chunk renamed into place": the chunk that would move committed to pendingTo. */
  pendingChunk?: string | undefined;
  pendingTo?: number | undefined;
  /** Every position of the artifact is committed. */
  complete: boolean;
  /** Rows written, over all executions. */
  rows: number;
  execution: string;
  /** The first bytes of the artifact's content when it was last collected (sources with ArtifactSource.head). */
  head?: HeadPrint | undefined;
}

/** An artifact's first bytes, as their count and SHA-256: what tells the same file from another one. */
export interface HeadPrint {
  bytes: number;
  sha256: string;
  /** The count and SHA-256 of the first HEAD_KEY_BYTES of them: where the state finds the file again once it grew. */
  key: string;
}

/** Bytes of an artifact's content its HeadPrint covers, at most. */
export const HEAD_PRINT_BYTES = 4096;

/** Bytes of an artifact's content its HeadPrint's key covers, at most. */
const HEAD_KEY_BYTES = 128;

/** How long the state of a file that moved away from its name is kept for the name it moved to, in seconds. */
const MOVED_STATE_SECONDS = 90 * 24 * 3600;

function headKey(head: Uint8Array): string {
  const bytes = Math.min(head.length, HEAD_KEY_BYTES);
  return `${bytes}:${sha256(head.subarray(0, bytes))}`;
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Where collection state lives, parsed from a location string. */
export type StateLocation =
  | { backend: "sqlite"; path: string; leaseSeconds?: number }
  | { backend: "redis"; host: string; port: number; db: number; keyPrefix: string; leaseSeconds?: number };

/** Default state file for an output folder. */
export function defaultStatePath(outputDir: string): string {
  return join(resolve(outputDir), ".tailkit", "state.sqlite");
}

/**
 * Parses `--state`: empty → SQLite under the output folder; `redis://host:port[/prefix]` (optionally `?db=N`);
 * `sqlite:<path>` or a plain path → an SQLite file. Throws INVALID_ARGUMENT naming field "state".
 */
export function parseStateLocation(location: string, outputDir: string): StateLocation {
  if (!location) return { backend: "sqlite", path: defaultStatePath(outputDir) };
  if (location.startsWith("redis://")) {
    let url: URL;
    try {
      url = new URL(location);
    } catch {
      throw new TailkitError(Code.InvalidArgument, `state: malformed redis URL ${JSON.stringify(location)}`, { field: "state" });
    }
    const prefix = decodeURIComponent(url.pathname.replace(/^\/+/, "")) || "tailkit";
    const db = Number(url.searchParams.get("db") ?? 0);
    if (!Number.isInteger(db) || db < 0) throw new TailkitError(Code.InvalidArgument, `state: db must be a non-negative integer`, { field: "state" });
    const lease = url.searchParams.get("lease");
    const leaseSeconds = lease === null ? undefined : Number(lease);
    if (leaseSeconds !== undefined && !(leaseSeconds > 0)) throw new TailkitError(Code.InvalidArgument, `state: lease must be a positive number of seconds`, { field: "state" });
    return {
      backend: "redis",
      host: url.hostname || "127.0.0.1",
      port: Number(url.port || 6379),
      db,
      keyPrefix: `${prefix}:`,
      ...(leaseSeconds ? { leaseSeconds } : {}),
    };
  }
  const path = location.startsWith("sqlite:") ? location.slice("sqlite:".length) : location;
  if (!path) throw new TailkitError(Code.InvalidArgument, "state: empty sqlite path", { field: "state" });
  return { backend: "sqlite", path: resolve(path) };
}

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
}

/**
 * Collection state of one (plugin, table, partition): which artifacts are collected and how far, claims that split
 * artifacts between collectors sharing the state, and cursors for API sources.
 *
 * The commit order that makes a killed collection resume exactly once:
 * chunk data durable under a temp name → intent(pending chunk) → rename → commit(committed = to) → announce.
 * After a crash, an artifact's pending chunk is resolved by looking at the disk: if the chunk is visible its rows
 * count as committed, otherwise they do not; either way no row is in the output twice or missing.
 */
export class CollectionState {
  private readonly cache = new Map<string, ArtifactState>();
  private readonly ns: string;

  private constructor(
    private readonly handle: Handle<string, unknown>,
    private readonly options: CollectionStateOptions,
  ) {
    this.ns = `${options.plugin}/${options.table}/${options.partition}/`;
  }

  /** Opens the state store; throws UNAVAILABLE (or INVALID_ARGUMENT) saying which backend failed and why. */
  static async open(options: CollectionStateOptions): Promise<CollectionState> {
    const loc = options.location;
    let res;
    if (loc.backend === "sqlite") {
      try {
        mkdirSync(dirname(loc.path), { recursive: true });
      } catch (err) {
        throw new TailkitError(Code.InvalidArgument, `state: cannot create folder for ${loc.path}: ${(err as Error).message}`, { field: "state" });
      }
      res = await openAsync("sqlite", { path: loc.path, table: "tailkit_collection_state" }, t.string(), t.json());
    } else {
      res = await openAsync("redis", { host: loc.host, port: loc.port, db: loc.db, keyPrefix: loc.keyPrefix }, t.string(), t.json());
    }
    if (res.code !== ReturnCode.SUCCESS || !res.value) {
      throw new TailkitError(Code.Unavailable, `state: ${res.error ?? res.code}`, { field: "state" });
    }
    return new CollectionState(res.value, options);
  }

  /** Seconds a claim lasts without renewal. */
  get leaseSeconds(): number {
    return this.options.leaseSeconds ?? this.options.location.leaseSeconds ?? 30;
  }

  private key(kind: string, name: string): string {
    return `${this.ns}${kind}/${name}`;
  }

  private check<T>(res: { code: string; error?: string | undefined; value?: T | undefined }, what: string): T | undefined {
    if (res.code === ReturnCode.SUCCESS) return res.value;
    if (res.code === ReturnCode.KEY_NOT_FOUND) return undefined;
    throw new TailkitError(Code.Unavailable, `state: ${what}: ${res.error ?? res.code}`, { operation: "state" });
  }

  /**
   * The artifact's state, with a pending chunk from a crashed run resolved against the disk. Undefined when the
   * artifact was never collected.
   */
  async artifact(name: string): Promise<ArtifactState | undefined> {
    const raw = this.check(await this.handle.get(this.key("artifact", name)), `reading ${name}`) as ArtifactState | undefined;
    if (!raw) return undefined;
    if (raw.pendingChunk !== undefined) {
      // The host deletes a chunk once it is converted to Parquet (and recorded so first): gone but converted is visible.
      const visible = existsSync(raw.pendingChunk) || chunkWasConverted(raw.pendingChunk);
      if (visible && raw.pendingTo !== undefined) raw.committed = Math.max(raw.committed, raw.pendingTo);
      raw.pendingChunk = undefined;
      raw.pendingTo = undefined;
      await this.save(name, raw);
    }
    this.cache.set(name, raw);
    return raw;
  }

  /** True when the artifact is fully collected and has not changed since (same size, ETag and mtime where known). */
  static isDone(state: ArtifactState | undefined, info: ArtifactInfo): boolean {
    if (!state?.complete) return false;
    if (info.size !== undefined && state.size !== undefined && info.size !== state.size) return false;
    if (info.etag !== undefined && state.etag !== undefined && info.etag !== state.etag) return false;
    if (info.mtimeMs !== undefined && state.mtimeMs !== undefined && info.mtimeMs !== state.mtimeMs) return false;
    return true;
  }

  /** The print of an artifact's first bytes (up to HEAD_PRINT_BYTES of them); undefined for no bytes. */
  static headPrint(head: Uint8Array): HeadPrint | undefined {
    if (head.length === 0) return undefined;
    const bytes = Math.min(head.length, HEAD_PRINT_BYTES);
    return { bytes, sha256: sha256(head.subarray(0, bytes)), key: headKey(head) };
  }

  /** Whether `head` starts with the bytes `print` was made of: the same file, perhaps grown since. */
  static startsWith(print: HeadPrint, head: Uint8Array): boolean {
    return head.length >= print.bytes && sha256(head.subarray(0, print.bytes)) === print.sha256;
  }

  /**
   * Whether the artifact under a name is no longer the one collected under it: it is smaller than it was, or (with
   * its first bytes at hand) does not start as it did. A log that was rotated, truncated or replaced; its content is
   * then collected from its start rather than from where the old one ended.
   */
  static replaced(state: ArtifactState, info: ArtifactInfo, head: Uint8Array | undefined): boolean {
    if (state.size !== undefined && info.size !== undefined && info.size < state.size) return true;
    return head !== undefined && state.head !== undefined && !CollectionState.startsWith(state.head, head);
  }

  /** Keeps the state of an artifact that moved away from its name, for the name it shows up under (findByHead). */
  async moved(state: ArtifactState): Promise<void> {
    if (state.head === undefined) return;
    const key = this.key("moved", state.head.key);
    this.check(await this.handle.put({ key, value: stored(state), expireTime: MOVED_STATE_SECONDS }), `keeping the state of a moved artifact`);
  }

  /**
   * The state of a file collected under another name that `head` starts with (a renamed or rotated log, perhaps grown
   * since), or undefined.
   */
  async findByHead(head: Uint8Array, name: string): Promise<ArtifactState | undefined> {
    const key = headKey(head);
    const other = this.check(await this.handle.get(this.key("head", key)), `looking up ${name} by its first bytes`) as string | undefined;
    if (other !== undefined && other !== name) {
      const st = this.check(await this.handle.get(this.key("artifact", other)), `reading ${other}`) as ArtifactState | undefined;
      if (st?.head !== undefined && st.pendingChunk === undefined && CollectionState.startsWith(st.head, head)) return st;
    }
    const moved = this.check(await this.handle.get(this.key("moved", key)), `looking up ${name} by its first bytes`) as ArtifactState | undefined;
    return moved?.head !== undefined && CollectionState.startsWith(moved.head, head) ? moved : undefined;
  }

  /** Records which name holds the file with these first bytes. */
  async indexHead(name: string, print: HeadPrint): Promise<void> {
    this.check(await this.handle.put({ key: this.key("head", print.key), value: name }), `indexing ${name} by its first bytes`);
  }

  /**
   * Starts tracking an artifact this execution will collect (after artifact()). `restartAt` starts it over at that
   * position, as another file than the state's (one that replaced it under its name, or came from another name);
   * `head` is the print of its first bytes now.
   */
  begin(info: ArtifactInfo, opts: { head?: HeadPrint | undefined; restartAt?: number } = {}): ArtifactState {
    const prev = this.cache.get(info.name);
    const restart = opts.restartAt !== undefined;
    const st: ArtifactState = {
      size: info.size,
      etag: info.etag,
      mtimeMs: info.mtimeMs,
      committed: restart ? opts.restartAt! : (prev?.committed ?? 0),
      complete: false,
      rows: restart ? 0 : (prev?.rows ?? 0),
      execution: this.options.owner,
      head: opts.head ?? (restart ? undefined : prev?.head),
    };
    this.cache.set(info.name, st);
    return st;
  }

  /** Claims an artifact for this collector; false when a live claim of another collector holds it. */
  async claim(name: string): Promise<boolean> {
    const key = this.key("claim", name);
    const lease = this.leaseSeconds;
    const res = await this.handle.put({ key, value: this.options.owner, overwrite: false, expireTime: lease });
    if (res.code === ReturnCode.SUCCESS) return true;
    if (res.code !== ReturnCode.KEY_EXISTS) this.check(res, `claiming ${name}`);
    const holder = this.check(await this.handle.get(key), `reading claim of ${name}`);
    return holder === this.options.owner;
  }

  /**
   * Extends this collector's claim on an artifact: true while it holds it, false when its claim lapsed and another
   * collector took the artifact (which keeps it: the renewal is a compare-and-set). A lapsed claim nobody took is
   * taken again.
   */
  async renew(name: string): Promise<boolean> {
    const owner = this.options.owner;
    const res = await this.handle.put({ key: this.key("claim", name), value: owner, expireTime: this.leaseSeconds, ifValue: owner });
    if (res.code === ReturnCode.SUCCESS) return true;
    if (res.code === ReturnCode.KEY_NOT_FOUND) return this.claim(name);
    if (res.code !== ReturnCode.KEY_EXISTS) this.check(res, `renewing claim of ${name}`);
    return false;
  }

  /** Gives this collector's claim up; a claim another collector took meanwhile stays (compare-and-delete). */
  async release(name: string): Promise<void> {
    const res = await this.handle.erase(this.key("claim", name), this.options.owner);
    if (res.code !== ReturnCode.KEY_EXISTS && res.code !== ReturnCode.KEY_NOT_FOUND) this.check(res, `releasing claim of ${name}`);
  }

  /** Before a chunk becomes visible: record, per artifact, the chunk that would move it forward. */
  async intent(path: string, ranges: readonly ChunkRange[]): Promise<void> {
    for (const r of ranges) {
      const st = this.tracked(r.artifact);
      st.pendingChunk = path;
      st.pendingTo = r.to;
      await this.save(r.artifact, st);
    }
  }

  /** After a chunk is visible (or for positions no chunk holds): those positions are collected. */
  async commit(ranges: readonly ChunkRange[]): Promise<void> {
    for (const r of ranges) {
      const st = this.tracked(r.artifact);
      st.committed = Math.max(st.committed, r.to);
      st.pendingChunk = undefined;
      st.pendingTo = undefined;
      await this.save(r.artifact, st);
    }
  }

  /** Every position of the artifact is committed: later runs skip it while it is unchanged. */
  async complete(name: string, end: number, rows: number): Promise<void> {
    const st = this.tracked(name);
    st.rows += rows;
    st.committed = Math.max(st.committed, end);
    st.complete = true;
    await this.save(name, st);
  }

  /** The saved cursor of an API source, or undefined. */
  async cursor(source: string): Promise<unknown> {
    return this.check(await this.handle.get(this.key("cursor", source)), `reading cursor of ${source}`);
  }

  /** Saves an API source's cursor. */
  async saveCursor(source: string, value: unknown): Promise<void> {
    this.check(await this.handle.put({ key: this.key("cursor", source), value }), `saving cursor of ${source}`);
  }

  /** Closes the store. */
  async close(): Promise<void> {
    await this.handle.close();
  }

  private tracked(name: string): ArtifactState {
    const st = this.cache.get(name);
    if (!st) throw new TailkitError(Code.Internal, `state: artifact ${name} is not being collected by this execution`);
    return st;
  }

  private async save(name: string, st: ArtifactState): Promise<void> {
    this.check(await this.handle.put({ key: this.key("artifact", name), value: stored(st) }), `saving ${name}`);
  }
}

/** An artifact's state as stored: JSON has no undefined, so the unset fields are dropped rather than stored as nulls. */
function stored(st: ArtifactState): Record<string, unknown> {
  return Object.fromEntries(Object.entries(st).filter(([, v]) => v !== undefined));
}
