export { main, createCli, EXIT } from "./main.js";
export { resolvePlugin } from "./resolve-plugin.js";
export { createProgressReporter, describeStatus, type ProgressReporter } from "./progress.js";
