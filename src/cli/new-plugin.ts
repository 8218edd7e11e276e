import { chmodSync, existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { dirname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { Code, TailkitError } from "../errors/index.js";

// `tailkit new plugin <name>`: a plugin that works as written, to change rather than to write from nothing. What it
// writes is built and tested by test/e2e/new-plugin.test.ts exactly as a user would: npm install, npm test, collect.

/** Lowercase letters and digits joined by single hyphens: a folder, an npm package and a `tailkit-plugin-<name>`. */
const NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const MAX_NAME = 40;

/** The tailkit package this code runs from: the folder of the nearest package.json named "tailkit" above it. */
export function tailkitPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "tailkit") return dir;
    const up = dirname(dir);
    if (up === dir) throw new TailkitError(Code.Internal, `no package.json of tailkit above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

interface TailkitPackage {
  root: string;
  version: string;
  devDependencies: Record<string, string>;
}

function tailkitPackage(): TailkitPackage {
  const root = realpathSync(tailkitPackageRoot());
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string; devDependencies?: Record<string, string> };
  return { root, version: pkg.version, devDependencies: pkg.devDependencies ?? {} };
}

/**
 * How the new plugin depends on this tailkit: by version when this tailkit was installed (it lives in a node_modules
 * folder: the registry has it), else by a `file:` path to it (a checkout, a link), which installs offline.
 */
export function tailkitDependency(pkg: Pick<TailkitPackage, "root" | "version"> = tailkitPackage()): string {
  return pkg.root.split(sep).includes("node_modules") ? `^${pkg.version}` : `file:${pkg.root}`;
}

/** Why a plugin name cannot be used, or undefined when it can. */
export function pluginNameProblem(name: string): string | undefined {
  if (name.length === 0) return "is empty";
  if (name.length > MAX_NAME) return `is longer than ${MAX_NAME} characters`;
  if (!NAME.test(name)) return "must be lowercase letters and digits, joined by single hyphens, starting with a letter (e.g. myapp, my-app)";
  if (name.startsWith("tailkit-plugin-")) return `must not start with tailkit-plugin- (the executable is named tailkit-plugin-<name>: try ${name.slice(15)})`;
  return undefined;
}

/** What createPluginScaffold made. */
export interface PluginScaffold {
  dir: string;
  table: string;
  files: string[];
}

/**
 * Writes a working plugin into `<parent>/<name>`: package.json (depending on this tailkit), tsconfig, one table, one
 * fixture, a test that runs the conformance kit, a README and the executable. Refuses a bad name and an existing path.
 */
export function createPluginScaffold(name: string, parent: string): PluginScaffold {
  const problem = pluginNameProblem(name);
  if (problem !== undefined) throw new TailkitError(Code.InvalidArgument, `plugin name ${JSON.stringify(name)} ${problem}`, { field: "name" });
  const dir = resolve(parent, name);
  if (existsSync(dir)) throw new TailkitError(Code.AlreadyExists, `${dir} already exists: choose another name, or move it away first`, { field: "name" });
  const pkg = tailkitPackage();
  const table = `${name.replace(/-/g, "_")}_log`;
  const files = scaffoldFiles(name, table, tailkitDependency(pkg), pkg.devDependencies);
  for (const [path, text] of Object.entries(files)) {
    const file = join(dir, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  chmodSync(join(dir, "bin", `tailkit-plugin-${name}`), 0o755);
  return { dir, table, files: Object.keys(files) };
}

/** The files of a new plugin, by path. */
function scaffoldFiles(name: string, table: string, tailkit: string, devDependencies: Record<string, string>): Record<string, string> {
  const exe = `tailkit-plugin-${name}`;
  const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;
  return {
    "package.json": json({
      name: exe,
      version: "0.1.0",
      description: `A tailkit plugin: the ${table} table`,
      private: true,
      type: "module",
      bin: { [exe]: `bin/${exe}` },
      scripts: {
        build: "tsc -p tsconfig.json",
        prepare: "npm run build",
        test: "npm run build && node --test dist/test/plugin.test.js",
      },
      engines: { node: ">=20" },
      dependencies: { tailkit },
      // The compiler this tailkit is built with, and the types of the Node it supports.
      devDependencies: { "@types/node": devDependencies["@types/node"] ?? "^20", typescript: devDependencies["typescript"] ?? "^5.9" },
    }),
    "tsconfig.json": json({
      compilerOptions: {
        target: "ES2022",
        module: "nodenext",
        moduleResolution: "nodenext",
        strict: true,
        noUncheckedIndexedAccess: true,
        verbatimModuleSyntax: true,
        rootDir: ".",
        outDir: "dist",
        sourceMap: true,
        skipLibCheck: true,
        types: ["node"],
      },
      include: ["src", "test"],
    }),
    ".gitignore": "node_modules/\ndist/\nout/\n",
    [`bin/${exe}`]: `#!/usr/bin/env node\n// The plugin executable that hosts launch; built from src/ by \`npm run build\`.\nimport "../dist/src/main.js";\n`,
    "src/plugin.ts": `import { chain, createLinesLoader, createRegexMapper, defineTable, type PluginDefinition } from "tailkit";

// Lines like: 2024-03-01T12:00:00Z WARN alice disk almost full
/** A row of ${table}, as the regex mapper makes it from one line. */
export interface LogRow {
  time: string;
  level: string;
  user: string;
  message: string;
}

/** The table: where its rows come from (files, read line by line), what they hold, and their tp_* fields. */
export const logTable = defineTable({
  name: "${table}",
  description: "Log lines of ${name}: time, level, user and message.",
  rowSchema: {
    type: "object",
    required: ["time", "level", "user", "message"],
    properties: {
      time: { type: "string", format: "date-time", description: "when it happened" },
      level: { type: "string", description: "DEBUG, INFO, WARN or ERROR" },
      user: { type: "string", description: "who did it" },
      message: { type: "string", description: "what happened" },
    },
  },
  sources: {
    file: {
      loader: () => createLinesLoader(),
      mappers: () => chain(createRegexMapper<LogRow>(/^(?<time>\\S+) (?<level>[A-Z]+) (?<user>\\S+) (?<message>.*)$/)),
    },
  },
  enrich: (row: LogRow) => ({ tp_timestamp: row.time, tp_usernames: [row.user] }),
});

/** The plugin: its name (what \`tailkit collect <name>\` takes), version and tables. */
export const plugin: PluginDefinition = { name: "${name}", version: "0.1.0", module: import.meta.url, tables: [logTable] };
`,
    "src/main.ts": `import { serve } from "tailkit/plugin";
import { plugin } from "./plugin.js";

// The executable's entry (bin/${exe}): serves the plugin over gRPC to the host that started it.
await serve(plugin);
`,
    [`fixtures/${name}.log`]: [
      "2024-03-01T12:00:00Z WARN alice disk almost full",
      "2024-03-01T12:00:05Z INFO bob logged in",
      "2024-03-02T08:30:00Z ERROR carol cannot write /var/data",
      "",
    ].join("\n"),
    "test/plugin.test.ts": `import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { checkPlugin, collectInProcess } from "tailkit/testing";
import { plugin } from "../src/plugin.js";

// Run from dist/test/, so the project's folders are two levels up.
const project = (path: string) => fileURLToPath(new URL(\`../../\${path}\`, import.meta.url));
const FIXTURES = project("fixtures");

test("the plugin passes tailkit's conformance kit", async () => {
  // Describe, schemas, the fixture collected into valid rows, stable tp_id, bad config refused, and the executable
  // launched as a host does. Throws a message listing every failed check.
  await checkPlugin(plugin, {
    fixtures: { ${table}: { config: { paths: [FIXTURES] }, rows: 3 } },
    executable: project("bin/${exe}"),
  });
});

test("the fixture's lines become rows with their fields", async () => {
  const out = mkdtempSync(join(tmpdir(), "${name}-test-"));
  try {
    const { rows } = await collectInProcess(plugin, { table: "${table}", source: { type: "file", config: { paths: [FIXTURES] } }, outputDir: out });
    assert.deepEqual(
      rows.map((r) => [r["level"], r["user"], r["tp_timestamp"]]),
      [
        ["WARN", "alice", "2024-03-01T12:00:00.000Z"],
        ["INFO", "bob", "2024-03-01T12:00:05.000Z"],
        ["ERROR", "carol", "2024-03-02T08:30:00.000Z"],
      ],
    );
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
`,
    "README.md": `# ${exe}

A [tailkit](https://www.npmjs.com/package/tailkit) plugin with one table, \`${table}\`: log lines such as

\`\`\`
2024-03-01T12:00:00Z WARN alice disk almost full
\`\`\`

## Use it

\`\`\`sh
npm install                 # installs tailkit and TypeScript, and builds dist/
npm test                    # builds, then runs test/plugin.test.ts (node --test): the conformance kit and the rows
npx tailkit collect . --table ${table} --path fixtures --out out/
npx tailkit query --out out/ "select level, count(*) from ${table} group by level"
\`\`\`

## Make it yours

- \`src/plugin.ts\`: the table. Change the regex and \`LogRow\` to your lines, \`rowSchema\` to the fields your rows
  have, and \`enrich\` to say where each row's time (and users, IPs, ...) come from.
- \`fixtures/\`: a few lines of your real log; update the row count in \`test/plugin.test.ts\`.
- \`test/plugin.test.ts\`: \`checkPlugin\` from \`tailkit/testing\` fails with a message naming every check your plugin
  breaks; keep it passing.
- \`bin/${exe}\`: the executable a host launches. Put it on PATH (\`npm link\`) and \`tailkit collect ${name} ...\` finds it.

tailkit's docs/PLUGIN-GUIDE.md shows each extension point: sources, loaders, mappers, tables, custom tables, storage.
`,
  };
}
