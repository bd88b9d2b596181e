/**
 * The heads of a migrations folder, remembered so an application's startup check can know them
 * without reading 10,000 headers: valid while the folder holds exactly the same file names, the
 * folder itself is unchanged (adding, removing or renaming a file moves its mtime) and each head
 * file is unchanged (its size, inode, mtime, ctime). A header edited in place in a file that is
 * not a head can only matter when it rewrites history (moves a revision to another parent); the
 * full check every migration command does catches that.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { fileState, unchanged, writeCacheFile, type FileState } from "../env/file-state.js";
import { isMigrationFileName } from "./directory.js";
import type { RevisionGraph } from "./graph.js";

const VERSION = 1;

interface HeadsFile {
  version: number;
  writtenAt: number;
  names: string;
  folder: FileState;
  heads: Array<{ revision: string; name: string; state: FileState }>;
}

function namesDigest(dir: string): string | undefined {
  try {
    const names = readdirSync(dir).filter(isMigrationFileName).sort();
    return createHash("sha256").update(names.join("\n")).digest("hex");
  } catch {
    return undefined;
  }
}

/** The cached heads (sorted revision ids) when they can be trusted, else undefined. */
export function cachedHeads(dir: string, cacheFile: string): string[] | undefined {
  let cached: HeadsFile;
  try {
    cached = JSON.parse(readFileSync(cacheFile, "utf8")) as HeadsFile;
  } catch {
    return undefined;
  }
  if (cached.version !== VERSION) return undefined;
  const folder = statSync(dir, { throwIfNoEntry: false });
  if (!folder || !unchanged(cached.folder, folder, cached.writtenAt)) return undefined;
  for (const head of cached.heads) {
    const stats = statSync(join(dir, head.name), { throwIfNoEntry: false });
    if (!stats || !unchanged(head.state, stats, cached.writtenAt)) return undefined;
  }
  if (namesDigest(dir) !== cached.names) return undefined;
  return cached.heads.map((head) => head.revision).sort();
}

/** Remember the heads of `graph`, read from `dir` (call after a full load of the folder). */
export function saveHeads(dir: string, cacheFile: string, graph: RevisionGraph): void {
  const writtenAt = Date.now();
  const names = namesDigest(dir);
  const folder = statSync(dir, { throwIfNoEntry: false });
  if (names === undefined || !folder) return;
  const heads: HeadsFile["heads"] = [];
  for (const head of graph.heads) {
    const stats = statSync(head.path, { throwIfNoEntry: false });
    if (!stats) return;
    heads.push({ revision: head.revision, name: basename(head.path), state: fileState(stats) });
  }
  const content: HeadsFile = { version: VERSION, writtenAt, names, folder: fileState(folder), heads };
  writeCacheFile(cacheFile, JSON.stringify(content));
}
