// Types for s3rver.mjs, so TypeScript tests can import it. Keep in step with the JSDoc there.

/** s3rver's fixed credentials, as the S3 source's config takes them. */
export declare const S3_CREDENTIALS: { access_key: string; secret_key: string };

import type { S3Client } from "@aws-sdk/client-s3";

/** A client of s3rver at `endpoint` (path style, its credentials). */
export declare function s3rverClient(endpoint: string): S3Client;

/** Uploads every file below `dir` under its relative path (after `prefix`), 16 at a time; resolves to the keys, sorted. */
export declare function uploadDir(client: S3Client, bucket: string, dir: string, prefix?: string): Promise<string[]>;

/** Starts s3rver on 127.0.0.1 (a free port) with the given buckets, its store in a fresh temp folder. */
export declare function startS3rver(buckets: string[]): Promise<{ endpoint: string; directory: string; close(): Promise<void> }>;
