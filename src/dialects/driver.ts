/**
 * The contract every backend implements. A driver owns connections, runs SQL with parameters,
 * decodes result values into Retort's TypeScript types (so every caller, the controllers and the
 * Kysely instance alike, sees the same values on every backend), encodes column values, maps
 * constraint violations to RetortError, and bulk-loads rows.
 */
import type { ColumnSchema, ColumnType, Dialect, Schema, TableSchema } from "../schema/snapshot.js";

export interface QueryResult<R = Record<string, unknown>> {
  rows: R[];
  /** Rows affected by INSERT/UPDATE/DELETE (without RETURNING too). */
  rowCount: number;
}

export interface Connection {
  /**
   * Run one statement. `name` asks for a named prepared statement, parsed once per connection
   * (pg); drivers without named statements may cache by SQL text or ignore it.
   */
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[], name?: string): Promise<QueryResult<R>>;
}

export interface HeldConnection extends Connection {
  /** Give the connection back. `broken` discards it (after a failed rollback, say). */
  release(broken?: boolean): void;
}

export interface DriverOptions {
  /** The schema the database is expected to hold: used to decode SQLite values and name violated constraints. */
  schema: Schema;
}

/** The forms of COPY data (see Driver.copyData). */
export type CopyFormat = "text" | "binary";

export interface Driver {
  readonly dialect: Dialect;
  /** Run one statement on any free connection. */
  query: Connection["query"];
  /** Hold one connection exclusively (a transaction runs on it) until released. */
  acquire(): Promise<HeldConnection>;
  /** Encode a TypeScript value for a column of this type into what the driver binds. */
  encode(type: ColumnType, value: unknown): unknown;
  /**
   * Load many rows fast (COPY on Postgres, one prepared statement in a transaction on SQLite).
   * `rows` hold values already passed through `encode`, in `columns` order. Rows are pulled
   * lazily, so a caller can prepare them while earlier ones are being loaded; when the iterator
   * throws, the load is abandoned and nothing of it stays.
   */
  bulkInsert(conn: Connection, table: TableSchema, columns: ColumnSchema[], rows: Iterable<unknown[]>): Promise<number>;
  /**
   * Postgres family only: load rows given as COPY data, text format (tab-separated, escaped,
   * `\N` for NULL, a newline after each row) or binary, in chunks pulled lazily as bulkInsert's
   * rows are. For a writer that produces many rows' data directly, with no value array per row
   * (the audit trail).
   */
  copyData?(conn: Connection, table: TableSchema, columns: ColumnSchema[], format: CopyFormat, chunks: Iterable<string | Uint8Array>): Promise<number>;
  /**
   * PGlite only: make CREATE EXTENSION of these extensions work. PGlite reads an extension's
   * files only when it starts, so one it was opened without is loaded by restarting the embedded
   * database (between transactions: call it with no transaction open; a held connection keeps
   * working). An extension PGlite does not ship is RETORT_UNSUPPORTED.
   */
  loadExtensions?(names: readonly string[]): Promise<void>;
  /** Turn a driver error into a RetortError when Retort knows it (constraint violations); else return it unchanged. */
  translateError(error: unknown): unknown;
  close(): Promise<void>;
}
