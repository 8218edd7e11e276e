import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ajv } from "ajv";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { DataNotFound, FailedToUnmarshal, KeyNotSupported } from "../../src/contract/data-source.js";
import { DnsDataSource, ipv4Text, parseIpv4 } from "../../src/datasources/dns.js";
import { openDataSourceStore, type DataSourceStorage } from "../../src/datasources/storage.js";

const dirs: string[] = [];
const opened: DnsDataSource[] = [];
afterEach(() => {
  opened.splice(0).forEach((d) => d.close());
  dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
});

function sqliteStorage(): DataSourceStorage {
  const dir = mkdtempSync(join(tmpdir(), "tailkit-dns-"));
  dirs.push(dir);
  return { backend: "sqlite", path: join(dir, "datasources.sqlite") };
}

function dns(storage: DataSourceStorage, options: ConstructorParameters<typeof DnsDataSource>[1] = {}): DnsDataSource {
  const d = new DnsDataSource(() => openDataSourceStore(storage, "tailkit_dns"), options);
  opened.push(d);
  return d;
}

const T0 = Date.parse("2024-03-01T12:00:00Z");

describe("tailkit/dns retention", () => {
  it("deletes records past retention from the SQLite file on the first write of a later execution", () => {
    const storage = sqliteStorage();
    let now = T0;
    const open = () => openDataSourceStore(storage, "tailkit_dns", () => now);
    const first = new DnsDataSource(open, { retentionSeconds: 3600 });
    opened.push(first);
    first.write([{ domain: "old.example", ips: ["10.0.0.1"], at: new Date(T0).toISOString() }]);
    const rows = () => {
      const db = new Database(storage.backend === "sqlite" ? storage.path : "", { readonly: true });
      try {
        // Keys are stored through the JSON serializer: tkjson1:"domain:…".
        return (db.prepare("SELECT key FROM tailkit_dns ORDER BY key").all() as { key: string }[]).map(
          (r) => JSON.parse(r.key.replace(/^tkjson1:/, "")) as string,
        );
      } finally {
        db.close();
      }
    };
    expect(rows()).toEqual(expect.arrayContaining(["domain:old.example", "ip:10.0.0.1"]));
    // Two hours later, another execution (a new instance, as each thread and execution has) writes an answer.
    now = T0 + 2 * 3600_000;
    const later = new DnsDataSource(open, { retentionSeconds: 3600 });
    opened.push(later);
    later.write([{ domain: "new.example", ips: ["10.0.0.2"], at: new Date(now).toISOString() }]);
    const left = rows();
    expect(left).not.toContain("domain:old.example");
    expect(left).not.toContain("ip:10.0.0.1");
    expect(left).toEqual(expect.arrayContaining(["domain:new.example", "ip:10.0.0.2"]));
    expect(later.lookup({ ip: "10.0.0.2" })).toEqual({ ip: "10.0.0.2", domains: ["new.example"] });
  });
});

describe("tailkit/dns", () => {
  it("gives the domains of an address and the addresses of a domain, at the answer's event time", () => {
    const d = dns(sqliteStorage());
    d.write([{ domain: "Example.com.", ips: ["93.184.216.34", "2606:2800:220:1::"], at: new Date(T0).toISOString(), ttlSeconds: 300 }]);
    expect(d.get({ ip: "93.184.216.34", at: T0 + 60_000 })).toEqual({ ip: "93.184.216.34", domains: ["example.com"] });
    expect(d.get({ domain: "example.com", at: T0 })).toEqual({ domain: "example.com", ips: ["93.184.216.34", "2606:2800:220:1::"] });
    // Without a time: every domain ever known.
    expect(d.get({ ip: "2606:2800:220:1::" })).toEqual({ ip: "2606:2800:220:1::", domains: ["example.com"] });
  });

  it("stops matching an answer past its TTL, judged by event time, whatever the wall clock says", () => {
    const d = dns(sqliteStorage(), { graceSeconds: 0 });
    // Answers from 2019: the wall clock is years past every TTL, and they still match at their own time.
    const old = Date.parse("2019-06-01T00:00:00Z");
    d.write([{ domain: "a.example", ips: ["10.0.0.1"], at: old, ttlSeconds: 60 }]);
    expect(d.domainsAt("10.0.0.1", old + 59_000)).toEqual(["a.example"]);
    expect(d.domainsAt("10.0.0.1", old + 61_000)).toEqual([]);
    expect(d.domainsAt("10.0.0.1", old - 1_000)).toEqual([]);
    expect(() => d.get({ ip: "10.0.0.1", at: old + 61_000 })).toThrow(DataNotFound);
  });

  it("uses defaultTtlSeconds for an answer without a TTL, and graceSeconds before it", () => {
    const d = dns(sqliteStorage(), { defaultTtlSeconds: 120, graceSeconds: 5 });
    d.write([{ domain: "b.example", ips: ["10.0.0.2"], at: T0 }]);
    expect(d.domainsAt("10.0.0.2", T0 + 120_000)).toEqual(["b.example"]);
    expect(d.domainsAt("10.0.0.2", T0 + 121_000)).toEqual([]);
    expect(d.domainsAt("10.0.0.2", T0 - 5_000)).toEqual(["b.example"]);
    expect(d.domainsAt("10.0.0.2", T0 - 6_000)).toEqual([]);
  });

  it("keeps answers of separate times apart: the gap between them does not match", () => {
    const d = dns(sqliteStorage(), { graceSeconds: 0 });
    d.write([{ domain: "c.example", ips: ["10.0.0.3"], at: T0, ttlSeconds: 60 }]);
    d.write([{ domain: "c.example", ips: ["10.0.0.3"], at: T0 + 3_600_000, ttlSeconds: 60 }]);
    expect(d.domainsAt("10.0.0.3", T0 + 30_000)).toEqual(["c.example"]);
    expect(d.domainsAt("10.0.0.3", T0 + 1_800_000)).toEqual([]);
    expect(d.domainsAt("10.0.0.3", T0 + 3_630_000)).toEqual(["c.example"]);
  });

  it("refuses keys of no kind with KeyNotSupported naming the field, and absent keys with DataNotFound", () => {
    const d = dns(sqliteStorage());
    expect(() => d.get("10.0.0.1" as never)).toThrow(KeyNotSupported);
    expect(() => d.get({ host: "x" } as never)).toThrow(KeyNotSupported);
    const e = (() => {
      try {
        d.get({ ip: "10.0.0.1", at: "yesterday" });
      } catch (err) {
        return err as KeyNotSupported;
      }
      return undefined;
    })();
    expect(e).toBeInstanceOf(KeyNotSupported);
    expect(e!.details.field).toBe("key.at");
    expect(() => d.get({ ip: "10.9.9.9" })).toThrow(DataNotFound);
    expect(d.lookup({ ip: "10.9.9.9" })).toBeUndefined();
  });

  it("refuses a bad entry with FailedToUnmarshal naming it, and stores none of the batch", () => {
    const d = dns(sqliteStorage());
    let err: FailedToUnmarshal | undefined;
    try {
      d.write([
        { domain: "ok.example", ips: ["10.0.0.4"], at: T0 },
        { domain: "bad.example", ips: ["10.0.0.5", 7 as never], at: T0 },
      ]);
    } catch (e) {
      err = e as FailedToUnmarshal;
    }
    expect(err).toBeInstanceOf(FailedToUnmarshal);
    expect(err!.details.field).toBe("entries[1].ips[1]");
    expect(d.lookup({ domain: "ok.example" })).toBeUndefined();
  });

  it("deletes a domain from both directions", () => {
    const d = dns(sqliteStorage());
    d.write([
      { domain: "gone.example", ips: ["10.0.0.6"], at: T0 },
      { domain: "kept.example", ips: ["10.0.0.6"], at: T0 },
    ]);
    d.delete([{ domain: "gone.example" }]);
    expect(d.get({ ip: "10.0.0.6", at: T0 })).toEqual({ ip: "10.0.0.6", domains: ["kept.example"] });
    expect(d.lookup({ domain: "gone.example" })).toBeUndefined();
  });

  it("keeps its entries in the SQLite file: a new instance (a restarted plugin) finds them", () => {
    const storage = sqliteStorage();
    const first = dns(storage);
    first.write([{ domain: "persist.example", ips: ["10.0.0.7"], at: T0 }]);
    first.close();
    expect(dns(storage).domainsAt("10.0.0.7", T0)).toEqual(["persist.example"]);
  });

  it("loses no answer when two writers (threads, collectors) add to the same address", () => {
    const storage = sqliteStorage();
    const a = dns(storage);
    const b = dns(storage);
    // Each reads the address first, so each holds a record the other's write makes stale.
    a.domainsAt("10.0.0.8", T0);
    b.domainsAt("10.0.0.8", T0);
    a.write([{ domain: "one.example", ips: ["10.0.0.8"], at: T0 }]);
    b.write([{ domain: "two.example", ips: ["10.0.0.8"], at: T0 }]);
    const c = dns(storage);
    expect([...c.domainsAt("10.0.0.8", T0)].sort()).toEqual(["one.example", "two.example"]);
  });

  it("serves lookups from a bounded cache: it never holds more than cacheEntries", () => {
    const d = dns(sqliteStorage(), { cacheEntries: 10 });
    d.write([{ domain: "other.example", ips: ["10.9.9.9"], at: T0 }]);
    d.refresh();
    for (let i = 0; i < 50; i++) d.domainsAt(`10.1.0.${i}`, T0);
    d.domainsAt("10.1.0.49", T0);
    const { records, lookups } = d.cacheStats();
    // 50 addresses, and the two records the write read first (domain and address).
    expect(records).toMatchObject({ size: 10, evictions: 40, misses: 52 });
    expect(lookups).toMatchObject({ size: 10, evictions: 40, hits: 1 });
  });

  it("reads nothing per address from a store no answer was ever written to, and finds an answer once one is", () => {
    const storage = sqliteStorage();
    const d = dns(storage);
    expect(d.domainsAt("10.1.0.1", T0)).toEqual([]);
    expect(d.domainsAtV4((10 << 24) + (1 << 16) + 1, T0)).toEqual([]);
    // The one read was of the marker: no address was looked up, none cached.
    expect(d.cacheStats().records).toMatchObject({ misses: 0, size: 0 });
    // Another writer (here another instance on the same store) gives an answer: seen from the next execution on.
    dns(storage).write([{ domain: "late.example", ips: ["10.1.0.1"], at: T0 }]);
    expect(d.domainsAt("10.1.0.1", T0)).toEqual([]);
    d.refresh();
    expect(d.domainsAt("10.1.0.1", T0)).toEqual(["late.example"]);
  });

  it("validates what get returns against its own schema(), and its key kinds are JSON Schemas", () => {
    const d = dns(sqliteStorage());
    d.write([{ domain: "schema.example", ips: ["10.0.0.9"], at: T0 }]);
    const ajv = new Ajv({ strict: false });
    ajv.addFormat("date-time", true);
    const validate = ajv.compile(d.schema());
    expect(validate(d.get({ ip: "10.0.0.9" }))).toBe(true);
    expect(validate(d.get({ domain: "schema.example" }))).toBe(true);
    expect(validate({ ip: 1 })).toBe(false);
    for (const k of d.keys()) expect(() => ajv.compile(k.schema)).not.toThrow();
    expect(ajv.compile(d.entrySchema())({ domain: "x", ips: ["1.1.1.1"], at: T0 })).toBe(true);
  });
});

describe("tailkit/dns IPv4 lookups by number", () => {
  it("gives domainsAtV4 what domainsAt gives for the address's text, also after a write replaces what it cached", () => {
    const d = dns(sqliteStorage(), { graceSeconds: 0 });
    const addr = parseIpv4("203.0.113.10");
    expect(addr).toBe(((203 * 256 + 0) * 256 + 113) * 256 + 10);
    expect(ipv4Text(addr)).toBe("203.0.113.10");
    expect(d.domainsAtV4(addr, T0)).toEqual([]);
    d.write([{ domain: "v4.example", ips: ["203.0.113.10"], at: T0, ttlSeconds: 60 }]);
    expect(d.domainsAtV4(addr, T0 + 1000)).toEqual(["v4.example"]);
    expect(d.domainsAtV4(addr, T0 + 61_000)).toEqual(d.domainsAt("203.0.113.10", T0 + 61_000));
    // Text that is not canonical has no number: a reader keeps the string path for it.
    for (const t of ["010.0.0.1", "1.2.3", "1.2.3.256", "1.2.3.4.5", "::1"]) expect(parseIpv4(t)).toBe(-1);
  });
});
