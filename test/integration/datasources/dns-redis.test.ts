import { afterEach, describe, expect, it } from "vitest";
import { DnsDataSource } from "../../../src/datasources/dns.js";
import { openDataSourceStore, type DataSourceStorage } from "../../../src/datasources/storage.js";
import { REDIS, deletePrefix, requireRedis, uniquePrefix } from "../storage/redis-helpers.js";

const T0 = Date.parse("2024-03-01T12:00:00Z");
const opened: DnsDataSource[] = [];
const prefixes: string[] = [];
afterEach(async () => {
  opened.splice(0).forEach((d) => d.close());
  for (const p of prefixes.splice(0)) await deletePrefix(p);
});

function dns(storage: DataSourceStorage): DnsDataSource {
  const d = new DnsDataSource(() => openDataSourceStore(storage, "tailkit_dns"));
  opened.push(d);
  return d;
}

describe("tailkit/dns on Redis", () => {
  it("two collectors on one Redis see each other's entries", async () => {
    await requireRedis();
    const keyPrefix = uniquePrefix();
    prefixes.push(keyPrefix);
    const storage: DataSourceStorage = { backend: "redis", ...REDIS, db: 0, keyPrefix };
    const a = dns(storage);
    const b = dns(storage);
    a.write([{ domain: "shared.example", ips: ["10.2.0.1"], at: T0 }]);
    b.write([{ domain: "other.example", ips: ["10.2.0.2"], at: T0 }]);
    expect(b.domainsAt("10.2.0.1", T0)).toEqual(["shared.example"]);
    expect(a.domainsAt("10.2.0.2", T0)).toEqual(["other.example"]);
    // A collector started later (a new instance, an empty cache) reads both from Redis.
    expect(dns(storage).get({ domain: "other.example", at: T0 })).toEqual({ domain: "other.example", ips: ["10.2.0.2"] });
  });
});
