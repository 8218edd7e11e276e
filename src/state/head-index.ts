import { createHash } from "node:crypto";
import type { ArtifactInfo } from "../contract/source.js";
import { ReturnCode } from "../storage/index.js";
import { stored, type StateStore } from "./store.js";
import type { ArtifactState, HeadPrint } from "./types.js";

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

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function headKey(head: Uint8Array): string {
  const bytes = Math.min(head.length, HEAD_KEY_BYTES);
  return `${bytes}:${sha256(head.subarray(0, bytes))}`;
}

/** A print as a storage key: its byte count and SHA-256. */
function printId(print: { bytes: number; sha256: string }): string {
  return `${print.bytes}:${print.sha256}`;
}

/** The print of an artifact's first bytes (up to HEAD_PRINT_BYTES of them); undefined for no bytes. */
export function headPrint(head: Uint8Array): HeadPrint | undefined {
  if (head.length === 0) return undefined;
  const bytes = Math.min(head.length, HEAD_PRINT_BYTES);
  return { bytes, sha256: sha256(head.subarray(0, bytes)), key: headKey(head) };
}

/** Whether `head` starts with the bytes `print` was made of: the same file, perhaps grown since. */
export function startsWith(print: HeadPrint, head: Uint8Array): boolean {
  return head.length >= print.bytes && sha256(head.subarray(0, print.bytes)) === print.sha256;
}

/**
 * Whether the artifact under a name is no longer the one collected under it: it is smaller than it was, has another
 * ETag (an object store's object rewritten), or (with
 * its first bytes at hand) does not start as it did. A log that was rotated, truncated or replaced; its content is
 * then collected from its start rather than from where the old one ended.
 */
export function replaced(state: Pick<ArtifactState, "size" | "head" | "etag">, info: ArtifactInfo, head: Uint8Array | undefined): boolean {
  if (state.size !== undefined && info.size !== undefined && info.size < state.size) return true;
  // An object store's objects are written whole: another ETag is another object, whatever its size.
  if (state.etag !== undefined && info.etag !== undefined && info.etag !== state.etag) return true;
  return head !== undefined && state.head !== undefined && !startsWith(state.head, head);
}

/**
 * Where the state finds a file again under another name (a renamed or rotated log, perhaps grown since) by its first
 * bytes: the name that holds each print, the prints that share a head key, and the states of files that moved away
 * from their names.
 */
export class HeadIndex {
  constructor(private readonly store: StateStore) {}

  /** Keeps the state of an artifact that moved away from its name, for the name it shows up under (findByHead). */
  async moved(state: ArtifactState): Promise<void> {
    const print = state.head;
    if (print === undefined) return;
    const id = printId(print);
    await this.store.put("moved", id, stored(state), `keeping the state of a moved artifact`, MOVED_STATE_SECONDS);
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
    const whole = headPrint(head);
    if (whole === undefined) return undefined;
    const exact = await this.candidateState({ b: whole.bytes, s: whole.sha256 }, name, what, true);
    if (exact !== undefined) return exact;
    const list = (await this.store.get("heads", whole.key, what)) as HeadCandidate[] | undefined;
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

  /** Records which name holds the file with this print: under the whole print, and among its head key's candidates. */
  async indexHead(name: string, print: HeadPrint): Promise<void> {
    await this.store.put("print", printId(print), name, `indexing ${name} by its first bytes`);
    await this.addCandidate(print, { n: name, b: print.bytes, s: print.sha256 });
  }

  /**
   * The state a head candidate stands for, when it still has that print: by name (`exact`: the name the print is
   * indexed under) and then as moved, or as the candidate says.
   */
  private async candidateState(c: HeadCandidate, name: string, what: string, exact: boolean): Promise<ArtifactState | undefined> {
    const id = `${c.b}:${c.s}`;
    const matches = (st: ArtifactState | undefined) => st?.head !== undefined && st.head.bytes === c.b && st.head.sha256 === c.s;
    const other = exact ? ((await this.store.get("print", id, what)) as string | undefined) : c.n;
    if (other !== undefined && other !== name) {
      const st = (await this.store.get("artifact", other, `reading ${other}`)) as ArtifactState | undefined;
      if (matches(st) && st!.pendingChunk === undefined) return st;
    }
    if (!exact && c.m === undefined) return undefined;
    const moved = (await this.store.get("moved", id, what)) as ArtifactState | undefined;
    return matches(moved) ? moved : undefined;
  }

  /** State written before files were indexed by their whole print: one name, or a moved state, per head key. */
  private async findByLegacyKey(head: Uint8Array, key: string, name: string): Promise<ArtifactState | undefined> {
    const what = `looking up ${name} by its first bytes`;
    const other = (await this.store.get("head", key, what)) as string | undefined;
    if (other !== undefined && other !== name) {
      const st = (await this.store.get("artifact", other, `reading ${other}`)) as ArtifactState | undefined;
      if (st?.head !== undefined && st.pendingChunk === undefined && startsWith(st.head, head)) return st;
    }
    const moved = (await this.store.get("moved", key, what)) as ArtifactState | undefined;
    return moved?.head !== undefined && startsWith(moved.head, head) ? moved : undefined;
  }

  /**
   * Puts a file first among its head key's candidates (dropping an older entry of the same name or moved print, and
   * the least recent beyond HEAD_CANDIDATES). Compare-and-set, so that collectors indexing at once lose no entry.
   */
  private async addCandidate(print: HeadPrint, entry: HeadCandidate): Promise<void> {
    const { handle } = this.store;
    const key = this.store.key("heads", print.key);
    const what = `indexing a file by its first bytes`;
    for (let attempt = 0; attempt < INDEX_ATTEMPTS; attempt++) {
      const raw = this.store.check(await handle.get(key), what) as HeadCandidate[] | undefined;
      const list = Array.isArray(raw) ? raw : [];
      const first = list[0];
      if (first !== undefined && first.n === entry.n && first.m === entry.m && first.b === entry.b && first.s === entry.s) return;
      const same = (c: HeadCandidate) => (entry.n !== undefined ? c.n === entry.n : c.m === entry.m);
      const next = [entry, ...list.filter((c) => !same(c))].slice(0, HEAD_CANDIDATES);
      const res = raw === undefined ? await handle.put({ key, value: next, overwrite: false }) : await handle.put({ key, value: next, ifValue: raw });
      if (res.code === ReturnCode.SUCCESS) return;
      if (res.code !== ReturnCode.KEY_EXISTS && res.code !== ReturnCode.KEY_NOT_FOUND) this.store.check(res, what);
    }
    // Still contended after that many attempts: the entry is left out rather than failing the collection. The list
    // only serves files that grew since they were printed; the others are found by their whole print.
  }
}
