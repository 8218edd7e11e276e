export { main, createCli, EXIT } from "./main.js";
export { resolvePlugin } from "./resolve-plugin.js";
export { createProgressReporter, describeStatus, formatDuration, type ProgressReporter, type ProgressStream } from "./progress.js";
