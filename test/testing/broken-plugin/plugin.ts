// A plugin made with the mistakes the conformance kit must catch, each one a plugin author could make:
// - badSchema: its row schema says `"type": "integr"` (no such JSON Schema type);
// - unstableIds: its source names every read of a file by a fresh upload id, so the rows' tp_id differ between reads;
// - unnamedError: its source refuses a bad `mode` with a plain Error, which reaches the user without the field;
// - openSchema: its source's config schema allows any field, so a typo in a field name is silently ignored.
// With none of them it is a correct plugin; with all of them it still collects its file into rows.
import { createHash } from "node:crypto";
import { randomUUID } from "node:crypto";
import { statSync } from "node:fs";
import { basename, resolve } from "node:path";
import { createJsonLinesMapper, createLinesLoader, invalidArgument, type ArtifactSourceFactory, type PluginDefinition, type TableDefinition } from "tailkit";

/** Which mistakes the plugin has. */
export interface Mistakes {
  badSchema?: boolean;
  unstableIds?: boolean;
  unnamedError?: boolean;
  openSchema?: boolean;
}

export const ALL_MISTAKES: Required<Mistakes> = { badSchema: true, unstableIds: true, unnamedError: true, openSchema: true };

/** The log file its fixture reads: 3 JSON lines. */
export const APP_LOG = resolve(import.meta.dirname, "app.log");

interface UploadConfig {
  path: string;
  mode?: string;
}

function uploadSource(m: Mistakes): ArtifactSourceFactory<UploadConfig> {
  return {
    type: "upload",
    description: "One local file, read as if it had been uploaded",
    configSchema: {
      type: "object",
      required: ["path"],
      properties: { path: { type: "string" }, mode: { type: "string" } },
      ...(m.openSchema ? {} : { additionalProperties: false }),
    },
    create(config) {
      if (config.mode !== undefined && config.mode !== "copy" && config.mode !== "link") {
        if (m.unnamedError) throw new Error(`unknown mode ${config.mode}`);
        throw invalidArgument("mode", `must be "copy" or "link", got ${JSON.stringify(config.mode)}`);
      }
      return {
        type: "upload",
        async *discover() {
          // The mistake: an id made at each read. Correct: an id of the file itself.
          const id = m.unstableIds ? randomUUID() : createHash("sha256").update(resolve(config.path)).digest("hex").slice(0, 16);
          const name = `${id}/${basename(config.path)}`;
          yield { name, location: `upload://${name}`, size: statSync(config.path).size, properties: {} };
        },
        download: async (info) => ({ info, path: config.path, bytes: statSync(config.path).size, release: async () => {} }),
      };
    },
  };
}

/** A plugin with the given mistakes. */
export function createTestPlugin(m: Mistakes): PluginDefinition {
  const log: TableDefinition = {
    name: "upload_log",
    description: "JSON lines with a time and a status",
    rowSchema: { type: "object", required: ["time"], properties: { time: { type: "string" }, status: { type: m.badSchema ? "integr" : "integer" } } },
    sources: { upload: {} },
    loader: () => createLinesLoader(),
    mappers: () => [createJsonLinesMapper()],
    enrich: (row) => ({ tp_timestamp: String(row["time"]) }),
  };
  return { name: "upload", version: "0.1.0", tables: [log], sources: [uploadSource(m)] };
}
