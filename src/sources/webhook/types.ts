import { isIP } from "node:net";
import { invalidArgument } from "../../errors/index.js";
import type { JSONSchema } from "../../schema/index.js";

/** Config of the "webhook" source, as validated by its configSchema. */
export interface WebhookSourceConfig {
  /**
   * host:port to listen on ("[::1]:8787" for IPv6). Default "127.0.0.1:8787". Only a loopback host is the default: any
   * other (an interface's address, 0.0.0.0) is listened on only when written here.
   */
  listen?: string;
  /** The URL path rows are posted to. Default "/". */
  path?: string;
  /** "bearer" (default): every request carries `Authorization: Bearer <token>`; "none": no check, loopback hosts only. */
  auth?: "bearer" | "none";
  /** The bearer token. One of token and token_env is required with auth "bearer". */
  token?: string;
  /** The environment variable of the plugin process that holds the bearer token. */
  token_env?: string;
  /** The largest request body taken, in bytes; a larger one gets 413 and is not read on. Default 10 MiB. */
  max_body_bytes?: number;
  /** Most rows acknowledged and not yet in chunks; a request that would go past it gets 429 with Retry-After. Default 100,000. */
  max_queued_rows?: number;
  /** Folder of the spool (acknowledged rows not yet in chunks). Default: the source's folder under <out>/.tailkit/sources/. */
  spool_dir?: string;
  /** The source's name: tp_source_name, and what its spool and cursor are kept under. Default "webhook". */
  name?: string;
}

/** Default WebhookSourceConfig.listen. */
export const DEFAULT_WEBHOOK_LISTEN = "127.0.0.1:8787";
/** Default WebhookSourceConfig.max_body_bytes: 10 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;
/** Default WebhookSourceConfig.max_queued_rows. */
export const DEFAULT_MAX_QUEUED_ROWS = 100_000;

/** JSON Schema of WebhookSourceConfig. */
export const webhookSourceConfigSchema: JSONSchema = {
  type: "object",
  properties: {
    listen: {
      type: "string",
      minLength: 1,
      default: DEFAULT_WEBHOOK_LISTEN,
      description:
        "host:port to listen on ([::1]:port for IPv6). Default 127.0.0.1:8787, loopback only: any other host (0.0.0.0, an " +
        "interface's address) is listened on only when written here. TLS is not served: put a reverse proxy in front.",
    },
    path: { type: "string", pattern: "^/", default: "/", description: "The URL path rows are posted to. Default '/'." },
    auth: {
      enum: ["bearer", "none"],
      default: "bearer",
      description: "bearer (default): requests carry 'Authorization: Bearer <token>', else 401. none: no check, allowed on a loopback host only.",
    },
    token: { type: "string", minLength: 1, description: "The bearer token. With auth bearer, this or token_env is required." },
    token_env: { type: "string", minLength: 1, description: "Name of the environment variable (of the plugin process) holding the bearer token." },
    max_body_bytes: {
      type: "integer",
      minimum: 1,
      maximum: 1024 * 1024 * 1024,
      default: DEFAULT_MAX_BODY_BYTES,
      description: "The largest request body taken, in bytes: a larger one gets 413 and is not read on. Default 10485760 (10 MiB).",
    },
    max_queued_rows: {
      type: "integer",
      minimum: 1,
      default: DEFAULT_MAX_QUEUED_ROWS,
      description: "Most rows acknowledged and not yet written to chunks; a request that would go past it gets 429 with Retry-After. Default 100000.",
    },
    spool_dir: {
      type: "string",
      minLength: 1,
      description: "Folder of the spool of acknowledged rows not yet in chunks. Default: <out>/.tailkit/sources/webhook/<name>. Keep it across runs.",
    },
    name: {
      type: "string",
      minLength: 1,
      default: "webhook",
      description:
        "The source's name: tp_source_name, and what its spool and cursor are kept under. Give each webhook of one output folder its own. Default 'webhook'.",
    },
  },
  additionalProperties: false,
};

/** Where the source listens, parsed from `listen`. */
export interface ListenAddress {
  host: string;
  port: number;
  loopback: boolean;
}

/** Parses "host:port" or "[v6]:port"; throws INVALID_ARGUMENT naming field listen. */
export function parseListen(listen: string): ListenAddress {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(listen);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (!m || !host || port > 65535) throw invalidArgument("listen", `must be host:port (e.g. ${DEFAULT_WEBHOOK_LISTEN}), got ${JSON.stringify(listen)}`);
  if (m[1] !== undefined && isIP(host) !== 6) throw invalidArgument("listen", `${JSON.stringify(host)} in brackets is not an IPv6 address`);
  const loopback = host === "localhost" || host === "::1" || (isIP(host) === 4 && host.startsWith("127."));
  return { host, port, loopback };
}

/** The config with defaults applied and checked beyond what the schema says. */
export interface ResolvedWebhookConfig {
  name: string;
  listen: ListenAddress;
  /** `listen` as given (or its default): the stream is named after it when no name is given. */
  listenText: string;
  path: string;
  /** Undefined with auth "none". */
  token: string | undefined;
  maxBodyBytes: number;
  maxQueuedRows: number;
  spoolDir: string | undefined;
}

/** Applies defaults and checks what the schema cannot; throws INVALID_ARGUMENT naming the field. */
export function validateWebhookConfig(config: WebhookSourceConfig, env: NodeJS.ProcessEnv): ResolvedWebhookConfig {
  const listenText = config.listen ?? DEFAULT_WEBHOOK_LISTEN;
  const listen = parseListen(listenText);
  const auth = config.auth ?? "bearer";
  let token: string | undefined;
  if (auth === "none") {
    if (config.token !== undefined || config.token_env !== undefined) throw invalidArgument("auth", `is "none", yet a token is given; drop one of them`);
    // Rows from anyone who can reach the port: only this machine's own processes, or a proxy on it that checks callers.
    if (!listen.loopback) throw invalidArgument("auth", `"none" is allowed on a loopback host only; ${listen.host} is not one: give a token`);
  } else {
    if (config.token !== undefined && config.token_env !== undefined) throw invalidArgument("token", "token and token_env both given; use one of them");
    if (config.token_env !== undefined) {
      token = env[config.token_env];
      if (!token) throw invalidArgument("token_env", `environment variable ${config.token_env} is not set (or empty) in the plugin's environment`);
    } else token = config.token;
    if (!token) throw invalidArgument("token", `a bearer token is required (token or token_env), unless auth is "none"`);
  }
  return {
    name: config.name ?? "webhook",
    listen,
    listenText,
    path: config.path ?? "/",
    token,
    maxBodyBytes: config.max_body_bytes ?? DEFAULT_MAX_BODY_BYTES,
    maxQueuedRows: config.max_queued_rows ?? DEFAULT_MAX_QUEUED_ROWS,
    spoolDir: config.spool_dir,
  };
}
