// serve() off the main thread: in any worker thread it returns at once, binding, printing and starting nothing. Worker
// threads run compiled JavaScript, so the worker here imports the built SDK in dist/ (`npm test` builds first).
import { readdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { afterEach, describe, expect, it } from "vitest";
import { MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE } from "../../src/plugin/handshake.js";
import { tempDir } from "../e2e/helpers.js";

const ROOT = resolve(import.meta.dirname, "../..");
const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

describe("serve() in a worker thread", () => {
  it("returns at once and does nothing: no output, no socket, nothing left to keep the thread alive", async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const file = join(t.dir, "worker.mjs");
    const url = (p: string) => JSON.stringify(pathToFileURL(join(ROOT, p)).href);
    writeFileSync(
      file,
      [
        `import { parentPort } from "node:worker_threads";`,
        `import { serve } from ${url("dist/src/plugin/index.js")};`,
        `import { nginxPlugin } from ${url("dist/plugins/nginx/src/index.js")};`,
        `await serve(nginxPlugin);`,
        `parentPort.postMessage("returned");`,
      ].join("\n"),
    );
    // As if in a plugin process started by a host: on the main thread this would serve.
    const worker = new Worker(new URL(pathToFileURL(file).href), {
      env: { ...process.env, [MAGIC_COOKIE_KEY]: MAGIC_COOKIE_VALUE },
      stdout: true,
      stderr: true,
    });
    let out = "";
    worker.stdout.on("data", (d: Buffer) => (out += d.toString()));
    worker.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const messages: unknown[] = [];
    worker.on("message", (m) => messages.push(m));
    // A bound server, or workers of its own, would keep the thread running: it ends by itself.
    const code = await new Promise<number>((done, fail) => {
      worker.once("exit", done);
      worker.once("error", fail);
    });
    expect(code).toBe(0);
    expect(messages).toEqual(["returned"]);
    expect(out).toBe("");
    expect(readdirSync(process.env["TMPDIR"]!).filter((n) => n.startsWith("tailkit-plugin-"))).toEqual([]);
  });
});
