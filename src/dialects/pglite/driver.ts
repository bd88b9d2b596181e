/**
 * The embedded Postgres driver: one PGlite instance (Postgres compiled to WASM, in this process).
 * It has a single session, so a ConnectionLock gives a held connection (a transaction) exclusive
 * use of it; statements from elsewhere wait their turn instead of landing inside that transaction.
 * DDL, value codecs and error translation are the Postgres ones.
 */
import { PGlite, type Results } from "@electric-sql/pglite";
import { PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler } from "kysely";
import { RetortError } from "../../errors.js";
import type { Connection, Driver, DriverOptions, HeldConnection, QueryResult } from "../driver.js";
import { ConnectionLock } from "../single-connection.js";
import { bytesToHex, encodeValue, Oid, resultParsers } from "../postgres/codecs.js";
import { copyFromSql, copyTextChunks } from "../postgres/copy-text.js";
import { translatePostgresError } from "../postgres/errors.js";

export interface PgliteLocation {
  /** Directory holding the database; undefined keeps it in memory. */
  dataDir?: string;
}

/** How much COPY text goes into one `/dev/blob` load, so memory stays bounded for huge inputs. */
const COPY_BATCH_CHARS = 16 * 1024 * 1024;

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

async function copyRows(db: PGlite, table: string, columns: string[], rows: unknown[][]): Promise<number> {
  const sql = copyFromSql(table, columns, "'/dev/blob'");
  let count = 0;
  let batch: string[] = [];
  let batchChars = 0;
  const load = async () => {
    const result = await db.query(sql, [], { blob: new Blob(batch) });
    count += result.rowCount ?? result.affectedRows ?? 0;
    batch = [];
    batchChars = 0;
  };
  for (const chunk of copyTextChunks(rows, 1024 * 1024)) {
    batch.push(chunk);
    batchChars += chunk.length;
    if (batchChars >= COPY_BATCH_CHARS) await load();
  }
  if (batch.length > 0) await load();
  return count;
}

class PgliteHeldConnection implements HeldConnection {
  private released = false;

  constructor(
    readonly db: PGlite,
    private readonly lock: ConnectionLock,
  ) {}

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

export async function createPgliteDriver(location: PgliteLocation, options: DriverOptions): Promise<Driver> {
  let db: PGlite;
  try {
    db = await PGlite.create({ dataDir: location.dataDir, parsers: resultParsers, serializers });
  } catch (error) {
    throw openFailure(location.dataDir, error);
  }
  const lock = new ConnectionLock();
  let closed = false;

  function closedError(): RetortError {
    return new RetortError("RETORT_CLOSED", "This PGlite database is closed");
  }

  async function acquire(): Promise<PgliteHeldConnection> {
    if (closed) throw closedError();
    await lock.acquire();
    return new PgliteHeldConnection(db, lock);
  }

  return {
    dialect: "pglite",

    async query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      if (closed) throw closedError();
      await lock.acquire();
      try {
        return await run<R>(db, sql, params);
      } finally {
        lock.release();
      }
    },

    acquire,
    encode: encodeValue,

    async bulkInsert(conn: Connection, table, columns, rows): Promise<number> {
      if (rows.length === 0) return 0;
      const names = columns.map((column) => column.name);
      // On a held connection the lock is already ours (and the caller's transaction, if any,
      // makes a multi-batch load atomic); otherwise take the lock and a transaction of our own.
      if (conn instanceof PgliteHeldConnection) {
        try {
          return await copyRows(conn.db, table.name, names, rows);
        } catch (error) {
          throw translatePostgresError(error, options.schema);
        }
      }
      const held = await acquire();
      try {
        await held.query("BEGIN");
        const count = await copyRows(held.db, table.name, names, rows);
        await held.query("COMMIT");
        held.release();
        return count;
      } catch (error) {
        held.release(true);
        throw translatePostgresError(error, options.schema);
      }
    },

    translateError: (error) => translatePostgresError(error, options.schema),
    createAdapter: () => new PostgresAdapter(),
    createQueryCompiler: () => new PostgresQueryCompiler(),
    createIntrospector: (kysely) => new PostgresIntrospector(kysely),

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      // Let a transaction in flight finish before the instance goes away.
      await lock.run(() => db.close());
    },
  };
}
