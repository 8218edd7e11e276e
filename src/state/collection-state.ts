import { createHash } from "node:crypto";
import { existsSync, readFileSync, readlinkSync } from "node:fs";
import { hostname } from "node:os";
import { dirname, join, resolve } from "node:path";
import { Code, TailkitError } from "../errors/index.js";
import { chunkWasConverted } from "../query/conversion-log.js";
import type { ArtifactInfo } from "../contract/source.js";
import { openAsync, ReturnCode, t, type Handle } from "../storage/index.js";
import type { ChunkRange } from "../writer/types.js";
import { advanceCoverage, coversWindow, isUnbounded, planCoverage, type CoveragePlan, type CoveredWindow, type TimeWindow } from "./coverage.js";
import { createOutputDirectory } from "../writer/output-dir.js";

/** What state remembers of one artifact. */
export interface ArtifactState {
  size?: number | undefined;
  etag?: string | undefined;
  mtimeMs?: number | undefined;
  /** Positions [0, committed) are in durable, visible chunks, for every time. */
  committed: number;
  /**
   * Time windows collected further than `committed` (collections with --from/--to): rows at positions below a
   * window's committed whose time is in the window are in durable chunks (see coverage.ts). Absent when none.
   */
  windows?: CoveredWindow[] | undefined;
  /** Set between "chunk data durable" and "chunk renamed into place": the chunk that would move committed to pendingTo. */
  pendingChunk?: string | undefined;
  pendingTo?: number | undefined;
  /** The time window pendingTo is for, when it is bounded (absent: it moves `committed`). */
  pendingWindow?: TimeWindow | undefined;
  /** Every position of the artifact is committed, for every time. */
  complete: boolean;
  /** Positions the artifact had when it was last read to its end. */
  end?: number | undefined;
  /** Rows written, over all executions. */
  rows: number;
  execution: string;
  /** The first bytes of the artifact's content when it was last collected (sources with ArtifactSource.head). */
  head?: HeadPrint | undefined;
  /**
   * The tp_id prefix of the artifact's rows (artifactIdSeed), made when the file was first collected and kept while it
   * grows or moves to another name, so that its rows keep their ids; a file that replaced it under its name gets its own.
   */
  idSeed?: string | undefined;
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

/**
 * Files indexed under one HEAD_KEY_BYTES key, at most (the most recently collected). Only a file that grew since its
 * print was made (it was under HEAD_PRINT_BYTES then) is looked for among them; any other is found by its whole print.
 */
const HEAD_CANDIDATES = 64;

/** Compare-and-set attempts at updating a head index entry that other collectors change at the same time. */
const INDEX_ATTEMPTS = 8;

/** One file indexed under its head key: a name that holds it, or the print its moved state is kept under. */
interface HeadCandidate {
  /** The name it was collected under. */
  n?: string;
  /** Its state moved away from its name: kept under moved/<this print id>. */
  m?: string;
  /** Its print's byte count and SHA-256. */
  b: number;
  s: string;
}

function headKey(head: Uint8Array): string {
  const bytes = Math.min(head.length, HEAD_KEY_BYTES);
  return `${bytes}:${sha256(head.subarray(0, bytes))}`;
}

/** A print as a storage key: its byte count and SHA-256. */
function printId(print: { bytes: number; sha256: string }): string {
  return `${print.bytes}:${print.sha256}`;
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
 * Parses `--state`: empty → SQLite under the output folder; `redis://host:port[/prefix]` (optionally `?db=N`,
 * `?lease=N`; the scheme in any case); `sqlite:<path>` or a plain path → an SQLite file. Any other `scheme://` is
 * refused rather than taken for a file name, and so is `rediss://` (TLS), which the Redis backend cannot open yet.
 * Throws INVALID_ARGUMENT naming field "state".
 */
export function parseStateLocation(location: string, outputDir: string): StateLocation {
  if (!location) return { backend: "sqlite", path: defaultStatePath(outputDir) };
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(location)?.[1]?.toLowerCase();
  if (scheme === "rediss") {
    throw new TailkitError(Code.InvalidArgument, `state: rediss:// (Redis over TLS) is not supported yet; use redis:// or an SQLite path`, { field: "state" });
  }
  if (scheme === "redis") {
    let url: URL;
    try {
      url = new URL(location);
    } catch {
      throw new TailkitError(Code.InvalidArgument, `state: malformed redis URL ${JSON.stringify(location)}`, { field: "state" });
    }
    // The backend is opened without credentials: a password given here would be dropped without a word.
    if (url.username || url.password) {
      throw new TailkitError(Code.InvalidArgument, `state: credentials in the redis URL are not supported yet`, { field: "state" });
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
  if (scheme !== undefined && scheme !== "sqlite") {
    throw new TailkitError(
      Code.InvalidArgument,
      `state: unknown scheme ${JSON.stringify(`${scheme}://`)} in ${JSON.stringify(location)}; give an SQLite file path, sqlite:<path> or redis://host:port/prefix`,
      { field: "state" },
    );
  }
  const path = /^sqlite:/i.test(location) ? location.slice("sqlite:".length) : location;
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
  /** The time window this collection writes (its from/to): what its commits record as collected. Default: every time. */
  window?: TimeWindow;
  /**
   * Whether the collector holding a claim is known to be gone (a killed process on this host), so that its claims are
   * taken at once instead of after their lease. Default: never known; claims of others wait for their lease.
   */
  holderGone?: ((holder: ClaimHolder) => boolean) | undefined;
}

/** Who holds a claim: the execution, its process, and the host that process runs on (localHost()). */
export interface ClaimHolder {
  execution: string;
  pid: number;
  host: string;
}

let hostId: string | undefined;

/**
 * This machine as claim holders name it: the host name, and on Linux the boot and the pid namespace, so that a pid is
 * only ever judged in the namespace it belongs to (containers that share a host name, a host that rebooted).
 */
export function localHost(): string {
  if (hostId !== undefined) return hostId;
  let id = hostname();
  try {
    id += `/${readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim()}/${readlinkSync("/proc/self/ns/pid")}`;
  } catch {
    // Not Linux: the host name alone.
  }
  return (hostId = id);
}

/** A stored claim value as a holder, or undefined for one this version did not write. */
function claimHolder(value: unknown): ClaimHolder | undefined {
  const v = value as Partial<ClaimHolder> | null;
  if (v === null || typeof v !== "object" || typeof v.execution !== "string" || typeof v.pid !== "number" || typeof v.host !== "string") return undefined;
  return { execution: v.execution, pid: v.pid, host: v.host };
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
        createOutputDirectory(dirname(loc.path));
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
      if (visible && raw.pendingTo !== undefined) advance(raw, raw.pendingWindow ?? {}, raw.pendingTo);
      raw.pendingChunk = undefined;
      raw.pendingTo = undefined;
      raw.pendingWindow = undefined;
      await this.save(name, raw);
    }
    this.cache.set(name, raw);
    return raw;
  }

  /**
   * True when the artifact's rows in `window` (default: every time) are all collected and it has not changed since
   * (same size, ETag and mtime where known).
   */
  static isDone(state: ArtifactState | undefined, info: ArtifactInfo, window: TimeWindow = {}): boolean {
    if (state === undefined) return false;
    if (!state.complete && (state.end === undefined || !coversWindow(state.committed, state.windows, window, state.end))) return false;
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
    const print = state.head;
    if (print === undefined) return;
    const id = printId(print);
    this.check(await this.handle.put({ key: this.key("moved", id), value: stored(state), expireTime: MOVED_STATE_SECONDS }), `keeping the state of a moved artifact`);
    await this.addCandidate(print, { m: id, b: print.bytes, s: print.sha256 });
  }

  /**
   * The state of a file collected under another name that `head` starts with (a renamed or rotated log, perhaps grown
   * since), or undefined. A file whose print is all of `head` is found by it; one that grew since it was printed is
   * the longest print `head` starts with among the files that share its first HEAD_KEY_BYTES, so that files which
   * start alike (a common header) are never taken for one another.
   */
  async findByHead(head: Uint8Array, name: string): Promise<ArtifactState | undefined> {
    const what = `looking up ${name} by its first bytes`;
    const whole = CollectionState.headPrint(head);
    if (whole === undefined) return undefined;
    const exact = await this.candidateState({ b: whole.bytes, s: whole.sha256 }, name, what, true);
    if (exact !== undefined) return exact;
    const list = this.check(await this.handle.get(this.key("heads", whole.key)), what) as HeadCandidate[] | undefined;
    // Shorter prints only: one of head's own length was looked up above.
    const shorter = (list ?? []).filter((c) => c.b < whole.bytes && c.n !== name).sort((x, y) => y.b - x.b);
    const prefixes = new Map<number, string>();
    for (const c of shorter) {
      let sha = prefixes.get(c.b);
      if (sha === undefined) prefixes.set(c.b, (sha = sha256(head.subarray(0, c.b))));
      if (sha !== c.s) continue;
      const st = await this.candidateState(c, name, what, false);
      if (st !== undefined) return st;
    }
    return this.findByLegacyKey(head, whole.key, name);
  }

  /**
   * The state a head candidate stands for, when it still has that print: by name (`exact`: the name the print is
   * indexed under) and then as moved, or as the candidate says.
   */
  private async candidateState(c: HeadCandidate, name: string, what: string, exact: boolean): Promise<ArtifactState | undefined> {
    const id = `${c.b}:${c.s}`;
    const matches = (st: ArtifactState | undefined) => st?.head !== undefined && st.head.bytes === c.b && st.head.sha256 === c.s;
    const other = exact ? (this.check(await this.handle.get(this.key("print", id)), what) as string | undefined) : c.n;
    if (other !== undefined && other !== name) {
      const st = this.check(await this.handle.get(this.key("artifact", other)), `reading ${other}`) as ArtifactState | undefined;
      if (matches(st) && st!.pendingChunk === undefined) return st;
    }
    if (!exact && c.m === undefined) return undefined;
    const moved = this.check(await this.handle.get(this.key("moved", id)), what) as ArtifactState | undefined;
    return matches(moved) ? moved : undefined;
  }

  /** State written before files were indexed by their whole print: one name, or a moved state, per head key. */
  private async findByLegacyKey(head: Uint8Array, key: string, name: string): Promise<ArtifactState | undefined> {
    const what = `looking up ${name} by its first bytes`;
    const other = this.check(await this.handle.get(this.key("head", key)), what) as string | undefined;
    if (other !== undefined && other !== name) {
      const st = this.check(await this.handle.get(this.key("artifact", other)), `reading ${other}`) as ArtifactState | undefined;
      if (st?.head !== undefined && st.pendingChunk === undefined && CollectionState.startsWith(st.head, head)) return st;
    }
    const moved = this.check(await this.handle.get(this.key("moved", key)), what) as ArtifactState | undefined;
    return moved?.head !== undefined && CollectionState.startsWith(moved.head, head) ? moved : undefined;
  }

  /** Records which name holds the file with this print: under the whole print, and among its head key's candidates. */
  async indexHead(name: string, print: HeadPrint): Promise<void> {
    this.check(await this.handle.put({ key: this.key("print", printId(print)), value: name }), `indexing ${name} by its first bytes`);
    await this.addCandidate(print, { n: name, b: print.bytes, s: print.sha256 });
  }

  /**
   * Puts a file first among its head key's candidates (dropping an older entry of the same name or moved print, and
   * the least recent beyond HEAD_CANDIDATES). Compare-and-set, so that collectors indexing at once lose no entry.
   */
  private async addCandidate(print: HeadPrint, entry: HeadCandidate): Promise<void> {
    const key = this.key("heads", print.key);
    const what = `indexing a file by its first bytes`;
    for (let attempt = 0; attempt < INDEX_ATTEMPTS; attempt++) {
      const raw = this.check(await this.handle.get(key), what) as HeadCandidate[] | undefined;
      const list = Array.isArray(raw) ? raw : [];
      const first = list[0];
      if (first !== undefined && first.n === entry.n && first.m === entry.m && first.b === entry.b && first.s === entry.s) return;
      const same = (c: HeadCandidate) => (entry.n !== undefined ? c.n === entry.n : c.m === entry.m);
      const next = [entry, ...list.filter((c) => !same(c))].slice(0, HEAD_CANDIDATES);
      const res =
        raw === undefined
          ? await this.handle.put({ key, value: next, overwrite: false })
          : await this.handle.put({ key, value: next, ifValue: raw });
      if (res.code === ReturnCode.SUCCESS) return;
      if (res.code !== ReturnCode.KEY_EXISTS && res.code !== ReturnCode.KEY_NOT_FOUND) this.check(res, what);
    }
    // Still contended after that many attempts: the entry is left out rather than failing the collection. The list
    // only serves files that grew since they were printed; the others are found by their whole print.
  }

  /**
   * Starts tracking an artifact this execution will collect (after artifact()) and says which of its rows to write.
   * `restartAt` starts it over at that position, as another file than the state's (one that replaced it under its
   * name, or came from another name), with `restartWindows` as what was collected of that file in bounded windows;
   * `head` is the print of its first bytes now, `idSeed` the tp_id prefix of its rows.
   */
  begin(
    info: ArtifactInfo,
    opts: {
      head?: HeadPrint | undefined;
      restartAt?: number | undefined;
      restartWindows?: CoveredWindow[] | undefined;
      idSeed?: string | undefined;
    } = {},
  ): CoveragePlan {
    const prev = this.cache.get(info.name);
    const restart = opts.restartAt !== undefined;
    const st: ArtifactState = {
      size: info.size,
      etag: info.etag,
      mtimeMs: info.mtimeMs,
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

  /** The time window this collection writes. */
  get window(): TimeWindow {
    return this.options.window ?? {};
  }

  /**
   * The artifact was read up to `bytes` only (its last line is unfinished): state records that size, so that a later
   * collection sees it changed and reads the rest.
   */
  readUpTo(name: string, bytes: number): void {
    this.tracked(name).size = bytes;
  }

  /** This collector's claim value: who holds the claim, so that a collector on the same host can tell it died. */
  private get holder(): ClaimHolder {
    return { execution: this.options.owner, pid: process.pid, host: localHost() };
  }

  /**
   * Claims an artifact for this collector; false when a live claim of another collector holds it. A claim whose
   * holder is gone (options.holderGone: a killed collector on this host) is taken at once rather than when its lease
   * lapses; a compare-and-set on the dead holder's value, so that of two collectors taking it one wins.
   */
  async claim(name: string): Promise<boolean> {
    const key = this.key("claim", name);
    const lease = this.leaseSeconds;
    const mine = this.holder;
    const res = await this.handle.put({ key, value: mine, overwrite: false, expireTime: lease });
    if (res.code === ReturnCode.SUCCESS) return true;
    if (res.code !== ReturnCode.KEY_EXISTS) this.check(res, `claiming ${name}`);
    const value = this.check(await this.handle.get(key), `reading claim of ${name}`);
    if (value === undefined) return this.claim(name);
    const other = claimHolder(value);
    if (other?.execution === mine.execution && other.pid === mine.pid && other.host === mine.host) return true;
    if (other === undefined || !this.options.holderGone?.(other)) return false;
    const taken = await this.handle.put({ key, value: mine, expireTime: lease, ifValue: value });
    if (taken.code === ReturnCode.SUCCESS) return true;
    if (taken.code === ReturnCode.KEY_NOT_FOUND) return this.claim(name);
    if (taken.code !== ReturnCode.KEY_EXISTS) this.check(taken, `taking the claim of ${name} from a collector that is gone`);
    return false;
  }

  /** Who holds an artifact's claim now, or undefined when nobody does (or the claim was written by an older version). */
  async claimHolder(name: string): Promise<ClaimHolder | undefined> {
    const value = this.check(await this.handle.get(this.key("claim", name)), `reading claim of ${name}`);
    return value === undefined ? undefined : claimHolder(value);
  }

  /**
   * Extends this collector's claim on an artifact: true while it holds it, false when its claim lapsed and another
   * collector took the artifact (which keeps it: the renewal is a compare-and-set). A lapsed claim nobody took is
   * taken again.
   */
  async renew(name: string): Promise<boolean> {
    const mine = this.holder;
    const res = await this.handle.put({ key: this.key("claim", name), value: mine, expireTime: this.leaseSeconds, ifValue: mine });
    if (res.code === ReturnCode.SUCCESS) return true;
    if (res.code === ReturnCode.KEY_NOT_FOUND) return this.claim(name);
    if (res.code !== ReturnCode.KEY_EXISTS) this.check(res, `renewing claim of ${name}`);
    return false;
  }

  /** Gives this collector's claim up; a claim another collector took meanwhile stays (compare-and-delete). */
  async release(name: string): Promise<void> {
    const res = await this.handle.erase(this.key("claim", name), this.holder);
    if (res.code !== ReturnCode.KEY_EXISTS && res.code !== ReturnCode.KEY_NOT_FOUND) this.check(res, `releasing claim of ${name}`);
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

/** Records positions [0, to) of `window` as collected in the state, simplifying its windows. */
function advance(st: ArtifactState, window: TimeWindow, to: number): void {
  const next = advanceCoverage(st.committed, st.windows, window, to);
  st.committed = next.committed;
  st.windows = next.windows.length > 0 ? next.windows : undefined;
}

/** An artifact's state as stored: JSON has no undefined, so the unset fields are dropped rather than stored as nulls. */
function stored(st: ArtifactState): Record<string, unknown> {
  return Object.fromEntries(Object.entries(st).filter(([, v]) => v !== undefined));
}
