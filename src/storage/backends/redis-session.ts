/** Outcome of one Redis call, as plain data so it can cross a worker boundary. */
export type SessionReply = { ok: true; value: unknown } | { ok: false; kind: "timeout" | "connection" | "auth" | "reply"; message: string };

/** Connection changes after open: "lost" when an established connection drops, "ready" when it is back. */
export type SessionEvent = { type: "lost"; reason: string } | { type: "ready" };

/** Connection settings of a session (structured-clonable: they are sent to the sync module's worker). */
export interface SessionOptions {
  host: string;
  port: number;
  db: number;
  username: string | undefined;
  password: string | undefined;
  connectTimeout: number;
  operationTimeout: number;
}

/** One Redis connection with results as data, never exceptions. */
export interface RedisSession {
  connect(): Promise<SessionReply>;
  call(args: string[]): Promise<SessionReply>;
  quit(): Promise<SessionReply>;
}

/** The part of an ioredis client a session uses. */
export interface RedisClientLike {
  on(event: string, listener: (arg: never) => void): unknown;
  connect(): Promise<unknown>;
  call(command: string, ...args: string[]): Promise<unknown>;
  quit(): Promise<unknown>;
  disconnect(): void;
}

/**
 * Creates a session over ioredis. This function is also sent as source text to the worker the
 * sync module uses, so it must stay self-contained: no imports, no module-level helpers.
 */
export function createRedisSession(
  RedisClient: new (options: Record<string, unknown>) => RedisClientLike,
  o: SessionOptions,
  emit: (event: SessionEvent) => void,
): RedisSession {
  let opened = false;
  let ready = false;
  let closing = false;
  let lastError = "";
  const client = new RedisClient({
    host: o.host,
    port: o.port,
    db: o.db,
    username: o.username,
    password: o.password,
    lazyConnect: true,
    connectTimeout: o.connectTimeout,
    commandTimeout: o.operationTimeout,
    // Fail commands at once while disconnected instead of queueing them for an unknown time.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    // No retry before the first success, so open() fails fast; afterwards reconnect with capped backoff.
    retryStrategy: (times: number) => (opened && !closing ? Math.min(times * 100, 2000) : null),
  });
  client.on("error", (err: Error) => {
    lastError = err.message;
  });
  client.on("ready", () => {
    ready = true;
    lastError = "";
    if (opened) emit({ type: "ready" });
  });
  client.on("close", () => {
    if (!ready) return;
    ready = false;
    if (opened && !closing) emit({ type: "lost", reason: `connection to ${o.host}:${o.port} closed${lastError ? ` (${lastError})` : ""}` });
  });
  const failure = (err: unknown): SessionReply => {
    const message = err instanceof Error ? err.message : String(err);
    if (/timed out/i.test(message)) return { ok: false, kind: "timeout", message };
    if (!ready || /closed|writeable|max retries|ECONN|EPIPE/i.test(message)) {
      return { ok: false, kind: "connection", message: lastError && !message.includes(lastError) ? `${message} (${lastError})` : message };
    }
    return { ok: false, kind: "reply", message };
  };
  return {
    async connect() {
      // ioredis's connectTimeout ends at the TCP connect; a server that accepts and never answers (stopped, or
      // wedged) would hold the handshake for as long as its commands wait. This bounds the whole open.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timedOut = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), o.connectTimeout);
      });
      const outcome = await Promise.race([
        client.connect().then(
          () => "ready" as const,
          (err: unknown) => ({ err }),
        ),
        timedOut,
      ]);
      clearTimeout(timer);
      if (outcome === "ready") {
        opened = true;
        return { ok: true, value: null };
      }
      // Not opened, so the retry strategy stops here; a late "ready" finds the client already disconnected.
      client.disconnect();
      if (outcome === "timeout") return { ok: false, kind: "timeout", message: `no reply within connectTimeout (${o.connectTimeout} ms)` };
      const message = lastError || (outcome.err instanceof Error ? outcome.err.message : String(outcome.err));
      if (/^(WRONGPASS|NOAUTH)\b|invalid password|invalid username-password/i.test(message)) {
        const none = o.password === undefined && /^NOAUTH\b/.test(message);
        return { ok: false, kind: "auth", message: none ? `the server requires a password and none was given (${message})` : message };
      }
      return { ok: false, kind: "connection", message };
    },
    async call(args) {
      try {
        return { ok: true, value: await client.call(args[0]!, ...args.slice(1)) };
      } catch (err) {
        return failure(err);
      }
    },
    async quit() {
      closing = true;
      try {
        await client.quit();
        return { ok: true, value: null };
      } catch (err) {
        client.disconnect();
        return failure(err);
      }
    },
  };
}
