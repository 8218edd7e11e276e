import { describe, expect, it } from "vitest";
import { formatDescription, schemaType } from "../../src/cli/describe-text.js";
import { Code, TailkitError, createJsonLinesMapper, createLinesLoader, type TableDefinition } from "../../src/index.js";
import { PluginRuntime, TP_FIELDS } from "../../src/plugin/index.js";
import { tempDir } from "../e2e/helpers.js";

const table = (configSchema?: Record<string, unknown>): TableDefinition => ({
  name: "app_log",
  description: "JSON lines of an application",
  sources: { file: {} },
  rowSchema: {
    type: "object",
    required: ["msg"],
    properties: { msg: { type: "string", description: "the message" }, tp_index: { type: "string", description: "host name" } },
  },
  ...(configSchema ? { configSchema } : {}),
  loader: () => createLinesLoader(),
  mappers: () => [createJsonLinesMapper()],
  enrich: () => ({ tp_timestamp: 0 }),
});

function refusal(runtime: PluginRuntime, tableConfig: Record<string, unknown>): TailkitError {
  const out = tempDir();
  try {
    runtime.collect({ table: "app_log", source: { type: "file", config: { paths: [out.dir] } }, outputDir: out.dir, tableConfig });
  } catch (err) {
    return err as TailkitError;
  } finally {
    out.cleanup();
  }
  throw new Error("the table config was accepted");
}

describe("Describe", () => {
  it("publishes every tp_* field in each table's row schema, after its own columns, the ones every row has required", () => {
    const runtime = new PluginRuntime({ name: "p", version: "1", tables: [table()] });
    const schema = runtime.describe().tables[0]!.rowSchema as { properties: Record<string, { description?: string }>; required: string[] };
    expect(Object.keys(schema.properties)).toEqual(["msg", ...TP_FIELDS.map((f) => f.name)]);
    expect(schema.properties["tp_index"]!.description).toBe("host name");
    expect(schema.properties["tp_ingest_timestamp"]).toMatchObject({ type: "string", format: "date-time" });
    expect(schema.required).toEqual(["msg", ...TP_FIELDS.filter((f) => f.always).map((f) => f.name)]);
    expect(schema.required).not.toContain("tp_ips");
  });

  it("refuses a table config with an unknown field, as a source config is refused, naming it", () => {
    for (const configSchema of [undefined, { type: "object", properties: { level: { type: "string" } } }]) {
      const runtime = new PluginRuntime({ name: "p", version: "1", tables: [table(configSchema)] });
      const err = refusal(runtime, { levle: "debug" });
      expect(err).toBeInstanceOf(TailkitError);
      expect(err.code).toBe(Code.InvalidArgument);
      expect(err.details.field).toBe("table_config.levle");
      expect(err.message).toBe("table_config.levle: unknown field");
    }
  });
});

describe("describe's text form", () => {
  it("lists each table's columns and config, and each source's config fields with type, required, default and description", () => {
    const runtime = new PluginRuntime({
      name: "p",
      version: "1",
      tables: [table({ type: "object", properties: { level: { type: "string", default: "info", description: "least level kept" } } })],
    });
    const text = formatDescription(runtime.describe());
    const line = (start: string) => text.split("\n").find((l) => l.trimStart().startsWith(`${start} `)) ?? "";
    expect(line("msg")).toMatch(/^ +msg +string +required +the message$/);
    expect(line("tp_date")).toMatch(/tp_date +string \(date\) +required +the UTC day/);
    expect(line("tp_tags")).toMatch(/tp_tags +string\[\] +optional/);
    expect(line("level")).toMatch(/level +string +optional +default "info" +least level kept/);
    expect(line("paths")).toMatch(/paths +string\[\] +required +Folders to collect from, or single files/);
    expect(line("extensions")).toMatch(/extensions +string\[\] +optional/);
  });

  it("writes types briefly", () => {
    expect(schemaType({ type: ["integer", "null"] })).toBe("integer|null");
    expect(schemaType({ enum: ["OK", null] })).toBe('"OK"|null');
    expect(schemaType({ type: "array", items: { type: "string" } })).toBe("string[]");
    expect(schemaType({})).toBe("any");
  });
});
