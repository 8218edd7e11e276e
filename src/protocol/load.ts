import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import type { ProtoGrpcType as PluginProto } from "./generated/plugin.js";
import type { ProtoGrpcType as ControllerProto } from "./generated/grpc_controller.js";

/** Options shared by the plugin and the host so both sides decode messages the same way. */
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

/** The folder holding proto/, found from this file whether it runs from src/ (tests) or dist/src/. */
export function protoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, "proto", "tailkit", "plugin", "v1", "plugin.proto"))) return join(dir, "proto");
    dir = dirname(dir);
  }
  throw new Error("tailkit: cannot find proto/tailkit/plugin/v1/plugin.proto next to the package");
}

/** Proto files served by every plugin, relative to protoRoot(). */
export const PROTO_FILES = ["tailkit/plugin/v1/plugin.proto", "plugin/grpc_controller.proto"];

let cached: { definition: protoLoader.PackageDefinition; plugin: PluginProto; controller: ControllerProto } | undefined;

/** Loads (once) the package definition and typed constructors of the plugin protocol. */
export function loadProtocol(): { definition: protoLoader.PackageDefinition; plugin: PluginProto; controller: ControllerProto } {
  if (cached) return cached;
  const definition = protoLoader.loadSync(PROTO_FILES, { ...LOADER_OPTIONS, includeDirs: [protoRoot()] });
  const loaded = grpc.loadPackageDefinition(definition);
  cached = {
    definition,
    plugin: loaded as unknown as PluginProto,
    controller: loaded as unknown as ControllerProto,
  };
  return cached;
}
