/**
 * A controller per model: the everyday reads and writes, typed by the model. The hot paths
 * (get, create, update, delete by primary key) compile their SQL once per shape and run it as a
 * named prepared statement. The where-based methods (find, count, paginate, …) compile their SQL
 * per query shape, also run as named prepared statements; Kysely serves `query()` and ad-hoc use.
 */
import type { Kysely, SelectQueryBuilder } from "kysely";
import { kyselyRuntime } from "./kysely-runtime.js";
import { RetortError } from "../errors.js";
import type { Connection, Driver } from "../dialects/driver.js";
import { validate, validationError, validationIssues, type FieldIssue } from "../model/validation.js";
import type { AnyTable } from "../model/table.js";
import type { Insert, Row, Update } from "../model/types.js";
import type { SqlFamily } from "../schema/snapshot.js";
import { binder, orderPairs, whereSql, type Bind, type OrderBy, type OrderDirection, type Where } from "./filters.js";
import { attachRelation, type ResolvedRelation, type RowWith, type WithSpec } from "./relations.js";
import type { CachedStatement, ColumnInfo, TableInfo } from "./table-info.js";
import { randomUUID } from "node:crypto";
import { quoteIdent } from "../dialects/sql-text.js";
import { auditLog } from "../model/audit-log.js";
import { AUDIT_LOAD_COLUMNS, auditRowPlan, postgresAuditCopy, postgresInsertAuditSelect, rowKeyText, sqliteWriteAuditRows, sqliteAuditTrigger, sqliteInsertAuditSelect, sqliteRowidName, writeAudit, type Actor, type AuditAction, type RowChange, type WriteOptions } from "./audit.js";

/** What a controller needs from its database (or transaction). */
export interface Session {
  readonly driver: Driver;
  readonly family: SqlFamily;
  query<R = Record<string, unknown>>(sql: string, params: readonly unknown[], name?: string): Promise<{ rows: R[]; rowCount: number }>;
  readonly kysely: Kysely<any>;
  /** Run fn in a transaction (a savepoint when already in one). */
  transaction<R>(fn: (session: Session) => Promise<R>): Promise<R>;
  /** Run fn with one connection held (the transaction's, when in one). */
  withConnection<R>(fn: (conn: Connection) => Promise<R>): Promise<R>;
  controllerFor(model: AnyTable): Controller<any, AnyTable>;
  relation(model: AnyTable, name: string): ResolvedRelation;
  /** Who writes, for the audit trail (withActor). */
  readonly actor?: Actor | undefined;
  /** SQLite: this transaction's id in the audit trail. */
  auditTransactionId(): string;
}

export interface FindOptions<S, T, W> {
  where?: Where<T>;
  orderBy?: OrderBy<T>;
  limit?: number;
  offset?: number;
  with?: W;
}

export interface CursorPage<R> {
  items: R[];
  /** Pass as `after` for the next page; null on the last page. */
  nextCursor: string | null;
}

export interface OffsetPage<R> {
  items: R[];
  total: number;
  page: number;
  perPage: number;
  pageCount: number;
}

/** The filter of updateMany/deleteMany that reaches every row, said explicitly. */
export interface AllRows {
  all: true;
}

/** Splits the SQL of `query()` where its parameters go (never part of an identifier). */
const PARAMETER_MARK = "\u0000";

/** Primary key: the value of a single-column key, or an object for a composite key. */
export type Key<T> = Row<T>[keyof Row<T>] | Partial<Row<T>>;

/** INSERT parameter chunks stay under the backends' bind-parameter limits. */
const MAX_PARAMS = { postgres: 65_000, sqlite: 32_000 } as const;

export class Controller<S, T extends AnyTable> {
  constructor(
    readonly info: TableInfo,
    private readonly session: Session,
    private readonly scope: "live" | "all" | "deleted" = "live",
  ) {}

  get model(): T {
    return this.info.model as T;
  }

  // ---- soft delete scopes ------------------------------------------------------------------

  /** The same controller, also seeing soft-deleted rows. */
  withDeleted(): Controller<S, T> {
    return new Controller<S, T>(this.info, this.session, "all");
  }

  /** The same controller, seeing only soft-deleted rows. */
  onlyDeleted(): Controller<S, T> {
    this.requireSoftDelete("onlyDeleted");
    return new Controller<S, T>(this.info, this.session, "deleted");
  }

  private scopeCondition(): string | undefined {
    const deletedAt = this.info.deletedAt;
    if (!deletedAt || this.scope === "all") return undefined;
    return this.scope === "live" ? `${deletedAt.quoted} IS NULL` : `${deletedAt.quoted} IS NOT NULL`;
  }

  private scopeSql(): string {
    const condition = this.scopeCondition();
    return condition === undefined ? "" : ` AND ${condition}`;
  }

  // ---- hot paths: cached SQL, named prepared statements -------------------------------------

  private statement(key: string, build: () => { text: string; columns: ColumnInfo[] }, operation: string): CachedStatement {
    let cached = this.info.statements.get(key);
    if (!cached) {
      const built = build();
      cached = { ...built, name: this.info.statementName(operation, built.text) };
      this.info.statements.set(key, cached);
    }
    return cached;
  }

  private keyWhere(startAt: number): { sql: string; columns: ColumnInfo[] } {
    const pk = this.info.primaryKey;
    return { sql: pk.map((c, i) => `${c.quoted} = ${this.info.placeholder(startAt + i)}`).join(" AND "), columns: pk };
  }

  private keyParams(operation: string, key: unknown): unknown[] {
    const pk = this.info.requirePrimaryKey(operation);
    if (pk.length === 1 && (typeof key !== "object" || key === null || key instanceof Date || key instanceof Uint8Array)) {
      return [this.session.driver.encode(pk[0]!.type, key)];
    }
    const record = key as Record<string, unknown>;
    return pk.map((c) => {
      if (record?.[c.key] === undefined) {
        throw new RetortError("RETORT_INVALID_QUERY", `${this.info.name}.${operation}(): the key needs ${pk.map((p) => p.key).join(", ")}`);
      }
      return this.session.driver.encode(c.type, record[c.key]);
    });
  }

  private run(statement: CachedStatement, params: unknown[], session: Session = this.session): Promise<{ rows: Row<T>[]; rowCount: number }> {
    return session.query<Row<T>>(statement.text, params, statement.name);
  }

  /** One row by primary key, or undefined. */
  async get(key: Key<T>): Promise<Row<T> | undefined> {
    this.info.requirePrimaryKey("get");
    const statement = this.statement(`get:${this.scope}`, () => {
      const where = this.keyWhere(1);
      return { text: `SELECT ${this.info.selectList} FROM ${this.info.quotedName} WHERE ${where.sql}${this.scopeSql()} LIMIT 1`, columns: where.columns };
    }, "get");
    const result = await this.run(statement, this.keyParams("get", key));
    return result.rows[0];
  }

  /** One row by primary key; RETORT_NOT_FOUND when there is none. */
  async getOrThrow(key: Key<T>): Promise<Row<T>> {
    const row = await this.get(key);
    if (row === undefined) throw this.notFound("get", key);
    return row;
  }

  // ---- the audit trail ----------------------------------------------------------------------

  /**
   * A write on an audited model: `body` runs in a transaction (a savepoint inside one) and its
   * rows' audit records are written in that same transaction, so both commit or neither does.
   */
  private audited<R>(action: AuditAction, options: WriteOptions | undefined, body: (session: Session) => Promise<{ result: R; changes: RowChange[] }>): Promise<R> {
    const actor = options?.actor ?? this.session.actor;
    return this.session.transaction(async (session) => {
      const { result, changes } = await body(session);
      await writeAudit(session, this.info, action, actor, changes);
      return result;
    });
  }

  /** Postgres locks the rows read before a write, so their values stay what the audit says. */
  private get forUpdate(): string {
    return this.info.family === "postgres" ? " FOR UPDATE" : "";
  }

  /** The row by primary key whatever the scope, locked: the "before" of a write. */
  private async lockRow(session: Session, key: Key<T>): Promise<Row<T> | undefined> {
    const statement = this.statement("lock", () => {
      const where = this.keyWhere(1);
      return { text: `SELECT ${this.info.selectList} FROM ${this.info.quotedName} WHERE ${where.sql} LIMIT 1${this.forUpdate}`, columns: where.columns };
    }, "lock");
    return (await this.run(statement, this.keyParams("lock", key), session)).rows[0];
  }

  /** The rows a where-based write will reach, locked. */
  private async lockWhere(session: Session, filter: Where<T> | undefined): Promise<Row<T>[]> {
    const { rows } = await this.runShape<Row<T>>("lock", (bind) => `SELECT ${this.info.selectList} FROM ${this.info.quotedName}${this.whereClause(filter, bind)}${this.forUpdate}`, session);
    return rows;
  }

  /** Before and after rows of a many-row write, paired by primary key. */
  private pairChanges(before: Row<T>[], after: Row<T>[]): RowChange[] {
    const byKey = new Map(before.map((row) => [rowKeyText(this.info, row as Record<string, unknown>), row as Record<string, unknown>]));
    return after.map((row) => ({ before: byKey.get(rowKeyText(this.info, row as Record<string, unknown>)), after: row as Record<string, unknown> }));
  }

  // ---- single-row writes --------------------------------------------------------------------

  /** Insert one row (validated first) and return it as stored. */
  async create(input: Insert<T>, options?: WriteOptions): Promise<Row<T>> {
    validate(this.model, "insert", input);
    const values = this.withClientDefaults(input as Record<string, unknown>);
    // The statement's key names the columns given; built without arrays (every insert comes here).
    let key = "create:";
    for (const c of this.info.columns) if (values[c.key] !== undefined) key += `${c.key},`;
    const statement = this.statement(key, () => {
      const present = this.info.columns.filter((c) => values[c.key] !== undefined);
      return {
        text:
          present.length === 0
            ? `INSERT INTO ${this.info.quotedName} DEFAULT VALUES RETURNING ${this.info.selectList}`
            : `INSERT INTO ${this.info.quotedName} (${present.map((c) => c.quoted).join(", ")}) VALUES (${present
                .map((_, i) => this.info.placeholder(i + 1))
                .join(", ")}) RETURNING ${this.info.selectList}`,
        columns: present,
      };
    }, "create");
    const params = this.encodeRow(statement.columns, values);
    if (!this.info.audited) return (await this.run(statement, params)).rows[0]!;
    return this.audited("create", options, async (session) => {
      const row = (await this.run(statement, params, session)).rows[0]!;
      return { result: row, changes: [{ after: row }] };
    });
  }

  /** Change columns of one row by primary key (sets updatedAt); RETORT_NOT_FOUND when there is none. */
  async update(key: Key<T>, patch: Update<T>, options?: WriteOptions): Promise<Row<T>> {
    this.info.requirePrimaryKey("update");
    validate(this.model, "update", patch);
    const values = patch as Record<string, unknown>;
    const changed = this.info.columns.filter((c) => values[c.key] !== undefined);
    const statement = this.statement(`update:${this.scope}:${changed.map((c) => c.key).join(",")}`, () => {
      const sets = changed.map((c, i) => `${c.quoted} = ${this.info.placeholder(i + 1)}`);
      const updatedAt = this.info.updatedAt;
      if (updatedAt && values[updatedAt.key] === undefined) sets.push(`${updatedAt.quoted} = ${this.info.nowSql}`);
      if (sets.length === 0) sets.push(...this.info.primaryKey.map((c) => `${c.quoted} = ${c.quoted}`));
      const where = this.keyWhere(changed.length + 1);
      return {
        text: `UPDATE ${this.info.quotedName} SET ${sets.join(", ")} WHERE ${where.sql}${this.scopeSql()} RETURNING ${this.info.selectList}`,
        columns: changed,
      };
    }, "update");
    const params = [...this.encodeRow(statement.columns, values), ...this.keyParams("update", key)];
    const updateRow = async (session: Session) => {
      const result = await this.run(statement, params, session);
      if (result.rows.length === 0) throw this.notFound("update", key);
      return result.rows[0]!;
    };
    if (!this.info.audited) return updateRow(this.session);
    return this.audited("update", options, async (session) => {
      const before = await this.lockRow(session, key);
      const row = await updateRow(session);
      return { result: row, changes: [{ before, after: row }] };
    });
  }

  /**
   * Delete one row by primary key: a soft delete (sets deletedAt) when the model has
   * softDelete(), else a real DELETE. Returns the row; RETORT_NOT_FOUND when there is none.
   */
  async delete(key: Key<T>, options?: WriteOptions): Promise<Row<T>> {
    if (!this.info.deletedAt) return this.deleteRow("delete", key, options);
    return this.setDeleted(key, "delete", options);
  }

  /** Undo a soft delete. */
  async restore(key: Key<T>, options?: WriteOptions): Promise<Row<T>> {
    this.requireSoftDelete("restore");
    return this.setDeleted(key, "restore", options);
  }

  private async setDeleted(key: Key<T>, operation: "delete" | "restore", options: WriteOptions | undefined): Promise<Row<T>> {
    this.info.requirePrimaryKey(operation);
    const deletedAt = this.info.deletedAt!;
    const statement = this.statement(operation, () => {
      const where = this.keyWhere(1);
      const [value, condition] = operation === "delete" ? [this.info.nowSql, "IS NULL"] : ["NULL", "IS NOT NULL"];
      return {
        text: `UPDATE ${this.info.quotedName} SET ${deletedAt.quoted} = ${value} WHERE ${where.sql} AND ${deletedAt.quoted} ${condition} RETURNING ${this.info.selectList}`,
        columns: where.columns,
      };
    }, operation);
    const params = this.keyParams(operation, key);
    const setRow = async (session: Session) => {
      const result = await this.run(statement, params, session);
      if (result.rows.length === 0) throw this.notFound(operation, key);
      return result.rows[0]!;
    };
    if (!this.info.audited) return setRow(this.session);
    return this.audited(operation, options, async (session) => {
      const before = await this.lockRow(session, key);
      const row = await setRow(session);
      return { result: row, changes: [{ before, after: row }] };
    });
  }

  /** Really delete one row by primary key, even on a soft-delete model. */
  async hardDelete(key: Key<T>, options?: WriteOptions): Promise<Row<T>> {
    return this.deleteRow("hardDelete", key, options);
  }

  private async deleteRow(action: "delete" | "hardDelete", key: Key<T>, options: WriteOptions | undefined): Promise<Row<T>> {
    this.info.requirePrimaryKey("hardDelete");
    const statement = this.statement("hardDelete", () => {
      const where = this.keyWhere(1);
      return { text: `DELETE FROM ${this.info.quotedName} WHERE ${where.sql} RETURNING ${this.info.selectList}`, columns: where.columns };
    }, "hardDelete");
    const params = this.keyParams("hardDelete", key);
    const deleteOne = async (session: Session) => {
      const result = await this.run(statement, params, session);
      if (result.rows.length === 0) throw this.notFound("hardDelete", key);
      return result.rows[0]!;
    };
    if (!this.info.audited) return deleteOne(this.session);
    return this.audited(action, options, async (session) => {
      const row = await deleteOne(session);
      return { result: row, changes: [{ before: row }] };
    });
  }

  /**
   * Insert, or update on conflict with a unique key (`on`, default the primary key). `update`
   * lists the columns to overwrite (default: every column given except the key).
   */
  async upsert(input: Insert<T>, options: { on?: Array<keyof Row<T> & string>; update?: Array<keyof Row<T> & string> } & WriteOptions = {}): Promise<Row<T>> {
    validate(this.model, "insert", input);
    const values = this.withClientDefaults(input as Record<string, unknown>);
    const target = options.on ? options.on.map((key) => this.info.column(key)) : this.info.requirePrimaryKey("upsert");
    const present = this.info.columns.filter((c) => values[c.key] !== undefined);
    const targetNames = new Set(target.map((c) => c.dbName));
    const updates = options.update ? options.update.map((key) => this.info.column(key)) : present.filter((c) => !targetNames.has(c.dbName));
    const statement = this.statement(`upsert:${present.map((c) => c.key)}|${target.map((c) => c.key)}|${updates.map((c) => c.key)}`, () => {
      const predicate = this.conflictPredicate(target.map((c) => c.dbName));
      const sets = updates.map((c) => `${c.quoted} = EXCLUDED.${c.quoted}`);
      const updatedAt = this.info.updatedAt;
      if (updatedAt && !updates.includes(updatedAt)) sets.push(`${updatedAt.quoted} = ${this.info.nowSql}`);
      const action = sets.length === 0 ? `DO UPDATE SET ${target[0]!.quoted} = EXCLUDED.${target[0]!.quoted}` : `DO UPDATE SET ${sets.join(", ")}`;
      return {
        text: `INSERT INTO ${this.info.quotedName} (${present.map((c) => c.quoted).join(", ")}) VALUES (${present
          .map((_, i) => this.info.placeholder(i + 1))
          .join(", ")}) ON CONFLICT (${target.map((c) => c.quoted).join(", ")})${predicate} ${action} RETURNING ${this.info.selectList}`,
        columns: present,
      };
    }, "upsert");
    const params = this.encodeRow(statement.columns, values);
    if (!this.info.audited) return (await this.run(statement, params)).rows[0]!;
    return this.audited("upsert", options, async (session) => {
      const before = await this.lockConflicting(session, target, values, this.conflictPredicate(target.map((c) => c.dbName)));
      const row = (await this.run(statement, params, session)).rows[0]!;
      return { result: row, changes: [{ before, after: row }] };
    });
  }

  /** The row an upsert would update (same values in the conflict target), locked; none for an insert. */
  private async lockConflicting(session: Session, target: ColumnInfo[], values: Record<string, unknown>, predicate: string): Promise<Row<T> | undefined> {
    if (target.some((c) => values[c.key] === undefined || values[c.key] === null)) return undefined;
    const statement = this.statement(`lock:${target.map((c) => c.key)}`, () => ({
      text: `SELECT ${this.info.selectList} FROM ${this.info.quotedName} WHERE ${target.map((c, i) => `${c.quoted} = ${this.info.placeholder(i + 1)}`).join(" AND ")}${predicate.replace(" WHERE ", " AND ")} LIMIT 1${this.forUpdate}`,
      columns: target,
    }), "lock");
    return (await this.run(statement, this.encodeRow(target, values), session)).rows[0];
  }

  /** ON CONFLICT must repeat a partial unique index's predicate to match it. */
  private conflictPredicate(columns: string[]): string {
    const schema = this.info.schema;
    const same = (list: string[]) => list.length === columns.length && list.every((c) => columns.includes(c));
    if (schema.primaryKey && same(schema.primaryKey.columns)) return "";
    if (schema.uniques.some((u) => same(u.columns))) return "";
    const index = schema.indexes.find((i) => i.unique && same(i.elements.map((e) => ("column" in e ? e.column : ""))));
    if (!index) {
      throw new RetortError("RETORT_INVALID_QUERY", `${this.info.name}.upsert(): no unique key on (${columns.join(", ")})`, {
        hint: "Name the columns of a primary key, unique constraint or unique index in `on`.",
      });
    }
    return index.where ? ` WHERE ${index.where}` : "";
  }

  // ---- bulk ---------------------------------------------------------------------------------

  /**
   * Insert many rows. Every row is validated (all problems are reported, with row indexes, and
   * nothing is written when any row is invalid). Uses COPY on Postgres and one prepared statement
   * in a transaction on SQLite; returns the number of rows, or the rows with `{ returning: true }`.
   * On an audited model the audit rows are bulk-written too (see loadAudited).
   */
  createMany(rows: Insert<T>[], options?: { returning?: false } & WriteOptions): Promise<number>;
  createMany(rows: Insert<T>[], options: { returning: true } & WriteOptions): Promise<Row<T>[]>;
  async createMany(rows: Insert<T>[], options: { returning?: boolean } & WriteOptions = {}): Promise<number | Row<T>[]> {
    const audited = this.info.audited;
    if (options.returning) {
      validate(this.model, "insert", rows);
      const groups = this.groupByColumns(rows.map((row) => this.withClientDefaults(row as Record<string, unknown>)));
      const insertAll = async (session: Session) => {
        const out: Row<T>[] = [];
        for (const group of groups) out.push(...(await this.insertReturning(session, group.columns, group.rows)));
        return out;
      };
      if (!audited) return this.session.transaction(insertAll);
      return this.audited("createMany", options, async (session) => {
        const out = await insertAll(session);
        return { result: out, changes: out.map((row) => ({ after: row as Record<string, unknown> })) };
      });
    }
    if (rows.length === 0) return 0;
    if (audited && this.info.family === "postgres") rows = await this.withGeneratedValues(rows);
    // Rows are validated and encoded as the bulk loader pulls them, so preparing rows overlaps
    // with the database loading earlier ones. Rows that give other columns than the first one
    // (omitted columns keep their server defaults) are set aside and loaded after.
    const firstColumns = this.presentColumns(this.withClientDefaults(rows[0] as Record<string, unknown>));
    const firstGiven = this.info.columns.map((c) => firstColumns.includes(c));
    const setAside: Record<string, unknown>[] = [];
    const issues: FieldIssue[] = [];
    const driver = this.session.driver;
    const model = this.model;
    const self = this;
    // Audited: the values of the rows loaded, for audit rows built on this side (see loadAudited).
    const loaded: Record<string, unknown>[] = [];
    function* encoded(): Generator<unknown[]> {
      for (let i = 0; i < rows.length; i++) {
        const found = validationIssues(model, "insert", rows[i], i);
        if (found.length > 0) issues.push(...found);
        if (issues.length > 0) continue; // keep validating to report everything; load nothing more
        const values = self.withClientDefaults(rows[i] as Record<string, unknown>);
        if (!self.givesSameColumns(values, firstGiven)) {
          setAside.push(values);
          continue;
        }
        if (audited) loaded.push(values);
        const row = new Array<unknown>(firstColumns.length);
        for (let c = 0; c < firstColumns.length; c++) row[c] = driver.encode(firstColumns[c]!.type, values[firstColumns[c]!.key]);
        yield row;
      }
      // Throwing here abandons the load inside the transaction below: nothing is written.
      if (issues.length > 0) throw validationError(model, "insert", issues);
    }
    const actor = options.actor ?? this.session.actor;
    return this.session.transaction((session) =>
      session.withConnection(async (conn) => {
        const load = (columns: ColumnInfo[], encodedRows: Iterable<unknown[]>, values: Record<string, unknown>[]) =>
          audited ? this.loadAudited(session, conn, actor, columns, encodedRows, values) : driver.bulkInsert(conn, this.info.schema, this.snapshotColumns(columns), encodedRows);
        let count = await load(firstColumns, encoded(), loaded);
        for (const group of this.groupByColumns(setAside)) {
          count += await load(group.columns, group.rows.map((values) => this.encodeRow(group.columns, values)), group.rows);
        }
        return count;
      }),
    );
  }

  /**
   * Postgres, audited bulk load: the values the database would number or draw for the rows (a
   * serial or identity key: taken from its sequence now; a random UUID: made here) are given in
   * the rows, so every value is known before the load and the audit rows can be built beside
   * the rows (see loadAudited). COPY writes given values into an identity column, as INSERT …
   * OVERRIDING SYSTEM VALUE would.
   */
  private async withGeneratedValues(rows: Insert<T>[]): Promise<Insert<T>[]> {
    const generated = this.info.columns.filter((c) => c.config.defaultFn === undefined && (c.config.serial || c.config.identity !== undefined || c.config.default?.kind === "random-uuid"));
    const lacking = (column: ColumnInfo) => rows.filter((row) => (row as Record<string, unknown>)[column.key] === undefined).length;
    const missing = generated.map((column) => ({ column, count: lacking(column) })).filter((m) => m.count > 0);
    if (missing.length === 0) return rows;
    // Per column, the next value for a row that lacks it.
    const next = await Promise.all(
      missing.map(async ({ column, count }): Promise<() => unknown> => {
        if (column.config.default?.kind === "random-uuid") return () => randomUUID();
        const numbers = await this.takeFromSequence(column, count);
        let taken = 0;
        return column.type.kind === "bigint" ? () => numbers(taken++) : () => Number(numbers(taken++));
      }),
    );
    const keys = missing.map(({ column }) => column.key);
    return rows.map((row) => {
      const given = row as Record<string, unknown>;
      if (keys.every((key) => given[key] !== undefined)) return row;
      const filled = { ...given };
      keys.forEach((key, i) => {
        if (filled[key] === undefined) filled[key] = next[i]!();
      });
      return filled as Insert<T>;
    });
  }

  /**
   * Postgres: `count` numbers from the sequence of a serial or identity column, as the i-th's
   * getter. In one row: the first and last, when they make an unbroken run (no other session
   * took numbers meanwhile, the usual case), else the list, rather than a row per number.
   */
  private async takeFromSequence(column: ColumnInfo, count: number): Promise<(i: number) => bigint> {
    const { rows: [taken] } = await this.session.query<{ first: string; last: string; list: string | null }>(
      `SELECT min(v)::text AS "first", max(v)::text AS "last", CASE WHEN max(v) - min(v) + 1 = count(*) THEN NULL ELSE string_agg(v::text, ',') END AS "list" ` +
        // OFFSET 0 keeps the sequence's lookup from being inlined into every nextval (5 µs a row).
        `FROM (SELECT nextval(s.seq) AS v FROM (SELECT pg_get_serial_sequence($1, $2)::regclass AS seq OFFSET 0) s, generate_series(1, $3)) numbered`,
      [this.info.quotedName, column.dbName, count],
    );
    if (taken!.list === null) {
      const first = BigInt(taken!.first);
      return (i) => first + BigInt(i);
    }
    const list = taken!.list.split(",");
    return (i) => BigInt(list[i]!);
  }

  /**
   * A bulk load on an audited model, with an audit row for every row, in the load's transaction.
   * When the rows give their key and every other value is known in advance (see auditRowPlan),
   * the audit rows are built here, after the rows are loaded: Postgres, a second COPY, of binary
   * data written as COPY pulls it; SQLite, INSERTs of many rows (see sqliteWriteAuditRows).
   * Otherwise the database makes them from the stored rows (see loadAuditedPostgres and
   * loadAuditedSqlite). `values` is filled as `rows` is consumed.
   */
  private async loadAudited(session: Session, conn: Connection, actor: Actor | undefined, columns: ColumnInfo[], rows: Iterable<unknown[]>, values: Record<string, unknown>[]): Promise<number> {
    const plan = auditRowPlan(this.info, columns);
    const load = (transactionId: string) => ({ action: "createMany", table: this.info.name, actor, transactionId }) as const;
    const driver = this.session.driver;
    if (this.info.family === "sqlite") {
      if (!plan) return this.loadAuditedSqlite(session, conn, actor, columns, rows);
      // The load's time goes into the rows: SQLite's now() default would differ row by row.
      const now = new Date();
      const nowValues = plan.nowColumns.map((c) => driver.encode(c.type, now));
      const timed = nowValues.length === 0 ? rows : appendToEach(rows, nowValues);
      const count = await driver.bulkInsert(conn, this.info.schema, this.snapshotColumns([...columns, ...plan.nowColumns]), timed);
      await sqliteWriteAuditRows(conn, load(session.auditTransactionId()), now.toISOString(), plan.text(JSON.stringify(now.toISOString())), values);
      return count;
    }
    if (!plan) return this.loadAuditedPostgres(conn, actor, columns, rows);
    const { rows: [stamp] } = await conn.query<{ txid: string; now: Date }>(`SELECT txid_current()::text AS "txid", now() AS "now"`);
    const count = await driver.bulkInsert(conn, this.info.schema, this.snapshotColumns(columns), rows);
    const auditSchema = session.controllerFor(auditLog).info.schema;
    const auditColumns = AUDIT_LOAD_COLUMNS.map((name) => auditSchema.columns.find((c) => c.name === name)!);
    await driver.copyData!(conn, auditSchema, auditColumns, "binary", postgresAuditCopy(load(stamp!.txid), plan.text(JSON.stringify(stamp!.now.toISOString())), values));
    return count;
  }

  /**
   * SQLite, audit rows made by the engine: when SQLite numbers the rows' rowids (see
   * sqliteRowidName), load the rows, then one INSERT … SELECT writes the audit rows of those past
   * the largest rowid before; otherwise a temporary trigger writes them as the rows go in.
   */
  private async loadAuditedSqlite(session: Session, conn: Connection, actor: Actor | undefined, columns: ColumnInfo[], rows: Iterable<unknown[]>): Promise<number> {
    const driver = this.session.driver;
    const snapshotColumns = this.snapshotColumns(columns);
    const rowid = sqliteRowidName(this.info, columns);
    if (rowid !== undefined) {
      const { rows: [largest] } = await conn.query<{ rowid: number | bigint }>(`SELECT coalesce(max(${rowid}), 0) AS "rowid" FROM ${this.info.quotedName}`);
      // At the largest rowid there can be, SQLite numbers new rows at random: then the trigger.
      if (BigInt(largest!.rowid) < MAX_ROWID) {
        const count = await driver.bulkInsert(conn, this.info.schema, snapshotColumns, rows);
        await conn.query(sqliteInsertAuditSelect(this.info, "createMany", actor, session.auditTransactionId(), rowid), [largest!.rowid]);
        return count;
      }
    }
    const trigger = `retort_audit_${randomUUID().replaceAll("-", "").slice(0, 16)}`;
    await conn.query(sqliteAuditTrigger(this.info, trigger, "createMany", actor, session.auditTransactionId()));
    try {
      return await driver.bulkInsert(conn, this.info.schema, snapshotColumns, rows);
    } finally {
      await conn.query(`DROP TRIGGER IF EXISTS temp.${quoteIdent(trigger)}`);
    }
  }

  /**
   * Postgres, audit rows made by the server (a value only it knows, an expression default):
   * COPY into a temporary table, then one statement moves the rows and writes their audit rows.
   */
  private async loadAuditedPostgres(conn: Connection, actor: Actor | undefined, columns: ColumnInfo[], rows: Iterable<unknown[]>): Promise<number> {
    const driver = this.session.driver;
    const snapshotColumns = this.snapshotColumns(columns);
    const stageName = `retort_stage_${randomUUID().replaceAll("-", "").slice(0, 16)}`;
    const stage = quoteIdent(stageName);
    const list = columns.map((c) => c.quoted).join(", ");
    await conn.query(`CREATE TEMP TABLE ${stage} AS SELECT ${list} FROM ${this.info.quotedName} WITH NO DATA`);
    await driver.bulkInsert(conn, { ...this.info.schema, name: stageName }, snapshotColumns, rows);
    const moved = `(INSERT INTO ${this.info.quotedName} (${list}) SELECT ${list} FROM ${stage} RETURNING ${this.info.columns.map((c) => c.quoted).join(", ")})`;
    const { rowCount } = await conn.query(`WITH w AS ${moved} ${postgresInsertAuditSelect(this.info, "createMany", "w")}`, [actor?.id ?? null, actor?.kind ?? null]);
    await conn.query(`DROP TABLE ${stage}`);
    return rowCount;
  }

  private presentColumns(values: Record<string, unknown>): ColumnInfo[] {
    return this.info.columns.filter((c) => values[c.key] !== undefined);
  }

  /** Whether `values` gives exactly the columns marked in `given` (one flag per table column). */
  private givesSameColumns(values: Record<string, unknown>, given: boolean[]): boolean {
    const columns = this.info.columns;
    for (let i = 0; i < columns.length; i++) if ((values[columns[i]!.key] !== undefined) !== given[i]) return false;
    return true;
  }

  private groupByColumns(rows: Record<string, unknown>[]): Array<{ columns: ColumnInfo[]; rows: Record<string, unknown>[] }> {
    const groups = new Map<string, { columns: ColumnInfo[]; rows: Record<string, unknown>[] }>();
    for (const values of rows) {
      const columns = this.presentColumns(values);
      const signature = columns.map((c) => c.key).join(",");
      let group = groups.get(signature);
      if (!group) groups.set(signature, (group = { columns, rows: [] }));
      group.rows.push(values);
    }
    return [...groups.values()];
  }

  private snapshotColumns(columns: ColumnInfo[]) {
    return columns.map((c) => this.info.schema.columns.find((s) => s.name === c.dbName)!);
  }

  private async insertReturning(session: Session, columns: ColumnInfo[], rows: Record<string, unknown>[]): Promise<Row<T>[]> {
    const out: Row<T>[] = [];
    const perChunk = Math.max(1, Math.floor(MAX_PARAMS[this.info.family] / Math.max(1, columns.length)));
    for (let start = 0; start < rows.length; start += perChunk) {
      const chunk = rows.slice(start, start + perChunk);
      let n = 0;
      const tuples = chunk.map(() => (columns.length === 0 ? "(DEFAULT)" : `(${columns.map(() => this.info.placeholder(++n)).join(", ")})`));
      const text =
        columns.length === 0
          ? `INSERT INTO ${this.info.quotedName} DEFAULT VALUES RETURNING ${this.info.selectList}`
          : `INSERT INTO ${this.info.quotedName} (${columns.map((c) => c.quoted).join(", ")}) VALUES ${tuples.join(", ")} RETURNING ${this.info.selectList}`;
      const result = await session.query<Row<T>>(text, chunk.flatMap((values) => this.encodeRow(columns, values)));
      out.push(...result.rows);
    }
    return out;
  }

  // ---- where-based reads and writes: compiled per query shape --------------------------------

  /**
   * A Kysely SELECT on this table with the scope and filters applied (database column names),
   * for queries the controller methods do not cover.
   */
  query(where?: Where<T>): SelectQueryBuilder<any, any, {}> {
    const { sql } = kyselyRuntime();
    const query = this.session.kysely.selectFrom(this.info.name);
    const values: unknown[] = [];
    const condition = this.conditionSql(where, (value) => {
      values.push(value);
      return PARAMETER_MARK;
    });
    if (condition === undefined) return query;
    const fragments = condition.split(PARAMETER_MARK).flatMap((text, i) => (i === 0 ? [sql.raw(text)] : [sql.val(values[i - 1]), sql.raw(text)]));
    return query.where(sql.join(fragments, sql.raw("")) as never);
  }

  /** The scope's condition and `where` as SQL; undefined when neither sets one. */
  private conditionSql(where: unknown, bind: Bind): string | undefined {
    const scope = this.scopeCondition();
    const filter = where === undefined ? undefined : whereSql(this.info, this.session.driver, where as Record<string, unknown>, bind);
    if (scope === undefined || filter === undefined) return scope ?? filter;
    return `${scope} AND ${filter}`;
  }

  private whereClause(where: unknown, bind: Bind): string {
    const condition = this.conditionSql(where, bind);
    return condition === undefined ? "" : ` WHERE ${condition}`;
  }

  /**
   * Build the statement for this call's shape and run it. The text holds no values, so equal
   * shapes give equal text and share one named prepared statement (parsed and planned once per
   * connection); parameters are bound in the order `build` asks for placeholders.
   */
  private runShape<R>(operation: string, build: (bind: Bind) => string, session: Session = this.session): Promise<{ rows: R[]; rowCount: number }> {
    const params: unknown[] = [];
    const text = build(binder(this.info, params));
    return session.query<R>(text, params, this.info.shapeName(operation, text));
  }

  async find<W extends WithSpec<S, T> = {}>(options: FindOptions<S, T, W> = {}): Promise<RowWith<S, T, W>[]> {
    const pairs = orderPairs(this.info, options.orderBy);
    const { limit, offset } = options;
    const { rows } = await this.runShape<Record<string, unknown>>("find", (bind) => {
      let text = `SELECT ${this.info.selectList} FROM ${this.info.quotedName}${this.whereClause(options.where, bind)}${this.orderSql(pairs)}`;
      if (limit !== undefined) text += ` LIMIT ${bind(limit)}`;
      // SQLite needs a LIMIT before OFFSET; -1 means none.
      if (offset !== undefined) text += `${limit === undefined && this.info.family === "sqlite" ? " LIMIT -1" : ""} OFFSET ${bind(offset)}`;
      return text;
    });
    if (options.with) await this.loadRelations(rows, options.with as Record<string, unknown>);
    return rows as RowWith<S, T, W>[];
  }

  /** ORDER BY on table-qualified columns: a bare name would mean a select-list alias first. */
  private orderSql(pairs: Array<[ColumnInfo, OrderDirection]>): string {
    if (pairs.length === 0) return "";
    return ` ORDER BY ${pairs.map(([column, direction]) => `${this.info.quotedName}.${column.quoted} ${direction === "asc" ? "ASC" : "DESC"}`).join(", ")}`;
  }

  async findOne<W extends WithSpec<S, T> = {}>(options: Omit<FindOptions<S, T, W>, "limit"> = {}): Promise<RowWith<S, T, W> | undefined> {
    const rows = await this.find({ ...options, limit: 1 });
    return rows[0];
  }

  /** Load relations for rows already fetched (the same batching `find({ with })` uses). */
  async loadRelations(rows: Record<string, unknown>[], spec: Record<string, unknown>): Promise<void> {
    for (const [name, query] of Object.entries(spec)) {
      if (query === undefined || query === false) continue;
      const rel = this.session.relation(this.model, name);
      const target = this.session.controllerFor(rel.target);
      await attachRelation(rows, rel, query as true | Record<string, unknown>, (where, nested) =>
        target.find({
          where: (nested.where ? { and: [where, nested.where] } : where) as never,
          orderBy: nested.orderBy as never,
          with: nested.with as never,
        }) as Promise<Record<string, unknown>[]>,
      );
    }
  }

  async count(where?: Where<T>): Promise<number> {
    const { rows } = await this.runShape<{ count: unknown }>("count", (bind) => `SELECT count(*) AS "count" FROM ${this.info.quotedName}${this.whereClause(where, bind)}`);
    return Number(rows[0]!.count);
  }

  async exists(where?: Where<T>): Promise<boolean> {
    const { rows } = await this.runShape("exists", (bind) => `SELECT 1 AS "one" FROM ${this.info.quotedName}${this.whereClause(where, bind)} LIMIT 1`);
    return rows.length > 0;
  }

  /**
   * Update every matching row (sets updatedAt); returns how many changed. A filter that sets no
   * condition is refused: pass `{ all: true }` to change every row.
   */
  async updateMany(where: Where<T> | AllRows, patch: Update<T>, options?: WriteOptions): Promise<number> {
    const filter = this.manyFilter("updateMany", where);
    validate(this.model, "update", patch);
    const values = patch as Record<string, unknown>;
    const changed = this.info.columns.filter((c) => values[c.key] !== undefined);
    const updatedAt = this.info.updatedAt;
    const stampUpdatedAt = updatedAt !== undefined && values[updatedAt.key] === undefined;
    if (changed.length === 0 && !stampUpdatedAt) return 0;
    const sets = (bind: Bind) => {
      const list = changed.map((c) => `${c.quoted} = ${bind(this.session.driver.encode(c.type, values[c.key]))}`);
      if (stampUpdatedAt) list.push(`${updatedAt.quoted} = ${this.info.nowSql}`);
      return list.join(", ");
    };
    if (!this.info.audited) return (await this.runShape("updateMany", (bind) => `UPDATE ${this.info.quotedName} SET ${sets(bind)}${this.whereClause(filter, bind)}`)).rowCount;
    return this.audited("updateMany", options, async (session) => {
      const changes = await this.updateWhereAudited(session, "updateMany", filter, sets);
      return { result: changes.length, changes };
    });
  }

  /**
   * An audited UPDATE of the rows matching `filter`, with each row's values before and after.
   * Postgres does it in one statement: the rows are selected and locked FOR UPDATE in a CTE, and
   * the UPDATE joins them by key, so exactly the rows read are the rows changed (a row committed
   * by someone else in between cannot slip in). SQLite (one writer at a time) reads, then updates.
   */
  private async updateWhereAudited(session: Session, operation: string, filter: Where<T> | undefined, sets: (bind: Bind) => string): Promise<RowChange[]> {
    if (this.info.family !== "postgres") {
      const before = await this.lockWhere(session, filter);
      const { rows } = await this.runShape<Row<T>>(operation, (bind) => `UPDATE ${this.info.quotedName} SET ${sets(bind)}${this.whereClause(filter, bind)} RETURNING ${this.info.selectList}`, session);
      return this.pairChanges(before, rows);
    }
    const table = this.info.quotedName;
    const all = this.info.columns;
    const join = this.info.primaryKey.map((c) => `${table}.${c.quoted} = "locked".${c.quoted}`).join(" AND ");
    const returning = [...all.map((c) => `${table}.${c.quoted} AS ${quoteIdent(`a:${c.key}`)}`), ...all.map((c) => `"locked".${c.quoted} AS ${quoteIdent(`b:${c.key}`)}`)].join(", ");
    const { rows } = await this.runShape<Record<string, unknown>>(
      operation,
      (bind) =>
        `WITH "locked" AS (SELECT ${all.map((c) => c.quoted).join(", ")} FROM ${table}${this.whereClause(filter, bind)} FOR UPDATE) ` +
        `UPDATE ${table} SET ${sets(bind)} FROM "locked" WHERE ${join} RETURNING ${returning}`,
      session,
    );
    return rows.map((row) => {
      const before: Record<string, unknown> = {};
      const after: Record<string, unknown> = {};
      for (const c of all) {
        after[c.key] = row[`a:${c.key}`];
        before[c.key] = row[`b:${c.key}`];
      }
      return { before, after };
    });
  }

  /**
   * Delete every matching row (soft on soft-delete models); returns how many. A filter that sets
   * no condition is refused: pass `{ all: true }` to delete every row.
   */
  async deleteMany(where: Where<T> | AllRows, options?: WriteOptions): Promise<number> {
    const filter = this.manyFilter("deleteMany", where);
    const deletedAt = this.info.deletedAt;
    if (deletedAt && this.scope !== "deleted") {
      const live = this.live();
      const sets = () => `${deletedAt.quoted} = ${this.info.nowSql}`;
      if (!this.info.audited) return (await live.runShape("deleteMany", (bind) => `UPDATE ${this.info.quotedName} SET ${sets()}${live.whereClause(filter, bind)}`)).rowCount;
      return this.audited("deleteMany", options, async (session) => {
        const changes = await live.updateWhereAudited(session, "deleteMany", filter, sets);
        return { result: changes.length, changes };
      });
    }
    const returning = this.info.audited ? ` RETURNING ${this.info.selectList}` : "";
    const build = (bind: Bind) => `DELETE FROM ${this.info.quotedName}${this.whereClause(filter, bind)}${returning}`;
    if (!this.info.audited) return (await this.runShape("deleteMany", build)).rowCount;
    return this.audited("deleteMany", options, async (session) => {
      const { rows } = await this.runShape<Record<string, unknown>>("deleteMany", build, session);
      return { result: rows.length, changes: rows.map((row) => ({ before: row })) };
    });
  }

  private live(): Controller<S, T> {
    return this.scope === "live" ? this : new Controller<S, T>(this.info, this.session, "live");
  }

  /**
   * The filter of updateMany/deleteMany (undefined for `{ all: true }`). One that sets no
   * condition (`{}`, or only undefined values: a forgotten variable) would reach every row, so
   * it must be said with `{ all: true }`.
   */
  private manyFilter(operation: "updateMany" | "deleteMany", where: Where<T> | AllRows): Where<T> | undefined {
    const example = operation === "updateMany" ? `${this.info.name}.updateMany({ all: true }, values)` : `${this.info.name}.deleteMany({ all: true })`;
    if (where !== null && typeof where === "object" && "all" in where && !this.info.byKey.has("all")) {
      if ((where as AllRows).all !== true || Object.keys(where).length !== 1) {
        throw new RetortError("RETORT_INVALID_QUERY", `${this.info.name}.${operation}(): \`all\` must be exactly \`{ all: true }\`, on its own`, {
          hint: `Pass { all: true } alone to reach every row (${example}), or a filter without \`all\`.`,
        });
      }
      return undefined;
    }
    if (where === undefined || where === null || whereSql(this.info, this.session.driver, where as Record<string, unknown>, () => "?") === undefined) {
      const verb = operation === "updateMany" ? "update" : "delete";
      throw new RetortError("RETORT_INVALID_QUERY", `${this.info.name}.${operation}(): the filter sets no condition (${describeFilter(where)}), so it would ${verb} every row of ${this.info.name}`, {
        hint: `To ${verb} every row, say so: ${example}. Otherwise check the filter: keys whose value is undefined are ignored.`,
        details: { table: this.info.name, operation },
      });
    }
    return where as Where<T>;
  }

  // ---- pagination ---------------------------------------------------------------------------

  /**
   * Keyset pagination (`after` cursor, stable under inserts) or page/offset pagination with a
   * total. Keyset ordering always ends with the primary key, so pages never overlap.
   */
  paginate<W extends WithSpec<S, T> = {}>(options: { after?: string | null; limit: number; where?: Where<T>; orderBy?: OrderBy<T>; with?: W }): Promise<CursorPage<RowWith<S, T, W>>>;
  paginate<W extends WithSpec<S, T> = {}>(options: { page: number; perPage: number; where?: Where<T>; orderBy?: OrderBy<T>; with?: W }): Promise<OffsetPage<RowWith<S, T, W>>>;
  async paginate(options: Record<string, any>): Promise<CursorPage<unknown> | OffsetPage<unknown>> {
    if (options.page !== undefined) {
      const page = Number(options.page);
      const perPage = Number(options.perPage);
      if (!Number.isInteger(page) || page < 1 || !Number.isInteger(perPage) || perPage < 1) {
        throw new RetortError("RETORT_INVALID_QUERY", `paginate(): page and perPage must be positive integers (got ${options.page}, ${options.perPage})`);
      }
      const [items, total] = await Promise.all([
        this.find({ where: options.where, orderBy: options.orderBy ?? this.pkOrder(), limit: perPage, offset: (page - 1) * perPage, with: options.with }),
        this.count(options.where),
      ]);
      return { items, total, page, perPage, pageCount: Math.ceil(total / perPage) };
    }
    return this.keysetPage(options);
  }

  /** Walk every keyset page: `for await (const page of members.pages({ limit: 100 }))`. */
  async *pages<W extends WithSpec<S, T> = {}>(options: { limit: number; where?: Where<T>; orderBy?: OrderBy<T>; with?: W }): AsyncGenerator<RowWith<S, T, W>[]> {
    let after: string | null = null;
    do {
      const page: CursorPage<RowWith<S, T, W>> = await this.paginate({ ...options, after });
      if (page.items.length > 0) yield page.items;
      after = page.nextCursor;
    } while (after);
  }

  private pkOrder(): Record<string, OrderDirection>[] {
    return this.info.primaryKey.map((c) => ({ [c.key]: "asc" as const }));
  }

  private async keysetPage(options: Record<string, any>): Promise<CursorPage<unknown>> {
    const limit = Number(options.limit);
    if (!Number.isInteger(limit) || limit < 1) throw new RetortError("RETORT_INVALID_QUERY", `paginate(): limit must be a positive integer (got ${options.limit})`);
    const pairs = orderPairs(this.info, options.orderBy);
    for (const pk of this.info.requirePrimaryKey("paginate")) if (!pairs.some(([c]) => c === pk)) pairs.push([pk, pairs.at(-1)?.[1] ?? "asc"]);
    const nullable = pairs.find(([c]) => c.config.nullable);
    if (nullable) {
      throw new RetortError("RETORT_INVALID_QUERY", `paginate(): keyset order column "${nullable[0].key}" is nullable`, {
        hint: "Order by NOT NULL columns for cursor pagination, or use { page, perPage }.",
      });
    }
    const after = options.after ? decodeCursor(options.after, pairs, this.session.driver) : undefined;
    const { rows } = await this.runShape<Record<string, unknown>>("page", (bind) => {
      const conditions: string[] = [];
      const filter = this.conditionSql(options.where, bind);
      if (filter !== undefined) conditions.push(filter);
      if (after) {
        // Rows after the cursor in the order: (a > x) OR (a = x AND b > y) OR …
        const alternatives = pairs.map(([column, direction], i) =>
          [
            ...pairs.slice(0, i).map(([c], j) => `${c.quoted} = ${bind(after[j])}`),
            `${column.quoted} ${direction === "asc" ? ">" : "<"} ${bind(after[i])}`,
          ].join(" AND "),
        );
        conditions.push(`(${alternatives.map((a) => `(${a})`).join(" OR ")})`);
      }
      const where = conditions.length === 0 ? "" : ` WHERE ${conditions.join(" AND ")}`;
      return `SELECT ${this.info.selectList} FROM ${this.info.quotedName}${where}${this.orderSql(pairs)} LIMIT ${bind(limit + 1)}`;
    });
    const items = rows.slice(0, limit);
    if (options.with) await this.loadRelations(items, options.with);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > limit && last ? encodeCursor(pairs.map(([c]) => last[c.key])) : null };
  }

  // ---- helpers ------------------------------------------------------------------------------

  private withClientDefaults(input: Record<string, unknown>): Record<string, unknown> {
    if (this.info.clientDefaults.length === 0) return input;
    const values = { ...input };
    for (const column of this.info.clientDefaults) if (values[column.key] === undefined) values[column.key] = column.config.defaultFn!();
    return values;
  }

  private encodeRow(columns: ColumnInfo[], values: Record<string, unknown>): unknown[] {
    const driver = this.session.driver;
    const params = new Array<unknown>(columns.length);
    for (let i = 0; i < columns.length; i++) params[i] = driver.encode(columns[i]!.type, values[columns[i]!.key]);
    return params;
  }

  private requireSoftDelete(operation: string): void {
    if (!this.info.deletedAt) {
      throw new RetortError("RETORT_INVALID_QUERY", `${this.info.name}.${operation}(): the model has no softDelete() column`, {
        hint: "Add ...softDelete() to the model's columns.",
      });
    }
  }

  private notFound(operation: string, key: unknown): RetortError {
    return new RetortError("RETORT_NOT_FOUND", `${this.info.name}.${operation}(): no ${this.scope === "live" && this.info.deletedAt ? "live " : ""}row with key ${describeKey(key)}`, {
      hint: this.info.deletedAt && this.scope === "live" ? "Soft-deleted rows are hidden; use withDeleted() to reach them." : undefined,
      details: { table: this.info.name, key: describeKey(key) },
    });
  }
}

function describeFilter(where: unknown): string {
  if (where === undefined || where === null) return String(where);
  const keys = Object.keys(where);
  return keys.length === 0 ? "{}" : `{ ${keys.map((k) => `${k}: ${(where as Record<string, unknown>)[k] === undefined ? "undefined" : "…"}`).join(", ")} }`;
}

function describeKey(key: unknown): string {
  return JSON.stringify(key, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
}

// Cursors carry the last row's order values, typed so bigint and Date survive the round trip.
function encodeCursor(values: unknown[]): string {
  const tagged = values.map((v) => (typeof v === "bigint" ? { b: v.toString() } : v instanceof Date ? { d: v.toISOString() } : { v }));
  return Buffer.from(JSON.stringify(tagged)).toString("base64url");
}

function decodeCursor(cursor: string, pairs: Array<[ColumnInfo, OrderDirection]>, driver: Driver): unknown[] {
  try {
    const tagged = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as Array<{ b?: string; d?: string; v?: unknown }>;
    if (!Array.isArray(tagged) || tagged.length !== pairs.length) throw new Error("shape");
    return tagged.map((t, i) => driver.encode(pairs[i]![0].type, t.b !== undefined ? BigInt(t.b) : t.d !== undefined ? new Date(t.d) : t.v));
  } catch {
    throw new RetortError("RETORT_INVALID_CURSOR", "paginate(): the cursor is not one this query produced", {
      hint: "Pass the nextCursor of the previous page with the same orderBy, or start again without `after`.",
    });
  }
}

/** SQLite's largest rowid. */
const MAX_ROWID = 9_223_372_036_854_775_807n;

/** Each row with `extra` appended, as the rows are pulled. */
function* appendToEach(rows: Iterable<unknown[]>, extra: readonly unknown[]): Generator<unknown[]> {
  for (const row of rows) {
    row.push(...extra);
    yield row;
  }
}
