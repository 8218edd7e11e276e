import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Code, TailkitError } from "../../errors/index.js";
import type { ArtifactInfo, RowPage, RowSource, RowSourceContext, RowSourceFactory } from "../../contract/source.js";
import { MalformedBody, parseBody } from "./body.js";
import { Spool } from "./spool.js";
import { validateWebhookConfig, webhookSourceConfigSchema, type ResolvedWebhookConfig, type WebhookSourceConfig } from "./types.js";

/** Options of createWebhookSourceFactory that are not part of the config; defaults in each field's comment. */
export interface WebhookSourceOptions {
  /** Where token_env is looked up. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Spool segment size, in bytes (see Spool). Default 64 MiB. */
  segmentBytes?: number;
  /** The Retry-After of a 429 or 503, in seconds. Default 1. */
  retryAfterSeconds?: number;
  /** Hears where the source listens once it does (the port, when listen gives port 0). Default: a line on stderr. */
  onListening?: (url: string) => void;
}

/** Most rows, and payload bytes, of one page read from the spool. */
const PAGE_ROWS = 1000;
const PAGE_BYTES = 1 << 20;

/** The "webhook" source type: rows posted over HTTP, acknowledged once fsynced in a spool, read into chunks from there. */
export function createWebhookSourceFactory(options: WebhookSourceOptions = {}): RowSourceFactory<WebhookSourceConfig> {
  return {
    kind: "rows",
    type: "webhook",
    description:
      "Rows posted over HTTP (NDJSON, a JSON array or one object) with a bearer token; each request is answered 200 only once its rows are fsynced, and runs until the collection is stopped.",
    configSchema: webhookSourceConfigSchema,
    create: (config) => new WebhookSource(validateWebhookConfig(config, options.env ?? process.env), options),
  };
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

/** One webhook endpoint: its HTTP server and spool live while read() runs. */
class WebhookSource implements RowSource {
  readonly type = "webhook";
  readonly push = true;
  private readonly config: ResolvedWebhookConfig;
  private readonly options: WebhookSourceOptions;
  private readonly tokenDigest: Buffer | undefined;
  private server: Server | undefined;
  private spool: Spool | undefined;
  /** Rows acknowledged (or being written) and not yet in durable chunks. */
  private queued = 0;
  /** Appends under way: their requests are answered once done, and a stop waits for them. */
  private appending = 0;
  private stopping = false;

  constructor(config: ResolvedWebhookConfig, options: WebhookSourceOptions) {
    this.config = config;
    this.options = options;
    this.tokenDigest = config.token === undefined ? undefined : sha256(config.token);
  }

  async *read(cursor: unknown, ctx: RowSourceContext): AsyncIterable<RowPage> {
    const dir = this.config.spoolDir ?? ctx.stateDir;
    if (dir === undefined)
      throw new TailkitError(Code.InvalidArgument, "spool_dir: is required when the collection gives no state folder", { field: "spool_dir" });
    const spool = await Spool.open(dir, typeof cursor === "number" ? cursor : undefined, {
      ...(this.options.segmentBytes !== undefined ? { segmentBytes: this.options.segmentBytes } : {}),
      onDamage: (message) => ctx.report?.(new TailkitError(Code.DataLoss, message, { operation: "read" })),
    });
    this.spool = spool;
    this.queued = spool.rowsAfterStart;
    let stream: ArtifactInfo;
    const stop = () => {
      if (this.stopping) return;
      this.stopping = true;
      // New connections are refused; a request not yet appending gets 503; appends under way finish and are read.
      this.server?.close();
      this.server?.closeIdleConnections();
      spool.wake();
    };
    const onAbort = () => {
      stop();
      this.server?.closeAllConnections();
    };
    ctx.stop?.addEventListener("abort", stop);
    ctx.signal.addEventListener("abort", onAbort);
    let untilTo: NodeJS.Timeout | undefined;
    try {
      stream = await this.listen();
      const to = ctx.to?.getTime();
      // Timers hold at most 2^31-1 ms (24.8 days); a later --to is waited for in steps.
      const armTo = () => {
        const left = to! - Date.now();
        untilTo = left <= 0 ? setTimeout(stop, 0) : setTimeout(armTo, Math.min(left, 2 ** 31 - 1));
        untilTo.unref();
      };
      if (to !== undefined) armTo();
      if (ctx.stop?.aborted) stop();
      let at = spool.start;
      for (;;) {
        if (ctx.signal.aborted) return;
        if (at < spool.end) {
          const got = await spool.read(at, PAGE_ROWS, PAGE_BYTES);
          at = got.next;
          const items = got.payloads.flatMap((p) => JSON.parse(p.toString("utf8")) as unknown[]);
          const pageEnd = at;
          yield {
            stream,
            items,
            cursor: pageEnd,
            durable: () => {
              this.queued -= got.rows;
              // The cursor is saved at pageEnd or later: segments before it are never read again.
              spool.release(pageEnd).catch((err: unknown) => ctx.report?.(TailkitError.from(err, Code.Internal, { operation: "read" })));
            },
          };
          continue;
        }
        if (this.stopping && this.appending === 0) return;
        await spool.waitPast(at);
      }
    } finally {
      clearTimeout(untilTo);
      ctx.stop?.removeEventListener("abort", stop);
      ctx.signal.removeEventListener("abort", onAbort);
      await this.closeServer();
      await spool.close();
      this.spool = undefined;
    }
  }

  async close(): Promise<void> {
    await this.closeServer();
    await this.spool?.close();
  }

  private async listen(): Promise<ArtifactInfo> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => answer(res, 500, `webhook failed: ${err instanceof Error ? err.message : String(err)}`, {}, true));
    });
    // Keep-alive connections are closed at a stop, so a sender's next request goes to the next run.
    server.keepAliveTimeout = 5000;
    this.server = server;
    const { host, port } = this.config.listen;
    await new Promise<void>((resolve, reject) => {
      server.once("error", (err: NodeJS.ErrnoException) =>
        reject(
          new TailkitError(Code.Unavailable, `webhook ${this.config.name}: cannot listen on ${this.config.listenText}: ${err.message}`, { field: "listen" }),
        ),
      );
      server.listen(port, host, () => resolve());
    });
    const bound = server.address() as AddressInfo;
    const url = `http://${bound.family === "IPv6" ? `[${bound.address}]` : bound.address}:${bound.port}${this.config.path}`;
    if (this.options.onListening) this.options.onListening(url);
    else process.stderr.write(`webhook ${this.config.name}: listening on ${url}\n`);
    return { name: `webhook/${this.config.name === "webhook" ? this.config.listenText : this.config.name}`, location: url, properties: {} };
  }

  private async closeServer(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { maxBodyBytes, maxQueuedRows } = this.config;
    const retryAfter = String(this.options.retryAfterSeconds ?? 1);
    const pathname = (req.url ?? "/").split("?")[0];
    if (pathname !== this.config.path) return answer(res, 404, `no webhook at ${pathname}; post to ${this.config.path}`);
    if (req.method !== "POST") return answer(res, 405, `${req.method} is not allowed; POST rows`, { Allow: "POST" });
    if (!this.authorized(req.headers.authorization))
      return answer(res, 401, "missing or wrong bearer token", { "WWW-Authenticate": 'Bearer realm="tailkit"' }, true);
    if (this.stopping || this.spool === undefined) return answer(res, 503, "the collection is stopping; send again later", { "Retry-After": retryAfter }, true);
    const length = Number(req.headers["content-length"]);
    if (length > maxBodyBytes) return answer(res, 413, `body of ${length} bytes is over max_body_bytes (${maxBodyBytes})`, {}, true);
    if (this.queued >= maxQueuedRows)
      return answer(res, 429, `queue full: ${this.queued} rows wait for chunks (max_queued_rows ${maxQueuedRows})`, { "Retry-After": retryAfter }, true);
    let body: Buffer | undefined;
    try {
      body = await readBody(req, maxBodyBytes);
    } catch {
      // The sender went away mid-body: nobody to answer.
      req.destroy();
      return;
    }
    if (body === undefined) return answer(res, 413, `body is over max_body_bytes (${maxBodyBytes})`, {}, true);
    let items: unknown[];
    try {
      items = parseBody(body, req.headers["content-type"]);
    } catch (err) {
      if (err instanceof MalformedBody) return answer(res, 400, err.message);
      throw err;
    }
    if (items.length > maxQueuedRows)
      return answer(res, 413, `${items.length} rows in one request, more than max_queued_rows (${maxQueuedRows}); send fewer at once`);
    if (this.queued + items.length > maxQueuedRows)
      return answer(res, 429, `queue full: ${this.queued} rows wait for chunks (max_queued_rows ${maxQueuedRows})`, { "Retry-After": retryAfter });
    const spool = this.spool;
    if (this.stopping || spool === undefined) return answer(res, 503, "the collection is stopping; send again later", { "Retry-After": retryAfter }, true);
    if (items.length === 0) return answer(res, 200, undefined, {}, false, { accepted: 0 });
    this.queued += items.length;
    this.appending++;
    try {
      await spool.append(Buffer.from(JSON.stringify(items), "utf8"), items.length);
    } catch (err) {
      this.queued -= items.length;
      return answer(res, 503, `rows not stored: ${err instanceof Error ? err.message : String(err)}; send again`, { "Retry-After": retryAfter }, true);
    } finally {
      this.appending--;
      spool.wake();
    }
    answer(res, 200, undefined, {}, false, { accepted: items.length });
  }

  private authorized(header: string | undefined): boolean {
    if (this.tokenDigest === undefined) return true;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
    // Digests of equal length, compared in constant time: neither the token's length nor its bytes leak.
    return m !== null && timingSafeEqual(sha256(m[1]!), this.tokenDigest);
  }
}

/**
 * The body, or undefined once it goes past maxBytes: reading stops there, and what came is dropped, never buffered
 * further.
 */
function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let total = 0;
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (total > maxBytes) {
        req.off("data", onData);
        req.pause();
        parts.length = 0;
        resolve(undefined);
        return;
      }
      parts.push(chunk);
    };
    req.on("data", onData);
    req.once("end", () => resolve(Buffer.concat(parts, total)));
    req.once("error", reject);
    req.once("aborted", () => reject(new Error("request aborted")));
  });
}

function answer(res: ServerResponse, status: number, error: string | undefined, headers: Record<string, string> = {}, close = false, body?: object): void {
  if (res.headersSent) return;
  const text = `${JSON.stringify(body ?? { error })}\n`;
  res.writeHead(status, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(text),
    ...headers,
    ...(close ? { Connection: "close" } : {}),
  });
  res.end(text);
}
