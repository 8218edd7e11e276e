export { EncodedLines, encodedLines, isEncodedLines, type ChunkRange, type RowBatch, type WrittenChunk } from "./types.js";
export {
  createChunkWriter,
  DEFAULT_ROWS_PER_CHUNK,
  validateChunkWriterOptions,
  type ChunkWriter,
  type ChunkWriterOptions,
  type ChunkWriterSummary,
} from "./chunk-writer.js";
export { createOutputDirectory } from "./output-dir.js";
