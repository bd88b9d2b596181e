/** Load a models module (TypeScript or JavaScript) for the CLI. */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { RetortError } from "../errors.js";
import { collectModels } from "../schema/from-models.js";

export async function loadModels(path: string): Promise<Record<string, unknown>> {
  const file = resolve(path);
  if (!existsSync(file)) {
    throw new RetortError("RETORT_INVALID_MODEL", `models module not found: ${path}`, { hint: "Pass the file that exports your table() models." });
  }
  let module: Record<string, unknown>;
  try {
    // jiti compiles TypeScript on the fly; only loaded when a CLI command needs models.
    const { createJiti } = await import("jiti");
    module = (await createJiti(pathToFileURL(file).href).import(file)) as Record<string, unknown>;
  } catch (error) {
    throw new RetortError("RETORT_INVALID_MODEL", `could not load models from ${path}: ${(error as Error).message}`, { cause: error });
  }
  if (collectModels(module).tables.length === 0) {
    throw new RetortError("RETORT_INVALID_MODEL", `${path} exports no table() models`, { hint: "Export your tables (export const users = table(...))." });
  }
  return module;
}
