// The custom table docs/PLUGIN-GUIDE.md shows is real: its YAML, as the guide prints it, collects the app log of the
// guide's first example through the core plugin.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { corePlugin } from "../../plugins/core/src/index.js";
import { collectInProcess } from "../../src/testing/index.js";
import { ROOT, scratchDirs } from "../e2e/helpers.js";

const scratch = scratchDirs();

/** Each ```yaml block after a `<!-- guide-table-def: NAME -->` line of the guide. */
function guideTableDefs(): Record<string, string> {
  const guide = readFileSync(join(ROOT, "docs", "PLUGIN-GUIDE.md"), "utf8");
  const defs: Record<string, string> = {};
  for (const m of guide.matchAll(/<!-- guide-table-def: (\S+) -->\n+```yaml\n([\s\S]*?)```/g)) defs[m[1]!] = m[2]!;
  return defs;
}

describe("docs/PLUGIN-GUIDE.md's custom table", () => {
  it("collects the guide's app log by the guide's definition alone; a line that does not fit is a row error", async () => {
    const defs = guideTableDefs();
    expect(Object.keys(defs)).toEqual(["my_app.yaml"]);
    const dir = scratch();
    const log = join(dir, "app.log");
    writeFileSync(log, "2024-03-01T12:00:00Z WARN alice disk almost full\n2024-03-01T12:00:05Z INFO - backup done\nnot a log line\n");
    const res = await collectInProcess(corePlugin, {
      table: "my_app",
      source: { type: "file", config: { paths: [log] } },
      tableConfig: { definition: parseYaml(defs["my_app.yaml"]!) as Record<string, unknown> },
      outputDir: join(dir, "out"),
    });
    expect(res.rows.map((r) => [r["tp_timestamp"], r["level"], r["user"], r["message"]])).toEqual([
      ["2024-03-01T12:00:00.000Z", "warn", "alice", "disk almost full"],
      ["2024-03-01T12:00:05.000Z", "info", null, "backup done"],
    ]);
    expect(res.complete.status.rowErrors).toEqual({ map: 1 });
  });
});
