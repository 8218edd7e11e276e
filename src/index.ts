// tailkit: the SDK for log-collection plugins. What a plugin is made of: its tables, their sources, loaders and
// mappers, and the helpers that give a table the pipeline's fast paths. Nothing here loads gRPC: serve() is in
// "tailkit/plugin", the host side in "tailkit/host", test helpers in "tailkit/testing".
export * from "./contract/index.js";
export { Code, TailkitError, invalidArgument, type ErrorDetails } from "./errors/index.js";
export { validateConfig } from "./schema/index.js";
export { defineDelimitedTable, type DelimitedTableOptions, type DelimitedEnrichSpec } from "./tables/delimited.js";
export { jsonArrayRows, type JsonArrayRowsOptions } from "./tables/json-array.js";
export {
  createCustomTables,
  customTableConfigSchema,
  defineCustomTable,
  COLUMN_TYPES,
  type ColumnDefinition,
  type ColumnType,
  type CustomTableDefinition,
  type CustomTableOptions,
  type TransformDefinition,
} from "./tables/custom/index.js";
export { createFileSystemSourceFactory } from "./sources/filesystem/index.js";
export { createS3SourceFactory, type S3SourceConfig } from "./sources/s3/index.js";
export {
  createCloudWatchLogsSourceFactory,
  CLOUDWATCH_LOG_GROUP,
  type CloudWatchLogEvent,
  type CloudWatchLogsSourceConfig,
  type CloudWatchLogsSourceOptions,
} from "./sources/cloudwatch/index.js";
export { ApiRowSourceBase, type ApiStream, type RetryOptions, type StreamPage } from "./sources/api/index.js";
export { createWebhookSourceFactory, webhookSourceConfigSchema, type WebhookSourceConfig, type WebhookSourceOptions } from "./sources/webhook/index.js";
export { createLinesLoader, type LinesLoaderOptions } from "./loaders/lines.js";
export { createJsonDocumentLoader, type JsonDocumentLoaderOptions } from "./loaders/json-document.js";
export { createDelimitedLoader, type DelimitedLoaderOptions } from "./loaders/delimited.js";
export { createDelimitedMapper, type DelimitedMapperOptions, type FieldType } from "./mappers/delimited.js";
export { createRegexMapper, type RegexMapperOptions } from "./mappers/regex.js";
export { createJsonLinesMapper, type JsonLinesMapperOptions } from "./mappers/json-lines.js";
export {
  compileGrok,
  compileLogFormat,
  createFormat,
  createGrokMapper,
  createLogFormatMapper,
  formatSchema,
  GROK_PATTERNS,
  NGINX_COMBINED,
  NGINX_MAIN,
  type FormatDefinition,
  type GrokOptions,
  type ResolvedFormat,
} from "./formats/index.js";
export { SDK_VERSION } from "./version.js";
export type { DataSourcesConfig, DataSourceModuleContext, DataSourceModuleFactory } from "./datasources/setup.js";
export type { DnsEntry, DnsKey, DnsValue, DnsOptions } from "./datasources/dns.js";
