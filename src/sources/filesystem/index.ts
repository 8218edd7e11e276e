export { createFileSystemSourceFactory, fileSystemSourceConfigSchema, type FileSystemSourceConfig, type FileSystemSourceOptions } from "./source.js";
export { ANY_FILE_LAYOUT, compileFileLayout, mayIntersect, periodOf, type FileLayout, type LayoutSegment, type LayoutState, type Period } from "./layout.js";
