export type { ChunkRange, RowBatch, WrittenChunk } from "./types.js";
export {
  createChunkWriter,
  DEFAULT_ROWS_PER_CHUNK,
  validateChunkWriterOptions,
  type ChunkWriter,
  type ChunkWriterOptions,
  type ChunkWriterSummary,
} from "./chunk-writer.js";
