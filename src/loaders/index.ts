export { RowErrorItem, SKIPPED_LINE, type Loader, type LoaderOptions } from "../contract/loader.js";
export {
  checkNamedCompression,
  compressionOf,
  detectCompression,
  isGzip,
  openArtifactStream,
  toLoadError,
  type Compression,
  type OpenStreamOptions,
} from "./compression.js";
export { isZstd } from "./zstd.js";
export { isZip } from "./zip.js";
export { createLinesLoader, DEFAULT_BATCH_SIZE, DEFAULT_MAX_LINE_BYTES, type LinesLoaderOptions } from "./lines.js";
export {
  createJsonDocumentLoader,
  DEFAULT_MAX_DOCUMENT_BYTES,
  DEFAULT_SPLIT_SIZE,
  describeJsonError,
  documentElementBytes,
  documentElementTexts,
  documentText,
  type DocumentElementBytes,
  type JsonDocumentLoaderOptions,
} from "./json-document.js";
export { findTopLevelArray, topLevelArraySpans, type TopLevelArray } from "./json-slices.js";
