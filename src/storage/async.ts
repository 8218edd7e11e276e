import { ReturnCode, fail, ok, type OperationResult } from "./codes.js";
import { Handle } from "./handle.js";
import { openBackend } from "./open-backend.js";
import type { TypeDescriptor } from "./type-descriptors.js";
import type { BackendOptionsMap, StorageOptions } from "./types.js";

/** Opens a backend for asynchronous use; resolves to a result holding the handle, never rejects. */
export async function open<B extends keyof BackendOptionsMap, K, V>(
  backend: B,
  options: BackendOptionsMap[B],
  keyType: TypeDescriptor<K>,
  valueType: TypeDescriptor<V>,
): Promise<OperationResult<Handle<K, V>>>;
/** Opens a backend registered under a name not in BackendOptionsMap. */
export async function open<K, V>(
  backend: string,
  options: StorageOptions,
  keyType: TypeDescriptor<K>,
  valueType: TypeDescriptor<V>,
): Promise<OperationResult<Handle<K, V>>>;
export async function open<K, V>(
  backend: string,
  options: StorageOptions,
  keyType: TypeDescriptor<K>,
  valueType: TypeDescriptor<V>,
): Promise<OperationResult<Handle<K, V>>> {
  const result = await openBackend("async", backend, options, keyType, valueType);
  if (result.code !== ReturnCode.SUCCESS) return fail(result.code, result.error ?? result.code);
  return ok(new Handle<K, V>(result.value!));
}
