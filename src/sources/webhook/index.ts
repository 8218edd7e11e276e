export { createWebhookSourceFactory, type WebhookSourceOptions } from "./source.js";
export {
  webhookSourceConfigSchema,
  parseListen,
  DEFAULT_WEBHOOK_LISTEN,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_QUEUED_ROWS,
  type WebhookSourceConfig,
  type ListenAddress,
} from "./types.js";
export { parseBody, MalformedBody } from "./body.js";
export { Spool, type SpoolOptions, type SpoolRead } from "./spool.js";
