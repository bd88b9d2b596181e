/**
 * Compiled TypeScript modules remembered between runs, so a command on an unchanged project
 * neither loads the compiler nor starts it (~40 ms a process for a retort.config.ts).
 *
 * An entry holds the compiled code and the state of every file it was built from: the source
 * files compiled in, and the package.json of each package it imports (a reinstall moves it).
 * It is used only while all of them are unchanged (env/file-state.ts). Entries live in
 * node_modules/.cache/retort of the nearest node_modules above the file, where build tools keep
 * theirs; a file with no node_modules above it is not cached.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileState, unchanged, type FileState } from "./file-state.js";
import { makeDirectory } from "./make-directory.js";

/** Bump when the compiled form changes (compiler options, the preludes). */
const VERSION = 1;

interface Entry {
  version: number;
  writtenAt: number;
  inputs: Record<string, FileState>;
  code: string;
}

function entryFile(path: string): string | undefined {
  const modules = nearestFile(dirname(path), "node_modules");
  return modules && join(modules, ".cache", "retort", `${createHash("sha256").update(path).digest("hex").slice(0, 24)}.json`);
}

/** The code compiled from `path`, when it was cached and nothing it was built from has changed. */
export function readCompiled(path: string): string | undefined {
  const file = entryFile(path);
  if (!file) return undefined;
  try {
    const entry = JSON.parse(readFileSync(file, "utf8")) as Entry;
    if (entry.version !== VERSION) return undefined;
    for (const [input, state] of Object.entries(entry.inputs)) {
      if (!unchanged(state, statSync(input), entry.writtenAt)) return undefined;
    }
    return entry.code;
  } catch {
    return undefined; // no entry, or an input is gone
  }
}

export interface CompiledModule {
  path: string;
  /** The files it was built from. */
  inputs: Iterable<string>;
  code: string;
}

/**
 * Cache what one compile produced. `startedAt`: when it began reading files (a change after that
 * must not be trusted). Written in place, not through a temporary file (a thousand migrations
 * compiled at once): a reader that meets a torn entry cannot parse it, which is a miss.
 */
export function saveCompiled(startedAt: number, modules: readonly CompiledModule[]): void {
  const writes: Array<[file: string, text: string]> = [];
  for (const { path, inputs, code } of modules) {
    const file = entryFile(path);
    if (!file) continue;
    const states: Record<string, FileState> = {};
    try {
      for (const input of inputs) states[input] = fileState(statSync(input));
    } catch {
      continue; // an input went away while compiling
    }
    writes.push([file, JSON.stringify({ version: VERSION, writtenAt: startedAt, inputs: states, code } satisfies Entry)]);
  }
  if (writes.length === 0) return;
  try {
    for (const folder of new Set(writes.map(([file]) => dirname(file)))) makeDirectory(folder);
    for (const [file, text] of writes) writeFileSync(file, text);
  } catch {
    // A read-only project: run without the cache.
  }
}

const nearestFiles = new Map<string, string | undefined>();

/** The file (or folder) `name` in `dir` or the closest folder above it, found once per folder. */
export function nearestFile(dir: string, name: string): string | undefined {
  const key = `${dir}\0${name}`;
  if (!nearestFiles.has(key)) {
    const parent = dirname(dir);
    nearestFiles.set(key, existsSync(join(dir, name)) ? join(dir, name) : parent === dir ? undefined : nearestFile(parent, name));
  }
  return nearestFiles.get(key);
}

/**
 * The nearest tsconfig.json and package.json above `file`: they steer how it compiles and
 * resolves ("paths", "imports"), so a compiled module depends on them too.
 */
export function compileSettings(file: string): string[] {
  return ["tsconfig.json", "package.json"].flatMap((name) => nearestFile(dirname(file), name) ?? []);
}

/** The package.json of the installed package holding `file`, which decides how it resolves. */
export function packageManifest(file: string): string | undefined {
  const match = /^(.*[\\/]node_modules[\\/](?:@[^\\/]+[\\/])?[^\\/]+)[\\/]/.exec(file);
  return match ? join(match[1]!, "package.json") : undefined;
}
