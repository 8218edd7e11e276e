import type { PluginDefinition } from "tailkit";
import { nginxAccessLogTable } from "./access-log.js";

/** The nginx plugin: access logs. */
export const nginxPlugin: PluginDefinition = {
  name: "nginx",
  version: "0.1.0",
  module: import.meta.url,
  tables: [nginxAccessLogTable],
};

export { nginxAccessLogTable, COMBINED_PATTERN, NGINX_FILE_LAYOUT, parseTimeLocal } from "./access-log.js";
