// tailkit: the SDK for log-collection plugins. Plugin authors import from here.
export { serve, PluginRuntime, type ServeOptions, type PluginDefinition, type CollectOptions, type PluginDescription } from "./plugin/index.js";
export { launchPlugin, PluginClient, type LaunchOptions, type PluginExit } from "./host/index.js";
export { Code, TailkitError, invalidArgument, type ErrorDetails } from "./errors/index.js";
export { validateConfig, type JSONSchema } from "./schema/index.js";
export type { TableDefinition, TableEnrichment, EnrichContext, Row, TableSourceSupport, LineFormat, LineReader } from "./tables/types.js";
export { LineOutcome } from "./tables/types.js";
export { defineDelimitedTable, type DelimitedTableOptions, type DelimitedEnrichSpec } from "./tables/delimited.js";
export type { ArtifactInfo, ArtifactSource, ArtifactSourceFactory, LocalArtifact, SourceContext } from "./sources/types.js";
export { createFileSystemSourceFactory } from "./sources/filesystem/index.js";
export {
  createLinesLoader,
  createJsonDocumentLoader,
  documentText,
  documentElementTexts,
  documentElementBytes,
  RowErrorItem,
  SKIPPED_LINE,
  type DocumentElementBytes,
  type Loader,
  type LoaderOptions,
  type JsonDocumentLoaderOptions,
} from "./loaders/index.js";
export {
  MapperChain,
  createDelimitedMapper,
  createRegexMapper,
  createJsonLinesMapper,
  rawRow,
  isRawRow,
  hasTpKey,
  RawRow,
  type Mapper,
  type MapContext,
} from "./mappers/index.js";
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
} from "./collection/events.js";
export { CollectionState, parseStateLocation, type ArtifactState, type StateLocation } from "./state/index.js";
export { collectInProcess, type InProcessCollection } from "./testing/index.js";
export { SDK_VERSION } from "./version.js";
