/**
 * The SQLite driver: one better-sqlite3 connection behind a ConnectionLock, a prepared-statement
 * cache, and value decoding driven by where each result column comes from.
 *
 * better-sqlite3 is synchronous, so a statement runs to completion once started; the lock only
 * has to keep statements from elsewhere out while a held connection (a transaction) is open.
 */
import Database, { type Statement } from "better-sqlite3";
import { RetortError } from "../../errors.js";
import type { ColumnSchema, ColumnType, Schema, TableSchema } from "../../schema/snapshot.js";
import type { Connection, Driver, DriverOptions, HeldConnection, QueryResult } from "../driver.js";
import { ConnectionLock } from "../single-connection.js";
import { identList, quoteIdent } from "../sql-text.js";
import { failedStatements, translateSqliteError } from "./errors.js";
import { columnTypeFromDeclared } from "./types.js";
import { decodeUnknown, decoderFor, encodeValue, toBindable, type Decoder } from "./values.js";

const STATEMENT_CACHE_SIZE = 500;
const BUSY_TIMEOUT_MS = 5000;

interface Prepared {
  stmt: Statement<unknown[]>;
  /** Result column names and their decoders; undefined for statements that return no rows. */
  names?: string[];
  decoders?: Decoder[];
}

/** Statements that can change the schema, after which cached statements may describe old columns. */
const SCHEMA_CHANGE = /^\s*(create|alter|drop)\b/i;

function openDatabase(filename: string): Database.Database {
  const memory = filename === ":memory:" || filename === "";
  let db: Database.Database | undefined;
  try {
    db = new Database(filename, { timeout: BUSY_TIMEOUT_MS });
    db.pragma("foreign_keys = ON");
    // WAL lets readers in other processes work during a write; it does not apply to :memory:.
    if (!memory) db.pragma("journal_mode = WAL");
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    // LIKE is case-sensitive on Postgres; the query layer builds ilike from lower() LIKE lower().
    db.pragma("case_sensitive_like = ON");
    return db;
  } catch (error) {
    db?.close();
    throw new RetortError("RETORT_CONNECTION_FAILED", `Cannot open SQLite database "${filename}": ${(error as Error).message}`, {
      hint: "Check that the directory exists and is writable, and that the file is a SQLite database (not another kind of file).",
      details: { filename },
      cause: error,
    });
  }
}

/** Parameters better-sqlite3 accepts; copies only when something needs converting. */
function bindable(params: readonly unknown[] | undefined): unknown[] {
  if (!params || params.length === 0) return [];
  let out: unknown[] | undefined;
  for (let i = 0; i < params.length; i++) {
    const value = params[i];
    const converted = toBindable(value);
    if (converted !== value) {
      out ??= params.slice();
      out[i] = converted;
    }
  }
  return out ?? (params as unknown[]);
}

class SqliteHeldConnection implements HeldConnection {
  private released = false;

  constructor(
    readonly owner: SqliteDriver,
    private readonly onRelease: () => void,
  ) {}

  async query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    this.assertHeld();
    return this.owner.execute<R>(sql, params);
  }

  assertHeld(): void {
    if (this.released) {
      throw new RetortError("RETORT_CLOSED", "This SQLite connection was already released", {
        hint: "Run statements before releasing the connection (or acquire a new one).",
      });
    }
  }

  release(): void {
    // A broken connection needs no special handling: there is only one, and it stays usable.
    if (this.released) return;
    this.released = true;
    this.onRelease();
  }
}

class SqliteDriver implements Driver {
  readonly dialect = "sqlite" as const;
  private readonly db: Database.Database;
  private readonly lock = new ConnectionLock();
  private readonly statements = new Map<string, Prepared>();
  /** table → column → type, for the schema in `options` (rebuilt if `options.schema` is replaced). */
  private columnTypes = new Map<string, Map<string, ColumnType>>();
  private indexedSchema: Schema | undefined;
  private closed = false;

  constructor(
    readonly filename: string,
    private readonly options: DriverOptions,
  ) {
    this.db = openDatabase(filename);
    this.indexSchema();
  }

  private indexSchema(): void {
    this.indexedSchema = this.options.schema;
    this.columnTypes = new Map(
      this.options.schema.tables.map((table) => [table.name, new Map(table.columns.map((column) => [column.name, column.type]))]),
    );
  }

  async query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    // With the lock free nothing else can be mid-statement, so run at once (the common case).
    if (!this.lock.busy) return this.execute<R>(sql, params);
    return this.lock.run(() => this.execute<R>(sql, params));
  }

  async acquire(): Promise<HeldConnection> {
    this.assertOpen();
    await this.lock.acquire();
    return new SqliteHeldConnection(this, () => this.lock.release());
  }

  /** Run one statement now; callers make sure they may (lock free, or held by them). */
  execute<R>(sql: string, params?: readonly unknown[]): QueryResult<R> {
    this.assertOpen();
    try {
      const prepared = this.prepare(sql);
      if (!prepared) {
        // Several statements in one string (a migration script): no parameters, no rows.
        if (params && params.length > 0) throw new RetortError("RETORT_INVALID_QUERY", "Parameters can only be given with a single SQL statement");
        this.db.exec(sql);
        this.statements.clear();
        return { rows: [], rowCount: 0 };
      }
      const args = bindable(params);
      if (prepared.names) {
        const rows = decodeRows(prepared.stmt.all(args) as unknown[][], prepared.names, prepared.decoders!);
        return { rows: rows as R[], rowCount: rows.length };
      }
      const { changes } = prepared.stmt.run(args);
      if (SCHEMA_CHANGE.test(sql)) this.statements.clear();
      return { rows: [], rowCount: changes };
    } catch (error) {
      if (error !== null && typeof error === "object") failedStatements.set(error, sql);
      throw error;
    }
  }

  /** The cached statement for `sql` (least recently used evicted), or undefined for multi-statement text. */
  private prepare(sql: string): Prepared | undefined {
    if (this.options.schema !== this.indexedSchema) {
      this.indexSchema();
      this.statements.clear();
    }
    const cached = this.statements.get(sql);
    if (cached) {
      // Re-insert to mark it most recently used (a Map iterates in insertion order).
      this.statements.delete(sql);
      this.statements.set(sql, cached);
      return cached;
    }
    let stmt: Statement<unknown[]>;
    try {
      stmt = this.db.prepare<unknown[]>(sql);
    } catch (error) {
      if (error instanceof RangeError && /more than one statement|no statements/.test(error.message)) return undefined;
      throw error;
    }
    stmt.safeIntegers(true);
    const prepared: Prepared = { stmt };
    if (stmt.reader) {
      stmt.raw(true);
      const columns = stmt.columns();
      prepared.names = columns.map((column) => column.name);
      prepared.decoders = columns.map((column) => this.decoderForColumn(column));
    }
    if (this.statements.size >= STATEMENT_CACHE_SIZE) this.statements.delete(this.statements.keys().next().value!);
    this.statements.set(sql, prepared);
    return prepared;
  }

  /** Decode by the result column's origin: the schema's type, else the declared type Retort wrote, else generically. */
  private decoderForColumn(column: Database.ColumnDefinition): Decoder {
    if (column.table === null || column.column === null) return decodeUnknown;
    const type = this.columnTypes.get(column.table)?.get(column.column) ?? (column.type === null ? undefined : columnTypeFromDeclared(column.type));
    return type ? decoderFor(type) : decodeUnknown;
  }

  encode(type: ColumnType, value: unknown): unknown {
    return encodeValue(type, value);
  }

  async bulkInsert(conn: Connection, table: TableSchema, columns: ColumnSchema[], rows: Iterable<unknown[]>): Promise<number> {
    const sql = `INSERT INTO ${quoteIdent(table.name)} (${identList(columns.map((column) => column.name))}) VALUES (${columns.map(() => "?").join(", ")})`;
    // Compared by database, not identity: wrappers made with Object.create (instrumentation) still qualify.
    if (conn instanceof SqliteHeldConnection && conn.owner.db === this.db) {
      conn.assertHeld();
      return this.insertAll(sql, rows);
    }
    if (conn instanceof SqliteDriver && conn.db === this.db) return this.lock.run(() => this.insertAll(sql, rows));
    // Some other wrapper around our connection: go through its query(), statement by statement.
    const tx = this.transactionStatements();
    await conn.query(tx.begin);
    try {
      let count = 0;
      for (const row of rows) {
        await conn.query(sql, row);
        count++;
      }
      await conn.query(tx.commit);
      return count;
    } catch (error) {
      if (this.db.inTransaction) await conn.query(tx.rollback);
      throw error;
    }
  }

  /** One prepared INSERT per row, all in one transaction: fast because nothing is fsynced per row. */
  private insertAll(sql: string, rows: Iterable<unknown[]>): number {
    const { stmt } = this.prepare(sql)!;
    const tx = this.transactionStatements();
    this.db.exec(tx.begin);
    try {
      let count = 0;
      for (const row of rows) {
        stmt.run(row);
        count++;
      }
      this.db.exec(tx.commit);
      return count;
    } catch (error) {
      if (error !== null && typeof error === "object") failedStatements.set(error, sql);
      // SQLite may already have rolled back on its own (e.g. a full disk).
      if (this.db.inTransaction) this.db.exec(tx.rollback);
      throw error;
    }
  }

  /** BEGIN … COMMIT, or a savepoint when the connection is already inside a transaction. */
  private transactionStatements(): { begin: string; commit: string; rollback: string } {
    return this.db.inTransaction
      ? { begin: "SAVEPOINT retort_bulk_insert", commit: "RELEASE retort_bulk_insert", rollback: "ROLLBACK TO retort_bulk_insert; RELEASE retort_bulk_insert" }
      : { begin: "BEGIN", commit: "COMMIT", rollback: "ROLLBACK" };
  }

  translateError(error: unknown): unknown {
    return translateSqliteError(error, {
      schema: this.options.schema,
      tableOfIndex: (name) => {
        if (this.closed) return undefined;
        const row = this.db.prepare("SELECT tbl_name FROM sqlite_master WHERE type = 'index' AND name = ?").get(name) as { tbl_name: string } | undefined;
        return row?.tbl_name;
      },
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // Let a transaction in progress finish first.
    await this.lock.acquire();
    try {
      if (this.closed) return;
      this.closed = true;
      this.statements.clear();
      this.db.close();
    } finally {
      this.lock.release();
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new RetortError("RETORT_CLOSED", `The SQLite database "${this.filename}" is closed`, { hint: "Connect again before running queries." });
  }
}

function decodeRows(raw: unknown[][], names: string[], decoders: Decoder[]): Record<string, unknown>[] {
  const width = names.length;
  const rows = new Array<Record<string, unknown>>(raw.length);
  for (let r = 0; r < raw.length; r++) {
    const values = raw[r]!;
    const row: Record<string, unknown> = {};
    for (let i = 0; i < width; i++) {
      const value = values[i];
      row[names[i]!] = value === null ? null : decoders[i]!(value);
    }
    rows[r] = row;
  }
  return rows;
}

/** A driver for a SQLite file (created if missing) or ":memory:". */
export function createSqliteDriver(filename: string, options: DriverOptions): Driver {
  return new SqliteDriver(filename, options);
}
