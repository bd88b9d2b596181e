/**
 * Import a user's TypeScript or JavaScript module (config, models, migrations). JavaScript files
 * go through Node's own loader; jiti compiles TypeScript on the fly and is loaded only when a
 * TypeScript module (or a fresh copy) is needed, so commands on a JavaScript project never pay
 * for it.
 */
import { extname } from "node:path";
import { pathToFileURL } from "node:url";

type Jiti = { import(id: string, options?: { default?: boolean }): Promise<unknown> };
const instances = new Map<boolean, Promise<Jiti>>();

function jitiFor(cache: boolean): Promise<Jiti> {
  let instance = instances.get(cache);
  if (!instance) {
    instance = import("jiti").then(({ createJiti }) => createJiti(pathToFileURL(process.cwd() + "/").href, { moduleCache: cache }));
    instances.set(cache, instance);
  }
  return instance;
}

const NATIVE = new Set([".js", ".mjs", ".cjs"]);

/**
 * `fresh`: read the file again even if this process loaded it before (models change between
 * calls in a long-running process; a migration file is identified by its checksum instead).
 */
export async function importModule(file: string, options: { default?: boolean; fresh?: boolean } = {}): Promise<unknown> {
  const url = pathToFileURL(file).href;
  if (!options.fresh && NATIVE.has(extname(file))) {
    let module: Record<string, unknown> | undefined;
    try {
      module = (await import(url)) as Record<string, unknown>;
    } catch (error) {
      // ESM syntax in a .js file of a CommonJS package: Node refuses it, jiti accepts it.
      if (!(error instanceof SyntaxError)) throw error;
    }
    if (module) return options.default ? (module.default ?? module) : module;
  }
  return (await jitiFor(!options.fresh)).import(url, options.default ? { default: true } : {});
}
