import { createCustomTables, createS3SourceFactory, type PluginDefinition } from "tailkit";

/** Source types every custom table accepts. */
export const CORE_SOURCE_TYPES = ["file", "aws_s3_bucket"] as const;

/**
 * The core plugin: custom tables, each defined by the table config of its collection alone (a format and columns,
 * `tailkit collect core --table <name> --table-def @file`), from files or an S3 bucket. It has no tables of its own.
 */
export const corePlugin: PluginDefinition = {
  name: "core",
  version: "0.1.0",
  module: import.meta.url,
  tables: [],
  sources: [createS3SourceFactory()],
  customTables: createCustomTables(CORE_SOURCE_TYPES),
};
