import { describe, expect, it } from "vitest";
import { JSON_SERIALIZER_PREFIX, ReturnCode, jsonSerializer, t } from "../../src/storage/index.js";

function roundTrip(value: unknown): unknown {
  const s = jsonSerializer.serialize(value, "value");
  expect(s.code).toBe(ReturnCode.SUCCESS);
  expect(s.value!.startsWith(JSON_SERIALIZER_PREFIX)).toBe(true);
  const u = jsonSerializer.unserialize(s.value!);
  expect(u.code).toBe(ReturnCode.SUCCESS);
  return u.value;
}

describe("JSON serializer", () => {
  it("writes plain JSON behind the version prefix", () => {
    expect(jsonSerializer.serialize({ a: [1, "x", null, true] }, "value").value).toBe('tkjson1:{"a":[1,"x",null,true]}');
    expect(jsonSerializer.serialize("k", "key").value).toBe('tkjson1:"k"');
  });

  it.each([
    ["BigInt", 2n ** 70n],
    ["negative BigInt", -5n],
    ["Date", new Date("2024-01-02T03:04:05.678Z")],
    ["invalid Date", new Date(Number.NaN)],
    [
      "Map with object keys",
      new Map<unknown, unknown>([
        [{ a: 1 }, "x"],
        [2, new Set(["y"])],
      ]),
    ],
    ["Set", new Set([1, "1", null])],
    ["undefined in arrays", [undefined, 1, undefined]],
    ["undefined at top level", undefined],
    ["NaN and infinities", [Number.NaN, Infinity, -Infinity]],
    ["negative zero", -0],
    ["bytes", new Uint8Array([0, 1, 254, 255])],
    ["object owning a $tk key", { $tk: "big", v: "1" }],
    ["nested", { a: [{ b: new Map([["c", [1n, new Date(0)]]]) }], u: undefined }],
    [
      "shared (non-circular) reference",
      (() => {
        const x = { n: 1 };
        return [x, x];
      })(),
    ],
  ])("round-trips %s", (_name, value) => {
    expect(roundTrip(value)).toStrictEqual(value);
  });

  it("reads a Buffer back as a Uint8Array with the same bytes", () => {
    const out = roundTrip(Buffer.from("hi"));
    expect(out).toBeInstanceOf(Uint8Array);
    expect([...(out as Uint8Array)]).toEqual([104, 105]);
  });

  it.each([
    [
      "a circular reference",
      (() => {
        const x: Record<string, unknown> = {};
        x["self"] = { x };
        return x;
      })(),
      "value.self.x: circular reference",
    ],
    ["a function", { f: () => 1 }, "value.f: cannot serialize a function"],
    ["a symbol", [Symbol("s")], "value[0]: cannot serialize a symbol"],
    ["a class instance", { r: /x/ }, "value.r: cannot serialize an instance of RegExp"],
  ])("fails clearly on %s", (_name, value, message) => {
    const r = jsonSerializer.serialize(value, "value");
    expect(r.code).toBe(ReturnCode.SERIALIZATION_FAILED);
    expect(r.error).toBe(`value: ${message}`);
  });

  it("serializes keys canonically", () => {
    const a = jsonSerializer.serialize({ b: 1, a: { d: 2, c: 3 } }, "key").value;
    const b = jsonSerializer.serialize({ a: { c: 3, d: 2 }, b: 1 }, "key").value;
    expect(a).toBe(b);
  });

  it.each([
    ["Set members", new Set(["b", "a", 10, 9]), new Set([9, "a", 10, "b"])],
    [
      "Map entries",
      new Map<unknown, unknown>([
        ["b", 1],
        ["a", 2],
      ]),
      new Map<unknown, unknown>([
        ["a", 2],
        ["b", 1],
      ]),
    ],
    ["Set members that are objects", new Set([{ y: 1, x: 2 }, { x: 1 }]), new Set([{ x: 1 }, { x: 2, y: 1 }])],
    [
      "Map entries with Set keys",
      new Map([
        [new Set([2, 1]), "p"],
        [new Set([0]), "q"],
      ]),
      new Map([
        [new Set([0]), "q"],
        [new Set([1, 2]), "p"],
      ]),
    ],
    ["Sets inside objects and arrays", { a: [new Set(["y", "x"])], b: { c: new Set([3, 1, 2]) } }, { b: { c: new Set([2, 3, 1]) }, a: [new Set(["x", "y"])] }],
  ])("serializes keys canonically whatever the order of %s", (_name, one, other) => {
    const a = jsonSerializer.serialize(one, "key");
    const b = jsonSerializer.serialize(other, "key");
    expect(a.code).toBe(ReturnCode.SUCCESS);
    expect(a.value).toBe(b.value);
    expect(jsonSerializer.unserialize(a.value!).value).toStrictEqual(one);
  });

  it("keeps Sets and Maps of different content apart as keys", () => {
    const key = (v: unknown): string | undefined => jsonSerializer.serialize(v, "key").value;
    expect(key(new Set(["a", "b"]))).not.toBe(key(new Set(["a"])));
    expect(
      key(
        new Map([
          ["a", 1],
          ["b", 2],
        ]),
      ),
    ).not.toBe(
      key(
        new Map([
          ["a", 2],
          ["b", 1],
        ]),
      ),
    );
    expect(key(new Set([1]))).not.toBe(key(new Set(["1"])));
  });

  it("keeps the insertion order of Set members and Map entries in values", () => {
    const value = {
      s: new Set(["z", "a", "m"]),
      m: new Map([
        ["z", 1],
        ["a", 2],
      ]),
    };
    const back = roundTrip(value) as typeof value;
    expect([...back.s]).toEqual(["z", "a", "m"]);
    expect([...back.m.keys()]).toEqual(["z", "a"]);
  });

  it("names the member's insertion position when a Set key member cannot be serialized", () => {
    const r = jsonSerializer.serialize(new Set(["b", () => 1]), "key");
    expect(r).toEqual({ code: ReturnCode.SERIALIZATION_FAILED, error: "key: value{1}: cannot serialize a function" });
  });

  it.each([
    ['{"a":1}', "lacks"],
    ["tkjson2:{}", "lacks"],
    ["", "lacks"],
    ["tkjson1:{not json", "cannot decode"],
    ['tkjson1:{"$tk":"nope"}', "malformed tagged value"],
    ['tkjson1:{"$tk":"big","v":"1.5"}', "malformed tagged value"],
  ])("rejects %j with UNSERIALIZATION_FAILED", (data, message) => {
    const r = jsonSerializer.unserialize(data);
    expect(r.code).toBe(ReturnCode.UNSERIALIZATION_FAILED);
    expect(r.error).toContain(message);
  });
});

describe("type descriptors", () => {
  const shape = t.object({ id: t.integer(), name: t.optional(t.string()), tags: t.array(t.literal("a", "b")) }, { strict: true });

  it("accept conforming values", () => {
    expect(shape.check({ id: 1, tags: ["a"] })).toBeUndefined();
    expect(shape.check({ id: 1, name: "x", tags: [] })).toBeUndefined();
    expect(t.record(t.number()).check({ a: 1, b: Number.NaN })).toBeUndefined();
    expect(t.map(t.string(), t.set(t.integer())).check(new Map([["a", new Set([1])]]))).toBeUndefined();
    expect(t.union(t.string(), t.null()).check(null)).toBeUndefined();
    expect(t.nullable(t.bigint()).check(1n)).toBeUndefined();
    expect(t.json().check({ a: [1, null, { b: "c" }] })).toBeUndefined();
  });

  it("say where and what is wrong", () => {
    expect(shape.check({ id: 1, tags: ["c"] })).toBe('tags[0]: expected "a" | "b", got "c"');
    expect(shape.check({ tags: [] })).toBe("id: is required");
    expect(shape.check({ id: 1, tags: [], extra: 1 })).toBe("extra: unknown property");
    expect(shape.check([])).toBe("expected object {id, name, tags}, got array");
    expect(t.integer().check(1.5)).toBe("expected integer, got number");
    expect(t.tuple(t.string(), t.integer()).check(["a"])).toBe("expected 2 items, got 1");
    expect(t.json().check({ d: new Date() })).toBe("expected JSON value, got object");
    expect(t.json().check(Number.NaN)).toBe("expected JSON value, got NaN");
  });

  it("validate against a JSON Schema", () => {
    const d = t.jsonSchema({ title: "Cursor", type: "object", required: ["pos"], properties: { pos: { type: "integer", minimum: 0 } } });
    expect(d.check({ pos: 3 })).toBeUndefined();
    expect(d.check({ pos: -1 })).toBe(".pos: must be >= 0");
    expect(d.name).toBe("Cursor");
  });
});
