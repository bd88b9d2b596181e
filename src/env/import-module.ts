/**
 * Import a user's TypeScript or JavaScript module (config, models, migrations). jiti compiles
 * TypeScript on the fly; it is loaded only when a command needs a user module, so listing
 * commands stay fast.
 */
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

/**
 * `fresh`: read the file again even if this process loaded it before (models change between
 * calls in a long-running process; a migration file is identified by its checksum instead).
 */
export async function importModule(file: string, options: { default?: boolean; fresh?: boolean } = {}): Promise<unknown> {
  return (await jitiFor(!options.fresh)).import(pathToFileURL(file).href, options.default ? { default: true } : {});
}
