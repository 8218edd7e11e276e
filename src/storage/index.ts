// Storage framework: a typed key-value store over pluggable backends, after Zeek's storage framework.
export { open as openAsync } from "./async.js";
export { open as openSync } from "./sync.js";
export { Handle, SyncHandle } from "./handle.js";
export { ReturnCode, ok, fail, isSuccess, type OperationResult } from "./codes.js";
export { t, isTypeDescriptor, type TypeDescriptor, type OptionalDescriptor, type Infer, type InferShape } from "./type-descriptors.js";
export type {
  BackendOptionsMap,
  Clock,
  Entry,
  GetAllOptions,
  LatencyStats,
  PutArgs,
  RedisOptions,
  Serializer,
  SqliteOptions,
  StorageEvent,
  StorageEventType,
  StorageMetrics,
  StorageOperation,
  StorageOptions,
} from "./types.js";
export { StorageBackendBase, storageEvents, type BackendContext, type RawEntry, type RawPut, type StorageBackend, type SweepStats } from "./backend.js";
export type { MaybePromise } from "./maybe-promise.js";
export { LATENCY_BOUNDS_MS } from "./metrics.js";
export { registerBackend, getBackendDefinition, registeredBackends } from "./registry.js";
export type { BackendDefinition, BackendMode } from "./registry-types.js";
export { DEFAULT_EXPIRE_INTERVAL, DEFAULT_GET_ALL_LIMIT } from "./open-backend.js";
export { createJsonSerializer, jsonSerializer, JSON_SERIALIZER_PREFIX } from "./serializers/json.js";
export { SqliteBackend, SQLITE_DEFAULTS, sqliteBackend, validateSqliteOptions } from "./backends/sqlite.js";
export { RedisBackend, REDIS_DEFAULTS, redisBackend, validateRedisOptions } from "./backends/redis.js";
export { MemoryBackend, createMemoryBackend, type MemoryBackendCalls, type MemoryBackendOptions } from "./backends/memory.js";
