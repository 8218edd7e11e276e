import { invalidArgument } from "../../errors/index.js";
import type { JSONSchema } from "../../contract/schema.js";

/** Config of the "aws_s3_bucket" source, as validated by its configSchema (field names follow Tailpipe's AWS plugin). */
export interface S3SourceConfig {
  /** The bucket to collect from. */
  bucket: string;
  /** Key prefix the layout starts under, as a folder ("logs" and "logs/" are the same). Default: the bucket's root. */
  prefix?: string;
  /** The bucket's region. Default: AWS_REGION, AWS_DEFAULT_REGION, the profile's region, else us-east-1. */
  region?: string;
  /** Layout of the keys below the prefix, as the file source's. Default: the table's, else every object. */
  file_layout?: string;
  /** Only objects whose keys end with one of these (case-insensitive). Default: all. */
  extensions?: string[];
  /** Endpoint URL of an S3-compatible store (MinIO, Ceph, a local test server). Default: AWS's. */
  endpoint?: string;
  /** Address buckets by path (`endpoint/bucket/key`) instead of by host name; most S3-compatible stores need it. Default false. */
  force_path_style?: boolean;
  /** Shared config/credentials profile. Default: AWS_PROFILE, else "default". */
  profile?: string;
  /** Static credentials; both or neither. Default: the standard AWS chain (environment, profile, SSO, instance role). */
  access_key?: string;
  secret_key?: string;
  session_token?: string;
  /** Attempts for one request or one object's download before it fails. Default 5. */
  max_attempts?: number;
  /** Objects downloaded and extracted at once. Default 8. */
  max_concurrency?: number;
  /** Name of this source in tp_source_name and in state. Default "aws_s3_bucket". */
  name?: string;
}

/** Default S3SourceConfig.max_attempts. */
export const DEFAULT_S3_MAX_ATTEMPTS = 5;

/** Default S3SourceConfig.max_concurrency: downloads wait on the network, so more are in flight than for local files. */
export const DEFAULT_S3_CONCURRENCY = 8;

/** JSON Schema of S3SourceConfig. */
export const s3SourceConfigSchema: JSONSchema = {
  type: "object",
  properties: {
    bucket: {
      type: "string",
      minLength: 3,
      maxLength: 255,
      pattern: "^[A-Za-z0-9][A-Za-z0-9._-]*$",
      description: "The bucket to collect from (its name only, no s3:// and no key).",
    },
    prefix: {
      type: "string",
      description: "Key prefix the file layout starts under, taken as a folder: 'logs' and 'logs/' are the same. Default: the bucket's root.",
    },
    region: {
      type: "string",
      minLength: 1,
      description: "The bucket's region. Default: AWS_REGION, AWS_DEFAULT_REGION, the profile's region, else us-east-1.",
    },
    file_layout: {
      type: "string",
      description:
        "Path of the object keys below the prefix, as for the file source: {name} or {name:regex} captures, '*' within a segment, '**' for any " +
        "folders. Only the key prefixes the layout and the time range allow are listed. Default: the table's layout, else every object.",
    },
    extensions: {
      type: "array",
      items: { type: "string", minLength: 1 },
      description: "Only collect objects whose keys end with one of these, e.g. ['.json.gz']. Default: all.",
    },
    endpoint: {
      type: "string",
      pattern: "^https?://",
      description: "Endpoint URL of an S3-compatible store, e.g. http://127.0.0.1:9000. Default: AWS's endpoint for the region.",
    },
    force_path_style: { type: "boolean", description: "Address the bucket by path (endpoint/bucket/key); most S3-compatible stores need it. Default false." },
    profile: { type: "string", minLength: 1, description: "Profile of the shared AWS config and credentials files. Default: AWS_PROFILE, else 'default'." },
    access_key: { type: "string", minLength: 1, description: "Access key id; with secret_key, used instead of the standard AWS credential chain." },
    secret_key: { type: "string", minLength: 1, description: "Secret access key, with access_key." },
    session_token: { type: "string", minLength: 1, description: "Session token of temporary credentials, with access_key and secret_key." },
    max_attempts: {
      type: "integer",
      minimum: 1,
      maximum: 20,
      default: DEFAULT_S3_MAX_ATTEMPTS,
      description: "Attempts for one request, or one object's download, before it fails (503 SlowDown, 5xx, a dropped connection). Default 5.",
    },
    max_concurrency: {
      type: "integer",
      minimum: 1,
      maximum: 64,
      default: DEFAULT_S3_CONCURRENCY,
      description: "Objects downloaded and extracted at once. Default 8.",
    },
    name: { type: "string", minLength: 1, description: "Name of this source in tp_source_name and in collection state. Default 'aws_s3_bucket'." },
  },
  required: ["bucket"],
  additionalProperties: false,
};

/** Checks what the schema cannot: credentials given whole, a prefix that stays a key prefix. Throws INVALID_ARGUMENT. */
export function validateS3SourceConfig(config: S3SourceConfig): void {
  if ((config.access_key === undefined) !== (config.secret_key === undefined)) {
    throw invalidArgument(config.access_key === undefined ? "access_key" : "secret_key", "access_key and secret_key go together; give both or neither");
  }
  if (config.session_token !== undefined && config.access_key === undefined) {
    throw invalidArgument("session_token", "needs access_key and secret_key");
  }
  if (config.prefix !== undefined) {
    const problem = keyProblem(normalizePrefix(config.prefix) || "x/");
    if (problem !== undefined) throw invalidArgument("prefix", `"${config.prefix}" ${problem}`);
  }
}

/** The prefix as a folder: no leading "/", one trailing "/" (or "" for the bucket's root). */
export function normalizePrefix(prefix: string | undefined): string {
  const p = (prefix ?? "").replace(/^\/+/, "");
  return p === "" || p.endsWith("/") ? p : `${p}/`;
}

/**
 * Why a key (or key prefix, ending in "/") cannot be collected safely, or undefined. Keys are names, not paths, in S3;
 * but a key with "." or ".." segments, an empty segment or a NUL names a path that would leave its folder when a copy
 * of the bucket is laid out on disk, and is most likely an attack on such tools. Refused, so no tool downstream of
 * tailkit (a tp_source_location, a local copy) is led outside its folder.
 */
export function keyProblem(key: string): string | undefined {
  if (key.includes("\0")) return "holds a NUL character";
  if (key.startsWith("/")) return 'starts with "/"';
  const segments = key.split("/");
  if (key.endsWith("/")) segments.pop();
  for (const s of segments) {
    if (s === "") return 'has an empty path segment ("//")';
    if (s === "." || s === "..") return `has a "${s}" path segment, which would escape its folder`;
  }
  return undefined;
}
