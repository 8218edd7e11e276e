// Types for generate.mjs, so TypeScript tests can import it. Keep in step with the JSDoc there.

/** The version-2 default format header line of a VPC flow log file, as AWS writes it. */
export declare const VPC_HEADER: string;
/** Column names of a version-2 VPC flow log record (the header's names in snake_case). */
export declare const VPC_FIELDS: readonly [
  "version",
  "account_id",
  "interface_id",
  "srcaddr",
  "dstaddr",
  "srcport",
  "dstport",
  "protocol",
  "packets",
  "bytes",
  "start",
  "end",
  "action",
  "log_status",
];
/** Matches a CloudTrail object key relative to the root (groups: account, region, yyyy, mm, dd). */
export declare const CLOUDTRAIL_PATH_RE: RegExp;
/** Matches a VPC flow log object key relative to the root (groups: account, region, yyyy, mm, dd). */
export declare const VPC_PATH_RE: RegExp;

/** mulberry32: a tiny 32-bit PRNG returning numbers uniform in [0, 1). */
export declare function mulberry32(seed: number): () => number;
/** Derives an independent 32-bit seed from a base seed and some integers. */
export declare function deriveSeed(seed: number, ...parts: number[]): number;
/** Deterministic 12-digit account ids for a seed. */
export declare function accountIds(seed: number, count: number): string[];
/** Account, region and hour of file `index` of `files`. */
export declare function fileSlot(
  index: number,
  files: number,
  layout: { accounts: string[]; regions: string[]; startMs: number; days?: number },
): { account: string; region: string; hourStartMs: number };

/** What one file is built from. */
export interface FileSpec {
  seed: number;
  index: number;
  records: number;
  account: string;
  region: string;
  hourStartMs: number;
}
/** Builds one CloudTrail file: its key (relative to the root) and its JSON text. */
export declare function buildCloudTrailFile(f: FileSpec): { key: string; text: string };
/** Builds one VPC flow log file: its key and its text (header line, then records). */
export declare function buildVpcFile(f: FileSpec): { key: string; text: string };

/** Writes gzip data cut short; gunzip fails with "unexpected end of file". Resolves to bytes written. */
export declare function writeTruncatedGzip(path: string, content: string | Buffer, opts?: { keepFraction?: number; level?: number }): Promise<number>;
/** Writes a well-formed gzip of broken content (JSON cut short, or malformed lines). Resolves to bytes written. */
export declare function writeBadContentGzip(path: string, content: string, opts?: { kind?: "json" | "lines"; level?: number }): Promise<number>;

/** Options of generate(); defaults are in the JSDoc of generate.mjs. */
export interface GenerateOptions {
  kind: "cloudtrail" | "vpc";
  out: string;
  files: number;
  recordsPerFile: number;
  seed?: number;
  accounts?: number;
  regions?: string[];
  start?: string;
  days?: number;
  level?: number;
  corrupt?: number;
  corruptKind?: "truncated" | "badcontent" | "mixed";
  concurrency?: number;
  onFile?: (f: FileInfo) => void;
}

/** One written file. */
export interface FileInfo {
  path: string;
  records: number;
  rawBytes: number;
  gzBytes: number;
  corrupt?: "truncated" | "badcontent";
}

/** What generate() returns. */
export interface GenerateSummary {
  kind: "cloudtrail" | "vpc";
  out: string;
  seed: number;
  files: number;
  recordsPerFile: number;
  records: number;
  rawBytes: number;
  gzBytes: number;
  accounts: string[];
  regions: string[];
  corruptFiles: { path: string; kind: "truncated" | "badcontent" }[];
  seconds: number;
  fileList: FileInfo[];
}

/** Checks options and fills in defaults; throws on bad ones. */
export declare function validateGenerateOptions(o: GenerateOptions): GenerateOptions & { startMs: number };
/** Generates a dataset. Same options, same bytes. */
export declare function generate(options: GenerateOptions): Promise<GenerateSummary>;
/** Parses the CLI's --name value / --name=value arguments. */
export declare function parseArgs(argv: string[]): Record<string, string | boolean>;
