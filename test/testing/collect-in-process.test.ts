import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { Code, TailkitError, createJsonLinesMapper, createLinesLoader, type PluginDefinition, type TableDefinition } from "../../src/index.js";
import { collectInProcess } from "../../src/testing/index.js";
import { tempDir } from "../e2e/helpers.js";

/** A table a plugin author might write: JSON lines with a `ts` and a `user`. */
const appLog: TableDefinition = {
  name: "app_log",
  description: "JSON lines written by an application",
  sources: { file: { defaults: { file_layout: "{host}/{year:\\d{4}}-{month:\\d{2}}-{day:\\d{2}}.log{gz:(\\.gz)?}" } } },
  rowSchema: { type: "object" },
  loader: () => createLinesLoader(),
  mappers: () => [createJsonLinesMapper()],
  enrich: (row, ctx) => ({ tp_timestamp: row["ts"] as string, tp_index: ctx.artifact.properties["host"] ?? "default", tp_usernames: [String(row["user"])] }),
};
const plugin: PluginDefinition = { name: "example", version: "1.0.0", tables: [appLog] };

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));
function scratch(): string {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return t.dir;
}

describe("collectInProcess (the SDK's helper for plugin authors' tests)", () => {
  it("runs a plugin's table through the real pipeline and returns its events and rows", async () => {
    const data = scratch();
    mkdirSync(join(data, "web1"));
    mkdirSync(join(data, "web2"));
    const line = (i: number) => JSON.stringify({ ts: `2024-05-0${1 + (i % 3)}T10:00:0${i % 10}Z`, user: `u${i}` });
    writeFileSync(join(data, "web1", "2024-05-01.log"), `${[0, 1, 2].map(line).join("\n")}\n`);
    writeFileSync(join(data, "web2", "2024-05-02.log.gz"), gzipSync(`${[3, 4].map(line).join("\n")}\n{not json\n${line(5)}\n`));
    writeFileSync(join(data, "web2", "notes.txt"), "not part of the layout");

    const out = scratch();
    const res = await collectInProcess(plugin, { table: "app_log", source: { type: "file", config: { paths: [data] } }, outputDir: out });
    expect(res.complete.error).toBeUndefined();
    expect(res.rows.map((r) => r["user"]).sort()).toEqual(["u0", "u1", "u2", "u3", "u4", "u5"]);
    expect(res.rows.find((r) => r["user"] === "u3")).toMatchObject({ tp_index: "web2", tp_usernames: ["u3"], tp_table: "app_log" });
    const err = res.events.find((e) => e.type === "error");
    expect(err).toMatchObject({ operation: "map", rowIndex: 3 });
    expect(err && "message" in err ? err.message : "").toContain("2024-05-02.log.gz");
    expect(res.complete.status.artifactsDiscovered).toBe(2);
  });

  it("rejects an unknown table at once, naming the field", async () => {
    const err = await collectInProcess(plugin, { table: "nope", source: { type: "file", config: { paths: ["/tmp"] } }, outputDir: scratch() }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TailkitError);
    expect((err as TailkitError).code).toBe(Code.InvalidArgument);
    expect((err as TailkitError).details.field).toBe("table");
  });
});
