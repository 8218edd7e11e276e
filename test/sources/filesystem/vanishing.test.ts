import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  createJsonLinesMapper,
  createLinesLoader,
  type ArtifactSourceFactory,
  type ErrorEvent,
  type PluginDefinition,
  type TableDefinition,
} from "../../../src/index.js";
import { collectInProcess } from "../../../src/testing/index.js";
import { createFileSystemSourceFactory, type FileSystemSourceConfig } from "../../../src/sources/filesystem/index.js";
import { tempDir } from "../../e2e/helpers.js";

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));
function scratch(): string {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return t.dir;
}

/**
 * The file source, with files removed at the moments a busy log folder removes them: `gone.log` once the walk has
 * listed its folder and yielded the file before it, `late.log` once discovery is done with it, just before download.
 */
function vanishingSource(root: string): ArtifactSourceFactory<FileSystemSourceConfig> {
  const files = createFileSystemSourceFactory();
  return {
    type: "vanishing",
    description: "the file source in a folder where files disappear",
    configSchema: files.configSchema,
    create(config) {
      const inner = files.create(config);
      return {
        type: "vanishing",
        async *discover(ctx) {
          for await (const a of inner.discover(ctx)) {
            yield a;
            if (a.name.endsWith("/first.log")) rmSync(join(root, "gone.log"));
          }
        },
        download(artifact, ctx) {
          if (artifact.name.endsWith("/late.log")) rmSync(artifact.location);
          return inner.download(artifact, ctx);
        },
      };
    },
  };
}

const table: TableDefinition = {
  name: "app_log",
  description: "JSON lines",
  sources: { vanishing: {} },
  rowSchema: { type: "object" },
  loader: () => createLinesLoader(),
  mappers: () => [createJsonLinesMapper()],
  enrich: (row) => ({ tp_timestamp: row["ts"] as string }),
};

describe("files that vanish between discovery and reading", () => {
  it("fail alone, each an artifact error naming it; the other files are collected", async () => {
    const root = scratch();
    const line = (user: string) => `${JSON.stringify({ ts: "2024-05-01T10:00:00Z", user })}\n`;
    for (const name of ["first", "gone", "late", "last"]) writeFileSync(join(root, `${name}.log`), line(name));
    const plugin: PluginDefinition = { name: "example", version: "1.0.0", tables: [table], sources: [vanishingSource(root)] };
    const res = await collectInProcess(plugin, { table: "app_log", source: { type: "vanishing", config: { paths: [root] } }, outputDir: scratch() });

    expect(res.complete.error).toBeUndefined();
    expect(res.rows.map((r) => r["user"]).sort()).toEqual(["first", "last"]);
    expect(res.complete.status.artifactsFailed).toBe(2);
    const errors = res.events.filter((e): e is ErrorEvent => e.type === "error");
    const label = root.split("/").pop()!;
    expect(errors.map((e) => [e.artifact, e.operation])).toEqual([
      [`${label}/gone.log`, "discover"],
      [`${label}/late.log`, "download"],
    ]);
    expect(errors[0]!.message).toContain(`${join(root, "gone.log")}: file skipped: does not exist`);
    expect(errors[1]!.message).toContain(`${join(root, "late.log")}: does not exist`);
  });
});
