/**
 * The Postgres server driver: a pg.Pool with Retort's value parsers installed on the pool only
 * (pg's global parsers, which the user's other pg code relies on, are left alone), named prepared
 * statements for the controllers' hot paths, and COPY for bulk loads.
 */
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { RetortError } from "../../errors.js";
import type { ColumnType } from "../../schema/snapshot.js";
import type { Connection, Driver, DriverOptions, HeldConnection, QueryResult } from "../driver.js";
import { encodeValue, resultParsers } from "./codecs.js";
import { copyFromSql, copyTextChunks } from "./copy-text.js";
import { connectionError, connectionTarget, redactPassword, translatePostgresError, type ConnectionTarget } from "./errors.js";
import { postgresFamilyParts } from "./family.js";

export interface PostgresDriverOptions extends DriverOptions {
  /** Most connections the pool opens (default 10). */
  poolSize?: number;
  /** How long to wait for a connection before failing (default 10 s; pg's own default waits forever). */
  connectTimeoutMs?: number;
}

const typeParsers: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) =>
    (format === undefined || format === "text" ? resultParsers[oid] : undefined) ??
    pg.types.getTypeParser(oid, format as "text")) as pg.CustomTypesConfig["getTypeParser"],
};

/**
 * Dates in parameters without a column (plain Kysely use) go as UTC ISO text: pg would send the
 * machine's local time, which a `timestamp` column would then store as its wall time. The array
 * is copied only when a Date is present.
 */
function bindable(params: readonly unknown[] | undefined): unknown[] | undefined {
  if (params === undefined) return undefined;
  for (let i = 0; i < params.length; i++) {
    if (params[i] instanceof Date) {
      return params.map((value) => (value instanceof Date ? value.toISOString() : value));
    }
  }
  return params as unknown[];
}

type PgQueryable = Pick<pg.Pool, "query"> | Pick<pg.PoolClient, "query">;

/**
 * Run one statement; `name` makes it a named prepared statement (parsed once per connection).
 * The one place that decides how statements are named on the wire. Plain promise chaining, no
 * async frame: this is every controller call's path.
 */
function run<R>(target: PgQueryable, sql: string, params: readonly unknown[] | undefined, name: string | undefined): Promise<QueryResult<R>> {
  const values = bindable(params);
  const pending = (name === undefined ? target.query(sql, values) : target.query({ name, text: sql, values })) as Promise<pg.QueryResult | pg.QueryResult[]>;
  return pending.then(toResult<R>);
}

function toResult<R>(result: pg.QueryResult | pg.QueryResult[]): QueryResult<R> {
  // Several statements in one text (no parameters) give one result each; report the last, as PGlite does.
  const last = Array.isArray(result) ? result[result.length - 1]! : result;
  return { rows: last.rows as R[], rowCount: last.rowCount ?? 0 };
}

class PgHeldConnection implements HeldConnection {
  private released = false;

  constructor(
    readonly client: pg.PoolClient,
    private readonly target: ConnectionTarget,
  ) {}

  query<R>(sql: string, params?: readonly unknown[], name?: string): Promise<QueryResult<R>> {
    return run<R>(this.client, sql, params, name).catch((error: unknown) => {
      throw connectionError(error, this.target) ?? error;
    });
  }

  release(broken?: boolean): void {
    if (this.released) return;
    this.released = true;
    this.client.release(broken ? true : undefined);
  }
}

export function createPostgresDriver(connectionString: string, options: PostgresDriverOptions): Driver {
  // pg would throw Node's URL error later, carrying the whole string (password included) in `input`.
  if (!URL.canParse(connectionString)) {
    throw new RetortError("RETORT_BAD_URL", `Not a valid Postgres URL: ${redactPassword(connectionString)}`, {
      hint: "Write it as postgres://user:password@host:port/database, percent-encoding special characters in the password.",
    });
  }
  const target = connectionTarget(connectionString);
  const pool = new pg.Pool({
    connectionString,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    types: typeParsers,
  });
  // An idle client whose server went away emits 'error' on the pool; without a listener Node
  // would crash the process. The pool drops that client and the next query reconnects.
  pool.on("error", () => {});

  let closed = false;

  /** A driver error → RETORT_CLOSED after close(), RETORT_CONNECTION_FAILED when the server is out of reach. */
  function failure(error: unknown): unknown {
    if (closed) return new RetortError("RETORT_CLOSED", "This Postgres connection pool is closed", { cause: error });
    return connectionError(error, target) ?? error;
  }

  async function acquire(): Promise<PgHeldConnection> {
    try {
      return new PgHeldConnection(await pool.connect(), target);
    } catch (error) {
      throw failure(error);
    }
  }

  async function copyRows(client: pg.PoolClient, sql: string, rows: Iterable<unknown[]>): Promise<number> {
    const stream = client.query(copyFrom(sql));
    // pipeline respects backpressure: the next chunk is built only when the socket takes more.
    // If the rows' iterator throws, pipeline destroys the stream, which sends CopyFail: the
    // server aborts the COPY and keeps none of it.
    await pipeline(Readable.from(copyTextChunks(rows), { objectMode: false }), stream);
    return stream.rowCount;
  }

  return {
    dialect: "postgres",

    query<R>(sql: string, params?: readonly unknown[], name?: string): Promise<QueryResult<R>> {
      return run<R>(pool, sql, params, name).catch((error: unknown) => {
        throw failure(error);
      });
    },

    acquire,

    encode(type: ColumnType, value: unknown): unknown {
      const encoded = encodeValue(type, value);
      // pg binds a Buffer as raw bytes; wrap (not copy) a plain Uint8Array.
      return encoded instanceof Uint8Array && !Buffer.isBuffer(encoded)
        ? Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength)
        : encoded;
    },

    async bulkInsert(conn: Connection, table, columns, rows): Promise<number> {
      const sql = copyFromSql(table.name, columns.map((column) => column.name), "STDIN");
      // COPY needs the client itself; outside a held connection, borrow one for the load.
      const held = conn instanceof PgHeldConnection ? conn : await acquire();
      try {
        return await copyRows(held.client, sql, rows);
      } catch (error) {
        throw translatePostgresError(failure(error), options.schema);
      } finally {
        if (held !== conn) held.release();
      }
    },

    ...postgresFamilyParts(options.schema),

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}
