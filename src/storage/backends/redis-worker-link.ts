import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from "node:worker_threads";
import { createRedisSession, type SessionEvent, type SessionOptions, type SessionReply } from "./redis-session.js";

interface Request {
  id: number;
  op: "connect" | "call" | "quit";
  args?: string[];
}

// Evaluated rather than loaded from a file: the worker then runs the same way from compiled dist/
// and from TypeScript sources under a test runner, which cannot load a .ts worker file.
const WORKER_SOURCE = `
const { workerData, parentPort } = require("node:worker_threads");
const createRedisSession = (${createRedisSession.toString()});
const ctrl = new Int32Array(workerData.ctrl);
const sessionPromise = import(workerData.ioredisUrl).then(
  (m) => createRedisSession(m.Redis, workerData.options, (event) => parentPort.postMessage(event)),
);
workerData.port.on("message", async (req) => {
  let reply;
  try {
    const session = await sessionPromise;
    reply = req.op === "connect" ? await session.connect() : req.op === "quit" ? await session.quit() : await session.call(req.args);
  } catch (err) {
    reply = { ok: false, kind: "reply", message: "redis worker: " + (err && err.message ? err.message : String(err)) };
  }
  workerData.port.postMessage({ id: req.id, reply });
  Atomics.store(ctrl, 0, req.id);
  Atomics.notify(ctrl, 0);
});
`;

/**
 * A Redis session run in a worker thread and called synchronously: the caller posts a request and
 * blocks in Atomics.wait until the worker bumps a shared counter, then reads the reply off the port.
 */
export class WorkerRedisLink {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly ctrl = new Int32Array(new SharedArrayBuffer(4));
  private nextId = 1;
  private readonly options: SessionOptions;

  constructor(options: SessionOptions, onEvent: (event: SessionEvent) => void) {
    this.options = options;
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const ioredisUrl = pathToFileURL(createRequire(import.meta.url).resolve("ioredis")).href;
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { ctrl: this.ctrl.buffer, port: port2, options, ioredisUrl },
      transferList: [port2],
    });
    this.worker.on("message", (event: SessionEvent) => onEvent(event));
    this.worker.on("error", (err) => onEvent({ type: "lost", reason: `redis worker failed: ${err.message}` }));
    // A handle the caller forgets to close must not keep the process alive.
    this.worker.unref();
  }

  connect(): SessionReply {
    // Worker start-up and loading ioredis come on top of the connect timeout.
    return this.request({ op: "connect" }, this.options.connectTimeout + 5000);
  }

  call(args: string[]): SessionReply {
    return this.request({ op: "call", args }, this.options.operationTimeout + 1000);
  }

  quit(): SessionReply {
    const reply = this.request({ op: "quit" }, this.options.operationTimeout + 1000);
    this.port.close();
    void this.worker.terminate();
    return reply;
  }

  /** Stops the worker without a request, after a failed connect (its session has already disconnected). */
  dispose(): void {
    this.port.close();
    void this.worker.terminate();
  }

  private request(req: Omit<Request, "id">, timeoutMs: number): SessionReply {
    const id = this.nextId++;
    this.port.postMessage({ ...req, id });
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const seen = Atomics.load(this.ctrl, 0);
      if (seen === id) break;
      const left = deadline - performance.now();
      if (left <= 0) return { ok: false, kind: "timeout", message: `redis worker gave no reply within ${timeoutMs} ms` };
      Atomics.wait(this.ctrl, 0, seen, left);
    }
    // Replies to requests that timed out earlier may still be queued ahead of ours: drop them.
    for (;;) {
      const msg = receiveMessageOnPort(this.port) as { message: { id: number; reply: SessionReply } } | undefined;
      if (!msg) return { ok: false, kind: "reply", message: "redis worker signalled a reply but none was queued" };
      if (msg.message.id === id) return msg.message.reply;
    }
  }
}
