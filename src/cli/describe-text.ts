import type { PluginDescription } from "../contract/plugin.js";

type Schema = Record<string, unknown>;

/** A schema's type in a few characters: `string`, `string (date-time)`, `string[]`, `string|null`, `"a"|"b"`. */
export function schemaType(schema: Schema): string {
  if (Array.isArray(schema["enum"])) return (schema["enum"] as unknown[]).map((v) => JSON.stringify(v)).join("|");
  const type = schema["type"];
  let text = Array.isArray(type) ? type.join("|") : typeof type === "string" ? type : "any";
  if (text === "array") {
    const items = schema["items"];
    text = items && typeof items === "object" && !Array.isArray(items) ? `${schemaType(items as Schema)}[]` : "array";
  }
  return typeof schema["format"] === "string" ? `${text} (${schema["format"]})` : text;
}

/** Rows of cells as columns two spaces apart, the last cell unpadded. */
function columns(rows: string[][], indent: string): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => `${indent}${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ")}`.trimEnd());
}

/** The fields of an object schema: name, type, required or not, default (the schema's or the given one), description. */
function fieldLines(schema: Schema, indent: string, defaults: Record<string, unknown> = {}): string[] {
  const properties = (schema["properties"] ?? {}) as Record<string, Schema>;
  const required = new Set((schema["required"] as string[] | undefined) ?? []);
  const names = Object.keys(properties);
  if (names.length === 0) return [`${indent}(no fields)`];
  return columns(
    names.map((name) => {
      const p = properties[name]!;
      const dflt = name in defaults ? defaults[name] : p["default"];
      return [
        name,
        schemaType(p),
        required.has(name) ? "required" : "optional",
        dflt === undefined ? "" : `default ${JSON.stringify(dflt)}`,
        typeof p["description"] === "string" ? p["description"] : "",
      ];
    }),
    indent,
  );
}

/** describe's text form: every table with its columns and config, every source with its config fields. */
export function formatDescription(d: PluginDescription): string {
  const lines = [`${d.plugin.name} ${d.plugin.version} (tailkit SDK ${d.plugin.sdkVersion})`, "", "Tables:"];
  for (const t of d.tables) {
    lines.push("", `  ${t.name}  [sources: ${t.sourceTypes.join(", ")}]`, `    ${t.description}`);
    for (const [src, defaults] of Object.entries(t.sourceDefaults)) {
      for (const [k, v] of Object.entries(defaults)) lines.push(`    ${src}.${k} default: ${JSON.stringify(v)}`);
    }
    if (t.dataSources.length > 0) lines.push(`    data sources: ${t.dataSources.map((r) => `${r.namespace}/${r.id} v${r.version}`).join(", ")}`);
    lines.push("    table config (--table-config):", ...fieldLines(t.configSchema, "      "));
    lines.push("    columns:", ...fieldLines(t.rowSchema, "      "));
  }
  lines.push("", "Sources:");
  for (const s of d.sources) {
    lines.push("", `  ${s.type}: ${s.description}`, "    config (--config):", ...fieldLines(s.configSchema, "      "));
  }
  if (d.dataSources.length > 0) {
    lines.push("", "Data sources:", "");
    lines.push(
      ...columns(
        d.dataSources.map((s) => [
          `${s.namespace}/${s.id}`,
          `v${s.version}`,
          s.writeable ? "writeable" : "read-only",
          `keys: ${s.keys.map((k) => k.name).join(", ")}`,
        ]),
        "  ",
      ),
    );
  }
  return `${lines.join("\n")}\n`;
}
