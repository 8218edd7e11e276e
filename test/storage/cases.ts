import {
  ReturnCode,
  jsonSerializer,
  t,
  type Entry,
  type GetAllOptions,
  type Handle,
  type OperationResult,
  type PutArgs,
  type StorageMetrics,
  type SyncHandle,
  type TypeDescriptor,
} from "../../src/storage/index.js";

type Step =
  | ["put", PutArgs<unknown, unknown>]
  | ["get", unknown]
  | ["erase", unknown, unknown?]
  | ["getAll", GetAllOptions?]
  | ["size"]
  | ["isOpen"]
  | ["metrics"]
  | ["wait", number]
  | ["close"];

/** One scenario run through every backend and both modules; all must give `expect`. */
export interface StorageCase {
  name: string;
  keyType: TypeDescriptor<unknown>;
  valueType: TypeDescriptor<unknown>;
  /** Options added to each backend's own at open. */
  options?: Record<string, unknown>;
  steps: Step[];
  expect: Array<{ code: string; value?: unknown }>;
}

/** The calls a case makes, on an async handle or (wrapped) a sync one. */
export interface CaseOps {
  put(a: PutArgs<unknown, unknown>): Promise<OperationResult>;
  get(k: unknown): Promise<OperationResult<unknown>>;
  erase(k: unknown, ifValue?: unknown): Promise<OperationResult>;
  getAll(options?: GetAllOptions): Promise<OperationResult<Array<Entry<unknown, unknown>>>>;
  size(): Promise<OperationResult<number>>;
  close(): Promise<OperationResult>;
  isOpen(): boolean;
  metrics(): StorageMetrics;
}

/** The calls of an async handle. */
export function asyncOps(h: Handle<unknown, unknown>): CaseOps {
  return {
    put: (a) => h.put(a),
    get: (k) => h.get(k),
    erase: (k, v) => (v === undefined ? h.erase(k) : h.erase(k, v)),
    getAll: (o) => h.getAll(o),
    size: () => h.size(),
    close: () => h.close(),
    isOpen: () => h.isOpen,
    metrics: () => h.metrics,
  };
}

/** The calls of a sync handle, each answered before its Promise is made. */
export function syncOps(h: SyncHandle<unknown, unknown>): CaseOps {
  return {
    put: async (a) => h.put(a),
    get: async (k) => h.get(k),
    erase: async (k, v) => (v === undefined ? h.erase(k) : h.erase(k, v)),
    getAll: async (o) => h.getAll(o),
    size: async () => h.size(),
    close: async () => h.close(),
    isOpen: () => h.isOpen,
    metrics: () => h.metrics,
  };
}

/** UTF-8 length of `x` serialized as the default serializer does (keys and values encode alike for these). */
function bytes(x: unknown): number {
  return Buffer.byteLength(jsonSerializer.serialize(x, "value").value!, "utf8");
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
  {
    name: "isOpen is true until close; getAll and size after close give NOT_CONNECTED",
    keyType: t.string(),
    valueType: t.string(),
    steps: [["isOpen"], ["close"], ["isOpen"], ["getAll"], ["size"]],
    expect: [{ code: S, value: true }, { code: S }, { code: S, value: false }, { code: ReturnCode.NOT_CONNECTED }, { code: ReturnCode.NOT_CONNECTED }],
  },
  {
    name: "getAll and size of an empty store",
    keyType: t.string(),
    valueType: t.string(),
    steps: [["getAll"], ["size"]],
    expect: [
      { code: S, value: [] },
      { code: S, value: 0 },
    ],
  },
  {
    name: "getAll lists live entries only, and size counts them, expired and erased ones left out",
    keyType: t.string(),
    valueType: t.string(),
    steps: [
      ["put", { key: "a", value: "1" }],
      ["put", { key: "b", value: "2" }],
      ["put", { key: "c", value: "3", expireTime: 0.1 }],
      ["put", { key: "d", value: "4", expireTime: 60 }],
      ["erase", "b"],
      ["size"],
      ["wait", 250],
      ["size"],
      ["getAll"],
    ],
    expect: [
      { code: S },
      { code: S },
      { code: S },
      { code: S },
      { code: S },
      { code: S, value: 3 },
      { code: S },
      { code: S, value: 2 },
      {
        code: S,
        value: [
          { key: "a", value: "1" },
          { key: "d", value: "4" },
        ],
      },
    ],
  },
  {
    name: "getAll decodes compound keys and values",
    keyType: t.tuple(t.string(), t.integer()),
    valueType: event,
    steps: [["put", { key: ["host", 1], value: compound }], ["put", { key: ["host", 2], value: { id: 8, tags: [] } }], ["getAll"]],
    expect: [
      { code: S },
      { code: S },
      {
        code: S,
        value: [
          { key: ["host", 1], value: compound },
          { key: ["host", 2], value: { id: 8, tags: [] } },
        ],
      },
    ],
  },
  {
    name: "getAll past its limit gives RESULT_TOO_LARGE; at the limit it gives every entry",
    keyType: t.integer(),
    valueType: t.integer(),
    steps: [
      ["put", { key: 1, value: 10 }],
      ["put", { key: 2, value: 20 }],
      ["put", { key: 3, value: 30 }],
      ["getAll", { limit: 3 }],
      ["getAll", { limit: 2 }],
      ["getAll", { limit: 0 }],
      ["getAll", { limit: -1 }],
      ["getAll", { limit: 1.5 }],
    ],
    expect: [
      { code: S },
      { code: S },
      { code: S },
      {
        code: S,
        value: [
          { key: 1, value: 10 },
          { key: 2, value: 20 },
          { key: 3, value: 30 },
        ],
      },
      { code: ReturnCode.RESULT_TOO_LARGE },
      { code: ReturnCode.RESULT_TOO_LARGE },
      { code: ReturnCode.OPERATION_FAILED },
      { code: ReturnCode.OPERATION_FAILED },
    ],
  },
  {
    name: "the getAllLimit option bounds getAll; a call's own limit replaces it",
    keyType: t.string(),
    valueType: t.string(),
    options: { getAllLimit: 2 },
    steps: [
      ["put", { key: "a", value: "1" }],
      ["put", { key: "b", value: "2" }],
      ["getAll"],
      ["put", { key: "c", value: "3" }],
      ["getAll"],
      ["getAll", { limit: 3 }],
    ],
    expect: [
      { code: S },
      { code: S },
      {
        code: S,
        value: [
          { key: "a", value: "1" },
          { key: "b", value: "2" },
        ],
      },
      { code: S },
      { code: ReturnCode.RESULT_TOO_LARGE },
      {
        code: S,
        value: [
          { key: "a", value: "1" },
          { key: "b", value: "2" },
          { key: "c", value: "3" },
        ],
      },
    ],
  },
  {
    name: "metrics count calls by operation and code, and the bytes to and from the store",
    keyType: t.string(),
    valueType: t.string(),
    steps: [
      ["put", { key: "k", value: "v" }],
      ["put", { key: "k", value: "w", overwrite: false }],
      ["put", { key: 1, value: "v" }],
      ["get", "k"],
      ["get", "missing"],
      ["getAll"],
      ["size"],
      ["erase", "k", "v"],
      ["metrics"],
    ],
    expect: [
      { code: S },
      { code: ReturnCode.KEY_EXISTS },
      { code: ReturnCode.KEY_TYPE_MISMATCH },
      { code: S, value: "v" },
      { code: ReturnCode.KEY_NOT_FOUND },
      { code: S, value: [{ key: "k", value: "v" }] },
      { code: S, value: 1 },
      { code: S },
      {
        code: S,
        value: {
          operations: {
            open: { SUCCESS: 1 },
            put: { SUCCESS: 1, KEY_EXISTS: 1, KEY_TYPE_MISMATCH: 1 },
            get: { SUCCESS: 1, KEY_NOT_FOUND: 1 },
            getAll: { SUCCESS: 1 },
            size: { SUCCESS: 1 },
            erase: { SUCCESS: 1 },
          },
          // Out: two puts' keys and values, two gets' keys, the compared erase's key and value. In: one get's value, getAll's entry.
          bytesOut: 2 * bytes("k") + bytes("v") + bytes("w") + bytes("k") + bytes("missing") + bytes("k") + bytes("v"),
          bytesIn: bytes("v") + bytes("k") + bytes("v"),
          latencyAgrees: true,
        },
      },
    ],
  },
];

/** What a metrics step compares: counts and bytes (the same on every backend), not durations. */
function comparable(m: StorageMetrics): unknown {
  const { sweep: _sweep, ...operations } = m.operations;
  const latencyAgrees = Object.entries(m.latency).every(([op, l]) => {
    const calls = Object.values(m.operations[op as keyof StorageMetrics["operations"]] ?? {}).reduce((a, b) => a + b, 0);
    return l.count === calls && l.buckets.reduce((a, b) => a + b, 0) === l.count && l.maxMs >= 0 && l.totalMs >= l.maxMs;
  });
  return { operations, bytesOut: m.bytesOut, bytesIn: m.bytesIn, latencyAgrees };
}

/** getAll promises no order: sort by key so backends compare. */
function sorted(entries: Array<Entry<unknown, unknown>>): Array<Entry<unknown, unknown>> {
  const order = (e: Entry<unknown, unknown>) => jsonSerializer.serialize(e.key, "key").value!;
  return [...entries].sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
}

async function runStep(step: Step, ops: CaseOps): Promise<OperationResult<unknown>> {
  switch (step[0]) {
    case "put":
      return ops.put(step[1]);
    case "get":
      return ops.get(step[1]);
    case "erase":
      return step.length > 2 ? ops.erase(step[1], step[2]) : ops.erase(step[1]);
    case "getAll": {
      const r = await (step[1] === undefined ? ops.getAll() : ops.getAll(step[1]));
      return r.value === undefined ? r : { ...r, value: sorted(r.value) };
    }
    case "size":
      return ops.size();
    case "isOpen":
      return { code: ReturnCode.SUCCESS, value: ops.isOpen() };
    case "metrics":
      return { code: ReturnCode.SUCCESS, value: comparable(ops.metrics()) };
    case "wait":
      await new Promise((r) => setTimeout(r, step[1]));
      return { code: ReturnCode.SUCCESS };
    case "close":
      return ops.close();
  }
}

/** Runs one case's steps in order on `ops`; returns what each step gave. */
export async function runCase(c: StorageCase, ops: CaseOps): Promise<Array<{ code: string; value?: unknown }>> {
  const out: Array<{ code: string; value?: unknown }> = [];
  for (const step of c.steps) {
    const r = await runStep(step, ops);
    out.push(r.value === undefined ? { code: r.code } : { code: r.code, value: r.value });
  }
  return out;
}
