/** Load a models module (TypeScript or JavaScript) for the CLI. */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { importModule } from "../env/import-module.js";
import { RetortError } from "../errors.js";
import { collectModels } from "./from-models.js";

export async function loadModels(path: string): Promise<Record<string, unknown>> {
  const file = resolve(path);
  if (!existsSync(file)) {
    throw new RetortError("RETORT_INVALID_MODEL", `models module not found: ${path}`, { hint: "Pass the file that exports your table() models." });
  }
  let module: Record<string, unknown>;
  try {
    module = (await importModule(file, { fresh: true })) as Record<string, unknown>;
  } catch (error) {
    throw new RetortError("RETORT_INVALID_MODEL", `could not load models from ${path}: ${(error as Error).message}`, { cause: error, hint: "Fix the error in that module (it should export your table() models)." });
  }
  if (collectModels(module).tables.length === 0) {
    throw new RetortError("RETORT_INVALID_MODEL", `${path} exports no table() models`, { hint: "Export your tables (export const users = table(...))." });
  }
  return module;
}
