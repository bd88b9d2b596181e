/**
 * The embedded Postgres driver: one PGlite instance (Postgres compiled to WASM, in this process).
 * It has a single session, so a ConnectionLock gives a held connection (a transaction) exclusive
 * use of it; statements from elsewhere wait their turn instead of landing inside that transaction.
 * DDL, value codecs and error translation are the Postgres ones.
 *
 * PGlite is single-process: two processes with one directory open corrupt it. So a directory
 * is opened only under the process lock on it, taken before PGlite touches it and held until
 * close (or until the process dies, when the kernel frees it).
 *
 * Extensions: PGlite ships most contrib extensions as separate bundles, whose files it reads only
 * when it starts (each costs ~25 ms of start-up; all of them ~350 ms, half as much again, so none
 * is loaded by default). A start loads the bundles of the extensions the expected schema names
 * (connect() with models that declare extension()) and, for a directory, those it was last
 * started with (remembered in a file of the directory, so commands that name none do not pay a
 * second start); a database read from disk or a snapshot is asked which extensions it has, and
 * restarted with their bundles when some were missing; a migration run that creates one calls
 * loadExtensions() first (a restart between transactions).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PGlite, type Extension, type Results } from "@electric-sql/pglite";
import { RetortError } from "../../errors.js";
import { extensionsOf, type ColumnSchema, type TableSchema } from "../../schema/snapshot.js";
import type { Connection, CopyFormat, Driver, DriverOptions, HeldConnection, QueryResult } from "../driver.js";
import { ConnectionLock } from "../single-connection.js";
import { acquireProcessLock, describeHolder, type ProcessLock } from "../process-lock.js";
import { refuseNonDatabase } from "../file-database.js";
import { arrayResultParsers, bytesToHex, encodeValue, Oid, resultParsers } from "../postgres/codecs.js";
import { copyFromSql, copyTextChunks } from "../postgres/copy-text.js";
import { COPY_BINARY_HEADER, COPY_BINARY_TRAILER } from "../postgres/copy-binary.js";
import { translatePostgresError } from "../postgres/errors.js";
import { postgresFamilyParts } from "../postgres/family.js";

export interface PgliteLocation {
  /** Directory holding the database; undefined keeps it in memory. */
  dataDir?: string;
  /** How long to wait for another process that has the directory open (default 0: fail at once). */
  busyTimeoutMs?: number;
  /** Start from a `dumpDataDir()` snapshot instead of an empty cluster (test databases; with dataDir, an empty folder). */
  loadDataDir?: Blob;
}

/** The lock kind keeping a PGlite directory to one process. */
export const PGLITE_LOCK = "pglite";

/** How much COPY data (characters of text, bytes of binary) goes into one `/dev/blob` load, so memory stays bounded for huge inputs. */
const COPY_BATCH_SIZE = 16 * 1024 * 1024;

/**
 * PGlite binds parameters through its own serializers, chosen by the type the server infers for
 * each one: it passes JSON text through unchanged (so `encodeValue`'s JSON.stringify is not
 * doubled), writes Dates as ISO text and bigints as decimal. Its bytea serializer goes byte by
 * byte in JS; ours hex-encodes natively.
 */
const serializers = {
  [Oid.bytea]: (value: Uint8Array) => `\\x${bytesToHex(value)}`,
};

function toResult<R>(result: Results<unknown> | undefined): QueryResult<R> {
  if (result === undefined) return { rows: [], rowCount: 0 };
  return { rows: result.rows as R[], rowCount: result.rowCount ?? result.affectedRows ?? 0 };
}

/**
 * Without parameters, the simple protocol: one round trip, and several statements in one text
 * work as on the pg driver. With parameters, the extended protocol. PGlite has no named
 * statements to reuse, so `name` is ignored.
 */
async function run<R>(db: PGlite, sql: string, params: readonly unknown[] | undefined): Promise<QueryResult<R>> {
  if (params === undefined || params.length === 0) {
    const results = await db.exec(sql);
    return toResult<R>(results[results.length - 1]);
  }
  return toResult<R>(await db.query(sql, params as unknown[]));
}

/** Up to COPY_BATCH_SIZE of COPY data from `chunks` (characters or bytes); `done` when the rows ran out. */
function nextBatch(chunks: Iterator<string | Uint8Array>): { parts: Array<string | Uint8Array>; done: boolean } {
  const parts: Array<string | Uint8Array> = [];
  let size = 0;
  while (size < COPY_BATCH_SIZE) {
    const next = chunks.next();
    if (next.done) return { parts, done: true };
    parts.push(next.value);
    size += next.value.length;
  }
  return { parts, done: false };
}

/**
 * Makes several COPY statements one unit: a savepoint inside the caller's transaction, or a
 * transaction of our own when there is none (SAVEPOINT then fails with 25P01).
 */
async function openUnit(db: PGlite): Promise<{ commit(): Promise<unknown>; rollback(): Promise<unknown> }> {
  try {
    await db.exec("SAVEPOINT retort_bulk_insert");
    return {
      commit: () => db.exec("RELEASE SAVEPOINT retort_bulk_insert"),
      rollback: () => db.exec("ROLLBACK TO SAVEPOINT retort_bulk_insert; RELEASE SAVEPOINT retort_bulk_insert"),
    };
  } catch (error) {
    if ((error as { code?: unknown }).code !== "25P01") throw error;
    await db.exec("BEGIN");
    return { commit: () => db.exec("COMMIT"), rollback: () => db.exec("ROLLBACK") };
  }
}

/** COPY through PGlite's `/dev/blob` device, in batches so memory stays bounded for huge inputs. */
async function copyChunks(db: PGlite, table: string, columns: string[], format: CopyFormat, data: Iterable<string | Uint8Array>): Promise<number> {
  const sql = copyFromSql(table, columns, "'/dev/blob'", format);
  const load = async (parts: Array<string | Uint8Array>) => {
    // Each statement's binary data is framed on its own.
    const blob = format === "binary" ? new Blob([COPY_BINARY_HEADER, ...parts, COPY_BINARY_TRAILER]) : new Blob(parts);
    const result = await db.query(sql, [], { blob });
    return result.rowCount ?? result.affectedRows ?? 0;
  };
  const chunks = data[Symbol.iterator]();
  let batch = nextBatch(chunks);
  // Everything in one COPY: atomic by itself.
  if (batch.done) return batch.parts.length === 0 ? 0 : load(batch.parts);
  const unit = await openUnit(db);
  try {
    let count = await load(batch.parts);
    while (!batch.done) {
      batch = nextBatch(chunks);
      if (batch.parts.length > 0) count += await load(batch.parts);
    }
    await unit.commit();
    return count;
  } catch (error) {
    await unit.rollback().catch(() => {});
    throw error;
  }
}

/** The running PGlite and the extensions it was started with: replaced when loadExtensions restarts it. */
interface Instance {
  db: PGlite;
  extensions: Set<string>;
}

class PgliteHeldConnection implements HeldConnection {
  private released = false;

  constructor(
    private readonly instance: Instance,
    private readonly lock: ConnectionLock,
  ) {}

  get db(): PGlite {
    return this.instance.db;
  }

  query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    if (this.released) return Promise.reject(new Error("Retort: this PGlite connection was already released"));
    return run<R>(this.db, sql, params);
  }

  release(broken?: boolean): void {
    if (this.released) return;
    this.released = true;
    if (!broken) {
      this.lock.release();
      return;
    }
    // One session for everyone: end whatever transaction was left open before the next user gets it.
    void this.db
      .exec("ROLLBACK")
      .catch(() => {})
      .finally(() => this.lock.release());
  }
}

/** Extensions whose bundle sets shared_preload_libraries: a later start without it fails, so they are refused. */
const PRELOADED = new Set(["pg_stat_statements", "auto_explain"]);

/** The name of PGlite's contrib module (and `extensions` key) for an extension: "uuid-ossp" → uuid_ossp. */
const bundleModule = (name: string): string => name.replace(/-/g, "_");

/** PGlite's bundle of the extension `name`, or undefined when it ships none. */
async function contribBundle(name: string): Promise<Extension | undefined> {
  const module = bundleModule(name);
  if (!/^[a-z0-9_]+$/.test(module) || PRELOADED.has(module)) return undefined;
  try {
    return ((await import(`@electric-sql/pglite/contrib/${module}`)) as Record<string, Extension | undefined>)[module];
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === "ERR_MODULE_NOT_FOUND" || code === "ERR_PACKAGE_PATH_NOT_EXPORTED" || code === "MODULE_NOT_FOUND") return undefined;
    throw error;
  }
}

/** PGlite's `extensions` option for `names`; `missing`: the names it ships no bundle for. */
async function bundlesFor(names: Iterable<string>): Promise<{ bundles: Record<string, Extension>; missing: string[] }> {
  const bundles: Record<string, Extension> = {};
  const missing: string[] = [];
  for (const name of new Set(names)) {
    const bundle = await contribBundle(name);
    if (bundle) bundles[bundleModule(name)] = bundle;
    else missing.push(name);
  }
  return { bundles, missing };
}

/** In a PGlite directory: the extensions whose bundles it was last started with (a cache; the catalog is the truth). */
const REMEMBERED_EXTENSIONS = "retort-extensions.json";

function rememberedExtensions(dataDir: string | undefined): string[] {
  if (dataDir === undefined) return [];
  try {
    const names = JSON.parse(readFileSync(join(dataDir, REMEMBERED_EXTENSIONS), "utf8")) as unknown;
    return Array.isArray(names) ? names.filter((name): name is string => typeof name === "string") : [];
  } catch {
    return [];
  }
}

function unsupportedExtensions(names: readonly string[]): RetortError {
  const list = names.map((name) => `"${name}"`).join(", ");
  return new RetortError("RETORT_UNSUPPORTED", `PGlite (embedded Postgres) cannot create extension ${list}: it ships no bundle for ${names.length === 1 ? "it" : "them"}`, {
    hint: `Use a Postgres server for this database (a postgres:// URL), or leave the extension out of the models and migrations. PGlite's bundles are listed in @electric-sql/pglite/dist/contrib${names.some((name) => PRELOADED.has(bundleModule(name))) ? " (pg_stat_statements needs a preloaded library, which Retort does not set up)" : ""}.`,
    details: { extensions: names },
  });
}

function openFailure(dataDir: string | undefined, error: unknown): RetortError {
  const where = dataDir === undefined ? "in memory" : `in "${dataDir}"`;
  const reason = error instanceof Error && error.message ? error.message : "the directory is not one PGlite can use";
  return new RetortError("RETORT_CONNECTION_FAILED", `Could not open the PGlite database ${where}: ${reason}`, {
    hint:
      dataDir === undefined
        ? "PGlite failed to start; check the @electric-sql/pglite installation."
        : `Check that "${dataDir}" is a directory you can write to, holding a PGlite database (or nothing yet), and that no other process has it open.`,
    details: { dataDir },
    cause: error,
  });
}

function directoryBusy(dataDir: string, timeoutMs: number): Parameters<typeof acquireProcessLock>[2]["busy"] {
  return (holder, waitedMs) =>
    new RetortError("RETORT_DATABASE_BUSY", `The PGlite database in "${dataDir}" is open in another process: ${describeHolder(holder)}${timeoutMs > 0 ? `; waited ${Math.round(waitedMs / 100) / 10} s` : ""}.`, {
      hint:
        timeoutMs > 0
          ? "PGlite allows one process per directory. Wait for that process to finish (or stop it) and try again, or use a Postgres server for shared access."
          : "PGlite allows one process per directory. Stop that process, pass busyTimeoutMs to wait for it, or use a Postgres server for shared access.",
      details: { dataDir, holder, waitedMs },
    });
}

export async function createPgliteDriver(location: PgliteLocation, options: DriverOptions): Promise<Driver> {
  const { dataDir } = location;
  let processLock: ProcessLock | undefined;
  if (dataDir !== undefined) {
    const timeoutMs = location.busyTimeoutMs ?? 0;
    processLock = await acquireProcessLock(PGLITE_LOCK, dataDir, { purpose: "has the PGlite database open", timeoutMs, busy: directoryBusy(dataDir, timeoutMs) });
    // Under the lock: a folder another process is making a cluster in is not yet one, but will be.
    try {
      refuseNonDatabase("pglite", dataDir, "open or create a PGlite database");
    } catch (error) {
      await processLock.release();
      throw error;
    }
  }
  const start = async (names: Iterable<string>, loadDataDir: Blob | undefined): Promise<Instance> => {
    const { bundles, missing } = await bundlesFor(names);
    const loaded = [...new Set(names)].filter((name) => !missing.includes(name));
    const db = await PGlite.create({ dataDir, parsers: resultParsers, serializers, extensions: bundles, ...(loadDataDir ? { loadDataDir } : {}) });
    // Starting, PGlite puts its own parser on every array type (over those given to create): ours
    // go in afterwards, so arrays are read as on the pg driver.
    Object.assign(db.parsers, arrayResultParsers);
    return { db, extensions: new Set(loaded) };
  };
  /** Start `instance` again with `names` loaded too (a memory database goes through a dump of itself). */
  const restart = async (instance: Instance, names: readonly string[]) => {
    const snapshot = dataDir === undefined ? await instance.db.dumpDataDir("none") : undefined;
    await instance.db.close();
    const next = await start([...instance.extensions, ...names], snapshot);
    instance.db = next.db;
    instance.extensions = next.extensions;
    if (dataDir !== undefined) writeFileSync(join(dataDir, REMEMBERED_EXTENSIONS), `${JSON.stringify([...next.extensions].sort())}\n`);
  };
  let started: Instance | undefined;
  try {
    // Names PGlite ships no bundle for are left to CREATE EXTENSION (or loadExtensions) to refuse.
    started = await start([...extensionsOf(options.schema), ...rememberedExtensions(dataDir)], location.loadDataDir);
    if (dataDir !== undefined || location.loadDataDir) {
      // Every start of a database that has extensions needs their files (their functions load on first call).
      const loaded = started.extensions;
      const { rows } = await started.db.query<{ name: string }>("SELECT extname AS name FROM pg_catalog.pg_extension WHERE extname <> 'plpgsql'");
      const unloaded = rows.map((row) => row.name).filter((name) => !loaded.has(name));
      const { missing } = await bundlesFor(unloaded);
      const shipped = unloaded.filter((name) => !missing.includes(name));
      if (shipped.length > 0) await restart(started, shipped);
    }
  } catch (error) {
    await started?.db.close().catch(() => {});
    await processLock?.release();
    throw openFailure(dataDir, error);
  }
  const instance: Instance = started;
  const lock = new ConnectionLock();
  let closed = false;

  function closedError(): RetortError {
    return new RetortError("RETORT_CLOSED", "This PGlite database is closed");
  }

  async function acquire(): Promise<PgliteHeldConnection> {
    if (closed) throw closedError();
    await lock.acquire();
    return new PgliteHeldConnection(instance, lock);
  }

  /** Load rows given as COPY data (see Driver.copyData). */
  async function copyData(conn: Connection, table: TableSchema, columns: ColumnSchema[], format: CopyFormat, chunks: Iterable<string | Uint8Array>): Promise<number> {
    const names = columns.map((column) => column.name);
    // On a held connection the lock is already ours; otherwise take it for the load.
    const held = conn instanceof PgliteHeldConnection ? conn : await acquire();
    try {
      return await copyChunks(held.db, table.name, names, format, chunks);
    } catch (error) {
      throw translatePostgresError(error, options.schema);
    } finally {
      if (held !== conn) held.release();
    }
  }

  const driver: Driver = {
    dialect: "pglite",

    async query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      if (closed) throw closedError();
      await lock.acquire();
      try {
        return await run<R>(instance.db, sql, params);
      } finally {
        lock.release();
      }
    },

    acquire,
    encode: encodeValue,

    bulkInsert(conn: Connection, table, columns, rows): Promise<number> {
      return copyData(conn, table, columns, "text", copyTextChunks(rows, 1024 * 1024));
    },

    copyData,

    async loadExtensions(names: readonly string[]): Promise<void> {
      if (closed) throw closedError();
      const wanted = [...new Set(names)].filter((name) => !instance.extensions.has(name));
      if (wanted.length === 0) return;
      // Built in (plpgsql) or loaded by an earlier start: nothing to do.
      const { rows } = await instance.db.query<{ name: string }>("SELECT name FROM pg_catalog.pg_available_extensions WHERE name = ANY($1::text[])", [wanted]);
      const needed = wanted.filter((name) => !rows.some((row) => row.name === name));
      if (needed.length === 0) return;
      const { missing } = await bundlesFor(needed);
      if (missing.length > 0) throw unsupportedExtensions(missing);
      await restart(instance, needed);
    },

    ...postgresFamilyParts(options.schema),

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      // Let a transaction in flight finish before the instance goes away.
      try {
        await lock.run(() => instance.db.close());
      } finally {
        await processLock?.release();
      }
    },
  };
  instances.set(driver, instance);
  return driver;
}

const instances = new WeakMap<Driver, Instance>();

/** The whole database as a tarball (`dumpDataDir`), taken between statements: what test snapshots are made of. */
export async function dumpPgliteDriver(driver: Driver): Promise<Blob> {
  // Through wrappers made with Object.create (onQuery instrumentation) to the driver itself.
  let owner: object | null = driver;
  while (owner && !instances.has(owner as Driver)) owner = Object.getPrototypeOf(owner) as object | null;
  const db = owner ? instances.get(owner as Driver)?.db : undefined;
  if (!db) throw new RetortError("RETORT_UNSUPPORTED", `a ${driver.dialect} database has no PGlite data directory to dump`);
  const held = await driver.acquire();
  try {
    return await db.dumpDataDir("none");
  } finally {
    held.release();
  }
}
