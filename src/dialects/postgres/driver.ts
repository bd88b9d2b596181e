/**
 * The Postgres server driver: a pg.Pool with Retort's value parsers installed on the pool only
 * (pg's global parsers, which the user's other pg code relies on, are left alone), named prepared
 * statements for the controllers' hot paths, and COPY for bulk loads.
 */
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type * as Pg from "pg";
import pg from "./pg-module.js";
import { RetortError } from "../../errors.js";
import type { ColumnSchema, ColumnType, TableSchema } from "../../schema/snapshot.js";
import type { Connection, CopyFormat, Driver, DriverOptions, HeldConnection, QueryResult } from "../driver.js";
import { encodeValue, resultParsers } from "./codecs.js";
import { copyFromSql, copyTextChunks } from "./copy-text.js";
import { COPY_BINARY_HEADER, COPY_BINARY_TRAILER } from "./copy-binary.js";
import { isSocketHost, parsePostgresUrl, passwordFileEntry, postgresPassword, type PoolerMode, type PostgresConnection } from "../../env/postgres-url.js";
import { connectionError, connectionPlace, poolerError, translatePostgresError } from "./errors.js";
import { postgresFamilyParts } from "./family.js";

export interface PostgresDriverOptions extends DriverOptions {
  /** Most connections the pool opens (default 10). */
  poolSize?: number;
  /** How long to wait for a connection before failing (default 10 s; pg's own default waits forever). */
  connectTimeoutMs?: number;
  /** "transaction" behind a pooler in transaction mode: unnamed statements only (overrides the URL's ?pooler=). */
  pooler?: PoolerMode;
}

/**
 * pg asks for the parser of every column of every result (a RowDescription comes with each one),
 * so the text parser per type OID is settled once: Retort's where the contract says so, else pg's.
 */
const textParsers = new Map<number, (text: string) => unknown>();
const typeParsers: Pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) => {
    if (format !== undefined && format !== "text") return pg.types.getTypeParser(oid, format as "binary");
    let parser = textParsers.get(oid);
    if (parser === undefined) textParsers.set(oid, (parser = resultParsers[oid] ?? pg.types.getTypeParser(oid, "text")));
    return parser;
  }) as Pg.CustomTypesConfig["getTypeParser"],
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

type PgQueryable = Pick<Pg.Pool, "query"> | Pick<Pg.PoolClient, "query">;

/**
 * Run one statement; `name` makes it a named prepared statement (parsed once per connection).
 * The one place that decides how statements are named on the wire. `failure` maps a driver error
 * for the caller. One `then` and no async frame: this is every controller call's path.
 */
function run<R>(
  target: PgQueryable,
  sql: string,
  params: readonly unknown[] | undefined,
  name: string | undefined,
  failure: (error: unknown) => unknown,
): Promise<QueryResult<R>> {
  const values = bindable(params);
  // A named statement (the controllers' path) takes its rows as arrays and builds the objects
  // with a literal of its columns (rowObjects): pg's own objects are spread from a template and
  // filled by keyed stores, which leaves them slow to read and to extend (`with` adds a key).
  const pending = (name === undefined ? target.query(sql, values) : submitNamed(target, name, sql, values)) as Promise<Pg.QueryResult | Pg.QueryResult[]>;
  return pending.then(name === undefined ? toResult<R> : fromArrays<R>, (error: unknown) => {
    throw failure((name !== undefined && poolerError(error, name)) || error);
  });
}

/** The parts of pg's Query that give a Query built from a text the array row mode. */
interface ArrayModeQuery extends Pg.Query {
  name?: string;
  callback?: (error: Error | undefined, result: Pg.QueryResult) => void;
  _rowMode?: string;
  _result?: { rowAsArray?: boolean; parseRow?: unknown; _parseRowAsArray?: unknown };
}

/**
 * A named statement in array row mode. pg copies a query given as a config object property by
 * property on every call (its normalizeQueryConfig: 2–4 µs of CPU, about 5% of a get by key),
 * while a Query built from a text is taken as is. That form has no row-mode argument, so the mode
 * is set as pg's own constructor sets it; should a pg release lay its Query out differently, the
 * check falls back to the config object.
 */
function submitNamed(target: PgQueryable, name: string, text: string, values: unknown[] | undefined): Promise<Pg.QueryResult> {
  const query = new pg.Query(text, values) as ArrayModeQuery;
  const result = query._result;
  if (!result || typeof result._parseRowAsArray !== "function" || !("rowAsArray" in result) || !("_rowMode" in query)) {
    return target.query({ name, text, values, rowMode: "array" }) as unknown as Promise<Pg.QueryResult>;
  }
  query.name = name;
  query._rowMode = "array";
  result.rowAsArray = true;
  result.parseRow = result._parseRowAsArray;
  // The pool answers a submitted query with a promise (and releases its client in the callback it
  // sets); a client returns the query itself, whose callback is ours to set.
  if (target instanceof pg.Pool) return target.query(query as never) as unknown as Promise<Pg.QueryResult>;
  return new Promise((resolve, reject) => {
    query.callback = (error, answer) => (error ? reject(error) : resolve(answer));
    target.query(query as never);
  });
}

const passThrough = (error: unknown): unknown => error;

function toResult<R>(result: Pg.QueryResult | Pg.QueryResult[]): QueryResult<R> {
  // Several statements in one text (no parameters) give one result each; report the last, as PGlite does.
  const last = Array.isArray(result) ? result[result.length - 1]! : result;
  return { rows: last.rows as R[], rowCount: last.rowCount ?? 0 };
}

function fromArrays<R>(result: Pg.QueryResult | Pg.QueryResult[]): QueryResult<R> {
  const last = Array.isArray(result) ? result[result.length - 1]! : result;
  const rows = last.rows as unknown as unknown[][];
  if (rows.length === 0) return { rows: [], rowCount: last.rowCount ?? 0 };
  const build = rowObjects(last.fields);
  const objects = new Array<R>(rows.length);
  for (let i = 0; i < rows.length; i++) objects[i] = build(rows[i]!) as R;
  return { rows: objects, rowCount: last.rowCount ?? 0 };
}

type RowObjects = (values: unknown[]) => Record<string, unknown>;

/** Builders by column list; statements are few (one per controller query shape), so this stays small. */
const builders = new Map<string, RowObjects>();
const BUILDERS_MAX = 2_000;

/**
 * A function making one row object from one row's values: an object literal with the columns as
 * its keys, so every row of a statement shares one hidden class from the start. Keys are written
 * as JSON strings (any column name is safe in them); a later duplicate name wins, as in pg.
 */
function rowObjects(fields: readonly Pg.FieldDef[]): RowObjects {
  const names = fields.map((field) => field.name);
  const key = names.join("\u0000");
  let build = builders.get(key);
  if (build) return build;
  if (names.includes("__proto__")) {
    // In a literal "__proto__" would set the prototype: plain stores instead.
    build = (values) => {
      const row: Record<string, unknown> = {};
      for (let i = 0; i < names.length; i++) Object.defineProperty(row, names[i]!, { value: values[i], enumerable: true, writable: true, configurable: true });
      return row;
    };
  } else {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- generated from column names, each JSON-quoted
    build = new Function("v", `return { ${names.map((name, i) => `${JSON.stringify(name)}: v[${i}]`).join(", ")} };`) as RowObjects;
  }
  if (builders.size >= BUILDERS_MAX) builders.clear();
  builders.set(key, build);
  return build;
}

class PgHeldConnection implements HeldConnection {
  private released = false;

  constructor(
    readonly client: Pg.PoolClient,
    private readonly target: PostgresConnection,
    /** false behind a transaction pooler: statement names are dropped. */
    private readonly named: boolean,
  ) {}

  query<R>(sql: string, params?: readonly unknown[], name?: string): Promise<QueryResult<R>> {
    return run<R>(this.client, sql, params, this.named ? name : undefined, this.failure);
  }

  private readonly failure = (error: unknown): unknown => connectionError(error, this.target) ?? error;

  release(broken?: boolean): void {
    if (this.released) return;
    this.released = true;
    this.client.release(broken ? true : undefined);
  }
}

/** The root certificates for verify-ca/verify-full, found as libpq finds them. */
function rootCertificates(connection: PostgresConnection): string | undefined {
  const file = connection.sslrootcert ?? join(homedir(), ".postgresql", "root.crt");
  if (file === "system") return undefined; // Node's bundled CAs
  if (connection.sslrootcert === undefined && !existsSync(file)) {
    throw new RetortError("RETORT_CONNECTION_FAILED", `sslmode=${connection.sslmode} needs the CA that signed the server's certificate, and ${file} does not exist`, {
      hint: "Add sslrootcert=<CA file> to the URL (or PGSSLROOTCERT), sslrootcert=system for the system's CAs, or use sslmode=require to encrypt without verifying.",
    });
  }
  return readCertificateFile(file, "sslrootcert");
}

function readCertificateFile(file: string, parameter: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw new RetortError("RETORT_CONNECTION_FAILED", `Cannot read the ${parameter} file "${file}": ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {
      hint: `Check the ${parameter} path in the URL (or its PG* variable).`,
    });
  }
}

interface SslChoice {
  ssl: Pg.ConnectionConfig["ssl"];
  /** libpq's allow/prefer: what to try when the first choice is refused, and how that refusal looks. */
  fallback?: { ssl: Pg.ConnectionConfig["ssl"]; when: (error: unknown) => boolean };
}

/** libpq's sslmode meanings, as pg's `ssl` option. */
function sslChoice(connection: PostgresConnection): SslChoice {
  const { sslmode } = connection;
  const clientCertificate = {
    ...(connection.sslcert ? { cert: readCertificateFile(connection.sslcert, "sslcert") } : {}),
    ...(connection.sslkey ? { key: readCertificateFile(connection.sslkey, "sslkey") } : {}),
  };
  const unverified = { rejectUnauthorized: false, ...clientCertificate };
  if (isSocketHost(connection.host)) {
    // libpq never uses SSL over a Unix socket.
    if (sslmode === "disable" || sslmode === "allow" || sslmode === "prefer") return { ssl: false };
    throw new RetortError("RETORT_BAD_URL", `sslmode=${sslmode} cannot be met over ${connectionPlace(connection)}: SSL is never used on a socket`, {
      hint: "Use sslmode=disable (or prefer) with a socket, or connect over TCP (host=127.0.0.1) for SSL.",
    });
  }
  const serverRefusedSsl = (error: unknown) => error instanceof Error && /does not support SSL connections/.test(error.message);
  // pg_hba.conf turning away an unencrypted connection ("no encryption").
  const serverWantsSsl = (error: unknown) => (error as { code?: unknown }).code === "28000" && /no encryption/.test((error as Error).message);
  switch (sslmode) {
    case "disable":
      return { ssl: false };
    case "allow":
      return { ssl: false, fallback: { ssl: unverified, when: serverWantsSsl } };
    case "prefer":
      return { ssl: unverified, fallback: { ssl: false, when: serverRefusedSsl } };
    case "require":
      // libpq: require with a root certificate given verifies it, as verify-ca does.
      if (connection.sslrootcert === undefined) return { ssl: unverified };
      return { ssl: { ca: rootCertificates(connection), checkServerIdentity: () => undefined, ...clientCertificate } };
    case "verify-ca":
      return { ssl: { ca: rootCertificates(connection), checkServerIdentity: () => undefined, ...clientCertificate } };
    case "verify-full":
      return { ssl: { ca: rootCertificates(connection), ...clientCertificate } };
  }
}

/**
 * `connection`: a postgres:// URL (libpq's forms, PG* variables for what it leaves out) or one
 * already parsed. Everything is handed to pg as separate options, never as a connection string:
 * pg's own URL parsing means other sslmode semantics and prints warnings.
 */
export function createPostgresDriver(connection: string | PostgresConnection, options: PostgresDriverOptions): Driver {
  const target = typeof connection === "string" ? parsePostgresUrl(connection) : connection;
  const password = postgresPassword(target);
  const ssl = sslChoice(target);
  const pool = new pg.Pool({
    host: target.host,
    port: target.port,
    user: target.user,
    database: target.database,
    // No password given: the password file, read when the server asks for one (pg's own lookup prints a deprecation warning).
    password: password ?? ((() => passwordFileEntry(target)) as () => string),
    ssl: ssl.ssl,
    ...(target.applicationName === undefined ? {} : { application_name: target.applicationName }),
    ...(target.options === undefined ? {} : { options: target.options }),
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: target.connectTimeoutSeconds ? target.connectTimeoutSeconds * 1000 : (options.connectTimeoutMs ?? 10_000),
    types: typeParsers,
  });
  // An idle client whose server went away emits 'error' on the pool; without a listener Node
  // would crash the process. The pool drops that client and the next query reconnects.
  pool.on("error", () => {});
  const named = (options.pooler ?? target.pooler) !== "transaction";
  const fallback = ssl.fallback;
  /** sslmode allow/prefer: whether the first connections have decided the SSL choice (pool.options.ssl holds it from then on). */
  let sslSettled = fallback === undefined;
  let sslSwitched = false;

  /**
   * Run fn; while the SSL choice is open (allow/prefer), a connection refused for it switches the
   * pool to the other choice and runs fn again. Several first connections may be under way at
   * once: each one refused for the choice the pool has left is retried, not only the first.
   */
  async function connecting<T>(fn: () => Promise<T>): Promise<T> {
    try {
      const result = await fn();
      sslSettled = true;
      return result;
    } catch (error) {
      // Once a connection made it with the first choice, a later refusal is not this question.
      if (!fallback?.when(error) || (sslSettled && !sslSwitched)) throw error;
      if (!sslSwitched) {
        // pg-pool builds every new client from pool.options.
        (pool as unknown as { options: Pg.PoolConfig }).options.ssl = fallback.ssl;
        sslSwitched = true;
      }
      const result = await fn();
      sslSettled = true;
      return result;
    }
  }

  let closed = false;

  /** A driver error → RETORT_CLOSED after close(), RETORT_CONNECTION_FAILED when the server is out of reach. */
  function failure(error: unknown): unknown {
    if (closed) return new RetortError("RETORT_CLOSED", "This Postgres connection pool is closed", { cause: error });
    return connectionError(error, target) ?? error;
  }

  async function acquire(): Promise<PgHeldConnection> {
    try {
      return new PgHeldConnection(await connecting(() => pool.connect()), target, named);
    } catch (error) {
      throw failure(error);
    }
  }

  async function copyChunks(client: Pg.PoolClient, sql: string, chunks: Iterable<string | Uint8Array>): Promise<number> {
    // Imported on the first bulk load: a migration command or a small app never needs it.
    const { from: copyFrom } = await import("pg-copy-streams");
    const stream = client.query(copyFrom(sql));
    // pipeline respects backpressure: the next chunk is built only when the socket takes more.
    // If the rows' iterator throws, pipeline destroys the stream, which sends CopyFail: the
    // server aborts the COPY and keeps none of it.
    await pipeline(Readable.from(chunks, { objectMode: false }), stream);
    return stream.rowCount;
  }

  /** Load rows given as COPY data (see Driver.copyData). */
  async function copyData(conn: Connection, table: TableSchema, columns: ColumnSchema[], format: CopyFormat, chunks: Iterable<string | Uint8Array>): Promise<number> {
    const sql = copyFromSql(table.name, columns.map((column) => column.name), "STDIN", format);
    // COPY needs the client itself; outside a held connection, borrow one for the load.
    const held = conn instanceof PgHeldConnection ? conn : await acquire();
    try {
      return await copyChunks(held.client, sql, format === "binary" ? framedBinary(chunks) : chunks);
    } catch (error) {
      throw translatePostgresError(failure(error), options.schema);
    } finally {
      if (held !== conn) held.release();
    }
  }

  return {
    dialect: "postgres",

    query<R>(sql: string, params?: readonly unknown[], name?: string): Promise<QueryResult<R>> {
      // Only until the first connection settled sslmode allow/prefer's choice: no extra frame after that.
      if (!sslSettled) {
        return connecting(() => run<R>(pool, sql, params, named ? name : undefined, passThrough)).catch((error: unknown) => {
          throw failure(error);
        });
      }
      return run<R>(pool, sql, params, named ? name : undefined, failure);
    },

    acquire,

    encode(type: ColumnType, value: unknown): unknown {
      const encoded = encodeValue(type, value);
      // pg binds a Buffer as raw bytes; wrap (not copy) a plain Uint8Array.
      return encoded instanceof Uint8Array && !Buffer.isBuffer(encoded)
        ? Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength)
        : encoded;
    },

    bulkInsert(conn: Connection, table, columns, rows): Promise<number> {
      return copyData(conn, table, columns, "text", copyTextChunks(rows));
    },

    copyData,

    ...postgresFamilyParts(options.schema),

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}

/** Binary COPY rows with the header before and the trailer after. */
function* framedBinary(chunks: Iterable<string | Uint8Array>): Generator<string | Uint8Array> {
  yield COPY_BINARY_HEADER;
  yield* chunks;
  yield COPY_BINARY_TRAILER;
}
