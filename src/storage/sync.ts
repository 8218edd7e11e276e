import { ReturnCode, fail, ok, type OperationResult } from "./codes.js";
import { SyncHandle } from "./handle.js";
import { isPromiseLike } from "./maybe-promise.js";
import { openBackend } from "./open-backend.js";
import type { TypeDescriptor } from "./type-descriptors.js";
import type { BackendOptionsMap, StorageOptions } from "./types.js";

/** Opens a backend for synchronous use; same arguments and codes as the async open(). */
export function open<B extends keyof BackendOptionsMap, K, V>(
  backend: B,
  options: BackendOptionsMap[B],
  keyType: TypeDescriptor<K>,
  valueType: TypeDescriptor<V>,
): OperationResult<SyncHandle<K, V>>;
/** Opens a backend registered under a name not in BackendOptionsMap. */
export function open<K, V>(
  backend: string,
  options: StorageOptions,
  keyType: TypeDescriptor<K>,
  valueType: TypeDescriptor<V>,
): OperationResult<SyncHandle<K, V>>;
export function open<K, V>(
  backend: string,
  options: StorageOptions,
  keyType: TypeDescriptor<K>,
  valueType: TypeDescriptor<V>,
): OperationResult<SyncHandle<K, V>> {
  const result = openBackend("sync", backend, options, keyType, valueType);
  if (isPromiseLike(result)) {
    result.then(undefined, () => undefined);
    return fail(ReturnCode.OPERATION_FAILED, `${backend} backend failed to open: it answered asynchronously to a sync open`);
  }
  if (result.code !== ReturnCode.SUCCESS) return fail(result.code, result.error ?? result.code);
  return ok(new SyncHandle<K, V>(result.value!));
}
