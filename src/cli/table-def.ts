import { readFileSync } from "node:fs";
import { Code, TailkitError } from "../errors/index.js";

/**
 * The table config that `--table-def` gives: the definition read from `@file` (or given inline), as YAML or JSON (YAML
 * reads both), and the file's path for the plugin's messages. Merged into `--table-config`, which must not define the
 * table too. Throws INVALID_ARGUMENT naming the file: unreadable, malformed (with YAML's line and column), not an object.
 */
export async function tableDefConfig(value: string, tableConfig: Record<string, unknown> | undefined): Promise<Record<string, unknown>> {
  const field = "table-def";
  const file = value.startsWith("@") ? value.slice(1) : undefined;
  let text = value;
  if (file !== undefined) {
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      throw new TailkitError(Code.InvalidArgument, `--table-def: cannot read ${file}: ${(err as Error).message}`, { field });
    }
  }
  const where = file ?? "the --table-def value";
  const { parse } = await import("yaml");
  let parsed: unknown;
  try {
    parsed = parse(text, { prettyErrors: true });
  } catch (err) {
    throw new TailkitError(Code.InvalidArgument, `--table-def: malformed YAML or JSON in ${where}: ${(err as Error).message}`, { field });
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new TailkitError(
      Code.InvalidArgument,
      `--table-def: ${where} must hold an object (format, columns), not ${Array.isArray(parsed) ? "a list" : JSON.stringify(parsed)}`,
      {
        field,
      },
    );
  }
  if (tableConfig?.["definition"] !== undefined) {
    throw new TailkitError(Code.InvalidArgument, `table_config.definition: --table-def and "definition" in --table-config both give it; use one of them`, {
      field: "table_config.definition",
    });
  }
  return { ...tableConfig, definition: parsed, ...(file !== undefined ? { definition_file: file } : {}) };
}
