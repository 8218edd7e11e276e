import { Code, TailkitError } from "../errors/index.js";
import { DataNotFound, FailedToUnmarshal, KeyNotSupported, type DataSourceKeyKind, type WriteableDataSource } from "../contract/data-source.js";
import type { JSONSchema } from "../contract/schema.js";
import { ReturnCode, type SyncHandle } from "../storage/index.js";
import { BoundedCache } from "./cache.js";

/** Options of the tailkit/dns data source; defaults in each field's comment. */
export interface DnsOptions {
  /** Seconds an answer holds when its log gives no TTL (Route 53 Resolver query logs give none). Default 3,600. */
  defaultTtlSeconds?: number;
  /**
   * Seconds before an answer's time that a lookup still matches it. Default 60: flow logs give whole seconds and start a
   * record at the start of its aggregation window, both of which can put a flow a little before the query that led to it.
   */
  graceSeconds?: number;
  /**
   * Entries kept in memory in front of the store, per thread: records (addresses and domains), and as many compiled
   * address records for the hot path. Default 100,000.
   */
  cacheEntries?: number;
  /** Seconds, by the wall clock, that the store keeps an entry after its last write, so it does not grow forever. Default 90 days. */
  retentionSeconds?: number;
}

/** Defaults of DnsOptions. */
export const DNS_DEFAULTS = { defaultTtlSeconds: 3600, graceSeconds: 60, cacheEntries: 100_000, retentionSeconds: 90 * 86_400 } as const;

/** Checks DnsOptions; throws INVALID_ARGUMENT naming the option. */
export function validateDnsOptions(options: DnsOptions, prefix = "dns"): Required<DnsOptions> {
  const o = { ...DNS_DEFAULTS, ...stripUndefined(options) };
  for (const [k, v] of Object.entries(o)) {
    const ok = k === "cacheEntries" ? Number.isInteger(v) && v >= 1 : typeof v === "number" && v >= 0 && Number.isFinite(v);
    if (!ok)
      throw new TailkitError(
        Code.InvalidArgument,
        `${prefix}.${k}: must be a ${k === "cacheEntries" ? "positive integer" : "number >= 0"}, got ${JSON.stringify(v)}`,
        { field: `${prefix}.${k}` },
      );
  }
  return o;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** One answer to store: a domain, the addresses it resolved to, when (the row's event time) and for how long. */
export interface DnsEntry {
  domain: string;
  ips: readonly string[];
  /** Event time: ms since the epoch, an ISO-8601 string or a Date. */
  at: number | string | Date;
  /** The answer's TTL; default: the source's defaultTtlSeconds. */
  ttlSeconds?: number;
}

/** A key of tailkit/dns: an address or a domain, and optionally the event time the answer must hold at. */
export type DnsKey = { ip: string; at?: number | string | Date } | { domain: string; at?: number | string | Date };

/** What get gives: the domains of an address, or the addresses of a domain, valid at `at` (all known ones without it). */
export type DnsValue = { ip: string; domains: string[] } | { domain: string; ips: string[] };

/** An address's domains or a domain's addresses, each with its validity intervals as [from, until, from, until, ...] in ms. */
type DnsRecord = Record<string, number[]>;

/** The most intervals kept per (address, domain): the latest ones. */
const MAX_INTERVALS = 16;
const EMPTY: readonly string[] = Object.freeze([]);
/** Key of the entry written with the store's first answer: without it, no lookup reads the store. */
const WRITTEN_KEY = "meta:written";

/** A cached miss (cheaper than a lookup of the store for every flow to an address no query resolved). */
const NONE: DnsRecord = Object.freeze({});
/** Compare-and-set rounds before a write gives up: others write the same key all the while. */
const CAS_ROUNDS = 20;

const TIME_SCHEMA: JSONSchema = { oneOf: [{ type: "number" }, { type: "string", format: "date-time" }] };

const KEY_KINDS: readonly DataSourceKeyKind[] = [
  {
    name: "ip",
    description: "the domains an address was resolved from, at the event time `at` (ms or ISO-8601; without it, every domain known)",
    schema: { type: "object", required: ["ip"], properties: { ip: { type: "string", minLength: 1 }, at: TIME_SCHEMA }, additionalProperties: false },
  },
  {
    name: "domain",
    description: "the addresses a domain resolved to, at the event time `at` (without it, every address known)",
    schema: { type: "object", required: ["domain"], properties: { domain: { type: "string", minLength: 1 }, at: TIME_SCHEMA }, additionalProperties: false },
  },
];

const VALUE_SCHEMA: JSONSchema = {
  oneOf: [
    {
      type: "object",
      required: ["ip", "domains"],
      properties: { ip: { type: "string" }, domains: { type: "array", items: { type: "string" } } },
      additionalProperties: false,
    },
    {
      type: "object",
      required: ["domain", "ips"],
      properties: { domain: { type: "string" }, ips: { type: "array", items: { type: "string" } } },
      additionalProperties: false,
    },
  ],
};

const ENTRY_SCHEMA: JSONSchema = {
  type: "object",
  required: ["domain", "ips", "at"],
  properties: {
    domain: { type: "string", minLength: 1 },
    ips: { type: "array", items: { type: "string", minLength: 1 }, minItems: 1 },
    at: TIME_SCHEMA,
    ttlSeconds: { type: "number", minimum: 0 },
  },
  additionalProperties: false,
};

/** A time given as ms, ISO-8601 text or a Date, in ms; NaN when it is none of them. */
function timeMs(v: unknown): number {
  if (typeof v === "number") return Number.isFinite(v) ? v : Number.NaN;
  if (v instanceof Date) return v.getTime();
  if (typeof v === "string" && v !== "") return Date.parse(v);
  return Number.NaN;
}

/** `intervals` with [from, until] added, overlapping ones merged, the latest MAX_INTERVALS kept; undefined when nothing changes. */
function addInterval(intervals: readonly number[] | undefined, from: number, until: number): number[] | undefined {
  const pairs: [number, number][] = [];
  for (let i = 0; intervals !== undefined && i + 1 < intervals.length; i += 2) {
    const f = intervals[i]!;
    const u = intervals[i + 1]!;
    if (f <= from && until <= u) return undefined;
    pairs.push([f, u]);
  }
  pairs.push([from, until]);
  pairs.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const p of pairs) {
    const last = merged[merged.length - 1];
    if (last !== undefined && p[0] <= last[1]) last[1] = Math.max(last[1], p[1]);
    else merged.push([p[0], p[1]]);
  }
  return merged.slice(-MAX_INTERVALS).flat();
}

/** A record as domainsAt matches it: its names (frozen, returned as they are when all match) and their intervals. */
interface Compiled {
  names: readonly string[];
  intervals: readonly (readonly number[])[];
}

function compile(rec: DnsRecord): Compiled {
  const names = Object.keys(rec);
  return { names: Object.freeze(names), intervals: names.map((n) => rec[n]!) };
}

/** True when some interval holds `at`, allowing `grace` ms before its start. */
function holds(intervals: readonly number[], at: number, grace: number): boolean {
  for (let i = 0; i + 1 < intervals.length; i += 2) if (intervals[i]! - grace <= at && at <= intervals[i + 1]!) return true;
  return false;
}

/**
 * tailkit/dns: a writeable cache of DNS answers, domain ↔ addresses, kept on the storage framework (SQLite by
 * default, Redis to share it). An answer holds from its event time for its TTL (or defaultTtlSeconds) and is matched
 * against the event time of the row that looks it up, never the wall clock, so that last month's flow logs find last
 * month's answers. Both directions are stored (`ip:<address>`, `domain:<name>`), each written by compare-and-set so
 * that several writers (worker threads, collectors on one Redis) lose no answer.
 */
export class DnsDataSource implements WriteableDataSource<DnsKey, DnsValue, DnsEntry> {
  readonly writeable = true;
  private readonly o: Required<DnsOptions>;
  private readonly cache: BoundedCache<string, DnsRecord>;
  /** domainsAt's own view of the `ip:` records, keyed by the bare address, each compiled for matching. */
  private readonly hot: BoundedCache<string, Compiled>;
  /** The same, for domainsAtV4, keyed by the address's number. */
  private readonly hotV4: BoundedCache<number, Compiled>;
  private store: SyncHandle<string, unknown> | undefined;
  /** Whether the store was ever given an answer (WRITTEN_KEY), read once per execution; undefined: not read yet. */
  private holdsAnswers: boolean | undefined;
  /** Whether this instance swept the store's entries past retention (once, on its first write). */
  private swept = false;

  /** `open` gives the store on first use, so a plugin that never reads DNS never opens it. */
  constructor(
    private readonly open: () => SyncHandle<string, unknown>,
    options: DnsOptions = {},
  ) {
    this.o = validateDnsOptions(options);
    this.cache = new BoundedCache(this.o.cacheEntries);
    this.hot = new BoundedCache(this.o.cacheEntries);
    this.hotV4 = new BoundedCache(this.o.cacheEntries);
  }

  namespace(): string {
    return "tailkit";
  }
  id(): string {
    return "dns";
  }
  version(): number {
    return 1;
  }
  keys(): readonly DataSourceKeyKind[] {
    return KEY_KINDS;
  }
  schema(): JSONSchema {
    return VALUE_SCHEMA;
  }
  entrySchema(): JSONSchema {
    return ENTRY_SCHEMA;
  }

  /**
   * What this thread's caches did: `records` (addresses and domains as stored), `lookups` and `v4Lookups`
   * (domainsAt's and domainsAtV4's compiled copies of address records), each bounded by cacheEntries. For the bench and for sizing cacheEntries.
   */
  cacheStats(): Record<"records" | "lookups" | "v4Lookups", { hits: number; misses: number; evictions: number; size: number }> {
    const stats = (c: BoundedCache<string, unknown> | BoundedCache<number, unknown>) => ({
      hits: c.hits,
      misses: c.misses,
      evictions: c.evictions,
      size: c.size,
    });
    return { records: stats(this.cache), lookups: stats(this.hot), v4Lookups: stats(this.hotV4) };
  }

  get(key: DnsKey): DnsValue {
    const v = this.lookup(key);
    if (v === undefined) throw new DataNotFound("tailkit/dns", key);
    return v;
  }

  lookup(key: DnsKey): DnsValue | undefined {
    const { kind, name, at } = this.parseKey(key);
    const names = this.namesAt(`${kind}:${name}`, at);
    if (names.length === 0) return undefined;
    return kind === "ip" ? { ip: name, domains: [...names] } : { domain: name, ips: [...names] };
  }

  /**
   * The domains `ip` was resolved from, valid at `atMs` (event time): the hot-path form of get({ip, at}), which
   * allocates nothing for an address no answer gave. The array must not be changed.
   */
  domainsAt(ip: string, atMs: number): readonly string[] {
    if (this.holdsAnswers === false || !this.anyAnswers()) return EMPTY;
    let c = this.hot.get(ip);
    if (c === undefined) {
      c = compile(this.read(`ip:${ip}`));
      this.hot.set(ip, c);
    }
    return this.matching(c, atMs);
  }

  /**
   * domainsAt for an IPv4 address given as its 32-bit number (a.b.c.d → a·2^24 + b·2^16 + c·2^8 + d): a reader that
   * has the address as bytes looks it up without making a string.
   */
  domainsAtV4(addr: number, atMs: number): readonly string[] {
    if (this.holdsAnswers === false || !this.anyAnswers()) return EMPTY;
    let c = this.hotV4.get(addr);
    if (c === undefined) {
      c = compile(this.read(`ip:${ipv4Text(addr)}`));
      this.hotV4.set(addr, c);
    }
    return this.matching(c, atMs);
  }

  private matching(c: Compiled, atMs: number): readonly string[] {
    if (c.names.length === 0) return EMPTY;
    const grace = this.o.graceSeconds * 1000;
    if (c.names.length === 1) return holds(c.intervals[0]!, atMs, grace) ? c.names : EMPTY;
    let out: string[] | undefined;
    for (let i = 0; i < c.names.length; i++) if (holds(c.intervals[i]!, atMs, grace)) (out ??= []).push(c.names[i]!);
    return out ?? EMPTY;
  }

  write(entries: readonly DnsEntry[]): void {
    const checked = entries.map((e, i) => this.checkEntry(e, `entries[${i}]`));
    if (checked.length > 0 && !this.swept) {
      // Records past retention are never read, but they stay in an SQLite file until deleted: the first write of each
      // thread's instance (once per execution) deletes them. Redis expires them itself. A failed sweep (the file busy
      // past its timeout) is not the write's failure: the next execution sweeps again.
      this.swept = true;
      this.handle().sweep();
    }
    if (checked.length > 0 && this.holdsAnswers !== true) {
      // Before the answers, so that a reader who sees an answer also sees the marker.
      this.check(this.handle().put({ key: WRITTEN_KEY, value: true }).code, WRITTEN_KEY, "write");
      this.holdsAnswers = true;
    }
    for (const e of checked) {
      for (const ip of e.ips) {
        this.merge(`domain:${e.domain}`, ip, e.from, e.until);
        this.merge(`ip:${ip}`, e.domain, e.from, e.until);
      }
    }
  }

  delete(keys: readonly DnsKey[]): void {
    const parsed = keys.map((k, i) => this.parseKey(k, `keys[${i}]`));
    for (const { kind, name } of parsed) {
      const key = `${kind}:${name}`;
      const rec = this.read(key);
      const other = kind === "ip" ? "domain" : "ip";
      for (const n of Object.keys(rec)) this.removeName(`${other}:${n}`, name);
      this.check(this.handle().erase(key).code, key, "erase");
      this.remember(key, undefined);
    }
  }

  refresh(): void {
    this.holdsAnswers = undefined;
    this.cache.clear();
    this.hot.clear();
    this.hotV4.clear();
  }

  close(): void {
    this.store?.close();
    this.store = undefined;
    this.refresh();
  }

  /** Caches `rec` as the record of `key` (undefined: forgets it), and drops domainsAt's compiled copy. */
  private remember(key: string, rec: DnsRecord | undefined): void {
    if (rec === undefined) this.cache.delete(key);
    else this.cache.set(key, rec);
    if (key.startsWith("ip:")) {
      this.hot.delete(key.slice(3));
      const v4 = parseIpv4(key.slice(3));
      if (v4 !== -1) this.hotV4.delete(v4);
    }
  }

  /**
   * Whether any answer was ever written to the store: a collection of flow logs by someone who never collected
   * resolver logs then pays one read per execution and thread for tp_domains, not one per address.
   */
  private anyAnswers(): boolean {
    if (this.holdsAnswers === undefined) {
      const res = this.handle().get(WRITTEN_KEY);
      if (res.code !== ReturnCode.SUCCESS && res.code !== ReturnCode.KEY_NOT_FOUND) this.check(res.code, WRITTEN_KEY, "read", res.error);
      this.holdsAnswers = res.code === ReturnCode.SUCCESS;
    }
    return this.holdsAnswers;
  }

  private handle(): SyncHandle<string, unknown> {
    return (this.store ??= this.open());
  }

  private namesAt(key: string, at: number): readonly string[] {
    const rec = this.read(key);
    if (rec === NONE) return EMPTY;
    const grace = this.o.graceSeconds * 1000;
    let out: string[] | undefined;
    for (const n in rec) {
      if (Number.isNaN(at) || holds(rec[n]!, at, grace)) (out ??= []).push(n);
    }
    return out ?? EMPTY;
  }

  /** The record of `key`, from the cache or the store (a miss is cached as NONE). */
  private read(key: string): DnsRecord {
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached;
    const res = this.handle().get(key);
    let rec: DnsRecord;
    if (res.code === ReturnCode.SUCCESS) rec = res.value as DnsRecord;
    else if (res.code === ReturnCode.KEY_NOT_FOUND) rec = NONE;
    else throw new TailkitError(Code.Unavailable, `tailkit/dns: reading ${key}: ${res.error ?? res.code}`);
    this.cache.set(key, rec);
    return rec;
  }

  /** Adds [from, until] to `name` in the record of `key`, by compare-and-set against what the store holds. */
  private merge(key: string, name: string, from: number, until: number): void {
    const cached = this.cache.get(key);
    // Intervals only grow: one the cache already holds is in the store.
    if (cached !== undefined && cached !== NONE && addInterval(cached[name], from, until) === undefined) return;
    const h = this.handle();
    for (let round = 0; round < CAS_ROUNDS; round++) {
      const res = h.get(key);
      if (res.code !== ReturnCode.SUCCESS && res.code !== ReturnCode.KEY_NOT_FOUND) this.check(res.code, key, "read", res.error);
      const current = res.code === ReturnCode.SUCCESS ? (res.value as DnsRecord) : undefined;
      const intervals = addInterval(current?.[name], from, until);
      if (intervals === undefined) {
        this.remember(key, current);
        return;
      }
      const next: DnsRecord = { ...current, [name]: intervals };
      const put =
        current === undefined
          ? h.put({ key, value: next, overwrite: false, expireTime: this.o.retentionSeconds })
          : h.put({ key, value: next, ifValue: current, expireTime: this.o.retentionSeconds });
      if (put.code === ReturnCode.SUCCESS) {
        this.remember(key, next);
        return;
      }
      if (put.code !== ReturnCode.KEY_EXISTS && put.code !== ReturnCode.KEY_NOT_FOUND) this.check(put.code, key, "write", put.error);
    }
    throw new TailkitError(Code.Aborted, `tailkit/dns: ${key} changed under ${CAS_ROUNDS} writes in a row; try again`);
  }

  private removeName(key: string, name: string): void {
    const h = this.handle();
    for (let round = 0; round < CAS_ROUNDS; round++) {
      const res = h.get(key);
      if (res.code === ReturnCode.KEY_NOT_FOUND) break;
      if (res.code !== ReturnCode.SUCCESS) this.check(res.code, key, "read", res.error);
      const current = res.value as DnsRecord;
      if (!(name in current)) break;
      const { [name]: _, ...rest } = current;
      const put = Object.keys(rest).length === 0 ? h.erase(key, current) : h.put({ key, value: rest, ifValue: current, expireTime: this.o.retentionSeconds });
      if (put.code === ReturnCode.SUCCESS) break;
      if (put.code !== ReturnCode.KEY_EXISTS && put.code !== ReturnCode.KEY_NOT_FOUND) this.check(put.code, key, "write", put.error);
    }
    this.remember(key, undefined);
  }

  private check(code: string, key: string, what: string, error?: string): void {
    if (code === ReturnCode.SUCCESS) return;
    throw new TailkitError(Code.Unavailable, `tailkit/dns: ${what} ${key}: ${error ?? code}`);
  }

  private parseKey(key: unknown, field = "key"): { kind: "ip" | "domain"; name: string; at: number } {
    if (key === null || typeof key !== "object" || Array.isArray(key))
      throw new KeyNotSupported("tailkit/dns", key, "a key is an object {ip} or {domain}", field);
    const k = key as Record<string, unknown>;
    const kind = "ip" in k ? "ip" : "domain" in k ? "domain" : undefined;
    if (kind === undefined || ("ip" in k && "domain" in k)) throw new KeyNotSupported("tailkit/dns", key, "give one of ip or domain", field);
    const name = k[kind];
    if (typeof name !== "string" || name === "") throw new KeyNotSupported("tailkit/dns", key, `${kind} must be a non-empty string`, `${field}.${kind}`);
    for (const p of Object.keys(k)) if (p !== kind && p !== "at") throw new KeyNotSupported("tailkit/dns", key, `unknown property ${p}`, `${field}.${p}`);
    const at = k["at"] === undefined ? Number.NaN : timeMs(k["at"]);
    if (k["at"] !== undefined && Number.isNaN(at))
      throw new KeyNotSupported("tailkit/dns", key, "at must be ms since the epoch or an ISO-8601 time", `${field}.at`);
    return { kind, name: kind === "domain" ? normalizeDomain(name) : name, at };
  }

  private checkEntry(e: unknown, field: string): { domain: string; ips: string[]; from: number; until: number } {
    if (e === null || typeof e !== "object" || Array.isArray(e)) throw new FailedToUnmarshal(field, "must be an object {domain, ips, at, ttlSeconds?}");
    const r = e as Record<string, unknown>;
    for (const p of Object.keys(r)) if (!["domain", "ips", "at", "ttlSeconds"].includes(p)) throw new FailedToUnmarshal(`${field}.${p}`, "unknown property");
    if (typeof r["domain"] !== "string" || r["domain"] === "") throw new FailedToUnmarshal(`${field}.domain`, "must be a non-empty string");
    const ips = r["ips"];
    if (!Array.isArray(ips) || ips.length === 0) throw new FailedToUnmarshal(`${field}.ips`, "must be a non-empty list of addresses");
    ips.forEach((ip, i) => {
      if (typeof ip !== "string" || ip === "") throw new FailedToUnmarshal(`${field}.ips[${i}]`, `must be a non-empty string, got ${JSON.stringify(ip)}`);
    });
    const at = timeMs(r["at"]);
    if (Number.isNaN(at)) throw new FailedToUnmarshal(`${field}.at`, `must be ms since the epoch or an ISO-8601 time, got ${JSON.stringify(r["at"])}`);
    const ttl = r["ttlSeconds"] ?? this.o.defaultTtlSeconds;
    if (typeof ttl !== "number" || !(ttl >= 0) || !Number.isFinite(ttl))
      throw new FailedToUnmarshal(`${field}.ttlSeconds`, `must be a number >= 0, got ${JSON.stringify(ttl)}`);
    return { domain: normalizeDomain(r["domain"]), ips: ips as string[], from: at, until: at + ttl * 1000 };
  }
}

/** a.b.c.d of an IPv4 address's number. */
export function ipv4Text(addr: number): string {
  return `${addr >>> 24}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}`;
}

/** The number of an IPv4 address written canonically (no leading zeros), as ipv4Text writes it; -1 for anything else. */
export function parseIpv4(text: string): number {
  const parts = text.split(".");
  if (parts.length !== 4) return -1;
  let n = 0;
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > 255) return -1;
    n = n * 256 + Number(p);
  }
  return n;
}

/** A domain as stored: lower case, without the root's trailing dot (query logs write "example.com."). */
export function normalizeDomain(domain: string): string {
  const d = domain.endsWith(".") && domain.length > 1 ? domain.slice(0, -1) : domain;
  return d.toLowerCase();
}
