// serve() checks the definition's module at start: a plugin whose module serves again when imported (the shape the
// README once showed), or exports no such definition, is refused before its handshake, saying why and what to do. The
// plugins here are small executables written at test time against the built SDK in dist/ (`npm test` builds first).
import { spawn } from "node:child_process";
import { chmodSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE } from "../../src/plugin/handshake.js";
import { ROOT, childOf, runCli, tempDir } from "./helpers.js";

const SDK = pathToFileURL(join(ROOT, "dist", "src", "plugin", "index.js")).href;
const NGINX_TABLE = pathToFileURL(join(ROOT, "dist", "plugins", "nginx", "src", "access-log.js")).href;
// The table reads S3 too: a plugin offering it offers that source.
const S3_SOURCE = `import { createS3SourceFactory } from ${JSON.stringify(pathToFileURL(join(ROOT, "dist", "src", "index.js")).href)};`;

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

/** Writes the files of a plugin into a fresh folder; the executable one gets a shebang and its x bit. */
function plugin(files: Record<string, string>, executable: string): string {
  const t = tempDir("tailkit-serve-module-");
  cleanups.push(t.cleanup);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(t.dir, name), name === executable ? `#!/usr/bin/env node\n${text}` : text);
  chmodSync(join(t.dir, executable), 0o755);
  return join(t.dir, executable);
}

/** The README's old example: the module that names itself as the definition's module also calls serve(). */
function servingModule(): string {
  return plugin(
    {
      "main.mjs": [
        `import { serve } from ${JSON.stringify(SDK)};`,
        // On the import's line, so that serve() stays on line 5.
        `import { nginxAccessLogTable } from ${JSON.stringify(NGINX_TABLE)}; ${S3_SOURCE}`,
        `export const plugin = { name: "example", version: "0.1.0", module: import.meta.url, tables: [nginxAccessLogTable], sources: [createS3SourceFactory()] };`,
        `await serve(plugin);`,
      ].join("\n"),
    },
    "main.mjs",
  );
}

/** Runs a plugin executable as a host would start it (the magic cookie set), to its end or for `ms`, then SIGTERM. */
function runPlugin(path: string, ms: number): Promise<{ code: number | null; stdout: string; stderr: string; children: number }> {
  return new Promise((resolve) => {
    const child = spawn(path, [], { env: { ...process.env, [MAGIC_COOKIE_KEY]: MAGIC_COOKIE_VALUE }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let children = 0;
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const poll = setInterval(() => {
      if (child.pid !== undefined && childOf(child.pid) !== undefined) children++;
    }, 50);
    const stop = setTimeout(() => {
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 10_000).unref();
    }, ms);
    child.on("close", (code) => {
      clearInterval(poll);
      clearTimeout(stop);
      resolve({ code, stdout, stderr, children });
    });
  });
}

describe("serve() and the definition's module", () => {
  it("refuses a module that calls serve() when imported: exit 1 before any handshake, saying which module and what to do", async () => {
    const main = servingModule();
    const res = await runPlugin(main, 20_000);
    expect(res.code).toBe(1);
    // No handshake line, from this process or any worker of it, and no process of its own started.
    expect(res.stdout).toBe("");
    expect(res.children).toBe(0);
    expect(res.stderr).toContain(
      `plugin example: refusing module ${pathToFileURL(main).href}: importing it calls serve() (from ${pathToFileURL(main).href}:5:`,
    );
    expect(res.stderr).toContain("Export the plugin definition from a module that does not call serve()");
    expect(res.stderr).toContain("call serve() from the executable's entry");
    // Its private socket folder went with it.
    expect(readdirSync(process.env["TMPDIR"]!).filter((n) => n.startsWith("tailkit-plugin-"))).toEqual([]);
  });

  it("makes the host report that the plugin failed to start, quoting the refusal", async () => {
    const main = servingModule();
    const res = await runCli(["describe", main]);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain("exited with code 1 before its handshake");
    expect(res.stderr).toContain("importing it calls serve()");
  });

  it("refuses a module that exports no definition of the plugin's name, and one whose definition lacks its tables", async () => {
    const main = (definitionModule: string) =>
      plugin(
        {
          "definition.mjs": definitionModule,
          "main.mjs": [
            `import { serve } from ${JSON.stringify(SDK)};`,
            `import { nginxAccessLogTable } from ${JSON.stringify(NGINX_TABLE)};`,
            S3_SOURCE,
            `await serve({ name: "example", version: "0.1.0", module: new URL("./definition.mjs", import.meta.url).href, tables: [nginxAccessLogTable], sources: [createS3SourceFactory()] });`,
          ].join("\n"),
        },
        "main.mjs",
      );
    const none = main(`export const plugin = { name: "other", version: "0.1.0", tables: [] };\n`);
    const res = await runPlugin(none, 20_000);
    expect(res.code).toBe(1);
    expect(res.stdout).toBe("");
    expect(res.stderr).toContain(`${pathToFileURL(join(none, "..", "definition.mjs")).href} exports no plugin definition named example`);
    expect(res.stderr).toContain("Set module: import.meta.url in the module that exports the definition");

    const lacking = main(`export const plugin = { name: "example", version: "0.1.0", tables: [] };\n`);
    const res2 = await runPlugin(lacking, 20_000);
    expect(res2.code).toBe(1);
    expect(res2.stderr).toMatch(/exports has no table nginx_access_log/);
  });

  it("serves a plugin whose definition module does not call serve(), with one handshake line", async () => {
    const main = plugin(
      {
        "plugin.mjs": [
          `import { nginxAccessLogTable } from ${JSON.stringify(NGINX_TABLE)};`,
          S3_SOURCE,
          `export const plugin = { name: "example", version: "0.1.0", module: import.meta.url, tables: [nginxAccessLogTable], sources: [createS3SourceFactory()] };`,
        ].join("\n"),
        "main.mjs": [`import { serve } from ${JSON.stringify(SDK)};`, `import { plugin } from "./plugin.mjs";`, `await serve(plugin);`].join("\n"),
      },
      "main.mjs",
    );
    const res = await runCli(["describe", main, "--output", "json"]);
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ plugin: { name: "example" } });
    // Run by hand past the time its workers take to import the module: still one line, and no process of its own.
    const direct = await runPlugin(main, 3000);
    expect(direct.code).toBe(0);
    expect(direct.stdout.split("\n").filter((l) => l.length > 0)).toEqual([expect.stringMatching(/^1\|1\|unix\|.+\|grpc$/)]);
    expect(direct.children).toBe(0);
  });
});
