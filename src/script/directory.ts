/**
 * The script directory: every migration file directly in one folder, read as headers only (no
 * module is loaded), in file-name order.
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { RetortError } from "../errors.js";
import { duplicateRevision } from "./graph-errors.js";
import { readHeader, type ScriptHeader } from "./header.js";

export interface ScriptDirectory {
  /** The folder, as given. */
  readonly dir: string;
  /** One header per migration file, sorted by file name. */
  readonly revisions: readonly ScriptHeader[];
}

/** Migration files: .ts, .js, .mjs; not declaration files, not hidden/editor files. */
export function isMigrationFileName(name: string): boolean {
  if (name.startsWith(".") || name.endsWith(".d.ts")) return false;
  return name.endsWith(".ts") || name.endsWith(".js") || name.endsWith(".mjs");
}

export function loadScriptDirectory(dir: string): ScriptDirectory {
  let names: string[];
  try {
    names = readdirSync(dir, { withFileTypes: true })
      .filter((entry) => (entry.isFile() || (entry.isSymbolicLink() && isFile(join(dir, entry.name)))) && isMigrationFileName(entry.name))
      .map((entry) => entry.name)
      .sort();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const what = code === "ENOENT" ? "does not exist" : code === "ENOTDIR" ? "is not a directory" : `cannot be read (${code})`;
    throw new RetortError("RETORT_BAD_MIGRATION_FILE", `The migrations directory ${dir} ${what}.`, {
      hint: "Run `retort init` to create it, or point the `migrations` setting in retort.config.ts at the right folder.",
      details: { dir },
      cause: error,
    });
  }

  const revisions: ScriptHeader[] = [];
  const fileOf = new Map<string, string>();
  for (const name of names) {
    const header = readHeader(join(dir, name));
    const other = fileOf.get(header.revision);
    if (other !== undefined) throw duplicateRevision(header.revision, other, header.path);
    fileOf.set(header.revision, header.path);
    revisions.push(header);
  }
  return { dir, revisions };
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
