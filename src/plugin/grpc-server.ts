import * as grpc from "@grpc/grpc-js";
import { ReflectionService } from "@grpc/reflection";
import { HealthImplementation } from "grpc-health-check";
import { Code, TailkitError } from "../errors/index.js";
import { HEALTH_SERVICE } from "./handshake.js";
import { eventToWire, fromUnixMs, loadProtocol } from "../protocol/index.js";
import type { CollectRequest, PluginServiceHandlers, GRPCControllerHandlers } from "../protocol/index.js";
import type { CollectOptions } from "../contract/plugin.js";
import type { PluginRuntime } from "./runtime.js";
import { dataSourceHandlers } from "./data-source-service.js";

/** Health service name go-plugin hosts check. */
export { HEALTH_SERVICE };

function parseJsonField(text: string, field: string): Record<string, unknown> | undefined {
  if (!text) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new TailkitError(Code.InvalidArgument, `${field}: malformed JSON: ${(err as Error).message}`, { field });
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TailkitError(Code.InvalidArgument, `${field}: must be a JSON object`, { field });
  }
  return value as Record<string, unknown>;
}

/** Wire CollectRequest → domain CollectOptions; throws INVALID_ARGUMENT naming a malformed JSON field. */
export function collectOptionsFromWire(req: CollectRequest): CollectOptions {
  const sourceConfig = parseJsonField(req.source?.config_json ?? "", "source.config_json");
  const tableConfig = parseJsonField(req.table_config_json, "table_config_json");
  const from = fromUnixMs(req.from_unix_ms);
  const to = fromUnixMs(req.to_unix_ms);
  return {
    table: req.table,
    partition: req.partition,
    source: { type: req.source?.type ?? "", ...(sourceConfig ? { config: sourceConfig } : {}) },
    ...(tableConfig ? { tableConfig } : {}),
    ...(from ? { from } : {}),
    ...(to ? { to } : {}),
    outputDir: req.output_dir,
    executionId: req.execution_id,
    rowsPerChunk: req.rows_per_chunk,
    state: req.state,
    recollect: req.recollect,
  };
}

function toServiceError(err: unknown): grpc.ServiceError {
  const e = TailkitError.from(err, Code.Internal);
  const md = new grpc.Metadata();
  if (e.details.field) md.set("tailkit-field", e.details.field);
  // TailkitError's codes are gRPC's numbers (src/errors), under grpc-js's own enum type.
  const code: grpc.status = e.code as number;
  return Object.assign(new Error(e.message), { code, details: e.message, metadata: md });
}

/** A grpc-js server with the plugin service, go-plugin's controller, health ("plugin") and reflection. Not yet bound. */
export function createPluginServer(runtime: PluginRuntime, onShutdown: () => void): grpc.Server {
  const { definition, plugin, controller } = loadProtocol();
  const server = new grpc.Server();

  const handlers: PluginServiceHandlers = {
    Describe: (_call, callback) => {
      const d = runtime.describe();
      callback(null, {
        plugin: { name: d.plugin.name, version: d.plugin.version, sdk_version: d.plugin.sdkVersion },
        tables: d.tables.map((t) => ({
          name: t.name,
          description: t.description,
          source_types: t.sourceTypes,
          row_schema_json: JSON.stringify(t.rowSchema),
          config_schema_json: JSON.stringify(t.configSchema),
          source_defaults: Object.entries(t.sourceDefaults).map(([source_type, v]) => ({ source_type, config_json: JSON.stringify(v) })),
          data_sources: t.dataSources,
        })),
        sources: d.sources.map((s) => ({ type: s.type, description: s.description, config_schema_json: JSON.stringify(s.configSchema) })),
        data_sources: d.dataSources.map((s) => ({
          namespace: s.namespace,
          id: s.id,
          version: s.version,
          writeable: s.writeable,
          keys: s.keys.map((k) => ({ name: k.name, description: k.description, schema_json: JSON.stringify(k.schema) })),
          value_schema_json: JSON.stringify(s.valueSchema),
          entry_schema_json: JSON.stringify(s.entrySchema),
        })),
      });
    },
    AddObserver: (call) => {
      // Headers go out at once so a host knows the observer is registered before it calls Collect.
      call.sendMetadata(new grpc.Metadata());
      const sub = runtime.observe().subscribe({
        next: (e) => {
          call.write({ event: eventToWire(e) });
        },
        complete: () => call.end(),
      });
      call.on("cancelled", () => sub.unsubscribe());
      call.on("close", () => sub.unsubscribe());
    },
    Collect: (call, callback) => {
      try {
        const executionId = runtime.collect(collectOptionsFromWire(call.request));
        const rowSchema = runtime.rowSchemaOf(executionId);
        callback(null, { execution_id: executionId, row_schema_json: rowSchema ? JSON.stringify(rowSchema) : "" });
      } catch (err) {
        callback(toServiceError(err));
      }
    },
    Shutdown: (_call, callback) => {
      callback(null, {});
      setImmediate(onShutdown);
    },
  };
  server.addService(plugin.tailkit.plugin.v1.PluginService.service, handlers);
  server.addService(plugin.tailkit.plugin.v1.DataSourceService.service, dataSourceHandlers(runtime.dataSources, toServiceError));

  const controllerHandlers: GRPCControllerHandlers = {
    Shutdown: (_call, callback) => {
      callback(null, {});
      setImmediate(onShutdown);
    },
  };
  server.addService(controller.plugin.GRPCController.service, controllerHandlers);

  const health = new HealthImplementation({ "": "SERVING", [HEALTH_SERVICE]: "SERVING" });
  health.addToServer(server);
  new ReflectionService(definition).addToServer(server);
  return server;
}
