import { Ajv, type ErrorObject } from "ajv";
import { Code, TailkitError } from "../errors/index.js";

/** A JSON Schema document (draft 2020-12 subset that Ajv understands). */
export type JSONSchema = Record<string, unknown>;

const ajv = new Ajv({ allErrors: false, useDefaults: true, strict: false });

/** Validates `value` against `schema`, applying defaults; throws INVALID_ARGUMENT naming the bad field under `prefix`. */
export function validateConfig<T>(schema: JSONSchema, value: unknown, prefix: string): T {
  const validate = ajv.compile(schema);
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
