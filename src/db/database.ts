/**
 * `connect(url, { schema })` → a Database: the typed Kysely instance, a controller per model
 * under `models`, transactions (nested ones become savepoints), ping and close.
 */
import type { Kysely } from "kysely";
import { RetortError } from "../errors.js";
import type { DdlCompiler } from "../dialects/ddl.js";
import type { Connection, Driver, QueryResult } from "../dialects/driver.js";
import { openDriver } from "../dialects/open.js";
import { isRelations, type Relations } from "../model/relations.js";
import type { AnyTable } from "../model/table.js";
import type { DB, TablesOf } from "../model/types.js";
import { collectModels, schemaFromModels } from "../schema/from-models.js";
import { familyOf, type Dialect, type Schema, type SqlFamily } from "../schema/snapshot.js";
import { randomUUID } from "node:crypto";
import { AuditReader, type Actor } from "./audit.js";
import { Controller, type Session } from "./controller.js";
import { kyselyRuntime, loadKysely } from "./kysely-runtime.js";
import { resolveRelation, type ResolvedRelation } from "./relations.js";
import { TableInfo } from "./table-info.js";
import { parseDatabaseUrl, type ConnectionTarget } from "../env/url.js";
import type { PoolerMode } from "../env/postgres-url.js";

/** One executed statement, for logging and tests. Parameter values are never included. */
export interface QueryEvent {
  sql: string;
  parameterCount: number;
  durationMs: number;
  error?: unknown;
}

export interface ConnectOptions<S> {
  /** The models: an object of tables, enums and relations (typically `import * as schema`); none: SQL only. */
  schema?: S;
  /** Called after every statement (SQL text and timing only). */
  onQuery?: (event: QueryEvent) => void;
  /** Postgres pool size (default 10). */
  poolSize?: number;
  /**
   * A PGlite directory is open in one process at a time: how long to wait for another process
   * that has it open before failing with RETORT_DATABASE_BUSY (default 0, fail at once).
   */
  busyTimeoutMs?: number;
  /** "transaction" behind a connection pooler in transaction mode (PgBouncer before 1.21): unnamed statements only. Also ?pooler=transaction in the URL. */
  pooler?: PoolerMode;
  /** A missing SQLite file or PGlite folder is RETORT_DATABASE_NOT_FOUND instead of being created (for work that only reads or removes). */
  mustExist?: boolean;
}

/** The controllers, one per table in the schema object, under the same keys. */
export type Models<S> = { readonly [K in keyof TablesOf<S>]: TablesOf<S>[K] extends AnyTable ? Controller<S, TablesOf<S>[K]> : never };

/** State shared by a Database and every transaction opened from it. */
interface Shared {
  driver: Driver;
  target: ConnectionTarget;
  schema: Schema;
  infos: Map<AnyTable, TableInfo>;
  relations: Map<AnyTable, Relations["relations"]>;
  resolved: Map<string, ResolvedRelation>;
  closed: boolean;
}

/** What a transaction and the views of it (withActor) share. */
interface TransactionState {
  /** SQLite's audit transaction id, made on first use. */
  auditId?: string;
}

export class Database<S = Record<string, unknown>> implements Session {
  readonly models: Models<S>;
  private readonly controllers = new Map<AnyTable, Controller<S, AnyTable>>();
  private kyselyInstance: Kysely<DB<S>> | undefined;
  private savepoints = 0;

  /** Use `connect()`. */
  constructor(
    private readonly shared: Shared,
    private readonly schemaObject: S,
    /** The held connection when this Database is a transaction. */
    private readonly connection?: Connection,
    /** Who the writes of this Database are made by, for the audit trail. */
    readonly actor?: Actor,
    private readonly txState: TransactionState = {},
  ) {
    const models: Record<string, Controller<S, AnyTable>> = {};
    for (const [key, value] of Object.entries(schemaObject as Record<string, unknown>)) {
      const info = shared.infos.get(value as AnyTable);
      if (!info) continue;
      const controller = new Controller<S, AnyTable>(info, this);
      this.controllers.set(info.model, controller);
      models[key] = controller;
    }
    this.models = models as Models<S>;
  }

  get driver(): Driver {
    return this.shared.driver;
  }
  get dialect(): Dialect {
    return this.shared.driver.dialect;
  }
  /** Where this database is (for the migration lock); never holds a password in messages. */
  get target(): ConnectionTarget {
    return this.shared.target;
  }
  get family(): SqlFamily {
    return familyOf(this.dialect);
  }
  /** The schema snapshot the models describe. */
  get schema(): Schema {
    return this.shared.schema;
  }
  get inTransaction(): boolean {
    return this.connection !== undefined;
  }

  /**
   * The same database (or transaction) whose writes on audited models are recorded as made by
   * `actor`. Cheap: controllers and connections are shared, nothing is opened.
   */
  withActor(actor: Actor): Database<S> {
    if (typeof actor?.id !== "string" || actor.id === "") {
      throw new RetortError("RETORT_INVALID_QUERY", "withActor(): the actor needs an id (a non-empty string)", { hint: 'db.withActor({ id: user.id, kind: "user" })' });
    }
    return new Database<S>(this.shared, this.schemaObject, this.connection, actor, this.txState);
  }

  /** The audit trail of the audited models: `db.audit.find({ table, pk, actor, since })`. */
  get audit(): AuditReader {
    return new AuditReader(this, (name) => [...this.shared.infos.values()].find((info) => info.name === name));
  }

  /** SQLite: the id of this transaction in the audit trail (Postgres uses txid_current()). */
  auditTransactionId(): string {
    return (this.txState.auditId ??= randomUUID());
  }

  /** The typed Kysely instance (database names). Inside a transaction it runs on the transaction. */
  get kysely(): Kysely<DB<S>> {
    this.assertOpen();
    if (!this.kyselyInstance) {
      const { Kysely, dialectFor } = kyselyRuntime();
      this.kyselyInstance = new Kysely<DB<S>>({ dialect: dialectFor(this.shared.driver, this.connection) });
    }
    return this.kyselyInstance;
  }

  query<R = Record<string, unknown>>(sql: string, params: readonly unknown[] = [], name?: string): Promise<QueryResult<R>> {
    // Promise chaining rather than an async frame: every controller call comes through here.
    try {
      this.assertOpen();
      return (this.connection ?? this.shared.driver).query<R>(sql, params, name).catch((error: unknown) => {
        throw this.shared.driver.translateError(error);
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Run `fn` in a transaction: committed when it resolves, rolled back when it throws. Inside a
   * transaction, `transaction()` opens a savepoint, so a failing inner block can be caught
   * without losing the outer work.
   */
  async transaction<R>(fn: (tx: Database<S>) => Promise<R>): Promise<R> {
    this.assertOpen();
    if (this.connection) return this.savepoint(fn);
    const held = await this.shared.driver.acquire();
    let broken = false;
    try {
      await held.query("BEGIN");
      const tx = new Database<S>(this.shared, this.schemaObject, held, this.actor);
      let result: R;
      try {
        result = await fn(tx);
        await held.query("COMMIT");
      } catch (error) {
        // Also after a failed COMMIT: SQLite keeps the transaction open then (an initially deferred
        // foreign key still violated), and the connection must not go back to the pool inside it.
        try {
          await held.query("ROLLBACK");
        } catch {
          broken = true;
        }
        throw error;
      }
      return result;
    } catch (error) {
      throw this.shared.driver.translateError(error);
    } finally {
      held.release(broken);
    }
  }

  private async savepoint<R>(fn: (tx: Database<S>) => Promise<R>): Promise<R> {
    const name = `retort_sp_${++this.savepoints}`;
    await this.query(`SAVEPOINT ${name}`);
    try {
      const result = await fn(this);
      await this.query(`RELEASE SAVEPOINT ${name}`);
      return result;
    } catch (error) {
      await this.query(`ROLLBACK TO SAVEPOINT ${name}`);
      await this.query(`RELEASE SAVEPOINT ${name}`);
      // As at the outermost transaction: a constraint violation is a RetortError here too (SQLite's bulk insert throws it raw).
      throw this.shared.driver.translateError(error);
    }
  }

  async withConnection<R>(fn: (conn: Connection) => Promise<R>): Promise<R> {
    this.assertOpen();
    if (this.connection) return fn(this.connection);
    const held = await this.shared.driver.acquire();
    try {
      return await fn(held);
    } finally {
      held.release();
    }
  }

  controllerFor(model: AnyTable): Controller<S, AnyTable> {
    const controller = this.controllers.get(model) ?? this.adoptModel(model);
    return controller;
  }

  /** A table reachable only through a relation still gets a controller. */
  private adoptModel(model: AnyTable): Controller<S, AnyTable> {
    const info = this.shared.infos.get(model);
    if (!info) {
      throw new RetortError("RETORT_INVALID_MODEL", `table "${model.$.name}" is not in the schema given to connect()`, {
        hint: "Add it to the schema object.",
      });
    }
    const controller = new Controller<S, AnyTable>(info, this);
    this.controllers.set(model, controller);
    return controller;
  }

  relation(model: AnyTable, name: string): ResolvedRelation {
    const cacheKey = `${model.$.name}.${name}`;
    const cached = this.shared.resolved.get(cacheKey);
    if (cached) return cached;
    const relation = this.shared.relations.get(model)?.[name];
    if (!relation) {
      throw new RetortError("RETORT_INVALID_QUERY", `${model.$.name} has no relation "${name}"`, {
        hint: `Declare it with relations(${model.$.name}, ...) and pass that to connect()'s schema.`,
      });
    }
    const resolved = resolveRelation(name, relation, this.shared.infos.get(model)!, this.infoFor(relation.target));
    this.shared.resolved.set(cacheKey, resolved);
    return resolved;
  }

  private infoFor(model: AnyTable): TableInfo {
    const info = this.shared.infos.get(model);
    if (!info) throw new RetortError("RETORT_INVALID_MODEL", `table "${model.$.name}" is used by a relation but is not in the schema given to connect()`, {
      hint: "Add that table to the schema object passed to connect().",
    });
    return info;
  }

  /** true when the database answers. */
  async ping(): Promise<boolean> {
    await this.query("SELECT 1");
    return true;
  }

  async close(): Promise<void> {
    if (this.connection) throw new RetortError("RETORT_INVALID_QUERY", "close() is for the Database, not a transaction");
    if (this.shared.closed) return;
    this.shared.closed = true;
    await this.shared.driver.close();
  }

  private assertOpen(): void {
    if (this.shared.closed) throw new RetortError("RETORT_CLOSED", "this Database is closed", { hint: "connect() again." });
  }
}

/** Wrap a driver so every statement is reported to `onQuery` (text and timing, never values). */
function instrument(driver: Driver, onQuery: (event: QueryEvent) => void): Driver {
  const timed = (run: Connection["query"]): Connection["query"] =>
    async function (this: unknown, sql, params, name) {
      const start = performance.now();
      try {
        const result = await run(sql, params, name);
        onQuery({ sql, parameterCount: params?.length ?? 0, durationMs: performance.now() - start });
        return result;
      } catch (error) {
        onQuery({ sql, parameterCount: params?.length ?? 0, durationMs: performance.now() - start, error });
        throw error;
      }
    } as Connection["query"];
  return Object.assign(Object.create(driver) as Driver, {
    query: timed(driver.query.bind(driver)),
    acquire: async () => {
      const held = await driver.acquire();
      return Object.assign(Object.create(held) as typeof held, { query: timed(held.query.bind(held)), release: held.release.bind(held) });
    },
  });
}

/**
 * Open a database. `url`: postgres://…, pglite:memory, pglite:<dir>, sqlite::memory: or
 * sqlite:<file>. The schema object's tables become `db.models.<key>` controllers.
 */
export async function connect<S extends Record<string, unknown> = {}>(url: string | ConnectionTarget, options: ConnectOptions<S> = {}): Promise<Database<S>> {
  // A hand-made Postgres target ({ dialect, url }) is parsed like a URL, so db.target never keeps its password.
  const target = typeof url === "string" ? parseDatabaseUrl(url) : url.dialect === "postgres" && !url.connection ? parseDatabaseUrl(url.url) : url;
  const schema = schemaFromModels(options.schema ?? {});
  const open = {
    ...(options.poolSize === undefined ? {} : { poolSize: options.poolSize }),
    ...(options.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: options.busyTimeoutMs }),
    ...(options.pooler === undefined ? {} : { pooler: options.pooler }),
    ...(options.mustExist ? { mustExist: true } : {}),
  };
  const [driver] = await Promise.all([openDriver(target, schema, open), loadKysely()]);
  return databaseOver(driver, target, options, schema);
}

/**
 * A Database over a driver opened elsewhere (retort-db/testing opens PGlite from a snapshot).
 * `schema` must be the snapshot of `options.schema` the driver was opened with.
 */
export async function connectDriver<S extends Record<string, unknown> = {}>(driver: Driver, target: ConnectionTarget, options: ConnectOptions<S> = {}, schema = schemaFromModels(options.schema ?? {})): Promise<Database<S>> {
  await loadKysely();
  return databaseOver(driver, target, options, schema);
}

function databaseOver<S extends Record<string, unknown>>(opened: Driver, target: ConnectionTarget, options: ConnectOptions<S>, schema: Schema): Database<S> {
  const models = options.schema ?? ({} as S);
  const driver = options.onQuery ? instrument(opened, options.onQuery) : opened;
  const family = familyOf(driver.dialect);
  const { tables } = collectModels(models);
  const infos = new Map(tables.map((model, i) => [model, new TableInfo(model, schema.tables[i]!, family)]));
  const relations = new Map<AnyTable, Relations["relations"]>();
  for (const value of Object.values(models)) {
    if (isRelations(value)) relations.set(value.table, { ...relations.get(value.table), ...value.relations });
  }
  return new Database<S>({ driver, target, schema, infos, relations, resolved: new Map(), closed: false }, models);
}

async function ddlFor(family: SqlFamily): Promise<DdlCompiler> {
  return family === "postgres" ? (await import("../dialects/postgres/ddl.js")).postgresDdl : (await import("../dialects/sqlite/ddl.js")).sqliteDdl;
}

/**
 * Create every table, enum, index and constraint of the schema in one transaction.
 * For experiments and tests only: it is not a replacement for migrations (it cannot change an
 * existing schema and records no revision).
 */
export async function createAll(db: Database<any>): Promise<void> {
  const statements = (await ddlFor(db.family)).createSchema(db.schema);
  await db.transaction(async (tx) => {
    await assertNothingExists(tx, db.family, db.schema);
    for (const statement of statements) await tx.query(statement);
  });
}

/** createAll makes everything or nothing: tables (or Postgres enum types) already there stop it first. */
async function assertNothingExists(conn: Pick<Connection, "query">, family: SqlFamily, schema: Schema): Promise<void> {
  const list = (names: string[]) => names.map((name) => `'${name.replaceAll("'", "''")}'`).join(", ");
  const tables = schema.tables.map((table) => table.name);
  const enums = schema.enums.map((e) => e.name);
  const found: Array<{ kind: string; name: string }> = [];
  if (tables.length > 0) {
    const sql =
      family === "postgres"
        ? `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relname IN (${list(tables)})`
        : `SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name IN (${list(tables)})`;
    for (const row of (await conn.query<{ name: string }>(sql)).rows) found.push({ kind: "table", name: row.name });
  }
  if (family === "postgres" && enums.length > 0) {
    const sql = `SELECT t.typname AS name FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = current_schema() AND t.typname IN (${list(enums)})`;
    for (const row of (await conn.query<{ name: string }>(sql)).rows) found.push({ kind: "type", name: row.name });
  }
  if (found.length === 0) return;
  throw new RetortError("RETORT_TABLE_EXISTS", `createAll: the database already has ${found.map(({ kind, name }) => `${kind} "${name}"`).join(", ")}; nothing was created`, {
    hint: "createAll only builds an empty schema (experiments and tests): drop them first (dropAll / retort drop-all), or use migrations to change an existing database.",
    details: { existing: found },
  });
}

/** Drop everything the schema describes (missing objects are skipped). For experiments and tests only. */
export async function dropAll(db: Database<any>): Promise<void> {
  const statements = (await ddlFor(db.family)).dropSchema(db.schema);
  await db.transaction(async (tx) => {
    for (const statement of statements) await tx.query(statement);
  });
}
