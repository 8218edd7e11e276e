import type { TailkitError } from "../errors/index.js";
import type { JSONSchema } from "./schema.js";

/** One artifact a source has found: a file, an object, a page of a log stream. */
export interface ArtifactInfo {
  /** Stable identity within the source (relative path, object key); the same artifact always has the same name. */
  name: string;
  /** Where it lives, for people and for tp_source_location (absolute path, s3://bucket/key, ...). */
  location: string;
  /** Size in bytes when known before download. */
  size?: number;
  /** Last modification time in ms since the epoch, when known. */
  mtimeMs?: number;
  /** Content version (ETag or similar), when the source has one. */
  etag?: string;
  /** Named captures from the source's layout: year, month, day, hour, account, region, ... */
  properties: Record<string, string>;
}

/** An artifact available on local disk for a loader to open. */
export interface LocalArtifact {
  info: ArtifactInfo;
  /** Absolute path of the local copy (for the filesystem source, the file itself). */
  path: string;
  /** Bytes on disk. */
  bytes: number;
  /**
   * Bytes from the start that line loaders read: the end of the last complete line of a plain file that is still
   * being written to (its last line has no newline yet, and it changed within the source's quiet period). That line
   * is left for a later collection, which reads it once it is finished. Absent: every byte.
   */
  readBytes?: number | undefined;
  /** Frees the local copy (deletes a downloaded temp file); a no-op for files that were already local. */
  release(): Promise<void>;
  /** The tp_id prefix of the artifact's rows, set by the collection from its state (sources leave it unset). */
  idSeed?: string | undefined;
}

/** What a source is given for one execution. */
export interface SourceContext {
  signal: AbortSignal;
  /** Inclusive lower time bound: artifacts whose layout time is wholly before it are skipped. */
  from?: Date | undefined;
  /** Exclusive upper time bound. */
  to?: Date | undefined;
  /** A private folder for downloads, removed when the execution ends. */
  tempDir: string;
  /**
   * Hears about one entry discovery could not take, while discovery goes on: a TailkitError with operation "discover"
   * whose message names the path and the cause. With details.artifact, that artifact failed (a file gone before it was
   * looked at, a symlink leading outside its root); without, a folder that could not be read. The execution counts
   * each as a failed artifact. Optional: a source given none throws the first, so that no refusal is silent.
   */
  report?(problem: TailkitError): void;
  /**
   * Hears what a person should know about a discovery that found nothing to collect where something was expected,
   * e.g. "0 of 12 files under /data matched the layout AWSLogs/...". Not a failure. Optional.
   */
  notice?(message: string): void;
}

/** Discovers and downloads artifacts. Implementations: filesystem, s3, cloudwatch. */
export interface ArtifactSource {
  readonly type: string;
  /**
   * Optional: how many artifacts the collection downloads and extracts at once from this source. A source whose
   * downloads wait on a network (an object store) asks for more than local files need. Default 4.
   */
  readonly concurrency?: number;
  /** Yields artifacts as they are found; must honour ctx.signal. */
  discover(ctx: SourceContext): AsyncIterable<ArtifactInfo>;
  /** Makes one artifact available locally. */
  download(artifact: ArtifactInfo, ctx: SourceContext): Promise<LocalArtifact>;
  /**
   * Optional: up to `maxBytes` of the artifact's content from its start, as a loader reads it (a gzip file
   * decompressed); fewer when the content is shorter. A source whose artifacts can change in place or move (local
   * files: rotated, truncated, renamed) offers it, and collection state then tells a file that grew from one that was
   * replaced, and a renamed file from a new one, by these bytes.
   */
  head?(artifact: ArtifactInfo, maxBytes: number, ctx: SourceContext): Promise<Uint8Array>;
  /** Releases connections and handles. */
  close?(): Promise<void>;
}

/** A source type a plugin offers: its name, the JSON Schema of its config and a factory. */
export interface ArtifactSourceFactory<Config = Record<string, unknown>> {
  /** Optional; "artifacts" when given. */
  readonly kind?: "artifacts";
  readonly type: string;
  readonly description: string;
  readonly configSchema: JSONSchema;
  /** Builds a source from a config that already passed configSchema; throws a TailkitError naming a bad field. */
  create(config: Config): ArtifactSource;
}

/** What a row source is given for one execution. */
export interface RowSourceContext {
  signal: AbortSignal;
  /** Inclusive lower time bound of the items wanted, when the collection has one. */
  from?: Date | undefined;
  /** Exclusive upper time bound. */
  to?: Date | undefined;
  /** As SourceContext.report: a stream or item the source could not read, while it goes on. Optional. */
  report?(problem: TailkitError): void;
  /** As SourceContext.notice. Optional. */
  notice?(message: string): void;
  /**
   * A folder of this source's own (by source type and name) that outlives the collection, made before read() is
   * called: `<output dir>/.tailkit/sources/<type>/<name>`. A push source keeps there what it acknowledged and has not
   * yet seen in chunks. Set by the collection; absent when a test calls read() itself.
   */
  stateDir?: string | undefined;
  /**
   * Aborted when the collection is asked to stop (SIGINT/SIGTERM, the host's Shutdown) rather than cancelled, for a
   * source with `push`: it then stops taking items, yields those it has taken, and ends.
   */
  stop?: AbortSignal | undefined;
}

/**
 * Items a row source read at once, from one stream (a log stream, a webhook's endpoint), and where reading goes on
 * after them.
 */
export interface RowPage<Item = unknown> {
  /**
   * The stream the items come from: its name is what collection state counts the rows under (their positions, and so
   * their tp_id), its location their tp_source_location.
   */
  stream: ArtifactInfo;
  items: Item[];
  /**
   * Where reading goes on after this page (any JSON value): saved once the rows of this page and of every page before
   * it are in durable chunks, and given back to read() by the next collection. Absent: the page moves no cursor (a
   * pushed page, which is acknowledged instead).
   */
  cursor?: unknown;
  /**
   * Called once the page's rows are in durable chunks and the cursor of the page (or a later one) is saved: a push
   * source acknowledges the sender then, or lets go of what it kept of the page. Not called for a page whose rows are
   * lost to a failure: its sender sends it again.
   */
  durable?(): void;
}

/**
 * A source that makes items itself instead of handing over artifacts: an API paged with a saved cursor, or rows pushed
 * to the plugin. The rows of its pages go through the table's mappers for this source type (no loader).
 */
export interface RowSource<Item = unknown> {
  readonly type: string;
  /**
   * Optional: what the source reads within its source name (a log group). Its cursor and its claim are kept under the
   * source name and this key, so that two configs of one source name that read different places (two log groups in
   * one partition) keep their own cursors. Absent: one cursor per source name.
   */
  readonly cursorKey?: string;
  /**
   * True for a source that runs until it is asked to stop (a webhook): a stop request ends its read() through
   * ctx.stop, and the collection completes as usual with what it took, instead of being cancelled. While it waits for
   * more, the rows it gave are written to a chunk within about a second, not only once a chunk is full.
   */
  readonly push?: boolean;
  /**
   * Yields pages of items from `cursor` on (undefined: the first collection; read from ctx.from, or from the start);
   * ends when there is nothing more to read now. Must honour ctx.signal. Pages read again from the same cursor must
   * hold, for each stream, the same items in the same order, up to the last page read before: a collection killed
   * midway then resumes from the saved cursor and drops the rows it wrote already, by their position in their stream.
   * How the pages of different streams interleave may change from one read to the next (positions are per stream);
   * a page's cursor must then cover, for every stream, only items of pages given before it or with it.
   */
  read(cursor: unknown, ctx: RowSourceContext): AsyncIterable<RowPage<Item>>;
  /** Releases connections, servers and handles. */
  close?(): Promise<void>;
}

/** A row source type a plugin offers: as ArtifactSourceFactory, with `kind: "rows"`. */
export interface RowSourceFactory<Config = Record<string, unknown>> {
  readonly kind: "rows";
  readonly type: string;
  readonly description: string;
  readonly configSchema: JSONSchema;
  /** Builds a source from a config that already passed configSchema; throws a TailkitError naming a bad field. */
  create(config: Config): RowSource;
}

/** Any source type a plugin offers. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type SourceFactory = ArtifactSourceFactory<any> | RowSourceFactory<any>;

/** Whether a source type makes rows itself (RowSourceFactory) rather than handing over artifacts. */
export function isRowSourceFactory(factory: SourceFactory): factory is RowSourceFactory<unknown> {
  return (factory as { kind?: unknown }).kind === "rows";
}
