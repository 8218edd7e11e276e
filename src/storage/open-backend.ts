import type { StorageBackend } from "./backend.js";
import { ReturnCode, fail, ok, type OperationResult } from "./codes.js";
import { pipe, type MaybePromise } from "./maybe-promise.js";
import { getBackendDefinition, registeredBackends } from "./registry.js";
import type { BackendMode } from "./registry-types.js";
import { jsonSerializer } from "./serializers/json.js";
import { isTypeDescriptor } from "./type-descriptors.js";
import type { Serializer, StorageOptions } from "./types.js";

/** Default seconds between expiry sweeps. */
export const DEFAULT_EXPIRE_INTERVAL = 15;

/** Default most entries one getAll() returns. */
export const DEFAULT_GET_ALL_LIMIT = 10_000;

/** Names of the options every backend takes (StorageOptions). */
export const COMMON_OPTION_NAMES: readonly string[] = ["serializer", "clock", "expireInterval", "getAllLimit"];

// An option set to undefined counts as not given, as it does for the known ones (the default applies).
function findUnknownOption(options: Record<string, unknown>, own: readonly string[]): string | undefined {
  for (const name of Object.keys(options)) {
    if (options[name] !== undefined && !COMMON_OPTION_NAMES.includes(name) && !own.includes(name)) {
      return `options.${name}: unknown option (known: ${[...COMMON_OPTION_NAMES, ...own].join(", ")})`;
    }
  }
  return undefined;
}

function validateCommon(options: StorageOptions): string | undefined {
  const { serializer, clock, expireInterval, getAllLimit } = options;
  if (serializer !== undefined) {
    const s = serializer as Partial<Serializer> | null;
    if (typeof s !== "object" || s === null || typeof s.serialize !== "function" || typeof s.unserialize !== "function") {
      return "options.serializer: must have serialize() and unserialize()";
    }
  }
  if (clock !== undefined && typeof clock !== "function") return "options.clock: must be a function returning milliseconds";
  if (expireInterval !== undefined && (typeof expireInterval !== "number" || !Number.isFinite(expireInterval) || expireInterval < 0)) {
    return `options.expireInterval: must be a number of seconds >= 0, got ${JSON.stringify(expireInterval)}`;
  }
  if (getAllLimit !== undefined && (typeof getAllLimit !== "number" || !Number.isSafeInteger(getAllLimit) || getAllLimit < 0)) {
    return `options.getAllLimit: must be an integer >= 0, got ${JSON.stringify(getAllLimit)}`;
  }
  return undefined;
}

/** Shared body of the async and sync open(): validation, creation, then the backend's own open. */
export function openBackend(
  mode: BackendMode,
  backend: string,
  options: unknown,
  keyType: unknown,
  valueType: unknown,
): MaybePromise<OperationResult<StorageBackend>> {
  const definition = typeof backend === "string" ? getBackendDefinition(backend) : undefined;
  if (!definition) {
    return fail(
      ReturnCode.INITIALIZATION_FAILED,
      `storage backend ${JSON.stringify(backend)} failed to open: not registered (known: ${registeredBackends().join(", ")})`,
    );
  }
  const initFailed = (why: string): OperationResult<StorageBackend> => fail(ReturnCode.INITIALIZATION_FAILED, `${backend} backend failed to open: ${why}`);
  if (!isTypeDescriptor(keyType)) return initFailed("keyType: must be a type descriptor such as t.string()");
  if (!isTypeDescriptor(valueType)) return initFailed("valueType: must be a type descriptor such as t.json()");
  if (typeof options !== "object" || options === null || Array.isArray(options)) return initFailed("options: must be an object");
  const opts = options as StorageOptions & Record<string, unknown>;
  const unknown = definition.optionNames === undefined ? undefined : findUnknownOption(opts, definition.optionNames);
  const invalid = unknown ?? validateCommon(opts) ?? definition.validateOptions(opts);
  if (invalid !== undefined) return initFailed(invalid);

  const created = definition.create(
    opts,
    {
      name: backend,
      keyType,
      valueType,
      serializer: opts.serializer ?? jsonSerializer,
      clock: opts.clock ?? Date.now,
      expireIntervalMs: (opts.expireInterval ?? DEFAULT_EXPIRE_INTERVAL) * 1000,
      getAllLimit: opts.getAllLimit ?? DEFAULT_GET_ALL_LIMIT,
    },
    mode,
  );
  if (!created || (mode === "sync" && !created.sync)) {
    return fail(ReturnCode.ASYNC_ONLY, `${backend} backend failed to open: it has no synchronous implementation; use the async module`);
  }
  return pipe(created.open(), (result) => (result.code === ReturnCode.SUCCESS ? ok(created) : fail(result.code, result.error ?? result.code)));
}
