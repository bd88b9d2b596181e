/**
 * Import a user's TypeScript or JavaScript module (config, models, migrations). jiti compiles
 * TypeScript on the fly; it is loaded only when a command needs a user module, so listing
 * commands stay fast.
 */
import { pathToFileURL } from "node:url";

let jiti: Promise<{ import(id: string, options?: { default?: boolean }): Promise<unknown> }> | undefined;

export async function importModule(file: string, options: { default?: boolean } = {}): Promise<unknown> {
  jiti ??= import("jiti").then(({ createJiti }) => createJiti(pathToFileURL(process.cwd() + "/").href, { moduleCache: true }));
  return (await jiti).import(pathToFileURL(file).href, options);
}
