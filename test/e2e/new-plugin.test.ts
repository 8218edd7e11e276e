// `tailkit new plugin <name>` as a plugin author uses it, in a scratch folder: the plugin it writes installs offline
// (its tailkit is this checkout, by a file: path), passes its own test (node --test: the conformance kit, its
// executable launched through gRPC), and its fixture is collected through the CLI given the plugin's folder. The
// TypeScript examples of docs/PLUGIN-GUIDE.md are compiled in that project, against the package as it installed it.
import { cpSync, existsSync, mkdirSync, readFileSync, realpathSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, readChunks, runCli, runProcess, tempDir, type RunResult } from "./helpers.js";

let work: { dir: string; cleanup: () => void };
let project: string;
let created: RunResult;
let installed: RunResult;

function ok(res: RunResult, what: string): RunResult {
  expect(res.code, `${what}:\n${res.stdout}\n${res.stderr}`).toBe(0);
  return res;
}

/** The guide's examples: each ```ts block after a `<!-- guide-example: PATH -->` line. */
function guideExamples(): Record<string, string> {
  const guide = readFileSync(join(ROOT, "docs", "PLUGIN-GUIDE.md"), "utf8");
  const files: Record<string, string> = {};
  for (const m of guide.matchAll(/<!-- guide-example: (\S+) -->\n+```ts\n([\s\S]*?)```/g)) files[m[1]!] = m[2]!;
  return files;
}

beforeAll(async () => {
  work = tempDir("tailkit-new-plugin-");
  project = join(work.dir, "my-app");
  created = await runCli(["new", "plugin", "my-app"], {}, work.dir);
  if (created.code !== 0) return;
  // What the registry would give: the scaffold's devDependencies (TypeScript and Node's types), put where npm puts
  // them, from this repository's install. npm then finds them satisfied and, with --offline, asks no registry; the
  // tailkit dependency is a file: link to this checkout.
  for (const pkg of ["typescript", "@types/node", "undici-types"])
    cpSync(join(ROOT, "node_modules", pkg), join(project, "node_modules", pkg), { recursive: true });
  installed = await runProcess("npm", ["install", "--offline", "--no-audit", "--no-fund"], {}, project);
}, 60_000);

afterAll(() => work?.cleanup());

describe("tailkit new plugin", () => {
  it("writes a plugin whose package depends on this tailkit by a file: path, with an executable bin", () => {
    ok(created, "tailkit new plugin my-app");
    expect(created.stdout).toContain("plugin my-app with table my_app_log");
    const pkg = JSON.parse(readFileSync(join(project, "package.json"), "utf8")) as Record<string, Record<string, string>>;
    expect(pkg["dependencies"]).toEqual({ tailkit: `file:${realpathSync(ROOT)}` });
    expect(pkg["bin"]).toEqual({ "tailkit-plugin-my-app": "bin/tailkit-plugin-my-app" });
    expect(statSync(join(project, "bin", "tailkit-plugin-my-app")).mode & 0o111).toBe(0o111);
    for (const f of ["tsconfig.json", "src/plugin.ts", "src/main.ts", "fixtures/my-app.log", "test/plugin.test.ts", "README.md"]) {
      expect(existsSync(join(project, f)), f).toBe(true);
    }
  });

  it("installs offline and passes its own test: the conformance kit and the fixture's rows", async () => {
    ok(installed, "npm install --offline");
    expect(readFileSync(join(project, "node_modules", "tailkit", "package.json"), "utf8")).toContain('"name": "tailkit"');
    const test = ok(await runProcess("npm", ["test"], {}, project), "npm test");
    expect(test.stdout).toMatch(/^# pass 2$/m);
    expect(test.stdout).toMatch(/^# fail 0$/m);
    expect(test.stdout).toContain("ok 1 - the plugin passes tailkit's conformance kit");
  });

  it("collects its fixture through the CLI, given the plugin's folder", async () => {
    const out = join(work.dir, "out");
    const res = ok(
      await runCli(
        ["collect", "./my-app", "--table", "my_app_log", "--path", "./my-app/fixtures", "--out", out, "--no-convert", "--output", "json"],
        {},
        work.dir,
      ),
      "tailkit collect ./my-app",
    );
    expect(JSON.parse(res.stdout)).toMatchObject({ outcome: "ok", rows: 3 });
    const rows = readChunks(out).flatMap((c) => c.rows);
    expect(rows.map((r) => [r["level"], r["user"], r["message"], r["tp_table"]])).toEqual([
      ["WARN", "alice", "disk almost full", "my_app_log"],
      ["INFO", "bob", "logged in", "my_app_log"],
      ["ERROR", "carol", "cannot write /var/data", "my_app_log"],
    ]);
  });

  it("refuses a bad name and an existing folder, saying why, with exit 2", async () => {
    for (const bad of ["My_App", "my.app", "../escape", "my--app", "9lives", "tailkit-plugin-x"]) {
      const res = await runCli(["new", "plugin", bad], {}, work.dir);
      expect(res.code, bad).toBe(2);
      expect(res.stderr, bad).toContain(`plugin name "${bad}"`);
      expect(existsSync(join(work.dir, bad)), bad).toBe(false);
    }
    const again = await runCli(["new", "plugin", "my-app"], {}, work.dir);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`${project} already exists`);
    // The plugin it made before is as it was.
    expect(readFileSync(join(project, "fixtures", "my-app.log"), "utf8").split("\n")).toHaveLength(4);
  });
});

describe("docs/PLUGIN-GUIDE.md", () => {
  it("has examples that compile against the installed package", async () => {
    ok(installed, "npm install --offline");
    const examples = guideExamples();
    expect(Object.keys(examples).sort()).toEqual(["api-source.ts", "first/plugin.ts", "loader.ts", "mapper.ts", "source.ts", "storage.ts", "table.ts"]);
    const guide = join(project, "guide");
    for (const [name, text] of Object.entries(examples)) {
      mkdirSync(join(guide, name, ".."), { recursive: true });
      writeFileSync(join(guide, name), text);
    }
    // The scaffold's own compiler options (strict), over the guide's files.
    writeFileSync(join(project, "tsconfig.guide.json"), JSON.stringify({ extends: "./tsconfig.json", compilerOptions: { noEmit: true }, include: ["guide"] }));
    const tsc = await runProcess(process.execPath, [join(project, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.guide.json"], {}, project);
    expect(`${tsc.stdout}${tsc.stderr}`).toBe("");
    expect(tsc.code).toBe(0);
  });
});
