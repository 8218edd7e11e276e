export { createCustomTables, customTableConfigSchema, defineCustomTable, type CustomTableOptions } from "./table.js";
export { COLUMN_TYPES, TP_COLUMNS, type ColumnDefinition, type ColumnType, type CustomTableDefinition, type TransformDefinition } from "./definition.js";
export { timestampParser, TIMESTAMP_LAYOUT_NAMES, type TimestampParser } from "./timestamp.js";
