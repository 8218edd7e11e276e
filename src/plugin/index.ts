export { serve, DATA_SOURCES_ENV, type ServeOptions } from "./serve.js";
export { PluginRuntime, newExecutionId, type RuntimeOptions } from "./runtime.js";
export { TP_FIELDS, withTpFields, type TpField } from "./tp-fields.js";
export { createPluginServer, collectOptionsFromWire, HEALTH_SERVICE } from "./grpc-server.js";
export {
  MAGIC_COOKIE_KEY,
  MAGIC_COOKIE_VALUE,
  CORE_PROTOCOL_VERSION,
  APP_PROTOCOL_VERSION,
  formatHandshake,
  parseHandshake,
  type HandshakeAddress,
} from "./handshake.js";
export type { PluginDefinition, CollectOptions, PluginDescription } from "../contract/plugin.js";
