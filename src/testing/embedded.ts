/**
 * Test databases without a server.
 *
 * - PGlite: the migrated cluster's data directory is dumped once (`dumpDataDir`) to a tarball in
 *   .retort/cache/testing/ named by the fingerprint; each call starts an in-memory PGlite from it
 *   (`loadDataDir`), which skips initdb and the migrations.
 * - SQLite: the migrated database is one file in the same folder; each call copies it to a RAM
 *   folder (/dev/shm when there is one) under a name that says which process made it.
 * Builds run under a process lock on the cache file, so parallel workers build once.
 */
import { copyFileSync, existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { connectDriver, type Database } from "../db/database.js";
import { acquireProcessLock } from "../dialects/process-lock.js";
import { cacheDirectory } from "../env/config.js";
import { EMPTY_SCHEMA, type Schema } from "../schema/snapshot.js";
import { isLeftover, ownedName, parseOwnedName, LEFTOVER_MAX_AGE_MS } from "./owner.js";
import { buildFromSource, type TemplateSource } from "./template-source.js";
import { makeDirectory } from "../env/make-directory.js";

const SNAPSHOT_LOCK = "test-snapshot";

function cacheFolder(source: TemplateSource): string {
  return join(cacheDirectory(source.loaded), "testing");
}

/** Build `file` with `make` (into a temp name, renamed when complete) unless present; one builder across processes. */
async function buildOnce(file: string, make: (temp: string) => Promise<void>): Promise<void> {
  if (existsSync(file)) return;
  makeDirectory(dirname(file));
  const lock = await acquireProcessLock(SNAPSHOT_LOCK, file, { purpose: "builds the test database template", timeoutMs: 10 * 60_000 });
  try {
    if (existsSync(file)) return;
    const temp = `${file}.${process.pid}.tmp`;
    rmSync(temp, { force: true });
    try {
      await make(temp);
      renameSync(temp, file);
    } finally {
      rmSync(temp, { force: true });
    }
    // Snapshots of other fingerprints are out of date: this folder holds the current one only.
    const kind = file.endsWith(".tar") ? "pglite-" : "sqlite-";
    for (const name of readdirSync(dirname(file))) {
      const path = join(dirname(file), name);
      if (name.startsWith(kind) && path !== file && !name.endsWith(".tmp")) rmSync(path, { force: true });
    }
  } finally {
    await lock.release();
  }
}

let pgliteVersion: string | undefined;
/** Snapshots of another PGlite version may not load: the version is part of the file name. */
function pgliteVersionTag(): string {
  if (pgliteVersion === undefined) {
    const entry = createRequire(import.meta.url).resolve("@electric-sql/pglite");
    let dir = dirname(entry);
    while (!existsSync(join(dir, "package.json")) && dirname(dir) !== dir) dir = dirname(dir);
    pgliteVersion = (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { version: string }).version;
  }
  return pgliteVersion;
}

const snapshots = new Map<string, Blob>();

/** The snapshot file of the source, built when missing. */
export async function pgliteSnapshotFile(source: TemplateSource): Promise<{ file: string; built: boolean }> {
  const file = join(cacheFolder(source), `pglite-${source.fingerprint.slice(0, 24)}-${pgliteVersionTag()}.tar`);
  let built = false;
  await buildOnce(file, async (temp) => {
    const { createPgliteDriver, dumpPgliteDriver } = await import("../dialects/pglite/driver.js");
    const driver = await createPgliteDriver({}, { schema: EMPTY_SCHEMA });
    try {
      const db = await connectDriver(driver, { dialect: "pglite" }, { schema: source.models });
      await buildFromSource(source, { database: db });
      writeFileSync(temp, new Uint8Array(await (await dumpPgliteDriver(driver)).arrayBuffer()));
      built = true;
    } finally {
      await driver.close();
    }
  });
  return { file, built };
}

/** A new in-memory PGlite database started from the source's snapshot. */
export async function openPgliteClone<S extends Record<string, unknown>>(source: TemplateSource, schema: Schema, options: { schema?: S }): Promise<Database<S>> {
  const { file } = await pgliteSnapshotFile(source);
  let blob = snapshots.get(file);
  if (!blob) {
    blob = new Blob([readFileSync(file)]);
    snapshots.set(file, blob);
  }
  const { createPgliteDriver } = await import("../dialects/pglite/driver.js");
  const driver = await createPgliteDriver({ loadDataDir: blob }, { schema });
  return connectDriver(driver, { dialect: "pglite" }, options, schema);
}

/** Keep a PGlite test database: its data written to a folder `pglite:<folder>` opens. */
export async function keepPglite(db: Database<any>, folder: string): Promise<string> {
  const { createPgliteDriver, dumpPgliteDriver } = await import("../dialects/pglite/driver.js");
  const blob = await dumpPgliteDriver(db.driver);
  makeDirectory(dirname(folder));
  const kept = await createPgliteDriver({ dataDir: folder, loadDataDir: blob }, { schema: EMPTY_SCHEMA });
  await kept.close();
  return `pglite:${folder}`;
}

/** The SQLite template file of the source, built when missing. */
export async function sqliteTemplateFile(source: TemplateSource): Promise<{ file: string; built: boolean }> {
  const file = join(cacheFolder(source), `sqlite-${source.fingerprint.slice(0, 24)}.db`);
  let built = false;
  await buildOnce(file, async (temp) => {
    await buildFromSource(source, { url: `sqlite:${temp}` });
    // Closed, the database is all in the main file (no -wal left to copy).
    for (const suffix of ["-wal", "-shm", "-journal"]) rmSync(`${temp}${suffix}`, { force: true });
    built = true;
  });
  return { file, built };
}

/** Where SQLite copies go: RAM when the machine has /dev/shm. */
export function sqliteCopyFolder(): string {
  const folder = existsSync("/dev/shm") ? "/dev/shm/retort-tests" : join(tmpdir(), "retort-tests");
  makeDirectory(folder);
  return folder;
}

let sqliteSwept = false;

/** A copy of the template file, removed with drop(); returns its path. */
export async function copySqliteTemplate(source: TemplateSource): Promise<string> {
  const { file } = await sqliteTemplateFile(source);
  const folder = sqliteCopyFolder();
  if (!sqliteSwept) {
    sqliteSwept = true;
    sweepSqliteCopies(folder);
  }
  const copy = join(folder, `${ownedName("sqlite")}.db`);
  copyFileSync(file, copy);
  return copy;
}

export function removeSqliteFiles(file: string): void {
  for (const suffix of ["", "-wal", "-shm", "-journal"]) rmSync(`${file}${suffix}`, { force: true });
}

/** Remove copies that dead processes left (kept ones after a day). */
export function sweepSqliteCopies(folder = sqliteCopyFolder()): string[] {
  const removed: string[] = [];
  for (const name of readdirSync(folder)) {
    const match = /^(.+?)(\.kept)?\.db$/.exec(name);
    const owned = match && parseOwnedName(match[1]!);
    if (!owned) continue;
    const leftover = match![2] ? Date.now() - owned.owner.created > LEFTOVER_MAX_AGE_MS : isLeftover(owned.owner);
    if (!leftover) continue;
    removeSqliteFiles(join(folder, name));
    removed.push(name);
  }
  return removed;
}

/** Keep a SQLite copy (closed): renamed so the sweep leaves it for a day. */
export function keepSqlite(file: string): string {
  const kept = file.replace(/\.db$/, ".kept.db");
  renameSync(file, kept);
  return `sqlite:${kept}`;
}
