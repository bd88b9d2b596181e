/**
 * Plugs a Retort Driver into Kysely, so the typed Kysely instance and the controllers share one
 * set of connections, value decoding and error translation.
 */
import {
  CompiledQuery,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseConnection,
  type Dialect as KyselyDialect,
  type Driver as KyselyDriver,
  type QueryResult as KyselyQueryResult,
  type TransactionSettings,
} from "kysely";
import type { Connection, Driver, HeldConnection } from "./driver.js";
import { quoteIdent } from "./sql-text.js";
import { familyOf } from "../schema/snapshot.js";

class BridgedConnection implements DatabaseConnection {
  constructor(
    readonly inner: Connection,
    private readonly driver: Driver,
  ) {}

  async executeQuery<R>(compiled: CompiledQuery): Promise<KyselyQueryResult<R>> {
    try {
      const result = await this.inner.query<R>(compiled.sql, compiled.parameters);
      return { rows: result.rows, numAffectedRows: BigInt(result.rowCount) };
    } catch (error) {
      throw this.driver.translateError(error);
    }
  }

  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<KyselyQueryResult<R>> {
    throw new Error("Retort: streaming queries are not supported yet");
  }
}

function transactionSql(settings: TransactionSettings): string {
  const parts = ["BEGIN"];
  if (settings.isolationLevel) parts.push(`ISOLATION LEVEL ${settings.isolationLevel.toUpperCase()}`);
  if (settings.accessMode) parts.push(settings.accessMode.toUpperCase());
  return parts.join(" ");
}

/**
 * `pinned`: a connection already held by a Retort transaction; every Kysely query then runs on it
 * and Kysely never releases it.
 */
export function kyselyDialectFor(driver: Driver, pinned?: Connection): KyselyDialect {
  const kyselyDriver: KyselyDriver = {
    async init() {},
    async acquireConnection() {
      if (pinned) return new BridgedConnection(pinned, driver);
      return new BridgedConnection(await driver.acquire(), driver);
    },
    async beginTransaction(connection, settings) {
      if (driver.dialect === "sqlite" && (settings.isolationLevel || settings.accessMode)) {
        throw new Error("Retort: SQLite transactions take no isolation level or access mode");
      }
      await connection.executeQuery(CompiledQuery.raw(transactionSql(settings)));
    },
    async commitTransaction(connection) {
      await connection.executeQuery(CompiledQuery.raw("COMMIT"));
    },
    async rollbackTransaction(connection) {
      await connection.executeQuery(CompiledQuery.raw("ROLLBACK"));
    },
    async savepoint(connection, name) {
      await connection.executeQuery(CompiledQuery.raw(`SAVEPOINT ${quoteIdent(name)}`));
    },
    async rollbackToSavepoint(connection, name) {
      await connection.executeQuery(CompiledQuery.raw(`ROLLBACK TO SAVEPOINT ${quoteIdent(name)}`));
    },
    async releaseSavepoint(connection, name) {
      await connection.executeQuery(CompiledQuery.raw(`RELEASE SAVEPOINT ${quoteIdent(name)}`));
    },
    async releaseConnection(connection) {
      if (pinned) return;
      ((connection as BridgedConnection).inner as HeldConnection).release();
    },
    async destroy() {
      if (!pinned) await driver.close();
    },
  };
  // Kysely's SQL flavour comes from the family; the drivers themselves never load Kysely (a
  // migration run that only reads the version table stays light).
  const postgres = familyOf(driver.dialect) === "postgres";
  return {
    createAdapter: () => (postgres ? new PostgresAdapter() : new SqliteAdapter()),
    createDriver: () => kyselyDriver,
    createQueryCompiler: () => (postgres ? new PostgresQueryCompiler() : new SqliteQueryCompiler()),
    createIntrospector: (db) => (postgres ? new PostgresIntrospector(db) : new SqliteIntrospector(db)),
  };
}
