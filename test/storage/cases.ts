import { ReturnCode, t, type PutArgs, type TypeDescriptor } from "../../src/storage/index.js";

type Step = ["put", PutArgs<unknown, unknown>] | ["get", unknown] | ["erase", unknown, unknown?] | ["close"];

/** One scenario run through every backend and both modules; all must give `expect`. */
export interface StorageCase {
  name: string;
  keyType: TypeDescriptor<unknown>;
  valueType: TypeDescriptor<unknown>;
  steps: Step[];
  expect: Array<{ code: string; value?: unknown }>;
}

const event = t.object({
  id: t.integer(),
  tags: t.array(t.string()),
  seen: t.optional(t.date()),
  bytes: t.optional(t.bigint()),
});

const compound = {
  id: 7,
  tags: ["a", "b"],
  seen: new Date("2024-05-01T10:00:00Z"),
  bytes: 12345678901234567890n,
};

const S = ReturnCode.SUCCESS;

/** The shared table of cases. */
export const cases: StorageCase[] = [
  {
    name: "put then get",
    keyType: t.string(),
    valueType: t.string(),
    steps: [
      ["put", { key: "k", value: "v" }],
      ["get", "k"],
    ],
    expect: [{ code: S }, { code: S, value: "v" }],
  },
  {
    name: "get of a missing key",
    keyType: t.string(),
    valueType: t.string(),
    steps: [["get", "nope"]],
    expect: [{ code: ReturnCode.KEY_NOT_FOUND }],
  },
  {
    name: "overwrite=false on an existing key keeps the old value",
    keyType: t.string(),
    valueType: t.string(),
    steps: [
      ["put", { key: "k", value: "old" }],
      ["put", { key: "k", value: "new", overwrite: false }],
      ["get", "k"],
    ],
    expect: [{ code: S }, { code: ReturnCode.KEY_EXISTS }, { code: S, value: "old" }],
  },
  {
    name: "overwrite=true replaces",
    keyType: t.string(),
    valueType: t.string(),
    steps: [
      ["put", { key: "k", value: "old" }],
      ["put", { key: "k", value: "new" }],
      ["get", "k"],
    ],
    expect: [{ code: S }, { code: S }, { code: S, value: "new" }],
  },
  {
    name: "overwrite=false on an absent key inserts",
    keyType: t.string(),
    valueType: t.string(),
    steps: [
      ["put", { key: "k", value: "v", overwrite: false }],
      ["get", "k"],
    ],
    expect: [{ code: S }, { code: S, value: "v" }],
  },
  {
    name: "put with ifValue replaces an entry that holds that value, and keeps one that holds another",
    keyType: t.string(),
    valueType: t.string(),
    steps: [
      ["put", { key: "k", value: "old" }],
      ["put", { key: "k", value: "new", ifValue: "old" }],
      ["get", "k"],
      ["put", { key: "k", value: "newer", ifValue: "old" }],
      ["get", "k"],
      ["put", { key: "absent", value: "v", ifValue: "old" }],
      ["get", "absent"],
    ],
    expect: [
      { code: S },
      { code: S },
      { code: S, value: "new" },
      { code: ReturnCode.KEY_EXISTS },
      { code: S, value: "new" },
      { code: ReturnCode.KEY_NOT_FOUND },
      { code: ReturnCode.KEY_NOT_FOUND },
    ],
  },
  {
    name: "erase with ifValue removes only an entry that holds that value",
    keyType: t.string(),
    valueType: t.object({ owner: t.string() }),
    steps: [
      ["put", { key: "k", value: { owner: "a" } }],
      ["erase", "k", { owner: "b" }],
      ["get", "k"],
      ["erase", "k", { owner: "a" }],
      ["get", "k"],
      ["erase", "k", { owner: "a" }],
    ],
    expect: [
      { code: S },
      { code: ReturnCode.KEY_EXISTS },
      { code: S, value: { owner: "a" } },
      { code: S },
      { code: ReturnCode.KEY_NOT_FOUND },
      { code: ReturnCode.KEY_NOT_FOUND },
    ],
  },
  {
    name: "erase then get",
    keyType: t.string(),
    valueType: t.string(),
    steps: [
      ["put", { key: "k", value: "v" }],
      ["erase", "k"],
      ["get", "k"],
    ],
    expect: [{ code: S }, { code: S }, { code: ReturnCode.KEY_NOT_FOUND }],
  },
  {
    name: "erase of a missing key succeeds",
    keyType: t.string(),
    valueType: t.string(),
    steps: [["erase", "never-put"]],
    expect: [{ code: S }],
  },
  {
    name: "wrong key type",
    keyType: t.string(),
    valueType: t.string(),
    steps: [
      ["put", { key: 42, value: "v" }],
      ["get", 42],
      ["erase", { k: 1 }],
    ],
    expect: [{ code: ReturnCode.KEY_TYPE_MISMATCH }, { code: ReturnCode.KEY_TYPE_MISMATCH }, { code: ReturnCode.KEY_TYPE_MISMATCH }],
  },
  {
    name: "wrong value type",
    keyType: t.string(),
    valueType: event,
    steps: [
      ["put", { key: "k", value: { id: 1.5, tags: [] } }],
      ["put", { key: "k", value: { id: 1, tags: [3] } }],
      ["get", "k"],
    ],
    expect: [{ code: ReturnCode.VAL_TYPE_MISMATCH }, { code: ReturnCode.VAL_TYPE_MISMATCH }, { code: ReturnCode.KEY_NOT_FOUND }],
  },
  {
    name: "compound values and compound keys round-trip",
    keyType: t.tuple(t.string(), t.integer()),
    valueType: event,
    steps: [
      ["put", { key: ["host", 1], value: compound }],
      ["get", ["host", 1]],
      ["get", ["host", 2]],
    ],
    expect: [{ code: S }, { code: S, value: compound }, { code: ReturnCode.KEY_NOT_FOUND }],
  },
  {
    name: "object keys match whatever their property order",
    keyType: t.object({ a: t.string(), b: t.integer() }),
    valueType: t.json(),
    steps: [
      ["put", { key: { a: "x", b: 1 }, value: [1, { z: null }] }],
      ["get", { b: 1, a: "x" }],
    ],
    expect: [{ code: S }, { code: S, value: [1, { z: null }] }],
  },
  {
    name: "Set keys match whatever their member order",
    keyType: t.set(t.string()),
    valueType: t.string(),
    steps: [
      ["put", { key: new Set(["a", "b", "c"]), value: "v" }],
      ["get", new Set(["c", "a", "b"])],
      ["get", new Set(["a", "b"])],
    ],
    expect: [{ code: S }, { code: S, value: "v" }, { code: ReturnCode.KEY_NOT_FOUND }],
  },
  {
    name: "Map keys match whatever their entry order",
    keyType: t.map(t.string(), t.integer()),
    valueType: t.string(),
    steps: [
      [
        "put",
        {
          key: new Map([
            ["x", 1],
            ["y", 2],
          ]),
          value: "v",
        },
      ],
      [
        "get",
        new Map([
          ["y", 2],
          ["x", 1],
        ]),
      ],
      [
        "get",
        new Map([
          ["x", 2],
          ["y", 1],
        ]),
      ],
    ],
    expect: [{ code: S }, { code: S, value: "v" }, { code: ReturnCode.KEY_NOT_FOUND }],
  },
  {
    name: "Sets and Maps nested in object and array keys match whatever their order",
    keyType: t.object({ hosts: t.array(t.set(t.union(t.string(), t.object({ a: t.integer(), b: t.integer() })))), by: t.map(t.set(t.integer()), t.string()) }),
    valueType: t.string(),
    steps: [
      [
        "put",
        {
          key: {
            hosts: [new Set(["h1", { a: 1, b: 2 }])],
            by: new Map([
              [new Set([1, 2]), "p"],
              [new Set([3]), "q"],
            ]),
          },
          value: "v",
        },
      ],
      [
        "get",
        {
          by: new Map([
            [new Set([3]), "q"],
            [new Set([2, 1]), "p"],
          ]),
          hosts: [new Set([{ b: 2, a: 1 }, "h1"])],
        },
      ],
      [
        "erase",
        {
          by: new Map([
            [new Set([3]), "q"],
            [new Set([2, 1]), "p"],
          ]),
          hosts: [new Set([{ b: 2, a: 1 }, "h1"])],
        },
      ],
      [
        "get",
        {
          hosts: [new Set(["h1", { a: 1, b: 2 }])],
          by: new Map([
            [new Set([1, 2]), "p"],
            [new Set([3]), "q"],
          ]),
        },
      ],
    ],
    expect: [{ code: S }, { code: S, value: "v" }, { code: S }, { code: ReturnCode.KEY_NOT_FOUND }],
  },
  {
    name: "Map, Set, NaN and undefined in arrays round-trip",
    keyType: t.string(),
    valueType: t.any(),
    steps: [
      ["put", { key: "k", value: { m: new Map([["a", new Set([1, 2])]]), xs: [1, undefined, Number.NaN, -Infinity] } }],
      ["get", "k"],
    ],
    expect: [{ code: S }, { code: S, value: { m: new Map([["a", new Set([1, 2])]]), xs: [1, undefined, Number.NaN, -Infinity] } }],
  },
  {
    name: "a function is not serializable",
    keyType: t.string(),
    valueType: t.any(),
    steps: [
      ["put", { key: "k", value: { f: () => 1 } }],
      ["get", "k"],
    ],
    expect: [{ code: ReturnCode.SERIALIZATION_FAILED }, { code: ReturnCode.KEY_NOT_FOUND }],
  },
  {
    name: "a negative expireTime is refused",
    keyType: t.string(),
    valueType: t.string(),
    steps: [
      ["put", { key: "k", value: "v", expireTime: -1 }],
      ["get", "k"],
    ],
    expect: [{ code: ReturnCode.OPERATION_FAILED }, { code: ReturnCode.KEY_NOT_FOUND }],
  },
  {
    name: "every call after close",
    keyType: t.string(),
    valueType: t.string(),
    steps: [["put", { key: "k", value: "v" }], ["close"], ["put", { key: "k", value: "v" }], ["get", "k"], ["erase", "k"], ["close"]],
    expect: [
      { code: S },
      { code: S },
      { code: ReturnCode.NOT_CONNECTED },
      { code: ReturnCode.NOT_CONNECTED },
      { code: ReturnCode.NOT_CONNECTED },
      { code: ReturnCode.NOT_CONNECTED },
    ],
  },
];

/** Runs one case's steps in order on `ops`; returns what each step gave. */
export async function runCase(
  c: StorageCase,
  ops: {
    put(a: PutArgs<unknown, unknown>): Promise<{ code: string; value?: unknown }>;
    get(k: unknown): Promise<{ code: string; value?: unknown }>;
    erase(k: unknown, ifValue?: unknown): Promise<{ code: string; value?: unknown }>;
    close(): Promise<{ code: string; value?: unknown }>;
  },
): Promise<Array<{ code: string; value?: unknown }>> {
  const out: Array<{ code: string; value?: unknown }> = [];
  for (const step of c.steps) {
    const r =
      step[0] === "put"
        ? await ops.put(step[1])
        : step[0] === "get"
          ? await ops.get(step[1])
          : step[0] === "erase"
            ? await (step.length > 2 ? ops.erase(step[1], step[2]) : ops.erase(step[1]))
            : await ops.close();
    out.push(r.value === undefined ? { code: r.code } : { code: r.code, value: r.value });
  }
  return out;
}
