import { accessSync, constants, existsSync, readFileSync, statSync } from "node:fs";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Code, TailkitError } from "../errors/index.js";

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, "plugins")) && existsSync(join(dir, "package.json"))) return dir;
    dir = dirname(dir);
  }
  return process.cwd();
}

function isExecutable(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds a plugin executable: a path to one, or to a plugin's folder (its package.json bin); a plugin bundled with tailkit (plugins/<name>); or tailkit-plugin-<name>
 * on PATH. Throws NOT_FOUND saying where it looked.
 */
export function resolvePlugin(nameOrPath: string): string {
  if (nameOrPath.includes("/") || existsSync(nameOrPath)) {
    const p = resolve(nameOrPath);
    if (!existsSync(p)) throw new TailkitError(Code.NotFound, `plugin ${nameOrPath}: no such file`);
    if (statSync(p).isDirectory()) return folderExecutable(nameOrPath, p);
    if (!isExecutable(p)) throw new TailkitError(Code.PermissionDenied, `plugin ${nameOrPath}: not an executable file`);
    return p;
  }
  const bundled = join(packageRoot(), "plugins", nameOrPath, "bin", `tailkit-plugin-${nameOrPath}`);
  if (isExecutable(bundled)) return bundled;
  for (const dir of (process.env["PATH"] ?? "").split(delimiter)) {
    const candidate = join(dir, `tailkit-plugin-${nameOrPath}`);
    if (dir && isExecutable(candidate)) return candidate;
  }
  throw new TailkitError(
    Code.NotFound,
    `plugin ${nameOrPath}: not a path, not a plugin bundled with tailkit (${bundled}), and no tailkit-plugin-${nameOrPath} on PATH`,
  );
}

/**
 * The executable of a plugin's folder (a package, as `tailkit new plugin` makes one): its package.json's bin, the one
 * entry named tailkit-plugin-* when it has several.
 */
function folderExecutable(given: string, dir: string): string {
  const pkgFile = join(dir, "package.json");
  let pkg: { name?: unknown; bin?: unknown };
  try {
    pkg = JSON.parse(readFileSync(pkgFile, "utf8")) as typeof pkg;
  } catch (err) {
    throw new TailkitError(Code.NotFound, `plugin ${given}: a folder, but its package.json cannot be read (${(err as Error).message})`);
  }
  const bins: [string, unknown][] =
    typeof pkg.bin === "string"
      ? [[typeof pkg.name === "string" ? pkg.name : "", pkg.bin]]
      : pkg.bin && typeof pkg.bin === "object"
        ? Object.entries(pkg.bin)
        : [];
  const named = bins.filter(([name]) => name.startsWith("tailkit-plugin-"));
  const chosen = named.length === 1 ? named[0] : bins.length === 1 ? bins[0] : undefined;
  if (chosen === undefined || typeof chosen[1] !== "string") {
    throw new TailkitError(Code.NotFound, `plugin ${given}: a folder whose package.json has no bin entry tailkit-plugin-<name> naming the plugin executable`);
  }
  const exe = resolve(dir, chosen[1]);
  if (!isExecutable(exe)) throw new TailkitError(Code.PermissionDenied, `plugin ${given}: its bin ${chosen[1]} is not an executable file`);
  return exe;
}
