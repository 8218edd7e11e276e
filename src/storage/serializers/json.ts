import { ReturnCode, fail, messageOf, ok, type OperationResult } from "../codes.js";
import type { Serializer } from "../types.js";

/** Prefix of every string the JSON serializer writes; bumped when the encoding changes incompatibly. */
export const JSON_SERIALIZER_PREFIX = "tkjson1:";

// Values JSON cannot hold travel as {"$tk": tag, "v": payload}. A plain object that itself owns a
// "$tk" property is wrapped as tag "obj", so no user data is ever mistaken for a tag.
const TAG = "$tk";

class SerializeError extends Error {}

function pathTo(path: string): string {
  return path === "" ? "value" : `value${path}`;
}

function encode(value: unknown, path: string, ancestors: Set<object>, sortKeys: boolean): unknown {
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      if (Number.isFinite(value) && !Object.is(value, -0)) return value;
      return { [TAG]: "num", v: Object.is(value, -0) ? "-0" : String(value) };
    case "bigint":
      return { [TAG]: "big", v: value.toString() };
    case "undefined":
      return { [TAG]: "undef" };
    case "object":
      break;
    default:
      throw new SerializeError(`${pathTo(path)}: cannot serialize a ${typeof value}`);
  }
  if (value === null) return null;
  if (ancestors.has(value)) throw new SerializeError(`${pathTo(path)}: circular reference`);
  ancestors.add(value);
  try {
    if (Array.isArray(value)) {
      const out = new Array<unknown>(value.length);
      for (let i = 0; i < value.length; i++) out[i] = encode(value[i], `${path}[${i}]`, ancestors, sortKeys);
      return out;
    }
    if (value instanceof Date) {
      const time = value.getTime();
      return { [TAG]: "date", v: Number.isNaN(time) ? null : time };
    }
    if (value instanceof Uint8Array) return { [TAG]: "bytes", v: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64") };
    if (value instanceof Map) {
      const entries: unknown[] = [];
      let i = 0;
      for (const [k, v] of value) {
        entries.push([encode(k, `${path}<key ${i}>`, ancestors, sortKeys), encode(v, `${path}[${i}]`, ancestors, sortKeys)]);
        i++;
      }
      return { [TAG]: "map", v: sortKeys ? sortedByEncoding(entries) : entries };
    }
    if (value instanceof Set) {
      const members: unknown[] = [];
      let i = 0;
      for (const v of value) members.push(encode(v, `${path}{${i++}}`, ancestors, sortKeys));
      return { [TAG]: "set", v: sortKeys ? sortedByEncoding(members) : members };
    }
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      const name = (value as { constructor?: { name?: string } }).constructor?.name ?? "object";
      throw new SerializeError(`${pathTo(path)}: cannot serialize an instance of ${name}`);
    }
    const source = value as Record<string, unknown>;
    const keys = Object.keys(source);
    if (sortKeys) keys.sort();
    const out: Record<string, unknown> = {};
    for (const key of keys) out[key] = encode(source[key], `${path}.${key}`, ancestors, sortKeys);
    return Object.hasOwn(source, TAG) ? { [TAG]: "obj", v: out } : out;
  } finally {
    ancestors.delete(value);
  }
}

// A key's Set members and Map entries are ordered by their own encoding (already canonical, being encoded with
// sortKeys), so equal Sets and Maps give one string whatever their insertion order. Values keep insertion order,
// which a caller may rely on (a Map used as an ordered list). Code-unit order, as for object keys: no locale.
function sortedByEncoding(items: unknown[]): unknown[] {
  if (items.length < 2) return items;
  const keyed = items.map((item) => ({ text: JSON.stringify(item), item }));
  keyed.sort((x, y) => (x.text < y.text ? -1 : x.text > y.text ? 1 : 0));
  return keyed.map((e) => e.item);
}

function decode(value: unknown): unknown {
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return value.map(decode);
  const obj = value as Record<string, unknown>;
  if (!Object.hasOwn(obj, TAG)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(obj)) out[key] = decode(obj[key]);
    return out;
  }
  const v = obj["v"];
  switch (obj[TAG]) {
    case "num":
      if (v === "-0") return -0;
      if (v === "NaN" || v === "Infinity" || v === "-Infinity") return Number(v);
      break;
    case "big":
      if (typeof v === "string" && /^-?\d+$/.test(v)) return BigInt(v);
      break;
    case "undef":
      return undefined;
    case "date":
      if (v === null || typeof v === "number") return new Date(v ?? Number.NaN);
      break;
    case "bytes":
      if (typeof v === "string") return new Uint8Array(Buffer.from(v, "base64"));
      break;
    case "map":
      if (Array.isArray(v)) return new Map(v.map((e) => (Array.isArray(e) && e.length === 2 ? [decode(e[0]), decode(e[1])] : bad(e))));
      break;
    case "set":
      if (Array.isArray(v)) return new Set(v.map(decode));
      break;
    case "obj":
      if (typeof v === "object" && v !== null && !Array.isArray(v)) {
        const out: Record<string, unknown> = {};
        for (const key of Object.keys(v)) out[key] = decode((v as Record<string, unknown>)[key]);
        return out;
      }
      break;
  }
  return bad(obj);
}

function bad(what: unknown): never {
  throw new SerializeError(`malformed tagged value ${JSON.stringify(what)?.slice(0, 80)}`);
}

/**
 * Creates the default serializer: JSON behind a "tkjson1:" prefix. BigInt, Date, Map, Set, Uint8Array,
 * undefined, NaN, ±Infinity and -0 round-trip through tagged objects; functions, symbols, class
 * instances and circular references give SERIALIZATION_FAILED naming the offending path. Keys are
 * canonical: object properties, Set members and Map entries are sorted, at any depth.
 */
export function createJsonSerializer(): Serializer {
  return {
    name: JSON_SERIALIZER_PREFIX.slice(0, -1),
    serialize(value: unknown, purpose: "key" | "value"): OperationResult<string> {
      try {
        // Plain strings are the common key; skip the tree walk for them.
        const encoded = typeof value === "string" ? value : encode(value, "", new Set(), purpose === "key");
        return ok(JSON_SERIALIZER_PREFIX + JSON.stringify(encoded));
      } catch (err) {
        return fail(ReturnCode.SERIALIZATION_FAILED, `${purpose}: ${messageOf(err)}`);
      }
    },
    unserialize(data: string): OperationResult<unknown> {
      if (!data.startsWith(JSON_SERIALIZER_PREFIX)) {
        return fail(
          ReturnCode.UNSERIALIZATION_FAILED,
          `stored data lacks the "${JSON_SERIALIZER_PREFIX}" prefix (starts with ${JSON.stringify(data.slice(0, 16))})`,
        );
      }
      try {
        return ok(decode(JSON.parse(data.slice(JSON_SERIALIZER_PREFIX.length))));
      } catch (err) {
        return fail(ReturnCode.UNSERIALIZATION_FAILED, `cannot decode stored data: ${messageOf(err)}`);
      }
    },
  };
}

/** Shared default instance of the JSON serializer. */
export const jsonSerializer: Serializer = createJsonSerializer();
