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
  from?: Date;
  /** Exclusive upper time bound. */
  to?: Date;
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
  readonly type: string;
  readonly description: string;
  readonly configSchema: JSONSchema;
  /** Builds a source from a config that already passed configSchema; throws a TailkitError naming a bad field. */
  create(config: Config): ArtifactSource;
}
