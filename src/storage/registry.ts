import { redisBackend } from "./backends/redis.js";
import { sqliteBackend } from "./backends/sqlite.js";
import type { BackendDefinition } from "./registry-types.js";

const definitions = new Map<string, BackendDefinition>([
  ["sqlite", sqliteBackend],
  ["redis", redisBackend],
]);

/** Makes a backend kind available to open() under `name`; replaces an earlier registration of that name. */
export function registerBackend(name: string, definition: BackendDefinition): void {
  if (!/^[a-z][a-z0-9_-]*$/.test(name)) throw new TypeError(`storage backend name must match /^[a-z][a-z0-9_-]*$/, got ${JSON.stringify(name)}`);
  definitions.set(name, definition);
}

/** The definition registered under `name`, if any. */
export function getBackendDefinition(name: string): BackendDefinition | undefined {
  return definitions.get(name);
}

/** Names of all registered backends, in registration order. */
export function registeredBackends(): string[] {
  return [...definitions.keys()];
}
