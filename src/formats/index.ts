export { compileGrok, createGrokMapper, type CompiledGrok, type GrokField, type GrokOptions } from "./grok.js";
export { GROK_PATTERNS } from "./grok-patterns.js";
export { compileLogFormat, createLogFormatMapper, logFormatString, NGINX_COMBINED, NGINX_MAIN, type CompiledLogFormat } from "./nginx-log-format.js";
export {
  createFormat,
  formatSchema,
  FORMAT_TYPES,
  type ApacheFormat,
  type DelimitedFormat,
  type FormatDefinition,
  type GrokFormat,
  type JsonlFormat,
  type NginxFormat,
  type RegexFormat,
  type ResolvedFormat,
} from "./format.js";
