import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { scratchDirs } from "../e2e/helpers.js";
import { describe, expect, it } from "vitest";
import { chain, createJsonLinesMapper, createLinesLoader, defineTable, type Mapper, type PluginDefinition } from "../../src/index.js";
import { Code, TailkitError } from "../../src/errors/index.js";
import { DataSourceRegistry } from "../../src/datasources/registry.js";
import { collectInProcess } from "../../src/testing/index.js";
import { DataNotFound, DataSourceBase, KeyNotSupported, type DataSource } from "../../src/contract/data-source.js";

const scratch = scratchDirs();

function source(namespace: string, id: string, version: number): DataSource {
  return {
    namespace: () => namespace,
    id: () => id,
    version: () => version,
    keys: () => [{ name: "code", schema: { type: "string" } }],
    schema: () => ({ type: "object" }),
    get: () => ({}),
    lookup: () => ({}),
  };
}

/**
 * A data-source module as a user would write one, outside the plugin: a country by address prefix, of the given
 * version. Plain JavaScript, importing nothing: the contract is an interface.
 */
function geoModule(dir: string, version: number): string {
  const file = join(dir, `geo-v${version}.mjs`);
  writeFileSync(
    file,
    `const countries = { "10.": "ZZ", "192.168.": "LAN" };
export default function makeSources(ctx) {
  return {
    namespace: () => "geo",
    id: () => "country",
    version: () => ${version},
    keys: () => [{ name: "ip", schema: { type: "string" } }],
    schema: () => ({ type: "object", required: ["country"], properties: { country: { type: "string" } } }),
    lookup(ip) {
      if (typeof ip !== "string") throw Object.assign(new Error("key: geo/country takes an address"), { code: 3 });
      const hit = Object.keys(countries).find((p) => ip.startsWith(p));
      return hit === undefined ? undefined : { country: countries[hit], plugin: ctx.plugin };
    },
    get(ip) { return this.lookup(ip); },
  };
}
`,
  );
  return file;
}

/** A table whose mapper reads geo/country through its init context: the country of each row's address. */
function geoPlugin(seen: { rows: number }): PluginDefinition {
  const withCountry = (ctx: { getDataSource(ns: string, id: string): DataSource | undefined }): Mapper<Record<string, unknown>, Record<string, unknown>> => {
    const geo = ctx.getDataSource("geo", "country");
    if (geo === undefined || geo.version() !== 1) throw new Error("geo/country v1 is required");
    return {
      name: "geo",
      map: (row) => {
        seen.rows++;
        return { ...row, country: (geo.lookup(row["ip"]) as { country?: string } | undefined)?.country ?? null };
      },
    };
  };
  return {
    name: "geo_test",
    version: "0.0.1",
    tables: [
      defineTable({
        name: "conn_log",
        description: "connections with a country",
        rowSchema: { type: "object", properties: { ip: { type: "string" }, country: { type: ["string", "null"] } } },
        sources: { file: {} },
        dataSources: [{ namespace: "geo", id: "country", version: 1 }],
        loader: () => createLinesLoader(),
        mappers: (_config, ctx) => chain(createJsonLinesMapper() as Mapper<string, Record<string, unknown>>, withCountry(ctx)),
        enrich: (row: Record<string, unknown>) => ({ tp_timestamp: row["t"] as string }),
      }),
    ],
  };
}

describe("data-source registry", () => {
  it("refuses a second source under the same (namespace, id), and gives undefined for unknown ones", () => {
    const r = new DataSourceRegistry();
    r.register(source("geo", "country", 1));
    const err = (() => {
      try {
        r.register(source("geo", "country", 2));
      } catch (e) {
        return e as TailkitError;
      }
      return undefined;
    })();
    expect(err?.code).toBe(Code.AlreadyExists);
    expect(err?.message).toContain("geo/country");
    expect(r.getDataSource("geo", "city")).toBeUndefined();
    expect(r.getDataSource("other", "country")).toBeUndefined();
    expect(r.getDataSource("geo", "country")?.version()).toBe(1);
  });

  it("lets a mapper use a data source a module named in the plugin's config defines", async () => {
    const dir = scratch();
    const data = join(dir, "conn.log");
    writeFileSync(data, '{"ip":"10.1.2.3","t":"2024-01-01T00:00:00Z"}\n{"ip":"8.8.8.8","t":"2024-01-01T00:00:01Z"}\n');
    const res = await collectInProcess(
      geoPlugin({ rows: 0 }),
      { table: "conn_log", source: { type: "file", config: { paths: [data] } }, outputDir: join(dir, "out") },
      { dataSources: { modules: [geoModule(dir, 1)] } },
    );
    expect(res.complete.error).toBeUndefined();
    expect(res.rows.map((r) => [r["ip"], r["country"]])).toEqual([
      ["10.1.2.3", "ZZ"],
      ["8.8.8.8", null],
    ]);
  });

  it("fails Collect with INVALID_ARGUMENT naming a source of another version, before any row is read", async () => {
    const dir = scratch();
    const data = join(dir, "conn.log");
    writeFileSync(data, '{"ip":"10.1.2.3","t":"2024-01-01T00:00:00Z"}\n');
    const seen = { rows: 0 };
    const out = join(dir, "out");
    const err = await collectInProcess(
      geoPlugin(seen),
      { table: "conn_log", source: { type: "file", config: { paths: [data] } }, outputDir: out },
      { dataSources: { modules: [geoModule(dir, 2)] } },
    ).catch((e: unknown) => e as TailkitError);
    expect(err).toBeInstanceOf(TailkitError);
    expect((err as TailkitError).code).toBe(Code.InvalidArgument);
    expect((err as TailkitError).message).toContain("geo/country version 1, but version 2 is registered");
    expect((err as TailkitError).details.field).toBe("data_sources");
    expect(seen.rows).toBe(0);
    // Refused before the output folder was even made.
    expect(() => readdirSync(out)).toThrow();
  });

  it("fails Collect naming a data source that is not registered at all", async () => {
    const dir = scratch();
    const err = await collectInProcess(geoPlugin({ rows: 0 }), {
      table: "conn_log",
      source: { type: "file", config: { paths: [dir] } },
      outputDir: join(dir, "out"),
    }).catch((e: unknown) => e as TailkitError);
    expect((err as TailkitError).code).toBe(Code.InvalidArgument);
    expect((err as TailkitError).message).toMatch(
      /needs data source geo\/country \(version 1\), which is not registered; registered: tailkit\/artifacts, tailkit\/executions, tailkit\/dns/,
    );
  });

  it("refuses a module that does not load, naming it, when the plugin starts", async () => {
    const dir = scratch();
    const err = await collectInProcess(
      geoPlugin({ rows: 0 }),
      { table: "conn_log", source: { type: "file", config: { paths: [dir] } }, outputDir: join(dir, "out") },
      { dataSources: { modules: [join(dir, "missing.mjs")] } },
    ).catch((e: unknown) => e as TailkitError);
    expect((err as TailkitError).code).toBe(Code.InvalidArgument);
    expect((err as TailkitError).message).toContain("missing.mjs");
    expect((err as TailkitError).details.field).toBe("data_sources.modules");
  });
});

describe("DataSourceBase", () => {
  it("gives get from lookup: DataNotFound for a miss, KeyNotSupported from refuse()", () => {
    class Ports extends DataSourceBase<number, { service: string }> {
      constructor() {
        super("net", "ports", 1);
      }
      keys() {
        return [{ name: "port", schema: { type: "integer", minimum: 0, maximum: 65535 } }];
      }
      schema() {
        return { type: "object", required: ["service"], properties: { service: { type: "string" } } };
      }
      lookup(port: number) {
        if (!Number.isInteger(port)) this.refuse(port, "a port is an integer");
        return port === 443 ? { service: "https" } : undefined;
      }
    }
    const p = new Ports();
    expect(p.get(443)).toEqual({ service: "https" });
    expect(() => p.get(1)).toThrow(DataNotFound);
    expect(() => p.get(1.5)).toThrow(KeyNotSupported);
    const r = new DataSourceRegistry();
    r.register(p);
    expect(r.getDataSource("net", "ports")).toBe(p);
  });
});
