/**
 * The script directory: every migration file directly in one folder, read as headers only (no
 * module is loaded), in file-name order.
 */
import { readdirSync, statSync } from "node:fs";
import type { FileState } from "../env/file-state.js";
import { join } from "node:path";
import { RetortError } from "../errors.js";
import { duplicateRevision } from "./graph-errors.js";
import { readHeader, type ScriptHeader } from "./header.js";
import { HeaderCache, type GraphSummary } from "./header-cache.js";

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
 * A migrations folder listed, and checked against the cache when there is one: `summary()` then
 * says whether the graph the cache remembers still holds; `revisions()` reads the headers.
 */
export interface ScriptFolder {
  readonly dir: string;
  /** The graph summary the cache holds, not yet checked against the files (`summary()` does). */
  readonly cachedSummary: GraphSummary | undefined;
  /** The cached graph summary, when every file is exactly as when it was written. */
  summary(): Promise<GraphSummary | undefined>;
  /** One header per migration file, sorted by file name (read once, then remembered). */
  revisions(): readonly ScriptHeader[];
  /**
   * Write the cache (when one is used and anything changed), with the summary of the graph built
   * from `revisions()` (null: it could not be built; omitted: keep what the cache has when no
   * file changed). Call only after `revisions()`.
   */
  save(summary?: GraphSummary | null): void;
}

/**
 * `cacheFile`: where to remember headers and checksums between runs (see HeaderCache); without
 * it every file is read and hashed.
 */
export function loadScriptDirectory(dir: string, options: { cacheFile?: string } = {}): ScriptDirectory {
  const folder = openScriptFolder(dir, options);
  const revisions = folder.revisions();
  folder.save();
  return { dir, revisions };
}

/**
 * `background`: when the cache holds a summary, stat the files in slices between the caller's
 * other work (a database connecting, queries running): `summary()` waits for the last slice.
 */
export function openScriptFolder(dir: string, options: { cacheFile?: string; background?: boolean } = {}): ScriptFolder {
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

  // join() normalises the whole path on every call (a tenth of the listing's time at 10,000
  // files); a bare file name needs only the folder's normalised prefix put before it.
  const prefix = join(dir, "x").slice(0, -1);
  // With a cache every file is stat'ed, its state kept as four numbers: 10,000 Stats objects
  // kept alive instead would make each young-generation GC copy them all.
  const cachedSummary = cache?.cachedSummary;
  const states = cache ? new Float64Array(names.length * 4) : undefined;
  let statted = 0;
  const statUpTo = (end: number) => {
    for (; statted < end; statted++) statInto(states!, statted, prefix + names[statted]!);
  };
  const statRest = () => statUpTo(names.length);
  // In the background: one slice per turn of the event loop, so that I/O callbacks (a
  // connection's handshake, query results) run in between; statRest may finish first. A stat
  // that throws (not a missing file: a permission error) is thrown again by statRest.
  const stating =
    states && cachedSummary && options.background
      ? (async () => {
          while (statted < names.length) {
            await new Promise((resolve) => setImmediate(resolve));
            statUpTo(Math.min(statted + SLICE, names.length));
          }
        })().catch(() => undefined)
      : undefined;
  if (states && !stating) statRest();
  let summary: Promise<GraphSummary | undefined> | undefined;

  let revisions: ScriptHeader[] | undefined;
  const read = (): ScriptHeader[] => {
    const out: ScriptHeader[] = [];
    const fileOf = new Map<string, string>();
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      const path = prefix + name;
      if (states && statted < names.length) statRest();
      const state = states ? stateAt(states, i) : toStat(name) ? fileState(path) : undefined;
      if (state === null) continue;
      let header = state && cache?.get(name, i, path, state);
      if (!header) {
        header = readHeader(path);
        if (state) cache?.set(name, state, header);
      }
      const other = fileOf.get(header.revision);
      if (other !== undefined) throw duplicateRevision(header.revision, other, header.path);
      fileOf.set(header.revision, header.path);
      out.push(header);
    }
    return out;
  };
  return {
    dir,
    cachedSummary,
    summary: () =>
      (summary ??= (async () => {
        if (!cache || !cachedSummary) return undefined;
        await stating;
        statRest();
        return cache.summaryIf(names, states!);
      })()),
    revisions: () => (revisions ??= read()),
    save: (graphSummary) => {
      if (graphSummary !== undefined) cache?.setSummary(graphSummary);
      cache?.save();
    },
  };
}

/** The file's state; null when it is not a regular file (after following links). */
function fileState(path: string): FileState | null {
  const states = new Float64Array(4);
  statInto(states, 0, path);
  return stateAt(states, 0);
}

/**
 * Record the file's size, ino, mtimeMs and ctimeMs at slot i; NaN first for what is not a regular
 * file. stat follows links: a link to a folder, or a dangling one, is not a migration file.
 */
function statInto(states: Float64Array, i: number, path: string): void {
  const stats = statSync(path, { throwIfNoEntry: false });
  const at = i * 4;
  if (stats?.isFile()) {
    states[at] = stats.size;
    states[at + 1] = stats.ino;
    states[at + 2] = stats.mtimeMs;
    states[at + 3] = stats.ctimeMs;
  } else {
    states[at] = NaN;
  }
}

/** Files per slice: a few ms of stat calls, short enough not to delay a database reply much. */
const SLICE = 500;

function stateAt(states: Float64Array, i: number): FileState | null {
  const at = i * 4;
  return Number.isNaN(states[at]) ? null : { size: states[at]!, ino: states[at + 1]!, mtimeMs: states[at + 2]!, ctimeMs: states[at + 3]! };
}
