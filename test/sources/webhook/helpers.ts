import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { createWebhookSourceFactory, type CollectionEvent, type CompleteEvent, type PluginDefinition, type TableDefinition } from "../../../src/index.js";
import { PluginRuntime } from "../../../src/plugin/index.js";

/** What a POST got back. */
export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

/**
 * POSTs (or sends `method`) to url; a body given as chunks is sent chunked (no Content-Length). Resolves with the
 * answer even when the server closes the connection while the body is still being sent (a 413 does).
 */
export function post(
  url: string,
  body: string | string[],
  opts: { token?: string; contentType?: string; method?: string; contentLength?: number } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { "Content-Type": opts.contentType ?? "application/json" };
    if (opts.token !== undefined) headers["Authorization"] = `Bearer ${opts.token}`;
    if (typeof body === "string") headers["Content-Length"] = opts.contentLength ?? Buffer.byteLength(body);
    const req = request(url, { method: opts.method ?? "POST", headers }, (res) => {
      let text = "";
      res.on("data", (d: Buffer) => (text += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} }));
      res.on("error", reject);
    });
    let answered = false;
    req.on("response", () => (answered = true));
    req.on("error", (err) => {
      if (!answered) reject(err);
    });
    if (typeof body === "string") req.end(body);
    else {
      const parts = [...body];
      const next = () => {
        const part = parts.shift();
        if (part === undefined || answered) return void req.end();
        req.write(part, () => setImmediate(next));
      };
      next();
    }
  });
}

/** A port no one listens on now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** Rows of the test table: anything posted with a `ts` and an `id`. */
export const eventsTable: TableDefinition = {
  name: "events",
  description: "posted events",
  rowSchema: { type: "object", required: ["id"] },
  sources: { webhook: { mappers: () => [{ name: "as_is", map: (item: unknown) => item }] } },
  enrich: (row) => ({ tp_timestamp: (row["ts"] as string | undefined) ?? "2024-05-01T00:00:00Z" }),
};

/** A collection of the events table from a webhook, run in this process, and how to reach and stop it. */
export interface RunningWebhook {
  url: string;
  runtime: PluginRuntime;
  events: CollectionEvent[];
  /** Asks the collection to stop (as SIGINT does) and resolves with its complete event. */
  stop(): Promise<CompleteEvent>;
  /** Resolves with the complete event once the collection ends by itself. */
  done(): Promise<CompleteEvent>;
}

/**
 * Starts collecting the events table (or opts.table of opts.plugin) from a webhook listening on 127.0.0.1 (port 0 unless
 * config says), token "secret".
 */
export async function startWebhook(
  out: string,
  config: Record<string, unknown> = {},
  opts: { rowsPerChunk?: number; to?: Date; segmentBytes?: number; executionId?: string; plugin?: PluginDefinition; table?: string } = {},
): Promise<RunningWebhook> {
  let listening!: (url: string) => void;
  const url = new Promise<string>((r) => (listening = r));
  // The plugin's tables, with a webhook source that says where it listens.
  const plugin: PluginDefinition = {
    ...(opts.plugin ?? { name: "test", version: "1.0.0", tables: [eventsTable] }),
    module: undefined,
    sources: [
      ...(opts.plugin?.sources ?? []).filter((s) => s.type !== "webhook"),
      createWebhookSourceFactory({ onListening: (u) => listening(u), ...(opts.segmentBytes ? { segmentBytes: opts.segmentBytes } : {}) }),
    ],
  };
  const runtime = new PluginRuntime(plugin);
  const events: CollectionEvent[] = [];
  runtime.observe().subscribe((e) => events.push(e));
  runtime.collect({
    table: opts.table ?? "events",
    source: { type: "webhook", config: { listen: "127.0.0.1:0", token: "secret", ...config } },
    outputDir: out,
    rowsPerChunk: opts.rowsPerChunk ?? 10_000,
    ...(opts.to ? { to: opts.to } : {}),
    ...(opts.executionId ? { executionId: opts.executionId } : {}),
  });
  const complete = () => events.find((e): e is CompleteEvent => e.type === "complete")!;
  const first = await Promise.race([url, runtime.idle().then(() => undefined)]);
  if (first === undefined) throw new Error(`the webhook did not start: ${complete().error}`);
  return {
    url: first,
    runtime,
    events,
    stop: async () => {
      await runtime.shutdown();
      return complete();
    },
    done: async () => {
      await runtime.idle();
      return complete();
    },
  };
}
