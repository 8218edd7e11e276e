// The conformance kit judged on a plugin whose mistakes are known: with none it passes; with each one it fails, and
// its message names the check and says what is wrong, so the author knows what to fix.
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConformanceError, checkPlugin, runConformance, type ConformanceOptions } from "../../src/testing/index.js";
import { corePlugin } from "../../plugins/core/src/index.js";
import { ROOT, tempDir } from "../e2e/helpers.js";
import { ALL_MISTAKES, APP_LOG, createTestPlugin, type Mistakes } from "./broken-plugin/plugin.js";

const options: ConformanceOptions = {
  fixtures: { upload_log: { source: "upload", config: { path: APP_LOG }, rows: 3 } },
  invalidConfigs: [
    { table: "upload_log", source: { type: "upload", config: { path: APP_LOG, mode: "move" } }, field: "source.config.mode", label: "mode move" },
  ],
};

/** The failed checks' names, and the whole message, of a plugin with these mistakes. */
async function failures(m: Mistakes): Promise<{ names: string[]; message: string }> {
  const err = await checkPlugin(createTestPlugin(m), options).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (err === undefined) return { names: [], message: "" };
  expect(err).toBeInstanceOf(ConformanceError);
  const e = err as ConformanceError;
  return { names: e.report.failures.map((c) => c.name), message: e.message };
}

describe("the conformance kit", () => {
  it("passes the plugin without mistakes, having run every kind of check", async () => {
    const report = await checkPlugin(createTestPlugin({}), options);
    expect(report.passed).toBe(true);
    expect(report.checks.map((c) => c.name)).toEqual([
      "describe: names",
      "describe: descriptions",
      "describe: JSON Schemas valid",
      "fixtures: one for every table",
      "collects upload_log from upload",
      "rows of upload_log from upload satisfy the row schema",
      "tp_id stable across two reads of upload_log from upload",
      "bad config refused with a named field: upload_log from upload, unknown source config field",
      "bad config refused with a named field: upload_log from upload, unknown table config field",
      "bad config refused with a named field: upload_log from upload, path of the wrong type",
      "bad config refused with a named field: mode move",
    ]);
  });

  it("fails the broken plugin, one failed check per mistake, each saying what is wrong", async () => {
    const { names, message } = await failures(ALL_MISTAKES);
    expect(names).toEqual([
      "describe: JSON Schemas valid",
      "rows of upload_log from upload satisfy the row schema",
      "tp_id stable across two reads of upload_log from upload",
      "bad config refused with a named field: upload_log from upload, unknown source config field",
      "bad config refused with a named field: mode move",
    ]);
    expect(message).toMatch(/^plugin upload failed 5 of 11 conformance checks:/);
    expect(message).toContain(
      'table upload_log rowSchema breaks the JSON Schema meta-schema: /properties/status/type must be equal to one of the allowed values (it is "integr")',
    );
    expect(message).toContain("the row schema does not compile, so no row could be checked");
    expect(message).toMatch(/3 of 3 rows of the second read have a tp_id the first read did not give \(e\.g\. \S+\)/);
    expect(message).toContain('refused without naming the field (details.field is empty): "unknown mode move"');
    expect(message).toContain("accepted, though source.config.tailkit_conformance_unknown_field is no field of the source's config schema");
  });

  it.each([
    ["badSchema", ["describe: JSON Schemas valid", "rows of upload_log from upload satisfy the row schema"]],
    ["unstableIds", ["tp_id stable across two reads of upload_log from upload"]],
    ["unnamedError", ["bad config refused with a named field: mode move"]],
    ["openSchema", ["bad config refused with a named field: upload_log from upload, unknown source config field"]],
  ] as const)("fails a plugin whose only mistake is %s in that check alone", async (mistake, expected) => {
    expect((await failures({ [mistake]: true })).names).toEqual(expected);
  });

  it("fails rows that break the row schema, a wrong row count, a table without fixture and a field named wrong", async () => {
    const t = tempDir();
    const teapot = join(t.dir, "teapot.log");
    writeFileSync(
      teapot,
      `${JSON.stringify({ time: "2024-03-01T10:00:00Z", status: 200 })}\n${JSON.stringify({ time: "2024-03-01T10:00:01Z", status: "teapot" })}\n`,
    );
    const report = await runConformance(createTestPlugin({}), {
      fixtures: {
        upload_log: [
          { source: "upload", config: { path: join(import.meta.dirname, "broken-plugin", "plugin.ts") }, rows: 3, label: "a TypeScript file" },
          { source: "upload", config: { path: teapot }, label: "a teapot" },
        ],
        other_log: { config: {} },
      },
      invalidConfigs: [{ table: "upload_log", source: { type: "upload", config: { path: APP_LOG, mode: "move" } }, field: "source.config.path" }],
    }).finally(() => t.cleanup());
    const problems = Object.fromEntries(report.failures.map((c) => [c.name, c.problems.join("\n")]));
    expect(problems["rows of a teapot satisfy the row schema"]).toMatch(/^row 2 \(tp_id \S+\): row\/status must be integer$/);
    expect(problems["fixtures: one for every table"]).toContain("fixtures name table other_log, which the plugin does not have (it has upload_log)");
    // A TypeScript file read as JSON lines: every line a map error, no row.
    expect(problems["collects a TypeScript file"]).toMatch(/error event \(map\)/);
    expect(problems["collects a TypeScript file"]).toContain("gave 0 rows, the fixture expects 3");
    expect(problems["bad config refused with a named field: upload_log from upload"]).toContain(
      "refused naming field source.config.mode, expected source.config.path",
    );
  });

  it("fails an executable that does not start, quoting what it printed", async () => {
    const t = tempDir();
    try {
      const exe = join(t.dir, "tailkit-plugin-upload");
      writeFileSync(exe, "#!/bin/sh\necho 'cannot find module ./dist/main.js' >&2\nexit 1\n");
      chmodSync(exe, 0o755);
      const report = await runConformance(createTestPlugin({}), { ...options, executable: exe });
      expect(report.failures.map((c) => c.name)).toEqual(["executable starts and answers health"]);
      expect(report.failures[0]!.problems[0]).toContain("cannot find module ./dist/main.js");
    } finally {
      t.cleanup();
    }
  });

  it("checks a plugin's custom tables by their fixtures' definitions, and fails one that defines none or a bad one", async () => {
    const orders = join(ROOT, "sample/orders/orders-2024-03-01.csv");
    const good = {
      format: { type: "delimited" },
      columns: [
        { name: "tp_timestamp", source: "placed_at", type: "timestamp" },
        { name: "order_id", type: "integer" },
      ],
    };
    const passed = await runConformance(corePlugin, { fixtures: { orders: { config: { paths: [orders] }, tableConfig: { definition: good }, rows: 4 } } });
    expect(passed.failures).toEqual([]);
    expect(passed.checks.map((c) => c.name)).toContain("rows of orders from file satisfy the row schema");

    const none = await runConformance(corePlugin, { fixtures: {} });
    expect(none.failures.map((c) => c.problems).flat()).toContain(
      "the plugin makes custom tables: give a fixture of one, with the tableConfig that defines it",
    );
    const noTime = { ...good, columns: [{ name: "order_id", type: "integer" }] };
    const bad = await runConformance(corePlugin, { fixtures: { orders: { config: { paths: [orders] }, tableConfig: { definition: noTime } } } });
    const problems = bad.failures.find((c) => c.name === "custom tables made from their fixtures' table config")?.problems ?? [];
    expect(problems[0]).toMatch(/^custom table orders: its fixture's table config is refused: .*tp_timestamp/);
  });
});
