/**
 * The three ways a database becomes a file and back, behind one interface:
 *
 * - Postgres server: `pg_dump --format=custom` reading a snapshot exported by a repeatable-read
 *   transaction, in which the revision and the checksums are read too, so the manifest describes
 *   exactly the data in the file even while the application writes. `pg_restore --no-owner
 *   --no-acl --single-transaction --exit-on-error` loads it: all or nothing, roles-independent.
 * - PGlite: the data directory as PGlite's own gzip tarball (`dumpDataDir`), taken with the
 *   directory open under its process lock (as every Retort process opens it); loaded by creating
 *   a new directory from the tarball (`loadDataDir`).
 * - SQLite: the online backup API (a consistent copy while other connections write); the
 *   revision and checksums are read from the copy itself. Restored the same way, the other way round.
 */
import { existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { gunzipSync } from "node:zlib";
import type { Connection, Driver, QueryResult } from "../dialects/driver.js";
import { openDriver } from "../dialects/open.js";
import { refuseNonDatabase } from "../dialects/file-database.js";
import { acquireProcessLock, describeHolder, type ProcessLock } from "../dialects/process-lock.js";
import { quoteIdent } from "../dialects/sql-text.js";
import { createDatabase, databaseExists, resetPostgresSchemas } from "../dev/databases.js";
import { parseDatabaseUrl, type ConnectionTarget } from "../env/url.js";
import { RetortError } from "../errors.js";
import { acquireMigrationLock } from "../runtime/lock.js";
import { readVersionState } from "../runtime/status.js";
import { EMPTY_SCHEMA } from "../schema/snapshot.js";
import { POSTGRES_CHECKSUM_SETTINGS, postgresChecksums, sqliteChecksums, type TableChecksum } from "./checksums.js";
import { findDumpTools, libpqEnvironment, runTool } from "./pg-tools.js";
import { makeDirectory } from "../env/make-directory.js";

export type Progress = (line: string) => void;

export interface DatabaseState {
  heads: string[];
  tables: TableChecksum[];
}

export interface Snapshot extends DatabaseState {
  serverVersion: string;
  tool: string;
}

export interface Backend {
  /** The database's name, for file names. */
  readonly name: string;
  /** Write the database to `file`; return what the manifest records. */
  dump(file: string, progress: Progress): Promise<Snapshot>;
  /** What a restore would overwrite: undefined when empty (or absent), else a short description. */
  contents(): Promise<string | undefined>;
  /** Empty the target (restore --clean). */
  clean(): Promise<void>;
  /** Load a backup file into the (empty or absent) target. */
  load(file: string, progress: Progress): Promise<void>;
  /** load, then inspect (PGlite does both in one opening of the directory). */
  loadAndInspect(file: string, progress: Progress): Promise<DatabaseState>;
  /** The revision and checksums of the database as it is now. */
  inspect(progress: Progress): Promise<DatabaseState>;
}

const checksumProgress = (progress: Progress) => (done: number, total: number, table: string) => {
  if (done < total) progress(`checksums: table ${done + 1}/${total} ${table}`);
};

/** The backend of a database URL (the full URL: the password reaches pg_dump through the environment, never a message). */
export function backendFor(url: string, projectRoot: string): Backend {
  const target = parseDatabaseUrl(url);
  switch (target.dialect) {
    case "postgres":
      return postgresBackend(url, target, projectRoot);
    case "pglite":
      if (target.dataDir === undefined) throw inMemory("pglite:memory");
      refuseNonDatabase("pglite", resolve(target.dataDir), "back it up or restore a backup into it");
      return pgliteBackend(resolve(target.dataDir));
    case "sqlite":
      if (target.filename === ":memory:" || target.filename === "") throw inMemory("sqlite::memory:");
      refuseNonDatabase("sqlite", resolve(target.filename), "back it up or restore a backup into it");
      return sqliteBackend(resolve(target.filename));
  }
}

function inMemory(url: string): RetortError {
  return new RetortError("RETORT_BAD_URL", `${url} is an in-memory database: it cannot be backed up or restored into.`, {
    hint: "Point --url at a Postgres database, a PGlite directory (pglite:./data) or a SQLite file (sqlite:./app.db).",
  });
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1).replace(/\.(sqlite3?|db)$/i, "");
}

// ---------------------------------------------------------------- Postgres server

function postgresBackend(fullUrl: string, target: Extract<ConnectionTarget, { dialect: "postgres" }>, projectRoot: string): Backend {
  const url = target.url; // masked, for messages
  const name = target.connection.database;
  const withConnection = async <T>(fn: (conn: Connection) => Promise<T>): Promise<T> => {
    const driver = await openDriver(target, EMPTY_SCHEMA, { poolSize: 1 });
    try {
      const conn = await driver.acquire();
      try {
        return await fn(conn);
      } finally {
        conn.release();
      }
    } finally {
      await driver.close();
    }
  };
  const server = async (conn: Connection) => {
    const { rows } = await conn.query<{ num: string; version: string }>("SELECT current_setting('server_version_num') AS num, current_setting('server_version') AS version");
    return { major: Math.floor(Number(rows[0]!.num) / 10_000), version: rows[0]!.version };
  };
  const state = async (conn: Connection, progress: Progress): Promise<DatabaseState> => {
    for (const statement of POSTGRES_CHECKSUM_SETTINGS) await conn.query(statement);
    const heads = (await readVersionState(conn, "postgres")).heads;
    return { heads, tables: await postgresChecksums(conn, checksumProgress(progress)) };
  };
  return {
    name,
    async dump(file, progress) {
      return withConnection(async (conn) => {
        const { major, version } = await server(conn);
        const tools = findDumpTools(projectRoot, major);
        await conn.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
        try {
          const snapshotId = (await conn.query<{ id: string }>("SELECT pg_export_snapshot() AS id")).rows[0]!.id;
          const dumped = runTool({
            bindir: tools.bindir,
            tool: "pg_dump",
            args: ["--format=custom", `--snapshot=${snapshotId}`, `--file=${file}`, "--no-password"],
            env: libpqEnvironment(target.connection),
            failure: "RETORT_BACKUP_FAILED",
            what: `backup of ${url}`,
            watch: { file, onBytes: (bytes) => progress(`pg_dump: ${formatBytes(bytes)} written`) },
          });
          // The checksums read the same snapshot while pg_dump writes it; both must finish before the snapshot goes.
          const [read, dump] = await Promise.allSettled([state(conn, progress), dumped]);
          if (dump.status === "rejected") throw dump.reason;
          if (read.status === "rejected") throw read.reason;
          return { ...read.value, serverVersion: version, tool: `pg_dump (PostgreSQL) ${tools.major} in ${tools.bindir}` };
        } finally {
          await conn.query("COMMIT").catch(() => undefined);
        }
      });
    },
    async contents() {
      if (!(await databaseExists(fullUrl))) return undefined;
      return withConnection(async (conn) => {
        const { rows } = await conn.query<{ n: number; sample: string | null }>(
          `SELECT count(*)::int AS n, min(n.nspname || '.' || c.relname) AS sample FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'`,
        );
        return rows[0]!.n > 0 ? `${rows[0]!.n} relation(s), e.g. ${rows[0]!.sample}` : undefined;
      });
    },
    async clean() {
      if (!(await databaseExists(fullUrl))) return;
      await withConnection(async (conn) => {
        const { rows } = await conn.query<{ name: string }>(
          "SELECT nspname AS name FROM pg_namespace WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'public') AND nspname NOT LIKE 'pg\\_%'",
        );
        for (const schema of rows) await conn.query(`DROP SCHEMA ${quoteIdent(schema.name)} CASCADE`);
      });
      // public keeps its owner and grants (the restore is roles-independent and does not bring them).
      await resetPostgresSchemas(fullUrl, ["public"]);
    },
    async load(file, progress) {
      if (!(await databaseExists(fullUrl))) {
        await createDatabase(fullUrl);
        progress(`created database ${name}`);
      }
      const { major } = await withConnection(server);
      const tools = findDumpTools(projectRoot, major);
      progress(`pg_restore into ${name}`);
      await runTool({
        bindir: tools.bindir,
        tool: "pg_restore",
        args: ["--no-owner", "--no-acl", "--single-transaction", "--exit-on-error", "--no-password", `--dbname=${name}`, file],
        env: libpqEnvironment(target.connection),
        failure: "RETORT_RESTORE_FAILED",
        what: `restore of ${file} into ${url}`,
      });
    },
    inspect: (progress) => withConnection((conn) => state(conn, progress)),
    async loadAndInspect(file, progress) {
      await this.load(file, progress);
      return this.inspect(progress);
    },
  };
}

// ---------------------------------------------------------------- PGlite

type PgliteInstance = import("@electric-sql/pglite").PGlite;

/** A raw PGlite instance as a Connection (our checksum and version-table reads need no more). */
function pgliteConnection(db: PgliteInstance): Connection {
  return {
    async query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      if (params?.length) {
        const result = await db.query<R>(sql, params as unknown[]);
        return { rows: result.rows, rowCount: result.affectedRows ?? 0 };
      }
      const results = await db.exec(sql);
      const last = results.at(-1);
      return { rows: (last?.rows ?? []) as R[], rowCount: last?.affectedRows ?? 0 };
    },
  };
}

/** How long to wait for another process to close a PGlite directory. */
const PGLITE_WAIT_MS = 5_000;

/** The directory's process lock, the one the PGlite driver holds while a database is open. */
async function lockPglite(dataDir: string, purpose: string): Promise<ProcessLock> {
  const { PGLITE_LOCK } = await import("../dialects/pglite/driver.js");
  return acquireProcessLock(PGLITE_LOCK, dataDir, {
    purpose,
    timeoutMs: PGLITE_WAIT_MS,
    busy: (holder, waitedMs) =>
      new RetortError("RETORT_DATABASE_BUSY", `The PGlite database in ${dataDir} is open in another process: ${describeHolder(holder)}; waited ${Math.round(waitedMs / 100) / 10} s.`, {
        hint: "PGlite allows one process per directory. Stop the application that has it open, then run the command again (or use a Postgres server, which pg_dump backs up while in use).",
        details: { dataDir, holder },
      }),
  });
}

/**
 * Open the directory the way every Retort process does: under its process lock (waiting a
 * little for a holder), so no other process is in it while it is read or written.
 */
async function withPglite<T>(dataDir: string, purpose: string, fn: (db: PgliteInstance) => Promise<T>, loadDataDir?: Blob): Promise<T> {
  const lock = await lockPglite(dataDir, purpose);
  try {
    const { PGlite } = await import("@electric-sql/pglite");
    let db: PgliteInstance;
    try {
      db = await PGlite.create({ dataDir, ...(loadDataDir ? { loadDataDir } : {}) });
    } catch (error) {
      throw new RetortError(loadDataDir ? "RETORT_RESTORE_FAILED" : "RETORT_CONNECTION_FAILED", `Could not ${loadDataDir ? "load the backup into" : "open"} the PGlite directory ${dataDir}: ${(error as Error).message}`, {
        hint: loadDataDir ? "The file may be truncated or damaged: run `retort backup verify` on it." : "Check that the directory holds a PGlite database.",
        cause: error,
      });
    }
    try {
      return await fn(db);
    } finally {
      await db.close();
    }
  } finally {
    await lock.release();
  }
}

function pgliteBackend(dataDir: string): Backend {
  const state = async (db: PgliteInstance, progress: Progress): Promise<DatabaseState> => {
    const conn = pgliteConnection(db);
    for (const statement of POSTGRES_CHECKSUM_SETTINGS) await conn.query(statement);
    const heads = (await readVersionState(conn, "postgres")).heads;
    return { heads, tables: await postgresChecksums(conn, checksumProgress(progress)) };
  };
  const hasCluster = () => existsSync(resolve(dataDir, "PG_VERSION"));
  return {
    name: baseName(dataDir),
    async dump(file, progress) {
      if (!hasCluster()) throw missingDatabase(`pglite:${dataDir}`, dataDir);
      return withPglite(dataDir, "is backing up the PGlite database", async (db) => {
        const read = await state(db, progress);
        const version = (await pgliteConnection(db).query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!.v;
        progress("PGlite: dumping the data directory");
        const tarball = await db.dumpDataDir("gzip");
        writeFileSync(file, Buffer.from(await tarball.arrayBuffer()));
        return { ...read, serverVersion: `PGlite (PostgreSQL ${version})`, tool: "PGlite dumpDataDir (gzip tarball)" };
      });
    },
    async contents() {
      if (!existsSync(dataDir)) return undefined;
      const entries = readdirSync(dataDir);
      return entries.length ? `the directory holds ${entries.length} entries${hasCluster() ? " (a PGlite database)" : ""}` : undefined;
    },
    async clean() {
      // Under the lock: never delete a directory another process has open.
      const lock = await lockPglite(dataDir, "is replacing the PGlite database (restore --clean)");
      try {
        rmSync(dataDir, { recursive: true, force: true });
      } finally {
        await lock.release();
      }
    },
    async load(file, progress) {
      await loadInto(file, progress, false);
    },
    async loadAndInspect(file, progress) {
      return (await loadInto(file, progress, true))!;
    },
    async inspect(progress) {
      if (!hasCluster()) throw missingDatabase(`pglite:${dataDir}`, dataDir);
      return withPglite(dataDir, "is reading the PGlite database", (db) => state(db, progress));
    },
  };

  async function loadInto(file: string, progress: Progress, inspectToo: boolean): Promise<DatabaseState | undefined> {
    makeDirectory(dirname(dataDir));
    progress(`PGlite: loading into ${dataDir}`);
    // Unpacked here, so a damaged archive is a clear error rather than a failure deep inside PGlite.
    let tar: Buffer;
    try {
      tar = gunzipSync(readFileSync(file));
    } catch (error) {
      throw new RetortError("RETORT_RESTORE_FAILED", `${file} is not a whole PGlite dump (gzip: ${(error as Error).message}).`, {
        hint: "The file is truncated or damaged: restore another backup.",
        details: { file },
      });
    }
    const blob = new Blob([tar], { type: "application/x-tar" });
    try {
      return await withPglite(dataDir, "is restoring the PGlite database", async (db) => (inspectToo ? state(db, progress) : void (await db.query("SELECT 1"))), blob);
    } catch (error) {
      rmSync(dataDir, { recursive: true, force: true }); // a half-loaded directory is no database
      throw error;
    }
  }
}

function missingDatabase(url: string, path: string): RetortError {
  return new RetortError("RETORT_DATABASE_NOT_FOUND", `No database at ${path} (${url}).`, { hint: "Check the URL (--url, DATABASE_URL or your environment's variable).", details: { path } });
}

// ---------------------------------------------------------------- SQLite

type SqliteDatabase = import("better-sqlite3").Database;

function sqliteConnection(db: SqliteDatabase): Connection {
  return {
    async query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      const statement = db.prepare(sql);
      if (statement.reader) return { rows: statement.all(...(params ?? [])) as R[], rowCount: 0 };
      return { rows: [], rowCount: statement.run(...(params ?? [])).changes };
    },
  };
}

async function openSqlite(file: string, readonly: boolean): Promise<SqliteDatabase> {
  const { default: Sqlite } = await import("better-sqlite3");
  try {
    return new Sqlite(file, { readonly, fileMustExist: readonly, timeout: 5_000 });
  } catch (error) {
    throw cannotOpen(error, file, readonly ? "read" : "write");
  }
}

/** SQLite's "unable to open database file" names no file: RETORT_FILE_ACCESS does; other errors pass. */
function cannotOpen(error: unknown, file: string, action: "read" | "write"): unknown {
  if ((error as { code?: unknown }).code !== "SQLITE_CANTOPEN") return error;
  return new RetortError("RETORT_FILE_ACCESS", `Cannot ${action} ${file}: SQLite could not open it (${(error as Error).message}).`, {
    hint: "Check that its folder exists and that you may write there (a read-only mount, a permission).",
    details: { path: file },
    cause: error,
  });
}

/** The file is a whole SQLite database: `PRAGMA quick_check` (a damaged page is an error, not wrong data later). */
async function checkSqliteFile(file: string, failure: "RETORT_BACKUP_FAILED" | "RETORT_RESTORE_FAILED"): Promise<void> {
  let problem: string | undefined;
  try {
    const db = await openSqlite(file, true);
    try {
      const rows = db.pragma("quick_check") as Array<{ quick_check: string }>;
      if (rows[0]?.quick_check !== "ok") problem = rows.map((r) => r.quick_check).join("; ");
    } finally {
      db.close();
    }
  } catch (error) {
    problem = (error as Error).message;
  }
  if (problem !== undefined) {
    throw new RetortError(failure, `${file} is not a whole SQLite database: ${problem}`, {
      hint: failure === "RETORT_RESTORE_FAILED" ? "The file is truncated or damaged: restore another backup." : "Check the database file.",
      details: { file },
    });
  }
}

function sqliteBackend(file: string): Backend {
  const read = async (path: string, progress: Progress): Promise<DatabaseState> => {
    const db = await openSqlite(path, true);
    let heads: string[];
    try {
      heads = (await readVersionState(sqliteConnection(db), "sqlite")).heads;
    } finally {
      db.close();
    }
    return { heads, tables: await sqliteChecksums(path, checksumProgress(progress)) };
  };
  return {
    name: baseName(file),
    async dump(out, progress) {
      if (!existsSync(file)) throw missingDatabase(`sqlite:${file}`, file);
      const db = await openSqlite(file, true);
      let version: string;
      try {
        version = String(db.prepare("SELECT sqlite_version()").pluck().get());
        await db.backup(out, {
          progress: ({ totalPages, remainingPages }) => {
            progress(`SQLite backup: ${totalPages - remainingPages}/${totalPages} pages`);
            return 1000;
          },
        });
      } finally {
        db.close();
      }
      // A self-contained file: in WAL mode every reader would create -wal and -shm files beside it.
      const copy = await openSqlite(out, false);
      try {
        copy.pragma("journal_mode = DELETE");
      } finally {
        copy.close();
      }
      // The revision and checksums come from the copy: exactly what the file holds.
      return { ...(await read(out, progress)), serverVersion: `SQLite ${version}`, tool: "SQLite online backup API" };
    },
    async contents() {
      if (!existsSync(file) || statSync(file).size === 0) return undefined;
      const db = await openSqlite(file, true);
      try {
        const n = Number(db.prepare("SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'").pluck().get());
        return n > 0 ? `${n} schema object(s)` : undefined;
      } finally {
        db.close();
      }
    },
    async clean() {
      await withSqliteTarget(file, (db) => {
        db.pragma("foreign_keys = OFF");
        const objects = db.prepare("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND type IN ('view', 'table', 'trigger')").all() as Array<{ type: string; name: string }>;
        for (const o of objects.filter((x) => x.type !== "table")) db.exec(`DROP ${o.type.toUpperCase()} IF EXISTS ${quoteIdent(o.name)}`);
        for (const o of objects.filter((x) => x.type === "table")) db.exec(`DROP TABLE IF EXISTS ${quoteIdent(o.name)}`);
      });
    },
    async load(backupFile, progress) {
      await checkSqliteFile(backupFile, "RETORT_RESTORE_FAILED");
      makeDirectory(dirname(file));
      progress(`SQLite: copying into ${file}`);
      const source = await openSqlite(backupFile, true);
      try {
        await withSqliteTarget(file, async () => {
          await source.backup(file).catch((error: unknown) => {
            throw cannotOpen(error, file, "write");
          });
        });
      } finally {
        source.close();
      }
    },
    async inspect(progress) {
      if (!existsSync(file)) throw missingDatabase(`sqlite:${file}`, file);
      return read(file, progress);
    },
    async loadAndInspect(backupFile, progress) {
      await this.load(backupFile, progress);
      return this.inspect(progress);
    },
  };
}

/**
 * Change a SQLite target only when nobody uses it: the migration lock (no migration runs) and an
 * exclusive SQLite lock taken without waiting (no other connection reads or writes just now).
 */
async function withSqliteTarget(file: string, fn: (db: SqliteDatabase) => unknown): Promise<void> {
  // A SQLite migration lock is a process lock on the file: no driver is involved.
  const lock = await acquireMigrationLock({ dialect: "sqlite", filename: file }, undefined as unknown as Driver, 0).catch((error: unknown) => {
    throw new RetortError("RETORT_DATABASE_BUSY", `${file} is being migrated by another process: ${(error as Error).message}`, { hint: "Wait for it to finish, then restore." });
  });
  try {
    if (existsSync(file)) {
      const { default: Sqlite } = await import("better-sqlite3");
      const probe = new Sqlite(file, { timeout: 0 });
      try {
        probe.exec("BEGIN EXCLUSIVE");
        probe.exec("COMMIT");
      } catch (error) {
        throw new RetortError("RETORT_DATABASE_BUSY", `${file} is in use by another process (${(error as Error).message}).`, {
          hint: "Stop the application using this SQLite file, then restore.",
          details: { file },
        });
      } finally {
        probe.close();
      }
    }
    const db = await openSqlite(file, false);
    try {
      await fn(db);
    } finally {
      db.close();
    }
  } finally {
    await lock.release();
  }
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}
