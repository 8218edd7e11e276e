import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { ESLint } from "eslint";
import madge from "madge";
import tseslint from "typescript-eslint";
import { describe, expect, it } from "vitest";
import { pluginBoundary } from "../../scripts/plugin-boundary.js";

const root = fileURLToPath(new URL("../..", import.meta.url));

/** The npm packages whose CommonJS modules are loaded once `entry` is imported, as the built package resolves it. */
function packagesLoadedBy(entry: string): string[] {
  const script = `
    import { createRequire } from "node:module";
    await import(${JSON.stringify(entry)});
    const names = Object.keys(createRequire(import.meta.url).cache)
      .filter((k) => k.includes("/node_modules/"))
      .map((k) => k.split("/node_modules/").pop().split("/").slice(0, k.split("/node_modules/").pop().startsWith("@") ? 2 : 1).join("/"));
    console.log(JSON.stringify([...new Set(names)]));`;
  return JSON.parse(execFileSync(process.execPath, ["--input-type=module", "-e", script], { cwd: root, encoding: "utf8" })) as string[];
}

describe("the package's entry points", () => {
  it("import tailkit loads no module of gRPC (what a worker thread imports with a plugin's tables)", () => {
    expect(packagesLoadedBy("tailkit")).not.toContain("@grpc/grpc-js");
    // The check sees gRPC where it is: the plugin entry serves over it.
    expect(packagesLoadedBy("tailkit/plugin")).toContain("@grpc/grpc-js");
  });

  it("import tailkit loads no module of the AWS SDK: the S3 and CloudWatch Logs sources import it when they first read", () => {
    const loaded = packagesLoadedBy("tailkit");
    expect(loaded.filter((p) => p.startsWith("@aws-sdk/") || p.startsWith("@smithy/"))).toEqual([]);
    // The check sees the SDK when it is loaded.
    expect(packagesLoadedBy("@aws-sdk/client-s3")).toContain("@aws-sdk/client-s3");
  });

  it("a bundled plugin importing a path inside the source tree, or a deep path of the package, fails the lint", async () => {
    const eslint = new ESLint({
      cwd: root,
      overrideConfigFile: true,
      overrideConfig: [{ files: ["**/*.ts"], languageOptions: { parser: tseslint.parser } }, pluginBoundary],
    });
    const lint = async (code: string) => (await eslint.lintText(code, { filePath: `${root}/plugins/aws/src/example.ts` }))[0]!.messages.map((m) => m.ruleId);
    expect(await lint(`import { rawRow } from "../../../src/mappers/raw-row.js";\nexport { rawRow };\n`)).toEqual(["no-restricted-imports"]);
    expect(await lint(`import { x } from "tailkit/dist/src/collection/enrich.js";\nexport { x };\n`)).toContain("no-restricted-imports");
    expect(
      await lint(
        `import { defineTable } from "tailkit";\nimport { serve } from "tailkit/plugin";\nimport { isIp } from "./util.js";\nexport { defineTable, serve, isIp };\n`,
      ),
    ).toEqual([]);
  });

  it("src/ and plugins/ have no import cycles", async () => {
    const graph = await madge([`${root}src`, `${root}plugins`], { fileExtensions: ["ts"], tsConfig: `${root}tsconfig.json`, excludeRegExp: [/generated/] });
    expect(graph.circular()).toEqual([]);
  });
});
