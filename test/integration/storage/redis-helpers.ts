import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createServer, type Socket } from "node:net";
import { Redis } from "ioredis";

/** The shared server the suite needs; tests fail (never skip) when it does not answer. */
export const REDIS = { host: "127.0.0.1", port: 6379 } as const;

/** Throws a loud error unless the shared Redis answers PING. */
export async function requireRedis(): Promise<void> {
  const client = new Redis({ ...REDIS, lazyConnect: true, connectTimeout: 1000, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    throw new Error(`these tests need Redis at ${REDIS.host}:${REDIS.port} and it did not answer: ${(err as Error).message}`);
  } finally {
    client.disconnect();
  }
}

/** A unique key prefix per test, so runs and tests never see each other's keys. */
export function uniquePrefix(): string {
  return `tailkit-test:${randomUUID()}:`;
}

/** Deletes every key under `prefix` on the shared server. */
export async function deletePrefix(prefix: string): Promise<void> {
  const client = new Redis({ ...REDIS, maxRetriesPerRequest: 1 });
  try {
    let cursor = "0";
    do {
      const [next, keys] = await client.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
      if (keys.length > 0) await client.del(...keys);
      cursor = next;
    } while (cursor !== "0");
  } finally {
    client.disconnect();
  }
}

/** Keys under `prefix` on the shared server. */
export async function keysUnder(prefix: string): Promise<string[]> {
  const client = new Redis({ ...REDIS, maxRetriesPerRequest: 1 });
  try {
    return await client.keys(`${prefix}*`);
  } finally {
    client.disconnect();
  }
}

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A private redis-server with no persistence, ready to answer; kill() stops it hard. `password` sets requirepass. */
export async function startPrivateRedis(
  port?: number,
  { password }: { password?: string } = {},
): Promise<{ port: number; proc: ChildProcess; kill: () => Promise<void> }> {
  const p = port ?? (await freePort());
  const args = ["--port", String(p), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
  if (password !== undefined) args.push("--requirepass", password);
  const proc = spawn("redis-server", args, { stdio: "ignore" });
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  const deadline = Date.now() + 5000;
  for (;;) {
    const client = new Redis({ host: "127.0.0.1", port: p, password, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    client.on("error", () => undefined);
    try {
      await client.connect();
      await client.ping();
      break;
    } catch {
      if (Date.now() > deadline) {
        proc.kill("SIGKILL");
        throw new Error(`private redis-server on port ${p} did not start`);
      }
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      client.disconnect();
    }
  }
  return {
    port: p,
    proc,
    kill: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
      await exited;
    },
  };
}

/**
 * A TCP server on 127.0.0.1 that accepts connections and never answers, as a stopped (SIGSTOP) Redis looks to a
 * client once the kernel has accepted the connection. close() drops the connections it holds.
 */
export async function startSilentServer(): Promise<{ port: number; accepted: () => number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on("error", () => undefined);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  return {
    port: (server.address() as { port: number }).port,
    accepted: () => accepted,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
