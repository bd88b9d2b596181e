/**
 * What a cache remembers of a file to know, without reading it, that it has not changed: size,
 * inode, mtime and ctime. A content change always moves ctime (tools that restore mtime cannot
 * set it). A file that changed within two seconds before the cache was written is not trusted,
 * since a second write within the clock's granularity would not show (git's "racily clean" rule).
 */
import { renameSync, writeFileSync, type Stats } from "node:fs";
import { dirname } from "node:path";
import { makeDirectory } from "./make-directory.js";

export interface FileState {
  size: number;
  ino: number;
  mtimeMs: number;
  ctimeMs: number;
}

/** Coarsest mtime granularity worth caring about (FAT has 2 s). */
export const RACY_MS = 2000;

export function fileState(stats: Stats): FileState {
  return { size: stats.size, ino: stats.ino, mtimeMs: stats.mtimeMs, ctimeMs: stats.ctimeMs };
}

/** `stats` is the file as recorded in a cache written at `writtenAt`, and that record can be trusted. */
export function unchanged(recorded: FileState, stats: FileState, writtenAt: number): boolean {
  return (
    recorded.size === stats.size &&
    recorded.ino === stats.ino &&
    recorded.mtimeMs === stats.mtimeMs &&
    recorded.ctimeMs === stats.ctimeMs &&
    Math.max(stats.mtimeMs, stats.ctimeMs) < writtenAt - RACY_MS
  );
}

/**
 * Write a cache file whole: a concurrent reader sees the old content or the new, never half.
 * A cache only ever saves time, so a folder that cannot be written is not an error.
 */
export function writeCacheFile(file: string, text: string): void {
  try {
    makeDirectory(dirname(file));
    const temporary = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    writeFileSync(temporary, text);
    renameSync(temporary, file);
  } catch {
    // A read-only checkout: run without the cache.
  }
}
