import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { Code, TailkitError, invalidArgument, type ErrorDetails } from "../../errors/index.js";
import { compressionOf } from "../../loaders/compression.js";
import { unzstdHead } from "../../loaders/zstd.js";
import type { JSONSchema } from "../../schema/index.js";
import type { ArtifactInfo, ArtifactSource, ArtifactSourceFactory, LocalArtifact, SourceContext } from "../../contract/source.js";
import { compileFileLayout, mayIntersect, type FileLayout, type LayoutState } from "./layout.js";

/** Config of the "file" source, as validated by its configSchema. */
export interface FileSystemSourceConfig {
  /** Root folders to walk, or single files to collect as they are. */
  paths: string[];
  /** Layout of files below each root (see compileFileLayout). Default: every file, at any depth. */
  file_layout?: string;
  /** Only files whose names end with one of these (case-insensitive), e.g. [".log", ".log.gz"]. Default: all. */
  extensions?: string[];
  /**
   * Seconds after its last change that a plain file whose last line has no newline is taken as finished; before that,
   * the unfinished line is left for a later collection. Default 300.
   */
  quiet_period_seconds?: number;
}

/** Default FileSystemSourceConfig.quiet_period_seconds. */
export const DEFAULT_QUIET_PERIOD_SECONDS = 300;

/** Options of createFileSystemSourceFactory. */
export interface FileSystemSourceOptions {
  /**
   * Hears about a file or directory discovery skipped (a symlink leading outside its root, an unreadable directory)
   * while the walk goes on. Default: none, and the first such error ends discovery, so a refusal is never silent.
   */
  onError?: (err: TailkitError) => void;
}

/** JSON Schema of FileSystemSourceConfig. */
export const fileSystemSourceConfigSchema: JSONSchema = {
  type: "object",
  properties: {
    paths: {
      type: "array",
      items: { type: "string", minLength: 1 },
      minItems: 1,
      description:
        "Folders to collect from, or single files. Artifact names are '<last folder of the root>/<path below it>'; a file " +
        "given here is collected as it is (extensions do not apply; the layout's last segment, when it matches the file's " +
        "name, gives its captures) under the name '<its folder>/<its name>', the name it has when its folder is collected.",
    },
    file_layout: {
      type: "string",
      description:
        "Path of the files below each root, with {name} or {name:regex} captures, '*' within a segment and '**' for any " +
        "directories. year/month/day/hour captures let a time range skip folders. Default: every file at any depth.",
    },
    extensions: {
      type: "array",
      items: { type: "string", minLength: 1 },
      description: "Only collect files whose names end with one of these, e.g. ['.log', '.log.gz']. Default: all files.",
    },
    quiet_period_seconds: {
      type: "number",
      minimum: 0,
      default: DEFAULT_QUIET_PERIOD_SECONDS,
      description:
        "A plain file whose last line has no newline yet and that changed less than this many seconds ago is still " +
        "being written: that line is left for a later collection, which reads it once it is finished. After this " +
        "long unchanged, the file is taken as finished and its last line is collected as it is. Default 300.",
    },
  },
  required: ["paths"],
  additionalProperties: false,
};

/** The "file" source type: artifacts are files below local root directories. */
export function createFileSystemSourceFactory(options: FileSystemSourceOptions = {}): ArtifactSourceFactory<FileSystemSourceConfig> {
  return {
    type: "file",
    description: "Files on local disk, found by walking root directories along a file layout.",
    configSchema: fileSystemSourceConfigSchema,
    create: (config) => new FileSystemSource(config, options.onError),
  };
}

interface Root {
  /** The path as configured, for messages. */
  given: string;
  resolved: string;
  /** Prefix of artifact names, unique among roots so names cannot collide. */
  label: string;
  field: string;
  /** A folder to walk, or one file named in paths. */
  kind: "directory" | "file";
}

/** Most entries the count of an unmatched root looks at, so a huge tree cannot hold a collection up for long. */
const COUNT_MAX_ENTRIES = 100_000;

class FileSystemSource implements ArtifactSource {
  readonly type = "file";
  private readonly roots: Root[];
  private readonly layout: FileLayout;
  private readonly extensions: string[] | undefined;
  private readonly quietMs: number;

  constructor(
    config: FileSystemSourceConfig,
    private readonly onError: ((err: TailkitError) => void) | undefined,
  ) {
    this.layout = compileFileLayout(config.file_layout);
    this.extensions = config.extensions?.map((e) => e.toLowerCase());
    this.roots = validateRoots(config.paths);
    this.quietMs = (config.quiet_period_seconds ?? DEFAULT_QUIET_PERIOD_SECONDS) * 1000;
  }

  async *discover(ctx: SourceContext): AsyncIterable<ArtifactInfo> {
    const report =
      ctx.report?.bind(ctx) ??
      this.onError ??
      ((err: TailkitError) => {
        throw err;
      });
    for (const root of this.roots) {
      checkAborted(ctx.signal);
      if (root.kind === "file") {
        const info = await this.namedFile(root, report);
        if (info !== undefined) yield info;
        continue;
      }
      const realRoot = await openRoot(root);
      const walk = new Walk(root, realRoot, this.layout, this.extensions, ctx, report);
      yield* walk.directory(root.resolved, realRoot, "", this.layout.initial(), new Set([realRoot]));
      if (walk.matched === 0 && ctx.notice !== undefined) {
        const message = await this.nothingMatched(root, realRoot, ctx);
        if (message !== undefined) ctx.notice(message);
      }
    }
  }

  /** A file named in paths: collected as it is, with the captures of the layout's last segment when its name fits. */
  private async namedFile(root: Root, report: (err: TailkitError) => void): Promise<ArtifactInfo | undefined> {
    const name = `${root.label}/${path.basename(root.resolved)}`;
    let stat: fs.Stats;
    try {
      stat = await fs.promises.stat(root.resolved);
    } catch (err) {
      report(fsError(err, `${root.field}: ${root.resolved}: file skipped`, { artifact: name, operation: "discover" }));
      return undefined;
    }
    if (!stat.isFile()) {
      report(
        new TailkitError(Code.FailedPrecondition, `${root.field}: ${root.resolved} is no longer a regular file; skipped`, {
          artifact: name,
          operation: "discover",
        }),
      );
      return undefined;
    }
    const last = this.layout.segments.length - 1;
    const captures = this.layout.matchFile([{ index: last, captures: {} }], path.basename(root.resolved)) ?? {};
    return { name, location: root.resolved, size: stat.size, mtimeMs: stat.mtimeMs, properties: { ...captures } };
  }

  /**
   * Why a root gave nothing, when it holds files: counts them (and those that fit the layout, time range aside) by a
   * walk that does not prune, up to COUNT_MAX_ENTRIES entries. Undefined when the root holds no file at all.
   */
  private async nothingMatched(root: Root, realRoot: string, ctx: SourceContext): Promise<string | undefined> {
    let files = 0;
    let fitLayout = 0;
    let entries = 0;
    const walk = async (dir: string, states: LayoutState[]): Promise<void> => {
      if (entries >= COUNT_MAX_ENTRIES || ctx.signal.aborted) return;
      let list: fs.Dirent[];
      try {
        list = await fs.promises.readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const entry of list) {
        if (++entries > COUNT_MAX_ENTRIES) return;
        // Symlinks are not followed here: the count is a hint, and the walk that matters reported them already.
        if (entry.isDirectory()) await walk(path.join(dir, entry.name), this.layout.enterDirectory(states, entry.name));
        else if (entry.isFile()) {
          files++;
          if (this.layout.matchFile(states, entry.name) !== undefined && this.hasExtension(entry.name)) fitLayout++;
        }
      }
    };
    await walk(realRoot, this.layout.initial());
    if (files === 0) return undefined;
    const counted = entries > COUNT_MAX_ENTRIES ? `more than ${files}` : `${files}`;
    const under = `${counted} files under ${root.given}`;
    const extensions = this.extensions === undefined ? "" : ` with extensions ${this.extensions.join(", ")}`;
    if (fitLayout > 0) {
      const range = `${ctx.from?.toISOString() ?? "the beginning"} to ${ctx.to?.toISOString() ?? "now"}`;
      return `0 of ${under} matched the layout ${this.layout.pattern}${extensions} in the time range ${range} (${fitLayout} match it outside that range)`;
    }
    return `0 of ${under} matched the layout ${this.layout.pattern}${extensions}; is ${root.field} (--path) the folder the layout starts from (for AWS logs, the bucket's root)?`;
  }

  private hasExtension(name: string): boolean {
    if (this.extensions === undefined) return true;
    const lower = name.toLowerCase();
    return this.extensions.some((e) => lower.endsWith(e));
  }

  async download(artifact: ArtifactInfo, ctx: SourceContext): Promise<LocalArtifact> {
    checkAborted(ctx.signal);
    let stat: fs.Stats;
    try {
      stat = await fs.promises.stat(artifact.location);
    } catch (err) {
      throw fsError(err, `${artifact.name}: ${artifact.location}`, { artifact: artifact.name, operation: "download" });
    }
    if (!stat.isFile()) {
      throw new TailkitError(Code.FailedPrecondition, `${artifact.name}: ${artifact.location} is no longer a regular file`, {
        artifact: artifact.name,
        operation: "download",
      });
    }
    const local: LocalArtifact = { info: artifact, path: artifact.location, bytes: stat.size, release: async () => {} };
    if (this.mayBeWritten(stat.mtimeMs)) {
      let readBytes: number | undefined;
      try {
        readBytes = completeLinesEnd(artifact.location, stat.size);
      } catch (err) {
        throw fsError(err, `${artifact.name}: ${artifact.location}`, { artifact: artifact.name, operation: "download" });
      }
      if (readBytes !== undefined) local.readBytes = readBytes;
    }
    return local;
  }

  async head(artifact: ArtifactInfo, maxBytes: number, ctx: SourceContext): Promise<Uint8Array> {
    checkAborted(ctx.signal);
    const head = await readHead(artifact.location, maxBytes);
    // The first bytes tell this file from others later on: an unfinished last line, which will change, is not part
    // of them. The head holds it only when it is the whole of a plain file.
    const whole = artifact.size !== undefined && head.length === artifact.size && head.length < maxBytes;
    if (whole && head[head.length - 1] !== LF && artifact.mtimeMs !== undefined && this.mayBeWritten(artifact.mtimeMs)) {
      if (completeLinesEnd(artifact.location, head.length) !== undefined) return head.subarray(0, head.lastIndexOf(LF) + 1);
    }
    return head;
  }

  /** True when a file that changed at this time may still be written to. */
  private mayBeWritten(mtimeMs: number): boolean {
    return Date.now() - mtimeMs < this.quietMs;
  }
}

const LF = 0x0a;

/** Bytes read at a time while looking back from a file's end for its last newline. */
const TAIL_BLOCK_BYTES = 64 * 1024;

/**
 * Where the complete lines of a plain file end (the byte after its last newline) when its last line has no newline;
 * undefined when it ends with one, is empty, or is compressed (gzip, zstd, zip: a compressed file is written whole).
 */
export function completeLinesEnd(file: string, size: number): number | undefined {
  if (size === 0) return undefined;
  const fd = fs.openSync(file, "r");
  try {
    const magic = Buffer.alloc(4);
    if (compressionOf(magic.subarray(0, fs.readSync(fd, magic, 0, 4, 0))) !== "none") return undefined;
    const block = Buffer.allocUnsafe(Math.min(TAIL_BLOCK_BYTES, size));
    let end = size;
    let first = true;
    while (end > 0) {
      const start = Math.max(0, end - block.length);
      const n = fs.readSync(fd, block, 0, end - start, start);
      const bytes = block.subarray(0, n);
      if (first && bytes[n - 1] === LF) return undefined;
      first = false;
      const at = bytes.lastIndexOf(LF);
      if (at >= 0) return start + at + 1;
      end = start;
    }
    return 0;
  } finally {
    fs.closeSync(fd);
  }
}

/** Compressed bytes read at most to inflate the start of a gzip file, when its first maxBytes inflate to too little. */
const HEAD_GZIP_MAX_READ = 64 * 1024;

/**
 * The first maxBytes of a file's content (decompressed when it is gzip or zstd, by magic bytes, as the loaders read it), or
 * fewer when it is shorter. Of a gzip file that is corrupt early on, what inflates before the fault (maybe nothing).
 * A few KiB from the start of a local file: read synchronously, which costs a fraction of three promise round trips.
 */
export async function readHead(file: string, maxBytes: number): Promise<Uint8Array> {
  const fd = fs.openSync(file, "r");
  try {
    const read = (size: number) => {
      const buf = Buffer.allocUnsafe(size);
      return buf.subarray(0, fs.readSync(fd, buf, 0, size, 0));
    };
    let size = maxBytes;
    let raw = read(size);
    const compression = compressionOf(raw);
    // A zip archive's head is its own bytes: its first member's local header and data, which say what it holds.
    if (compression === "none" || compression === "zip") return raw;
    if (compression === "zstd") {
      let out = unzstdHead(raw, maxBytes);
      if (out.length < maxBytes && raw.length === size) out = unzstdHead(read(HEAD_GZIP_MAX_READ), maxBytes);
      return out;
    }
    let out: Uint8Array = new Uint8Array(0);
    for (;;) {
      try {
        // A sync flush gives what the bytes read so far inflate to, without asking for the rest of the stream.
        out = zlib.gunzipSync(raw, { finishFlush: zlib.constants.Z_SYNC_FLUSH, chunkSize: Math.max(maxBytes, 1024) });
      } catch {
        return out.subarray(0, maxBytes);
      }
      // Text inflates to several times its compressed size: one read of maxBytes is nearly always enough.
      if (out.length >= maxBytes || raw.length < size || size >= HEAD_GZIP_MAX_READ) return out.subarray(0, maxBytes);
      size = HEAD_GZIP_MAX_READ;
      raw = read(size);
    }
  } finally {
    fs.closeSync(fd);
  }
}

function validateRoots(paths: string[]): Root[] {
  if (!Array.isArray(paths) || paths.length === 0) throw invalidArgument("paths", "must list at least one folder or file");
  const roots = paths.map((given, i): Root => {
    if (typeof given !== "string" || given === "") throw invalidArgument(`paths[${i}]`, "must be a non-empty path");
    const resolved = path.resolve(given);
    // Checked here, at Collect, so a typo fails the request at once instead of the execution later.
    let stat: fs.Stats;
    try {
      stat = fs.statSync(resolved);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw invalidArgument(`paths[${i}]`, code === "ENOENT" ? `${given} does not exist` : `${given} cannot be read (${code ?? String(err)})`);
    }
    if (stat.isFile()) {
      // Named as when its folder is the root, so that state carries over between collecting the file and its folder.
      return { given, resolved, label: path.basename(path.dirname(resolved)) || "root", field: `paths[${i}]`, kind: "file" };
    }
    if (!stat.isDirectory()) throw invalidArgument(`paths[${i}]`, `${given} is neither a folder nor a regular file`);
    return { given, resolved, label: path.basename(resolved) || "root", field: `paths[${i}]`, kind: "directory" };
  });
  // Labels come from the root itself, not its place in the list, so adding a root never renames another's artifacts.
  for (let i = 0; i < roots.length; i++) {
    for (let j = 0; j < i; j++) {
      const a = roots[j]!;
      const b = roots[i]!;
      if (isInside(a.resolved, b.resolved) || isInside(b.resolved, a.resolved)) {
        throw invalidArgument(b.field, `${b.given} overlaps ${a.field} (${a.given}); its files would be collected twice`);
      }
      // Two files of one folder have different names; any other pair of roots with one label might collide.
      const sameFolderFiles = a.kind === "file" && b.kind === "file" && path.dirname(a.resolved) === path.dirname(b.resolved);
      if (a.label === b.label && !sameFolderFiles) {
        throw invalidArgument(b.field, `${b.given} ends in the same folder name "${b.label}" as ${a.field} (${a.given}); artifact names would collide`);
      }
    }
  }
  return roots;
}

async function openRoot(root: Root): Promise<string> {
  let stat: fs.Stats;
  try {
    stat = await fs.promises.stat(root.resolved);
  } catch (err) {
    throw fsError(err, `${root.field}: root path ${root.given} (${root.resolved})`, { field: root.field, operation: "discover" });
  }
  if (!stat.isDirectory()) {
    throw new TailkitError(Code.InvalidArgument, `${root.field}: root path ${root.given} is not a directory`, {
      field: root.field,
    });
  }
  return fs.promises.realpath(root.resolved);
}

class Walk {
  /** Files yielded so far. */
  matched = 0;

  constructor(
    private readonly root: Root,
    private readonly realRoot: string,
    private readonly layout: FileLayout,
    private readonly extensions: string[] | undefined,
    private readonly ctx: SourceContext,
    private readonly report: (err: TailkitError) => void,
  ) {}

  /**
   * Yields the matching files below `dir`, in sorted name order. `realDir` is its symlink-free path and `ancestors`
   * the real paths of the directories above, so a link back up the tree is not walked forever.
   */
  async *directory(dir: string, realDir: string, rel: string, states: LayoutState[], ancestors: Set<string>): AsyncGenerator<ArtifactInfo> {
    checkAborted(this.ctx.signal);
    const entries = await this.list(dir);
    if (entries === undefined) return;
    for (const entry of entries) {
      checkAborted(this.ctx.signal);
      const abs = path.join(dir, entry.name);
      const relPath = rel === "" ? entry.name : `${rel}/${entry.name}`;
      let real = path.join(realDir, entry.name);
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        const target = await this.followLink(abs, relPath);
        if (target === undefined) continue;
        ({ real, isDir, isFile } = target);
      }
      if (isDir) {
        const next = this.layout.enterDirectory(states, entry.name).filter((s) => mayIntersect(s.captures, this.ctx.from, this.ctx.to));
        if (next.length === 0) continue;
        if (ancestors.has(real)) {
          this.report(
            new TailkitError(Code.FailedPrecondition, `${abs}: symlink loops back to ${real}; not followed`, {
              artifact: this.name(relPath),
              operation: "discover",
            }),
          );
          continue;
        }
        ancestors.add(real);
        yield* this.directory(abs, real, relPath, next, ancestors);
        ancestors.delete(real);
      } else if (isFile) {
        const info = await this.file(abs, real, relPath, entry.name, states, entry.isSymbolicLink());
        if (info !== undefined) {
          this.matched++;
          yield info;
        }
      }
      // Sockets, FIFOs and devices are skipped: opening a FIFO would block the collection.
    }
  }

  private async file(abs: string, real: string, relPath: string, name: string, states: LayoutState[], viaLink: boolean): Promise<ArtifactInfo | undefined> {
    const captures = this.layout.matchFile(states, name);
    if (captures === undefined || !mayIntersect(captures, this.ctx.from, this.ctx.to)) return undefined;
    if (this.extensions !== undefined) {
      const lower = name.toLowerCase();
      if (!this.extensions.some((e) => lower.endsWith(e))) return undefined;
    }
    let stat: fs.Stats;
    try {
      stat = await fs.promises.stat(abs);
    } catch (err) {
      this.report(fsError(err, `${abs}: file skipped`, { artifact: this.name(relPath), operation: "discover" }));
      return undefined;
    }
    return {
      name: this.name(relPath),
      // Through a link, point at the checked target so a link swapped later cannot redirect the read outside the root.
      location: viaLink ? real : abs,
      size: stat.size,
      mtimeMs: stat.mtimeMs,
      properties: { ...captures },
    };
  }

  private async list(dir: string): Promise<fs.Dirent[] | undefined> {
    try {
      const handle = await fs.promises.opendir(dir);
      const entries: fs.Dirent[] = [];
      for await (const entry of handle) entries.push(entry);
      // Plain code-unit order, not locale order: the same tree must give the same sequence on every machine.
      return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    } catch (err) {
      this.report(fsError(err, `${dir}: directory skipped`, { operation: "discover" }));
      return undefined;
    }
  }

  /** Resolves a symlink, refusing one that leads outside the root; undefined when skipped. */
  private async followLink(abs: string, relPath: string): Promise<{ real: string; isDir: boolean; isFile: boolean } | undefined> {
    let real: string;
    let stat: fs.Stats;
    try {
      real = await fs.promises.realpath(abs);
      stat = await fs.promises.stat(real);
    } catch (err) {
      this.report(fsError(err, `${abs}: symlink skipped`, { artifact: this.name(relPath), operation: "discover" }));
      return undefined;
    }
    if (!isInside(this.realRoot, real)) {
      this.report(
        new TailkitError(Code.PermissionDenied, `${abs}: symlink leads outside its root ${this.root.given} (to ${real}); refused`, {
          artifact: this.name(relPath),
          operation: "discover",
        }),
      );
      return undefined;
    }
    return { real, isDir: stat.isDirectory(), isFile: stat.isFile() };
  }

  private name(relPath: string): string {
    return `${this.root.label}/${relPath}`;
  }
}

function isInside(parent: string, child: string): boolean {
  if (child === parent) return true;
  const prefix = parent.endsWith(path.sep) ? parent : parent + path.sep;
  return child.startsWith(prefix);
}

function checkAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new TailkitError(Code.Canceled, "discovery was canceled", { operation: "discover" });
}

/** A coded error for a failed fs call: `context` says what was being done, the errno says why. */
function fsError(err: unknown, context: string, details: ErrorDetails): TailkitError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === "ENOENT") return new TailkitError(Code.NotFound, `${context}: does not exist`, details, { cause: err });
  if (code === "EACCES" || code === "EPERM") {
    return new TailkitError(Code.PermissionDenied, `${context}: permission denied`, details, { cause: err });
  }
  const reason = err instanceof Error ? err.message : String(err);
  return new TailkitError(Code.Unknown, `${context}: ${reason}`, details, { cause: err });
}
