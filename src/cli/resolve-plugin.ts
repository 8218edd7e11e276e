import { accessSync, constants, existsSync, statSync } from "node:fs";
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
 * Finds a plugin executable: a path to one; a plugin bundled with tailkit (plugins/<name>); or tailkit-plugin-<name>
 * on PATH. Throws NOT_FOUND saying where it looked.
 */
export function resolvePlugin(nameOrPath: string): string {
  if (nameOrPath.includes("/") || existsSync(nameOrPath)) {
    const p = resolve(nameOrPath);
    if (!existsSync(p)) throw new TailkitError(Code.NotFound, `plugin ${nameOrPath}: no such file`);
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
