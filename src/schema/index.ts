import { createRequire } from "node:module";
import type * as AjvModule from "ajv";
import type { Ajv as AjvClass, ErrorObject, ValidateFunction } from "ajv";
import { Code, TailkitError } from "../errors/index.js";

/** A JSON Schema document (draft 2020-12 subset that Ajv understands). */
import type { JSONSchema } from "../contract/schema.js";

export type { JSONSchema };

// Ajv is loaded at the first schema compiled, not at import: a plugin prints its handshake without it, and compiles
// its config schemas while the host connects (warmSchemas).
const require = createRequire(import.meta.url);
let ajv: AjvClass | undefined;

/** Compiles a schema (Ajv caches it by content, so compiling again is cheap). */
function compile(schema: JSONSchema): ValidateFunction {
  ajv ??= new (require("ajv") as typeof AjvModule).Ajv({ allErrors: false, useDefaults: true, strict: false });
  return ajv.compile(schema);
}

/** Compiles schemas ahead of their first validateConfig. */
export function warmSchemas(schemas: readonly JSONSchema[]): void {
  for (const s of schemas) compile(s);
}

/** Validates `value` against `schema`, applying defaults; throws INVALID_ARGUMENT naming the bad field under `prefix`. */
export function validateConfig<T>(schema: JSONSchema, value: unknown, prefix: string): T {
  const validate = compile(schema);
  if (!validate(value)) {
    const err = (validate.errors ?? [])[0];
    throw new TailkitError(Code.InvalidArgument, describe(err, prefix), { field: fieldOf(err, prefix) });
  }
  return value as T;
}

function fieldOf(err: ErrorObject | undefined, prefix: string): string {
  if (!err) return prefix;
  let path = err.instancePath
    .split("/")
    .slice(1)
    .map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p.replace(/~1/g, "/").replace(/~0/g, "~")}`))
    .join("");
  if (err.keyword === "required") path += `.${String(err.params["missingProperty"])}`;
  if (err.keyword === "additionalProperties") path += `.${String(err.params["additionalProperty"])}`;
  return `${prefix}${path}`;
}

function describe(err: ErrorObject | undefined, prefix: string): string {
  if (!err) return `${prefix}: invalid`;
  const field = fieldOf(err, prefix);
  switch (err.keyword) {
    case "required":
      return `${field}: is required`;
    case "additionalProperties":
      return `${field}: unknown field`;
    case "enum":
      return `${field}: must be one of ${(err.params["allowedValues"] as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
    default:
      return `${field}: ${err.message ?? "invalid"}`;
  }
}
