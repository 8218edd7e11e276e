import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type * as S3Sdk from "@aws-sdk/client-s3";
import type { S3Client, ListObjectsV2CommandOutput } from "@aws-sdk/client-s3";
import type { ArtifactInfo, ArtifactSource, ArtifactSourceFactory, LocalArtifact, SourceContext } from "../../contract/source.js";
import { Code, TailkitError } from "../../errors/index.js";
import { compileFileLayout, mayIntersect, type FileLayout, type LayoutState } from "../filesystem/layout.js";
import {
  DEFAULT_S3_CONCURRENCY,
  DEFAULT_S3_MAX_ATTEMPTS,
  keyProblem,
  normalizePrefix,
  s3SourceConfigSchema,
  validateS3SourceConfig,
  type S3SourceConfig,
} from "./config.js";

/** The "aws_s3_bucket" source type: objects of one bucket, listed along a file layout and downloaded to temp files. */
export function createS3SourceFactory(): ArtifactSourceFactory<S3SourceConfig> {
  return {
    type: "aws_s3_bucket",
    description: "Objects in an S3 bucket (or an S3-compatible store), listed along a file layout and downloaded as they are collected.",
    configSchema: s3SourceConfigSchema,
    create: (config) => {
      validateS3SourceConfig(config);
      return new S3Source(config);
    },
  };
}

/** Longest wait between two attempts, before jitter. */
const MAX_BACKOFF_MS = 5_000;
/** First wait between attempts; doubled each time. */
const BASE_BACKOFF_MS = 100;

class S3Source implements ArtifactSource {
  readonly type = "aws_s3_bucket";
  readonly concurrency: number;
  private readonly layout: FileLayout;
  private readonly prefix: string;
  private readonly extensions: string[] | undefined;
  private readonly maxAttempts: number;
  private client: Promise<{ client: S3Client; sdk: typeof S3Sdk }> | undefined;
  private downloads = 0;

  constructor(private readonly config: S3SourceConfig) {
    this.layout = compileFileLayout(config.file_layout);
    this.prefix = normalizePrefix(config.prefix);
    this.extensions = config.extensions?.map((e) => e.toLowerCase());
    this.maxAttempts = config.max_attempts ?? DEFAULT_S3_MAX_ATTEMPTS;
    this.concurrency = config.max_concurrency ?? DEFAULT_S3_CONCURRENCY;
  }

  /** The client, made on first use: importing tailkit does not load the AWS SDK. */
  private sdk(): Promise<{ client: S3Client; sdk: typeof S3Sdk }> {
    this.client ??= import("@aws-sdk/client-s3").then((sdk) => {
      const c = this.config;
      // With a profile and no region anywhere else, the client reads the profile's own region.
      const region = c.region ?? process.env["AWS_REGION"] ?? process.env["AWS_DEFAULT_REGION"] ?? (c.profile === undefined ? "us-east-1" : undefined);
      const client = new sdk.S3Client({
        ...(region === undefined ? {} : { region }),
        maxAttempts: this.maxAttempts,
        ...(c.endpoint === undefined ? {} : { endpoint: c.endpoint }),
        ...(c.force_path_style === undefined ? {} : { forcePathStyle: c.force_path_style }),
        ...(c.profile === undefined ? {} : { profile: c.profile }),
        ...(c.access_key === undefined || c.secret_key === undefined
          ? {}
          : {
              credentials: {
                accessKeyId: c.access_key,
                secretAccessKey: c.secret_key,
                ...(c.session_token === undefined ? {} : { sessionToken: c.session_token }),
              },
            }),
      });
      return { client, sdk };
    });
    return this.client;
  }

  async *discover(ctx: SourceContext): AsyncIterable<ArtifactInfo> {
    const report =
      ctx.report?.bind(ctx) ??
      ((err: TailkitError) => {
        throw err;
      });
    const walk = new Listing(this, ctx, report);
    yield* walk.level(this.prefix, this.layout.initial(), true);
    if (walk.matched === 0 && ctx.notice !== undefined) {
      const message = await this.nothingMatched(ctx);
      if (message !== undefined) ctx.notice(message);
    }
  }

  /** One page of ListObjectsV2 below `prefix`, folders apart (Delimiter "/"). */
  async list(prefix: string, token: string | undefined, ctx: SourceContext): Promise<ListObjectsV2CommandOutput> {
    const { client, sdk } = await this.sdk();
    try {
      return await client.send(
        new sdk.ListObjectsV2Command({
          Bucket: this.config.bucket,
          Prefix: prefix,
          Delimiter: "/",
          ...(token === undefined ? {} : { ContinuationToken: token }),
        }),
        { abortSignal: ctx.signal },
      );
    } catch (err) {
      throw this.error(err, `listing ${this.url(prefix)}`, { operation: "discover" });
    }
  }

  /** What the layout allows of an object found by listing: its artifact, or undefined when the layout or range leaves it out. */
  objectInfo(
    key: string,
    name: string,
    states: readonly LayoutState[],
    size: number | undefined,
    etag: string | undefined,
    modified: Date | undefined,
    ctx: SourceContext,
  ) {
    const captures = this.layout.matchFile(states, name);
    if (captures === undefined || !mayIntersect(captures, ctx.from, ctx.to)) return undefined;
    if (this.extensions !== undefined) {
      const lower = name.toLowerCase();
      if (!this.extensions.some((e) => lower.endsWith(e))) return undefined;
    }
    const info: ArtifactInfo = { name: this.nameOf(key), location: this.url(key), properties: { ...captures } };
    if (size !== undefined) info.size = size;
    if (etag !== undefined) info.etag = etag.replace(/^"|"$/g, "");
    if (modified !== undefined) info.mtimeMs = modified.getTime();
    return info;
  }

  /** States inside the folder `name`, as the time range allows; empty when nothing below it can be collected. */
  enter(states: readonly LayoutState[], name: string, ctx: SourceContext): LayoutState[] {
    return this.layout.enterDirectory(states, name).filter((s) => mayIntersect(s.captures, ctx.from, ctx.to));
  }

  /** The one folder the layout allows next, when its next segment is plain text: it is entered without listing. */
  literalNext(states: readonly LayoutState[]): string | undefined {
    if (states.length !== 1) return undefined;
    const { index } = states[0]!;
    if (index >= this.layout.segments.length - 1) return undefined;
    const seg = this.layout.segments[index]!;
    return seg.kind === "match" ? seg.literal : undefined;
  }

  async download(artifact: ArtifactInfo, ctx: SourceContext): Promise<LocalArtifact> {
    const key = this.keyOf(artifact);
    const { client, sdk } = await this.sdk();
    const file = path.join(ctx.tempDir, `s3-${++this.downloads}-${createHash("sha256").update(artifact.name).digest("hex").slice(0, 16)}`);
    const release = () => fs.promises.rm(file, { force: true });
    const details = { artifact: artifact.name, operation: "download" };
    let written = 0;
    for (let attempt = 1; ; attempt++) {
      checkAborted(ctx.signal);
      let out;
      try {
        // Resumes a body cut midway where it stopped, and only from the same object (a changed object is 412).
        out = await client.send(
          new sdk.GetObjectCommand({
            Bucket: this.config.bucket,
            Key: key,
            ...(artifact.etag === undefined ? {} : { IfMatch: `"${artifact.etag}"` }),
            ...(written > 0 ? { Range: `bytes=${written}-` } : {}),
          }),
          { abortSignal: ctx.signal },
        );
      } catch (err) {
        // The client retried what can be retried (503 SlowDown, 5xx, a reset before the answer) already.
        await release();
        throw this.error(err, `${artifact.location}`, details);
      }
      if (written > 0 && out.ContentRange === undefined) written = 0; // the store ignored the range: start over
      const expected = written + (out.ContentLength ?? 0);
      // Written chunk by chunk, so that what is on disk is known exactly when the body is cut: the next try asks for
      // the rest only.
      const fh = await fs.promises.open(file, written > 0 ? "a" : "w");
      try {
        for await (const chunk of out.Body as AsyncIterable<Uint8Array>) {
          await fh.writeFile(chunk);
          written += chunk.length;
        }
        if (out.ContentLength !== undefined && written < expected) throw new BodyCut(`got ${written} of ${expected} bytes`);
        await fh.close();
        return { info: artifact, path: file, bytes: written, release };
      } catch (err) {
        await fh.close().catch(() => undefined);
        if (ctx.signal.aborted) {
          await release();
          checkAborted(ctx.signal);
        }
        if (attempt >= this.maxAttempts) {
          await release();
          throw new TailkitError(
            Code.Unavailable,
            `${artifact.location}: download failed after ${attempt} attempts: ${err instanceof Error ? err.message : String(err)}`,
            details,
            { cause: err },
          );
        }
        await sleep(backoff(attempt), ctx.signal);
      }
    }
  }

  async close(): Promise<void> {
    if (this.client === undefined) return;
    const { client } = await this.client.catch(() => ({ client: undefined }));
    client?.destroy();
  }

  /** Why a root listing gave nothing: one more listing, without the layout, says whether the prefix holds objects. */
  private async nothingMatched(ctx: SourceContext): Promise<string | undefined> {
    const { client, sdk } = await this.sdk();
    const out = await client.send(new sdk.ListObjectsV2Command({ Bucket: this.config.bucket, Prefix: this.prefix, MaxKeys: 1000 }), {
      abortSignal: ctx.signal,
    });
    const keys = (out.Contents ?? []).map((o) => o.Key ?? "").filter((k) => k !== "" && !k.endsWith("/"));
    if (keys.length === 0) return undefined;
    const count = out.IsTruncated ? `more than ${keys.length}` : `${keys.length}`;
    return `0 of ${count} objects under ${this.url(this.prefix)} matched the layout ${this.layout.pattern}${
      ctx.from !== undefined || ctx.to !== undefined ? " in the time range asked for" : ""
    }; is prefix the folder the layout starts from (for AWS logs, the one holding AWSLogs/)?`;
  }

  private keyOf(artifact: ArtifactInfo): string {
    const head = `${this.config.bucket}/`;
    if (!artifact.name.startsWith(head)) throw new TailkitError(Code.InvalidArgument, `${artifact.name} is not an object of bucket ${this.config.bucket}`);
    return artifact.name.slice(head.length);
  }

  /** The artifact name of an object: `<bucket>/<key>`, the same however the bucket is reached. */
  nameOf(key: string): string {
    return `${this.config.bucket}/${key}`;
  }

  /** Where an object is, for people and tp_source_location. */
  url(key: string): string {
    return `s3://${this.config.bucket}/${key}`;
  }

  /** A coded error for a failed S3 call: `context` says what was being done, S3's error name and message say why. */
  error(err: unknown, context: string, details: { artifact?: string; operation: string }): TailkitError {
    if (err instanceof TailkitError) return err;
    const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    const status = e.$metadata?.httpStatusCode;
    const why = `${e.name ?? "Error"}${status === undefined ? "" : ` (HTTP ${status})`}: ${e.message ?? String(err)}`;
    const extra = details.artifact === undefined ? { ...details, field: "bucket" } : details;
    if (e.name === "NoSuchBucket") return new TailkitError(Code.NotFound, `${context}: bucket ${this.config.bucket} does not exist`, extra, { cause: err });
    if (e.name === "NoSuchKey" || status === 404)
      return new TailkitError(Code.NotFound, `${context}: the object is gone (deleted since it was listed?): ${why}`, details, { cause: err });
    if (e.name === "PreconditionFailed" || status === 412)
      return new TailkitError(Code.Aborted, `${context}: the object changed since it was listed; it is collected again next time`, details, { cause: err });
    if (e.name === "AccessDenied" || status === 403)
      return new TailkitError(Code.PermissionDenied, `${context}: access denied: ${why}`, details, { cause: err });
    if (e.name === "AbortError") return new TailkitError(Code.Canceled, `${context}: canceled`, details, { cause: err });
    return new TailkitError(Code.Unavailable, `${context}: ${why}`, details, { cause: err });
  }
}

/** A ListObjectsV2 walk along the layout: one listing per folder level the layout and time range leave open. */
class Listing {
  /** Objects yielded so far. */
  matched = 0;

  constructor(
    private readonly source: S3Source,
    private readonly ctx: SourceContext,
    private readonly report: (err: TailkitError) => void,
  ) {}

  /**
   * Yields the objects below `prefix` that the layout allows, in key order. Only one page per level is held at a time,
   * so memory does not grow with the bucket. Listing the top level fails discovery; a folder below that cannot be
   * listed is reported and the walk goes on.
   */
  async *level(prefix: string, states: LayoutState[], root: boolean): AsyncGenerator<ArtifactInfo> {
    const literal = this.source.literalNext(states);
    if (literal !== undefined) {
      const next = this.source.enter(states, literal, this.ctx);
      if (next.length > 0) yield* this.level(`${prefix}${literal}/`, next, root);
      return;
    }
    let token: string | undefined;
    do {
      checkAborted(this.ctx.signal);
      let page: ListObjectsV2CommandOutput;
      try {
        page = await this.source.list(prefix, token, this.ctx);
      } catch (err) {
        if (root) throw err;
        this.report(TailkitError.from(err));
        return;
      }
      for (const o of page.Contents ?? []) {
        const key = o.Key;
        if (key === undefined || key === prefix) continue; // a "folder" marker object
        const problem = keyProblem(key);
        if (problem !== undefined) {
          this.refuse(key, problem);
          continue;
        }
        const info = this.source.objectInfo(key, key.slice(prefix.length), states, o.Size, o.ETag, o.LastModified, this.ctx);
        if (info === undefined) continue;
        this.matched++;
        yield info;
      }
      for (const p of page.CommonPrefixes ?? []) {
        const sub = p.Prefix;
        if (sub === undefined || !sub.startsWith(prefix)) continue;
        const problem = keyProblem(sub);
        if (problem !== undefined) {
          this.refuse(sub, problem);
          continue;
        }
        const next = this.source.enter(states, sub.slice(prefix.length, -1), this.ctx);
        if (next.length > 0) yield* this.level(sub, next, false);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  private refuse(key: string, problem: string): void {
    this.report(
      new TailkitError(Code.PermissionDenied, `${this.source.url(key)}: key ${problem}; refused`, {
        artifact: this.source.nameOf(key),
        operation: "discover",
      }),
    );
  }
}

/** A body that ended before its Content-Length: the connection was dropped midway. */
class BodyCut extends Error {
  override readonly name = "BodyCut";
}

/** Exponential backoff with full jitter: a random wait up to BASE·2^(attempt−1), capped. */
function backoff(attempt: number): number {
  return Math.random() * Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** (attempt - 1));
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

function checkAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new TailkitError(Code.Canceled, "collection was canceled", { operation: "discover" });
}
