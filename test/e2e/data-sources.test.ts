import { writeFileSync } from "node:fs";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { launchPlugin, type PluginClient } from "../../src/host/index.js";
import { loadProtocol, type DataSourceServiceClient } from "../../src/protocol/index.js";
import { AWS_PLUGIN, bufCurl, readChunks, scratchDirs } from "./helpers.js";
import { FLOW_DOMAINS, flowLogs, resolverLogs } from "../plugins/route53-helpers.js";

const scratch = scratchDirs();
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function start(env: NodeJS.ProcessEnv = {}): Promise<PluginClient> {
  const client = await launchPlugin(AWS_PLUGIN, { env });
  cleanups.push(() => client.close().then(() => undefined));
  return client;
}

/** A plain grpc-js client of the data-source service, in this process: another process than the plugin. */
function dataSourceClient(address: string): DataSourceServiceClient {
  const { plugin } = loadProtocol();
  const c = new plugin.tailkit.plugin.v1.DataSourceService(address, grpc.credentials.createInsecure());
  cleanups.push(() => c.close());
  return c;
}

type Failure = { code: grpc.status; details: string; field: string | undefined };

/** Calls a unary method; resolves to its response or to the status it failed with. */
function call<Req, Res>(fn: (req: Req, cb: (err: grpc.ServiceError | null, res?: Res) => void) => unknown, req: Req): Promise<Res | Failure> {
  return new Promise((resolve) =>
    fn(req, (err, res) => resolve(err ? { code: err.code, details: err.details, field: err.metadata.get("tailkit-field")[0]?.toString() } : res!)),
  );
}

async function flowDomains(client: PluginClient, root: string, out: string): Promise<unknown[][]> {
  const id = await client.collect({ table: "aws_vpc_flow_log", source: { type: "file", config: { paths: [join(root, "vpc")] } }, outputDir: out });
  const complete = await client.waitForComplete(id);
  expect(complete.error).toBeUndefined();
  return readChunks(out)
    .filter((c) => c.executionId === id)
    .flatMap((c) => c.rows)
    .map((r) => [r["dstaddr"], r["tp_domains"]]);
}

describe("data sources across processes", () => {
  it("keeps tailkit/dns across a plugin restart: resolver logs in one run, flow logs in the next (worker threads)", async () => {
    const root = scratch();
    const out = join(root, "out");
    resolverLogs(join(root, "r53"));
    flowLogs(join(root, "vpc"));
    const first = await start();
    const id = await first.collect({
      table: "aws_route53_resolver_query_log",
      source: { type: "file", config: { paths: [join(root, "r53")] } },
      outputDir: out,
    });
    expect((await first.waitForComplete(id)).error).toBeUndefined();
    await first.close();

    const second = await start();
    expect(await flowDomains(second, root, out)).toEqual(FLOW_DOMAINS);
  });

  it("takes writes from another process over gRPC, which a later collection sees, and answers each error with its code", async () => {
    const root = scratch();
    const out = join(root, "out");
    flowLogs(join(root, "vpc"));
    const client = await start({ TAILKIT_DATA_SOURCES: JSON.stringify({ storage: join(root, "shared-ds.sqlite") }) });
    const ds = dataSourceClient(client.address);
    const entry = JSON.stringify({ domain: "fed.example.org", ips: ["198.51.100.1"], at: "2024-03-01T12:00:00Z", ttlSeconds: 600 });

    expect(await call(ds.Write.bind(ds), { namespace: "tailkit", id: "dns", entries_json: [entry] })).toMatchObject({ written: 1 });
    expect(
      await call(ds.Get.bind(ds), { namespace: "tailkit", id: "dns", key_json: JSON.stringify({ ip: "198.51.100.1", at: "2024-03-01T12:05:00Z" }) }),
    ).toEqual({
      value_json: JSON.stringify({ ip: "198.51.100.1", domains: ["fed.example.org"] }),
    });

    // A write stream: entries of each message stored as they come, counted at the end.
    const streamed = await new Promise<unknown>((resolve, reject) => {
      const s = ds.WriteStream((err, res) => (err ? reject(err) : resolve(res)));
      s.write({ namespace: "tailkit", id: "dns", entries_json: [JSON.stringify({ domain: "a.example", ips: ["10.9.0.1"], at: 0 })] });
      s.write({
        namespace: "tailkit",
        id: "dns",
        entries_json: [JSON.stringify({ domain: "b.example", ips: ["10.9.0.2"], at: 0 }), JSON.stringify({ domain: "c.example", ips: ["10.9.0.3"], at: 0 })],
      });
      s.end();
    });
    expect(streamed).toMatchObject({ written: 3 });

    const unknown = (await call(ds.Get.bind(ds), { namespace: "geo", id: "country", key_json: '"x"' })) as Failure;
    expect(unknown.code).toBe(grpc.status.NOT_FOUND);
    expect(unknown.details).toContain("geo/country is not registered");
    const absent = (await call(ds.Get.bind(ds), { namespace: "tailkit", id: "dns", key_json: JSON.stringify({ ip: "192.0.2.99" }) })) as Failure;
    expect(absent.code).toBe(grpc.status.NOT_FOUND);
    const badKey = (await call(ds.Get.bind(ds), { namespace: "tailkit", id: "dns", key_json: JSON.stringify({ ip: "192.0.2.1", at: "soon" }) })) as Failure;
    expect(badKey).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, field: "key.at" });
    const notJson = (await call(ds.Get.bind(ds), { namespace: "tailkit", id: "dns", key_json: "{ip" })) as Failure;
    expect(notJson).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, field: "key_json" });
    const readOnly = (await call(ds.Write.bind(ds), { namespace: "tailkit", id: "executions", entries_json: ["{}"] })) as Failure;
    expect(readOnly.code).toBe(grpc.status.UNIMPLEMENTED);
    const badEntry = (await call(ds.Write.bind(ds), {
      namespace: "tailkit",
      id: "dns",
      entries_json: [JSON.stringify({ domain: "x.example", ips: [], at: 0 })],
    })) as Failure;
    expect(badEntry).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, field: "entries[0].ips" });
    const badJson = (await call(ds.Write.bind(ds), { namespace: "tailkit", id: "dns", entries_json: [entry, "nope"] })) as Failure;
    expect(badJson).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, field: "entries_json[1]" });

    // The collection reads what the other process wrote: the unknown destination of the flow logs now has a domain.
    const rows = await flowDomains(client, root, out);
    expect(rows.find((r) => r[0] === "198.51.100.1")).toEqual(["198.51.100.1", ["fed.example.org"]]);

    // And the other way: what a collection's workers write, the service gives at once (its cache saw a miss before).
    const key_json = JSON.stringify({ ip: "203.0.113.10" });
    expect(((await call(ds.Get.bind(ds), { namespace: "tailkit", id: "dns", key_json })) as Failure).code).toBe(grpc.status.NOT_FOUND);
    resolverLogs(join(root, "r53"));
    const id = await client.collect({
      table: "aws_route53_resolver_query_log",
      source: { type: "file", config: { paths: [join(root, "r53")] } },
      outputDir: out,
    });
    expect((await client.waitForComplete(id)).error).toBeUndefined();
    expect(await call(ds.Get.bind(ds), { namespace: "tailkit", id: "dns", key_json })).toEqual({
      value_json: JSON.stringify({ ip: "203.0.113.10", domains: ["api.example.com"] }),
    });
  });

  it("serves the data-source service to buf curl by reflection", async () => {
    const root = scratch();
    const client = await start({ TAILKIT_DATA_SOURCES: JSON.stringify({ storage: join(root, "ds.sqlite") }) });
    const curl = (method: string, body: unknown) => bufCurl(client.address, `tailkit.plugin.v1.DataSourceService/${method}`, body);
    const entry = { domain: "curl.example", ips: ["192.0.2.7"], at: "2024-03-01T00:00:00Z" };
    expect(await curl("Write", { namespace: "tailkit", id: "dns", entriesJson: [JSON.stringify(entry)] })).toEqual({ written: "1" });
    const got = (await curl("Get", { namespace: "tailkit", id: "dns", keyJson: JSON.stringify({ domain: "curl.example" }) })) as { valueJson: string };
    expect(JSON.parse(got.valueJson)).toEqual({ domain: "curl.example", ips: ["192.0.2.7"] });
  });

  it("answers FAILED_PRECONDITION for a write to tailkit/dns when no storage is configured outside collections", async () => {
    const client = await start();
    const ds = dataSourceClient(client.address);
    const entry = JSON.stringify({ domain: "x.example", ips: ["192.0.2.1"], at: 0 });
    const res = (await call(ds.Write.bind(ds), { namespace: "tailkit", id: "dns", entries_json: [entry] })) as Failure;
    expect(res.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(res.details).toContain("set data_sources.storage");
  });

  it("loads a data-source module named in the config: Describe lists it, the service reads it, workers load it too", async () => {
    const root = scratch();
    const module = join(root, "ports.mjs");
    writeFileSync(
      module,
      `export default () => ({
  namespace: () => "net", id: () => "ports", version: () => 3,
  keys: () => [{ name: "port", schema: { type: "integer" } }],
  schema: () => ({ type: "object", properties: { service: { type: "string" } } }),
  lookup: (p) => (p === 443 ? { service: "https" } : undefined),
  get(p) { return this.lookup(p); },
});\n`,
    );
    const client = await start({ TAILKIT_DATA_SOURCES: JSON.stringify({ modules: [module] }) });
    const d = await client.describe();
    expect(d.dataSources.find((s) => s.namespace === "net")).toMatchObject({ id: "ports", version: 3, writeable: false, keys: [{ name: "port" }] });
    const ds = dataSourceClient(client.address);
    expect(await call(ds.Get.bind(ds), { namespace: "net", id: "ports", key_json: "443" })).toEqual({ value_json: '{"service":"https"}' });
    // Extraction workers make their registry with the module in it: a collection still runs.
    flowLogs(join(root, "vpc"));
    expect(await flowDomains(client, root, join(root, "out"))).toHaveLength(5);
  });

  it("refuses to start with a data-source config that is not valid, saying why", async () => {
    const err = await launchPlugin(AWS_PLUGIN, { env: { TAILKIT_DATA_SOURCES: JSON.stringify({ storage: "postgres://127.0.0.1/x" }) } }).catch(
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain("data_sources.storage: PostgreSQL has no synchronous module");
  });
});
