/** Environment variable a host sets so that a plugin knows it was launched by a host, not by hand. */
export const MAGIC_COOKIE_KEY = "TAILKIT_PLUGIN_MAGIC_COOKIE";
/** The value hosts set MAGIC_COOKIE_KEY to. */
export const MAGIC_COOKIE_VALUE = "7b0c6d1e-tailkit-plugin-v1";
/** Environment variable a tailkit host sets to its pid, so that a plugin can tell when its host is gone. */
export const HOST_PID_KEY = "TAILKIT_HOST_PID";
/** go-plugin's core protocol version: the handshake line format. */
export const CORE_PROTOCOL_VERSION = 1;
/** tailkit's application protocol version: tailkit.plugin.v1. */
export const APP_PROTOCOL_VERSION = 1;

/** The address a plugin serves on, as told in the handshake line. */
export interface HandshakeAddress {
  coreProtocol: number;
  appProtocol: number;
  network: "unix" | "tcp";
  address: string;
  protocol: string;
}

/** Formats the one stdout line a plugin prints: `CORE|APP|network|address|grpc`. */
export function formatHandshake(network: "unix" | "tcp", address: string): string {
  return `${CORE_PROTOCOL_VERSION}|${APP_PROTOCOL_VERSION}|${network}|${address}|grpc`;
}

/** Parses a handshake line; throws an Error saying what is wrong with it. */
export function parseHandshake(line: string): HandshakeAddress {
  const parts = line.trim().split("|");
  if (parts.length < 4) throw new Error(`malformed handshake line ${JSON.stringify(line.slice(0, 200))}: expected CORE|APP|network|address|grpc`);
  const [core, app, network, address, protocol = "netrpc"] = parts as [string, string, string, string, string?];
  const coreProtocol = Number(core);
  const appProtocol = Number(app);
  if (coreProtocol !== CORE_PROTOCOL_VERSION) throw new Error(`handshake: unsupported core protocol version ${core} (want ${CORE_PROTOCOL_VERSION})`);
  if (appProtocol !== APP_PROTOCOL_VERSION) throw new Error(`handshake: plugin speaks app protocol ${app}, this host speaks ${APP_PROTOCOL_VERSION}`);
  if (network !== "unix" && network !== "tcp") throw new Error(`handshake: unsupported network ${JSON.stringify(network)}`);
  if (protocol !== "grpc") throw new Error(`handshake: unsupported protocol ${JSON.stringify(protocol)} (want grpc)`);
  return { coreProtocol, appProtocol, network, address, protocol };
}

/** The grpc.health.v1 service name a plugin reports SERVING under, besides "". */
export const HEALTH_SERVICE = "plugin";

/**
 * Name (for Symbol.for) of the global an extraction worker sets while it runs: serve() called there reports to it
 * instead of serving. Symbol.for, not an import, so that it holds even when the plugin's tailkit is another copy than the
 * worker's.
 */
export const EXTRACTION_WORKER_GLOBAL = "tailkit.extraction-worker";

/** What an extraction worker puts under EXTRACTION_WORKER_GLOBAL. */
export interface ExtractionWorkerHook {
  /** serve() was called in this worker; `caller` is the stack frame that called it, when known. */
  serveCalled(pluginName: string, caller: string | undefined): void;
}
