/**
 * What is at the path a `pglite:` or `sqlite:` URL names, asked before Retort creates, replaces or
 * deletes a database there: a typo (`pglite:.`, `pglite:./src`, `sqlite:./notes.txt`) must not
 * turn a project folder or a file into a database, nor have `wipe`, `reset` or `restore --clean`
 * delete it.
 */
import { closeSync, openSync, readSync, readdirSync, rmSync, statSync } from "node:fs";
import { RetortError } from "../errors.js";
import type { ConnectionTarget } from "../env/url.js";

/** nothing there; an empty folder or file; a database of that kind; anything else. */
export type PathContents = "nothing" | "empty" | "database" | "other";

/** The first 16 bytes of every SQLite database file. */
const SQLITE_HEADER = "SQLite format 3\0";

export function fileDatabaseContents(dialect: "pglite" | "sqlite", path: string): PathContents {
  let stats;
  try {
    stats = statSync(path, { throwIfNoEntry: false });
  } catch (error) {
    // A path under a file: nothing can be there; opening it reports why.
    if ((error as NodeJS.ErrnoException).code === "ENOTDIR") return "nothing";
    throw error;
  }
  if (!stats) return "nothing";
  if (dialect === "pglite") {
    if (!stats.isDirectory()) return "other";
    const entries = readdirSync(path);
    // Every Postgres data directory, PGlite's included, holds its major version in PG_VERSION.
    return entries.length === 0 ? "empty" : entries.includes("PG_VERSION") ? "database" : "other";
  }
  if (!stats.isFile()) return "other";
  if (stats.size === 0) return "empty";
  const header = Buffer.alloc(SQLITE_HEADER.length);
  const fd = openSync(path, "r");
  try {
    readSync(fd, header, 0, header.length, 0);
  } finally {
    closeSync(fd);
  }
  return header.toString("latin1") === SQLITE_HEADER ? "database" : "other";
}

/** RETORT_NOT_A_DATABASE when something other than a database of that kind (or nothing, or an empty folder or file) is at `path`. */
export function refuseNonDatabase(dialect: "pglite" | "sqlite", path: string, action: string): void {
  if (fileDatabaseContents(dialect, path) !== "other") return;
  const what = dialect === "pglite" ? "a PGlite database (a folder with PG_VERSION in it)" : "a SQLite database file";
  throw new RetortError("RETORT_NOT_A_DATABASE", `${path} is not ${what}, nor empty: Retort will not ${action} there.`, {
    hint: `Check the URL (--url, DATABASE_URL or your environment's variable): point ${dialect}: at ${dialect === "pglite" ? "an existing PGlite folder, or a new or empty one" : "an existing SQLite file, or a new one"}.`,
    details: { path, dialect },
  });
}

/** The SQLite file or PGlite folder of a target; undefined for a server or an in-memory database. */
export function fileDatabasePath(target: ConnectionTarget): { dialect: "pglite" | "sqlite"; path: string } | undefined {
  if (target.dialect === "pglite" && target.dataDir !== undefined) return { dialect: "pglite", path: target.dataDir };
  if (target.dialect === "sqlite" && target.filename !== ":memory:" && target.filename !== "") return { dialect: "sqlite", path: target.filename };
  return undefined;
}

/** Delete a SQLite file (with its journal files) or a PGlite folder. */
export function removeFileDatabase(dialect: "pglite" | "sqlite", path: string): void {
  if (dialect === "pglite") rmSync(path, { recursive: true, force: true });
  else for (const part of [path, `${path}-wal`, `${path}-shm`, `${path}-journal`]) rmSync(part, { force: true });
}
