export { CloudWatchLogsSource, createCloudWatchLogsSourceFactory, validateCloudWatchLogsConfig } from "./source.js";
export { advanceCursor, compareKeys, type EventKey, type LogStreamCursor } from "./cursor.js";
export { CLOUDWATCH_LOG_GROUP, type CloudWatchLogEvent, type CloudWatchLogsSourceConfig, type CloudWatchLogsSourceOptions } from "./types.js";
