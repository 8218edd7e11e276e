import { createRequire } from "node:module";
import type * as AjvModule from "ajv";
import type { Ajv, ValidateFunction } from "ajv";

/**
 * A runtime type of keys or values. `check` returns undefined when `value` conforms, otherwise a
 * message naming where and what is wrong; it never throws, so handles can turn it into a return code.
 */
export interface TypeDescriptor<T> {
  /** Short description used in mismatch messages, e.g. "array<string>". */
  readonly name: string;
  /** Undefined when `value` conforms; otherwise why not, prefixed with `path`. */
  check(value: unknown, path?: string): string | undefined;
  /** Phantom field carrying T for inference; never set at run time. */
  readonly __type?: T;
}

/** The TypeScript type a descriptor stands for. */
export type Infer<D> = D extends TypeDescriptor<infer T> ? T : never;

/** A descriptor whose property may be absent inside `t.object`. */
export interface OptionalDescriptor<T> extends TypeDescriptor<T | undefined> {
  readonly optional: true;
}

type Shape = Record<string, TypeDescriptor<unknown>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends OptionalDescriptor<unknown> ? K : never }[keyof S];
type RequiredKeys<S extends Shape> = Exclude<keyof S, OptionalKeys<S>>;
type Flatten<T> = { [K in keyof T]: T[K] };
/** Object type described by a shape of descriptors; optional descriptors give optional properties. */
export type InferShape<S extends Shape> = Flatten<{ [K in RequiredKeys<S>]: Infer<S[K]> } & { [K in OptionalKeys<S>]?: Infer<S[K]> }>;

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (value instanceof Date) return "Date";
  if (value instanceof Map) return "Map";
  if (value instanceof Set) return "Set";
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  return typeof value;
}

function at(path: string | undefined): string {
  return path ? `${path}: ` : "";
}

function mismatch(path: string | undefined, expected: string, value: unknown): string {
  return `${at(path)}expected ${expected}, got ${kindOf(value)}`;
}

function descriptor<T>(name: string, check: (value: unknown, path: string) => string | undefined): TypeDescriptor<T> {
  return { name, check: (value, path = "") => check(value, path) };
}

function primitive<T>(name: string, test: (value: unknown) => boolean): TypeDescriptor<T> {
  return descriptor<T>(name, (value, path) => (test(value) ? undefined : mismatch(path, name, value)));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function isJsonValue(value: unknown, depth: number): boolean {
  if (depth > 512) return false;
  switch (typeof value) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(value);
    case "object":
      if (value === null) return true;
      if (Array.isArray(value)) return value.every((v) => isJsonValue(v, depth + 1));
      return isPlainObject(value) && Object.values(value).every((v) => isJsonValue(v, depth + 1));
    default:
      return false;
  }
}

const string = primitive<string>("string", (v) => typeof v === "string");
const number = primitive<number>("number", (v) => typeof v === "number");
const integer = primitive<number>("integer", (v) => Number.isSafeInteger(v));
const boolean = primitive<boolean>("boolean", (v) => typeof v === "boolean");
const bigint = primitive<bigint>("bigint", (v) => typeof v === "bigint");
const date = primitive<Date>("Date", (v) => v instanceof Date);
const bytes = primitive<Uint8Array>("Uint8Array", (v) => v instanceof Uint8Array);
const nullType = primitive<null>("null", (v) => v === null);
const json = primitive<unknown>("JSON value", (v) => isJsonValue(v, 0));
const any = descriptor<unknown>("any", () => undefined);

let ajv: Ajv | undefined;

/** Type-descriptor builders for keys and values, e.g. `t.object({ id: t.string(), n: t.optional(t.integer()) })`. */
export const t = {
  /** Any string. */
  string: (): TypeDescriptor<string> => string,
  /** Any number, NaN and ±Infinity included (the JSON serializer tags them). */
  number: (): TypeDescriptor<number> => number,
  /** A safe integer. */
  integer: (): TypeDescriptor<number> => integer,
  /** true or false. */
  boolean: (): TypeDescriptor<boolean> => boolean,
  /** A BigInt. */
  bigint: (): TypeDescriptor<bigint> => bigint,
  /** A Date instance. */
  date: (): TypeDescriptor<Date> => date,
  /** A Uint8Array (Buffer included); read back as a Uint8Array. */
  bytes: (): TypeDescriptor<Uint8Array> => bytes,
  /** Exactly null. */
  null: (): TypeDescriptor<null> => nullType,
  /** Any plain JSON value: null, boolean, finite number, string, array, plain object, checked deeply. */
  json: (): TypeDescriptor<unknown> => json,
  /** Anything; only the serializer decides whether it can be stored. */
  any: (): TypeDescriptor<unknown> => any,

  /** One of the given primitive values. */
  literal: <const L extends readonly (string | number | boolean | null)[]>(...values: L): TypeDescriptor<L[number]> => {
    const name = values.map((v) => JSON.stringify(v)).join(" | ");
    return descriptor(name, (value, path) =>
      values.includes(value as L[number]) ? undefined : `${at(path)}expected ${name}, got ${JSON.stringify(value) ?? kindOf(value)}`,
    );
  },

  /** An array whose every item matches `item`. */
  array: <T>(item: TypeDescriptor<T>): TypeDescriptor<T[]> =>
    descriptor(`array<${item.name}>`, (value, path) => {
      if (!Array.isArray(value)) return mismatch(path, `array<${item.name}>`, value);
      for (let i = 0; i < value.length; i++) {
        const err = item.check(value[i], `${path}[${i}]`);
        if (err) return err;
      }
      return undefined;
    }),

  /** A fixed-length array with one descriptor per position. */
  tuple: <const D extends readonly TypeDescriptor<unknown>[]>(...items: D): TypeDescriptor<{ [I in keyof D]: Infer<D[I]> }> => {
    const name = `[${items.map((d) => d.name).join(", ")}]`;
    return descriptor(name, (value, path) => {
      if (!Array.isArray(value)) return mismatch(path, name, value);
      if (value.length !== items.length) return `${at(path)}expected ${items.length} items, got ${value.length}`;
      for (let i = 0; i < items.length; i++) {
        const err = items[i]!.check(value[i], `${path}[${i}]`);
        if (err) return err;
      }
      return undefined;
    });
  },

  /** A plain object with arbitrary string keys, every value matching `value`. */
  record: <T>(value: TypeDescriptor<T>): TypeDescriptor<Record<string, T>> =>
    descriptor(`record<${value.name}>`, (v, path) => {
      if (!isPlainObject(v)) return mismatch(path, `record<${value.name}>`, v);
      for (const key of Object.keys(v)) {
        const err = value.check(v[key], path ? `${path}.${key}` : key);
        if (err) return err;
      }
      return undefined;
    }),

  /** A plain object with the given properties; `strict` (default false) also rejects properties not in `shape`. */
  object: <S extends Shape>(shape: S, options: { strict?: boolean } = {}): TypeDescriptor<InferShape<S>> => {
    const keys = Object.keys(shape);
    const strict = options.strict ?? false;
    const name = `{${keys.join(", ")}}`;
    return descriptor(name, (value, path) => {
      if (!isPlainObject(value)) return mismatch(path, `object ${name}`, value);
      for (const key of keys) {
        const d = shape[key]!;
        const sub = path ? `${path}.${key}` : key;
        if (!(key in value)) {
          if ((d as Partial<OptionalDescriptor<unknown>>).optional) continue;
          return `${sub}: is required`;
        }
        const err = d.check(value[key], sub);
        if (err) return err;
      }
      if (strict) {
        for (const key of Object.keys(value)) if (!(key in shape)) return `${path ? `${path}.${key}` : key}: unknown property`;
      }
      return undefined;
    });
  },

  /** A Map whose keys and values match the given descriptors. */
  map: <K, V>(key: TypeDescriptor<K>, value: TypeDescriptor<V>): TypeDescriptor<Map<K, V>> => {
    const name = `Map<${key.name}, ${value.name}>`;
    return descriptor(name, (v, path) => {
      if (!(v instanceof Map)) return mismatch(path, name, v);
      for (const [k, item] of v) {
        const err = key.check(k, `${path}<key>`) ?? value.check(item, `${path}[${String(k)}]`);
        if (err) return err;
      }
      return undefined;
    });
  },

  /** A Set whose members match `item`. */
  set: <T>(item: TypeDescriptor<T>): TypeDescriptor<Set<T>> => {
    const name = `Set<${item.name}>`;
    return descriptor(name, (v, path) => {
      if (!(v instanceof Set)) return mismatch(path, name, v);
      for (const member of v) {
        const err = item.check(member, `${path}{}`);
        if (err) return err;
      }
      return undefined;
    });
  },

  /** Either of the given descriptors. */
  union: <const D extends readonly TypeDescriptor<unknown>[]>(...options: D): TypeDescriptor<Infer<D[number]>> => {
    const name = options.map((d) => d.name).join(" | ");
    return descriptor(name, (value, path) => (options.some((d) => d.check(value, path) === undefined) ? undefined : mismatch(path, name, value)));
  },

  /** `inner` or null. */
  nullable: <T>(inner: TypeDescriptor<T>): TypeDescriptor<T | null> =>
    descriptor(`${inner.name} | null`, (value, path) => (value === null ? undefined : inner.check(value, path))),

  /** `inner` or undefined; inside `t.object` the property may also be absent. */
  optional: <T>(inner: TypeDescriptor<T>): OptionalDescriptor<T> => ({
    name: `${inner.name}?`,
    optional: true,
    check: (value, path = "") => (value === undefined ? undefined : inner.check(value, path)),
  }),

  /** A value valid under a JSON Schema (compiled once, with Ajv); use when the schema already exists, e.g. from Describe. */
  jsonSchema: <T = unknown>(schema: Record<string, unknown>): TypeDescriptor<T> => {
    ajv ??= new (createRequire(import.meta.url)("ajv") as typeof AjvModule).Ajv({ allErrors: false, strict: false });
    const validate: ValidateFunction = ajv.compile(schema);
    const name = typeof schema["title"] === "string" ? schema["title"] : "JSON Schema";
    return descriptor(name, (value, path) => {
      if (validate(value)) return undefined;
      const e = validate.errors?.[0];
      const where = `${path}${e?.instancePath.replace(/\//g, ".") ?? ""}`;
      return `${at(where)}${e?.message ?? `does not match ${name}`}`;
    });
  },
} as const;

/** True when `value` looks like a TypeDescriptor; open() uses it to reject a bad keyType/valueType up front. */
export function isTypeDescriptor(value: unknown): value is TypeDescriptor<unknown> {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { check?: unknown }).check === "function" &&
    typeof (value as { name?: unknown }).name === "string"
  );
}
