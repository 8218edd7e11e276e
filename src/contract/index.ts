// The plugin-author contract: what a plugin is made of. Imports nothing from the pipeline, the transport or gRPC.
export type { Row, TableEnrichment, EnrichContext } from "./row.js";
export { defineTable, chain, type TableDefinition, type TableSource, type Chain } from "./table.js";
export type { Mapper, MapContext } from "./mapper.js";
export { RowErrorItem, SKIPPED_LINE, type Loader, type LoaderOptions } from "./loader.js";
export {
  isRowSourceFactory,
  type ArtifactInfo,
  type ArtifactSource,
  type ArtifactSourceFactory,
  type LocalArtifact,
  type SourceContext,
  type RowSource,
  type RowSourceFactory,
  type RowSourceContext,
  type RowPage,
  type SourceFactory,
} from "./source.js";
export type { JSONSchema } from "./schema.js";
export {
  DataSourceBase,
  DataNotFound,
  KeyNotSupported,
  FailedToUnmarshal,
  isWriteable,
  dataSourceName,
  type DataSource,
  type WriteableDataSource,
  type DataSourceKeyKind,
  type DataSourceRequirement,
  type DataSourceLookup,
  type TableInitContext,
} from "./data-source.js";
export type { PluginDefinition, CollectOptions, CustomTableFactory, PluginDescription, DataSourceDescription } from "./plugin.js";
export { emptyStatus } from "./events.js";
export type {
  CollectionEvent,
  CompleteEvent,
  StatusCounters,
  StartedEvent,
  ErrorEvent,
  ChunkWrittenEvent,
  ArtifactDiscoveredEvent,
  ArtifactDownloadedEvent,
  ArtifactExtractedEvent,
  StatusEvent,
} from "./events.js";
