import type { RetryOptions } from "../api/types.js";

/** The source type name, as Tailpipe's AWS plugin names it. */
export const CLOUDWATCH_LOG_GROUP = "aws_cloudwatch_log_group";

/** Config of an aws_cloudwatch_log_group source (snake_case, as users write it). */
export interface CloudWatchLogsSourceConfig {
  /** tp_source_name of the rows and the name the cursor is kept under. Default: the source type. */
  name?: string;
  /** The log group to read. Required. */
  log_group_name: string;
  /** Streams to read: exact names, or globs with `*` and `?` (`app-*` is a prefix). Default: every stream. */
  log_stream_names?: string[];
  /** AWS region. Default: the AWS environment and shared config (AWS_REGION, the profile's region). */
  region?: string;
  /** Endpoint URL, for a VPC endpoint or a test server. Default: the region's CloudWatch Logs endpoint. */
  endpoint?: string;
  /** Shared-config profile for credentials and region. Default: AWS_PROFILE, else "default". */
  profile?: string;
  /** Access key id; with secret_key, used instead of the standard AWS credential chain. */
  access_key?: string;
  secret_key?: string;
  session_token?: string;
  /** Seconds before the newest event collected that the next collection reads again, for events ingested late. Default 300. */
  ingestion_lag?: number;
  /**
   * Streams read at once, 1 to 32. Default 4: a group of many streams costs a round trip per stream and page, and the
   * account's FilterLogEvents quota is shared by every reader of the region (past it, calls are throttled and retried).
   */
  max_concurrency?: number;
}

/** Options of the factory, for tests and embedders (not part of the user's config). */
export interface CloudWatchLogsSourceOptions {
  /** Retries of throttled and failing calls. Defaults: see RetryOptions. */
  retry?: RetryOptions;
  /** `limit` of each FilterLogEvents and DescribeLogStreams call. Default: the API's (10,000 events, 50 streams). */
  pageLimit?: number;
  /** Event ids a stream's cursor keeps at most; past it the look-back shrinks. Default 10,000. */
  maxEventIds?: number;
}

/** One log event, as the table's mappers get it for this source. */
export interface CloudWatchLogEvent {
  /** When the event happened, ms since the epoch (as the writer stamped it). */
  timestamp: number;
  /** When CloudWatch Logs took it in, ms since the epoch. */
  ingestionTime: number;
  message: string;
  eventId: string;
  logStreamName: string;
}
