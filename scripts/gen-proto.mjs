// Generates TypeScript types for proto/ into src/protocol/generated (never edited by hand).
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const out = "src/protocol/generated";
rmSync(new URL(`../${out}`, import.meta.url), { recursive: true, force: true });
execFileSync(
  process.execPath,
  [
    "node_modules/@grpc/proto-loader/build/bin/proto-loader-gen-types.js",
    "--grpcLib=@grpc/grpc-js",
    `--outDir=${out}`,
    "--includeDirs=proto",
    "--keepCase",
    "--longs=Number",
    "--enums=String",
    "--defaults",
    "--oneofs",
    "--importFileExtension=.js",
    "--inputTemplate=%s__Input",
    "--outputTemplate=%s",
    "tailkit/plugin/v1/plugin.proto",
    "plugin/grpc_controller.proto",
  ],
  { cwd: root, stdio: "inherit" },
);
