/**
 * The script directory: every migration file directly in one folder, read as headers only (no
 * module is loaded), in file-name order.
 */
import { readdirSync, statSync, type Stats } from "node:fs";
import { join } from "node:path";
import { RetortError } from "../errors.js";
import { duplicateRevision } from "./graph-errors.js";
import { readHeader, type ScriptHeader } from "./header.js";
import { HeaderCache } from "./header-cache.js";

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

/**
 * `cacheFile`: where to remember headers and checksums between runs (see HeaderCache); without
 * it every file is read and hashed.
 */
export function loadScriptDirectory(dir: string, options: { cacheFile?: string } = {}): ScriptDirectory {
  const cache = options.cacheFile ? HeaderCache.open(options.cacheFile) : undefined;
  /** Names to stat first (links, or every name with a cache); the others are plain files. */
  let names: string[];
  let toStat: (name: string) => boolean;
  try {
    if (cache) {
      // Every file is stat'ed for the cache anyway, which also tells files from the rest: a
      // listing of bare names is half the work of one with file types.
      names = readdirSync(dir).filter(isMigrationFileName);
      toStat = () => true;
    } else {
      const entries = readdirSync(dir, { withFileTypes: true }).filter((entry) => (entry.isFile() || entry.isSymbolicLink()) && isMigrationFileName(entry.name));
      const links = new Set(entries.filter((entry) => entry.isSymbolicLink()).map((entry) => entry.name));
      names = entries.map((entry) => entry.name);
      toStat = (name) => links.has(name);
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const what = code === "ENOENT" ? "does not exist" : code === "ENOTDIR" ? "is not a directory" : `cannot be read (${code})`;
    throw new RetortError("RETORT_BAD_MIGRATION_FILE", `The migrations directory ${dir} ${what}.`, {
      hint: "Run `retort init` to create it, or point the `migrations` setting in retort.config.ts at the right folder.",
      details: { dir },
      cause: error,
    });
  }
  names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

  const revisions: ScriptHeader[] = [];
  const fileOf = new Map<string, string>();
  // join() normalises the whole path on every call (a tenth of the listing's time at 10,000
  // files); a bare file name needs only the folder's normalised prefix put before it.
  const prefix = join(dir, "x").slice(0, -1);
  for (const name of names) {
    const path = prefix + name;
    // stat follows links: a link to a folder, or a dangling one, is not a migration file.
    const stats = toStat(name) ? fileStats(path) : undefined;
    if (stats === null) continue;
    let header = stats && cache?.get(name, path, stats);
    if (!header) {
      header = readHeader(path);
      if (stats) cache?.set(name, stats, header);
    }
    const other = fileOf.get(header.revision);
    if (other !== undefined) throw duplicateRevision(header.revision, other, header.path);
    fileOf.set(header.revision, header.path);
    revisions.push(header);
  }
  cache?.save();
  return { dir, revisions };
}

/** The file's stats; null when it is not a regular file (after following links). */
function fileStats(path: string): Stats | null {
  const stats = statSync(path, { throwIfNoEntry: false });
  return stats?.isFile() ? stats : null;
}
