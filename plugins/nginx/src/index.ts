import { createS3SourceFactory, type PluginDefinition } from "tailkit";
import { nginxAccessLogTable } from "./access-log.js";
import { nginxErrorLogTable } from "./error-log.js";

/** The nginx plugin: access logs (combined or any log_format) and error logs, from files or an S3 bucket. */
export const nginxPlugin: PluginDefinition = {
  name: "nginx",
  version: "0.1.0",
  module: import.meta.url,
  tables: [nginxAccessLogTable, nginxErrorLogTable],
  sources: [createS3SourceFactory()],
};

export { nginxAccessLogTable, COMBINED_PATTERN, NGINX_FILE_LAYOUT, parseTimeLocal, type NginxAccessLogConfig } from "./access-log.js";
export { nginxErrorLogTable, ERROR_LINE_PATTERN, NGINX_ERROR_FILE_LAYOUT, parseErrorTime, type NginxErrorLogConfig } from "./error-log.js";
