export { createS3SourceFactory } from "./source.js";
export { s3SourceConfigSchema, keyProblem, normalizePrefix, DEFAULT_S3_MAX_ATTEMPTS, type S3SourceConfig } from "./config.js";
