import type * as CloudWatchLogs from "@aws-sdk/client-cloudwatch-logs";
import type { CloudWatchLogsClient, FilteredLogEvent } from "@aws-sdk/client-cloudwatch-logs";
import type { JSONSchema } from "../../contract/schema.js";
import type { ArtifactInfo, RowSourceContext, RowSourceFactory } from "../../contract/source.js";
import { Code, invalidArgument, TailkitError } from "../../errors/index.js";
import { ApiRowSourceBase, DEFAULT_API_CONCURRENCY, MAX_API_CONCURRENCY, validateConcurrency } from "../api/api-source-base.js";
import type { ApiStream, StreamPage } from "../api/types.js";
import { advanceCursor, compareKeys, type EventKey, type LogStreamCursor } from "./cursor.js";
import { CLOUDWATCH_LOG_GROUP, type CloudWatchLogEvent, type CloudWatchLogsSourceConfig, type CloudWatchLogsSourceOptions } from "./types.js";

type Sdk = typeof CloudWatchLogs;

/** Error names CloudWatch Logs answers with when it wants the caller to slow down or try again. */
const RETRYABLE_ERRORS = new Set(["ThrottlingException", "ServiceUnavailableException", "RequestTimeout", "TooManyRequestsException"]);

const configSchema: JSONSchema = {
  type: "object",
  required: ["log_group_name"],
  additionalProperties: false,
  properties: {
    name: { type: "string", minLength: 1, description: "tp_source_name of the rows and the name the cursor is kept under; default: the source type" },
    log_group_name: { type: "string", minLength: 1, description: "the log group to read" },
    log_stream_names: {
      type: "array",
      minItems: 1,
      items: { type: "string", minLength: 1 },
      description: "streams to read: exact names, or globs with * and ? (app-* is a prefix); default: every stream of the group",
    },
    region: { type: "string", minLength: 1, description: "AWS region; default: from the AWS environment and shared config" },
    endpoint: { type: "string", minLength: 1, description: "endpoint URL (a VPC endpoint, a test server); default: the region's CloudWatch Logs endpoint" },
    profile: { type: "string", minLength: 1, description: "shared-config profile for credentials and region; default: AWS_PROFILE, else default" },
    access_key: { type: "string", minLength: 1, description: "access key id, with secret_key; default: the standard AWS credential chain" },
    secret_key: { type: "string", minLength: 1, description: "secret access key, with access_key" },
    session_token: { type: "string", minLength: 1, description: "session token of temporary credentials, with access_key and secret_key" },
    ingestion_lag: {
      type: "integer",
      minimum: 0,
      description: "seconds before the newest event collected that the next collection reads again, for events ingested late; default 300",
    },
    max_concurrency: {
      type: "integer",
      minimum: 1,
      maximum: MAX_API_CONCURRENCY,
      default: DEFAULT_API_CONCURRENCY,
      description: `log streams read at once (each stream's events stay in order); default ${DEFAULT_API_CONCURRENCY}`,
    },
  },
};

/** A log stream to read, with what state counts its rows as. */
interface LogStreamRef extends ApiStream {
  stream: string;
}

/** Turns a log_stream_names entry into a test: `*` any characters, `?` one, anything else itself. */
function streamMatcher(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${body}$`, "s");
}

/**
 * The prefix DescribeLogStreams can filter by, when one pattern alone is given and it is a name or a name then `*`:
 * the API then lists only those streams.
 */
function listingPrefix(patterns: readonly string[] | undefined): string | undefined {
  if (patterns?.length !== 1) return undefined;
  const m = /^([^*?]+)\*?$/.exec(patterns[0]!);
  return m?.[1];
}

/** Reads the events of a CloudWatch Logs group's streams, each from its own cursor. */
export class CloudWatchLogsSource extends ApiRowSourceBase<CloudWatchLogEvent, LogStreamCursor, LogStreamRef> {
  readonly type = CLOUDWATCH_LOG_GROUP;
  override readonly cursorKey: string;
  private readonly group: string;
  private readonly matchers: RegExp[] | undefined;
  private readonly lagMs: number;
  private readonly maxIds: number;
  private api: Promise<{ sdk: Sdk; client: CloudWatchLogsClient; region: string }> | undefined;

  constructor(
    private readonly config: CloudWatchLogsSourceConfig,
    private readonly options: CloudWatchLogsSourceOptions = {},
  ) {
    super(options.retry, validateConcurrency(config.max_concurrency, "max_concurrency"));
    this.group = config.log_group_name;
    // Two groups in one partition keep their own cursors.
    this.cursorKey = config.log_group_name;
    this.matchers = config.log_stream_names?.map(streamMatcher);
    this.lagMs = (config.ingestion_lag ?? 300) * 1000;
    this.maxIds = options.maxEventIds ?? 10_000;
  }

  /** The SDK is imported at the first call, so that importing tailkit does not load it. */
  private connect(): Promise<{ sdk: Sdk; client: CloudWatchLogsClient; region: string }> {
    this.api ??= (async () => {
      const sdk = await import("@aws-sdk/client-cloudwatch-logs");
      const c = this.config;
      const client = new sdk.CloudWatchLogsClient({
        ...(c.region ? { region: c.region } : {}),
        ...(c.endpoint ? { endpoint: c.endpoint } : {}),
        ...(c.profile ? { profile: c.profile } : {}),
        ...(c.access_key && c.secret_key
          ? { credentials: { accessKeyId: c.access_key, secretAccessKey: c.secret_key, ...(c.session_token ? { sessionToken: c.session_token } : {}) } }
          : {}),
        // Retries are this source's (backoff with jitter, bounded): the client's own would multiply them.
        maxAttempts: 1,
        requestHandler: { connectionTimeout: 10_000, requestTimeout: 60_000 },
      });
      let region: string;
      try {
        region = await client.config.region();
      } catch (err) {
        client.destroy();
        throw new TailkitError(
          Code.InvalidArgument,
          `source.config.region: not given, and the AWS environment and shared config name none (${err instanceof Error ? err.message : String(err)})`,
          { field: "source.config.region", operation: "read" },
        );
      }
      return { sdk, client, region };
    })();
    this.api.catch(() => undefined);
    return this.api;
  }

  protected override isRetryable(error: unknown): boolean {
    return RETRYABLE_ERRORS.has(this.apiErrorName(error) ?? "") || super.isRetryable(error);
  }

  protected override streamProblem(stream: LogStreamRef, error: unknown): TailkitError | undefined {
    if (this.apiErrorName(error) !== "ResourceNotFoundException") return undefined;
    return new TailkitError(Code.NotFound, `log stream ${stream.info.location}: gone while it was read (${this.describeError(error)})`, {
      artifact: stream.info.name,
      operation: "read",
    });
  }

  protected async *streams(ctx: RowSourceContext, again: boolean): AsyncIterable<LogStreamRef> {
    const { sdk, client, region } = await this.connect();
    const prefix = listingPrefix(this.config.log_stream_names);
    let nextToken: string | undefined;
    do {
      let page;
      try {
        page = await this.call(
          "DescribeLogStreams",
          (abortSignal) =>
            client.send(
              new sdk.DescribeLogStreamsCommand({
                logGroupName: this.group,
                ...(prefix !== undefined ? { logStreamNamePrefix: prefix } : {}),
                ...(nextToken !== undefined ? { nextToken } : {}),
                ...(this.options.pageLimit ? { limit: Math.min(50, this.options.pageLimit) } : {}),
              }),
              { abortSignal },
            ),
          ctx,
        );
      } catch (err) {
        if (this.apiErrorName(err) !== "ResourceNotFoundException") throw err;
        const problem = new TailkitError(
          Code.NotFound,
          `source.config.log_group_name: log group ${JSON.stringify(this.group)} does not exist in ${region}${again ? " any more" : ""} (${this.describeError(err)})`,
          { field: "source.config.log_group_name", operation: "read" },
        );
        // Gone after its streams were read: what was read stands.
        if (again && ctx.report) return ctx.report(problem);
        throw problem;
      }
      for (const s of page.logStreams ?? []) {
        const name = s.logStreamName;
        if (name === undefined || (this.matchers && !this.matchers.some((m) => m.test(name)))) continue;
        yield { key: name, stream: name, info: this.streamInfo(region, name) };
      }
      nextToken = page.nextToken;
    } while (nextToken !== undefined);
  }

  private streamInfo(region: string, stream: string): ArtifactInfo {
    return {
      name: `${this.group}/${stream}`,
      location: `cloudwatch://${region}/${this.group}/${stream}`,
      properties: { log_group: this.group, log_stream: stream },
    };
  }

  /**
   * Two reads: first the events after the newest collected (`last`), then the ones stamped in the lag window before
   * it that were ingested since (late), so that a collection killed midway and run again reads the first part as it
   * did, even if late events arrived meanwhile.
   */
  protected async *readStream(
    stream: LogStreamRef,
    cursor: LogStreamCursor | undefined,
    ctx: RowSourceContext,
  ): AsyncIterable<StreamPage<CloudWatchLogEvent, LogStreamCursor>> {
    const from = ctx.from?.getTime() ?? -Infinity;
    const to = ctx.to?.getTime() ?? Infinity;
    const last: EventKey | undefined = cursor?.ids[cursor.ids.length - 1];
    let current = cursor;
    const newer = (e: CloudWatchLogEvent) => last === undefined || compareKeys([e.timestamp, e.eventId], last) > 0;
    for await (const items of this.ordered(stream, Math.max(from, last?.[0] ?? -Infinity), to, newer, ctx)) {
      current = advanceCursor(current, items, this.lagMs, this.maxIds);
      yield { items, cursor: current };
    }
    if (cursor === undefined || last === undefined) return;
    const known = new Set(cursor.ids.map((k) => k[1]));
    const late = (e: CloudWatchLogEvent) => compareKeys([e.timestamp, e.eventId], last) < 0 && !known.has(e.eventId);
    for await (const items of this.ordered(stream, Math.max(from, cursor.since), Math.min(to, last[0] + 1), late, ctx)) {
      current = advanceCursor(current, items, this.lagMs, this.maxIds);
      yield { items, cursor: current };
    }
  }

  /**
   * The events of a stream stamped in [start, end) that `keep` takes, in (timestamp, eventId) order: each response is
   * sorted and handed on except its last millisecond, held until the next response, since a millisecond may continue
   * there. So the order does not hang on where the API cut its pages.
   */
  private async *ordered(
    stream: LogStreamRef,
    start: number,
    end: number,
    keep: (e: CloudWatchLogEvent) => boolean,
    ctx: RowSourceContext,
  ): AsyncIterable<CloudWatchLogEvent[]> {
    if (start >= end) return;
    const { sdk, client } = await this.connect();
    let held: CloudWatchLogEvent[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.call(
        "FilterLogEvents",
        (abortSignal) =>
          client.send(
            new sdk.FilterLogEventsCommand({
              logGroupName: this.group,
              logStreamNames: [stream.stream],
              ...(Number.isFinite(start) ? { startTime: start } : {}),
              // endTime is inclusive.
              ...(Number.isFinite(end) ? { endTime: end - 1 } : {}),
              ...(nextToken !== undefined ? { nextToken } : {}),
              ...(this.options.pageLimit ? { limit: this.options.pageLimit } : {}),
            }),
            { abortSignal },
          ),
        ctx,
      );
      for (const raw of page.events ?? []) {
        const e = this.event(stream, raw);
        if (e.timestamp >= start && e.timestamp < end && keep(e)) held.push(e);
      }
      nextToken = page.nextToken;
      held.sort((a, b) => compareKeys([a.timestamp, a.eventId], [b.timestamp, b.eventId]));
      const cut = nextToken === undefined ? held.length : held.findIndex((e) => e.timestamp === held[held.length - 1]!.timestamp);
      if (cut > 0) {
        yield held.slice(0, cut);
        held = held.slice(cut);
      }
    } while (nextToken !== undefined);
  }

  private event(stream: LogStreamRef, raw: FilteredLogEvent): CloudWatchLogEvent {
    if (raw.eventId === undefined || raw.timestamp === undefined)
      throw new TailkitError(
        Code.DataLoss,
        `log stream ${stream.info.location}: FilterLogEvents gave an event without ${raw.eventId === undefined ? "eventId" : "timestamp"}`,
        {
          artifact: stream.info.name,
          operation: "read",
        },
      );
    return {
      timestamp: raw.timestamp,
      ingestionTime: raw.ingestionTime ?? raw.timestamp,
      message: raw.message ?? "",
      eventId: raw.eventId,
      logStreamName: raw.logStreamName ?? stream.stream,
    };
  }

  async close(): Promise<void> {
    const api = await this.api?.catch(() => undefined);
    api?.client.destroy();
  }
}

/** Checks what the JSON Schema cannot say; throws INVALID_ARGUMENT naming the field. */
export function validateCloudWatchLogsConfig(config: CloudWatchLogsSourceConfig): void {
  validateConcurrency(config.max_concurrency, "max_concurrency");
  if (config.access_key !== undefined && config.secret_key === undefined) throw invalidArgument("secret_key", "is required with access_key");
  if (config.secret_key !== undefined && config.access_key === undefined) throw invalidArgument("access_key", "is required with secret_key");
  if (config.session_token !== undefined && config.access_key === undefined) throw invalidArgument("session_token", "needs access_key and secret_key");
  if (config.endpoint !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(config.endpoint);
    } catch {
      url = undefined;
    }
    if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:"))
      throw invalidArgument("endpoint", `must be an http or https URL, not ${JSON.stringify(config.endpoint)}`);
  }
}

/** The aws_cloudwatch_log_group row source: the events of a CloudWatch Logs group, read with a saved cursor per stream. */
export function createCloudWatchLogsSourceFactory(options: CloudWatchLogsSourceOptions = {}): RowSourceFactory<CloudWatchLogsSourceConfig> {
  return {
    kind: "rows",
    type: CLOUDWATCH_LOG_GROUP,
    description: "events of a CloudWatch Logs group, each stream read on from its saved cursor (FilterLogEvents)",
    configSchema,
    create(config) {
      validateCloudWatchLogsConfig(config);
      return new CloudWatchLogsSource(config, options);
    },
  };
}
