// The worker pool and a plugin module that calls serve() when imported: each worker reports the call instead of
// serving, the pool refuses the module (extraction goes on inline, saying why) and never starts more workers than it
// was given. Workers import compiled JavaScript, so this drives the built SDK in dist/ (`npm test` builds first).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkPluginModule, createExtractor } from "../../dist/src/collection/extract.js";
import type { ExtractedBatch, Extractor } from "../../dist/src/collection/types.js";
import type { LocalArtifact } from "../../dist/src/contract/source.js";
import { nginxAccessLogTable } from "../../dist/plugins/nginx/src/access-log.js";
import { nginxPlugin } from "../../dist/plugins/nginx/src/index.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
let dir: string;
let servingModule: string;
const extractors: Extractor[] = [];

beforeAll(async () => {
  dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), "tailkit-pool-"));
  const file = path.join(dir, "serving.mjs");
  const url = (p: string) => JSON.stringify(pathToFileURL(path.join(ROOT, p)).href);
  await fs.promises.writeFile(
    file,
    [
      `import { serve } from ${url("dist/src/plugin/index.js")};`,
      `import { nginxAccessLogTable } from ${url("dist/plugins/nginx/src/access-log.js")};`,
      `export const plugin = { name: "nginx", version: "0.1.0", module: import.meta.url, tables: [nginxAccessLogTable] };`,
      `await serve(plugin);`,
    ].join("\n"),
  );
  servingModule = pathToFileURL(file).href;
});
afterAll(async () => {
  await Promise.all(extractors.map((e) => e.close()));
  await fs.promises.rm(dir, { recursive: true, force: true });
});

function extractor(pluginModule: string, workers: number): Extractor {
  const spec = { table: nginxAccessLogTable, tableConfig: {}, partition: "default", sourceType: "file", sourceName: "file" };
  const e = createExtractor(spec, { pluginModule, pluginName: "nginx", workers });
  extractors.push(e);
  return e;
}

async function accessLog(name: string, lines: number): Promise<LocalArtifact> {
  const file = path.join(dir, name);
  const text = Array.from(
    { length: lines },
    (_, i) => `10.0.0.${i % 250} - - [26/Nov/2026:01:02:${String(i % 60).padStart(2, "0")} +0000] "GET /p/${i} HTTP/1.1" 200 ${i} "-" "curl/8"\n`,
  ).join("");
  await fs.promises.writeFile(file, text);
  return { info: { name, location: file, properties: {} }, path: file, bytes: text.length, release: async () => undefined };
}

async function rows(it: AsyncIterable<ExtractedBatch>): Promise<number> {
  let n = 0;
  for await (const out of it) n += out.batch.lines.length;
  return n;
}

describe("worker pool and a module that serves when imported", () => {
  it("refuses the module, extracts inline instead, and starts no more workers than it has", async () => {
    const e = extractor(servingModule, 2);
    const arts = await Promise.all([1, 2, 3, 4].map((k) => accessLog(`access-${k}.log`, 500)));
    const counts = await Promise.all(arts.map((a) => rows(e.extract(a))));
    expect(counts).toEqual([500, 500, 500, 500]);
    const s = e.stats();
    expect(s.mode).toBe("inline");
    expect(s.fallbackReason).toContain(`refusing module ${servingModule}: importing it calls serve()`);
    expect(s.workersStarted).toBeLessThanOrEqual(2);
    expect(s.workers).toBeLessThanOrEqual(2);
  });

  it("tells, from a worker's import, whether a module serves when imported and which tables its definition has", async () => {
    expect(await checkPluginModule({ pluginModule: servingModule, pluginName: "nginx", workers: 1 })).toMatchObject({
      servedFrom: expect.stringContaining(`${servingModule}:4:`),
      tables: ["nginx_access_log"],
    });
    expect(await checkPluginModule({ pluginModule: nginxPlugin.module!, pluginName: "nginx", workers: 1 })).toEqual({
      servedFrom: undefined,
      tables: ["nginx_access_log", "nginx_error_log"],
    });
    // Inline extraction imports nothing in a worker: nothing to check.
    expect(checkPluginModule({ pluginModule: nginxPlugin.module!, pluginName: "nginx", workers: 0 })).toBeUndefined();
  });
});
