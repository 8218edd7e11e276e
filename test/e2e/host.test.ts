import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import type { CollectionEvent } from "../../src/contract/events.js";
import { Code, TailkitError } from "../../src/errors/index.js";
import { launchPlugin, type PluginClient } from "../../src/host/index.js";
import { eventFromWire, loadProtocol } from "../../src/protocol/index.js";
import type { WireEvent } from "../../src/protocol/index.js";
import { AWS_PLUGIN, ROOT, bufCurl, tempDir } from "./helpers.js";

const SAMPLE_CLOUDTRAIL = join(ROOT, "sample", "cloudtrail");
const run = promisify(execFile);

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function start(): Promise<PluginClient> {
  const client = await launchPlugin(AWS_PLUGIN);
  cleanups.push(() => client.close().then(() => undefined));
  return client;
}

function scratch(): string {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return t.dir;
}

/** A second observer that no tailkit host code wrote: a raw grpc-js client on the same socket. */
function rawObserver(address: string): { events: CollectionEvent[]; ready: Promise<void>; close: () => void } {
  const { plugin } = loadProtocol();
  const client = new plugin.tailkit.plugin.v1.PluginService(address, grpc.credentials.createInsecure());
  const stream = client.AddObserver({});
  const events: CollectionEvent[] = [];
  stream.on("data", (m: { event: WireEvent }) => {
    const e = eventFromWire(m.event);
    if (e) events.push(e);
  });
  stream.on("error", () => undefined);
  const ready = new Promise<void>((resolve) => stream.once("metadata", () => resolve()));
  return {
    events,
    ready,
    close: () => {
      stream.cancel();
      client.close();
    },
  };
}

describe("host ↔ plugin over gRPC", () => {
  it("answers Describe to buf curl through server reflection on the unix socket", async () => {
    const client = await start();
    const res = (await bufCurl(client.address, "tailkit.plugin.v1.PluginService/Describe", {})) as {
      plugin: { name: string };
      tables: { name: string; sourceTypes: string[]; configSchemaJson: string }[];
    };
    expect(res.plugin.name).toBe("aws");
    expect(res.tables.map((t) => t.name)).toEqual(["aws_cloudtrail_log", "aws_vpc_flow_log", "aws_route53_resolver_query_log"]);
    expect(res.tables[0]!.sourceTypes).toEqual(["file", "aws_s3_bucket", "aws_cloudwatch_log_group", "webhook"]);
  });

  it('serves grpc.health.v1 for service "plugin" and a socket only its owner can use', async () => {
    const client = await start();
    const socket = client.address.replace(/^unix:\/\//, "");
    const { statSync } = await import("node:fs");
    expect(statSync(socket).mode & 0o777).toBe(0o600);
    // A go-plugin host checks health with the standard proto at hand, as buf curl does here.
    const { protoPath } = await import("grpc-health-check");
    const schemaDir = protoPath.replace(/\/grpc\/health\/v1\/health\.proto$|\/health\/v1\/health\.proto$/, "");
    const { stdout } = await run(
      "npx",
      [
        "buf",
        "curl",
        "--schema",
        schemaDir,
        "--protocol",
        "grpc",
        "--http2-prior-knowledge",
        "--unix-socket",
        socket,
        "http://localhost/grpc.health.v1.Health/Check",
        "-d",
        '{"service":"plugin"}',
      ],
      { cwd: ROOT },
    );
    expect(JSON.parse(stdout)).toEqual({ status: "SERVING" });
  });

  it("shows two observers the same events in order, complete last, and a late observer still gets complete", async () => {
    const client = await start();
    const mine: CollectionEvent[] = [];
    const sub = client.events.subscribe((e) => mine.push(e));
    cleanups.push(() => sub.unsubscribe());
    const other = rawObserver(client.address);
    cleanups.push(other.close);
    await other.ready;

    const out = scratch();
    const id = await client.collect({
      table: "aws_cloudtrail_log",
      source: { type: "file", config: { paths: [SAMPLE_CLOUDTRAIL] } },
      outputDir: out,
      rowsPerChunk: 300,
    });
    const complete = await client.waitForComplete(id);
    expect(complete.error).toBeUndefined();
    // Give the raw stream the moment it needs to deliver the last message.
    await new Promise((r) => setTimeout(r, 200));

    const ofExec = (list: CollectionEvent[]) => list.filter((e) => e.executionId === id);
    const strip = (list: CollectionEvent[]) => ofExec(list).map((e) => JSON.stringify({ ...e, time: e.time.getTime() }));
    expect(strip(other.events)).toEqual(strip(mine));
    const types = ofExec(mine).map((e) => e.type);
    expect(types[0]).toBe("started");
    expect(types.at(-1)).toBe("complete");
    expect(types.filter((t) => t === "chunk_written")).toHaveLength(complete.chunks);
    expect(types.filter((t) => t === "artifact_discovered")).toHaveLength(complete.status.artifactsDiscovered);
    const seqs = ofExec(mine).flatMap((e) => (e.type === "chunk_written" ? [e.sequence] : []));
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));

    const late = rawObserver(client.address);
    cleanups.push(late.close);
    await late.ready;
    await new Promise((r) => setTimeout(r, 200));
    const lateComplete = late.events.find((e) => e.executionId === id && e.type === "complete");
    expect(lateComplete).toMatchObject({ type: "complete", rows: complete.rows, chunks: complete.chunks });
  });

  it("rejects a Collect for an unknown table at once with INVALID_ARGUMENT naming the field", async () => {
    const client = await start();
    const err = await client.collect({ table: "nope", source: { type: "file", config: { paths: ["/tmp"] } }, outputDir: scratch() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TailkitError);
    expect((err as TailkitError).code).toBe(Code.InvalidArgument);
    expect((err as TailkitError).details.field).toBe("table");
  });

  it("rejects a config that fails the source's schema, naming the field", async () => {
    const client = await start();
    const err = (await client
      .collect({ table: "aws_cloudtrail_log", source: { type: "file", config: { paths: [] } }, outputDir: scratch() })
      .catch((e: unknown) => e)) as TailkitError;
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.message).toContain("source.config.paths");
  });

  it("turns a plugin that crashes mid-collection into a failed complete quoting its exit", async () => {
    const client = await start();
    const id = await client.collect({ table: "aws_cloudtrail_log", source: { type: "file", config: { paths: [SAMPLE_CLOUDTRAIL] } }, outputDir: scratch() });
    process.kill(client.pid!, "SIGKILL");
    const complete = await client.waitForComplete(id);
    // The collection may have finished before the signal landed; either way complete arrives and says what happened.
    if (complete.error) expect(complete.error).toMatch(/plugin exited on signal SIGKILL/);
    else expect(complete.rows).toBeGreaterThan(0);
  });

  it("fails the launch clearly when the executable breaks the handshake", async () => {
    const err = (await launchPlugin("/bin/echo", { args: ["hello"] }).catch((e: unknown) => e)) as TailkitError;
    expect(err).toBeInstanceOf(TailkitError);
    expect(err.message).toMatch(/malformed handshake line "hello"/);
    const err2 = (await launchPlugin("/bin/false").catch((e: unknown) => e)) as TailkitError;
    expect(err2.message).toMatch(/exited with code 1 before its handshake/);
  });
});
