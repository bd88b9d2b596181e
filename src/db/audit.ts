/**
 * The audit trail: what a controller write on an audited model (`table(…, { audit: true })`)
 * records in `retort_audit_log`, in the write's own transaction, and `db.audit.find()` to read it.
 *
 * Values are stored as JSON in one form on every backend (bigint and numeric as strings,
 * timestamps as ISO text with milliseconds, bytea as hex), so a row written through SQLite,
 * PGlite or Postgres reads back the same. Only the fields a write changed are kept (every field
 * for an insert or a hard delete), and a `.sensitive()` column shows "[redacted]".
 */
import { RetortError } from "../errors.js";
import { auditLog, AUDIT_TABLE } from "../model/audit-log.js";
import { isTableModel, type AnyTable } from "../model/table.js";
import { quoteIdent, quoteLiteral } from "../dialects/sql-text.js";
import { binaryTextField, CopyBinaryWriter } from "../dialects/postgres/copy-binary.js";
import type { Connection } from "../dialects/driver.js";
import type { Session } from "./controller.js";
import type { ColumnInfo, TableInfo } from "./table-info.js";

/** Who makes a write: `db.withActor({ id, kind })`, or `{ actor }` on one call. */
export interface Actor {
  id: string;
  /** What sort of actor: "user", "admin", "job", "system"… */
  kind?: string;
}

/** Per-call options of every controller write. */
export interface WriteOptions {
  /** The actor of this write (else the Database's, from withActor). */
  actor?: Actor;
}

export type AuditAction = "create" | "createMany" | "update" | "updateMany" | "upsert" | "delete" | "deleteMany" | "restore" | "hardDelete";

export const REDACTED = "[redacted]";

/** One written row: its values before (none for an insert) and after (none for a hard delete). */
export interface RowChange {
  before?: Record<string, unknown> | undefined;
  after?: Record<string, unknown> | undefined;
}

/** A value in the audit trail's JSON form. */
export function auditValue(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString("hex");
  // Array columns: each element so (bigint elements as digits); a JSON array is unchanged by it.
  if (Array.isArray(value)) return value.map(auditValue);
  return value;
}

/** The primary key as the audit trail writes it: JSON text, keys in key order. */
export function rowKeyText(info: TableInfo, row: Record<string, unknown>): string {
  let out = "";
  for (const column of info.primaryKey) out += `${out === "" ? "{" : ","}${JSON.stringify(column.key)}:${JSON.stringify(auditValue(row[column.key]))}`;
  return `${out}}`;
}

const same = (a: unknown, b: unknown) => JSON.stringify(auditValue(a)) === JSON.stringify(auditValue(b));

/** before/after of the changed fields, sensitive values redacted. */
export function changedFields(info: TableInfo, change: RowChange): { before: Record<string, unknown> | null; after: Record<string, unknown> | null } {
  const { before, after } = change;
  const columns = before && after ? info.columns.filter((c) => !same(before[c.key], after[c.key])) : info.columns;
  const pick = (row: Record<string, unknown> | undefined) => {
    if (!row) return null;
    const out: Record<string, unknown> = {};
    for (const c of columns) out[c.key] = c.config.sensitive ? REDACTED : auditValue(row[c.key]);
    return out;
  };
  return { before: pick(before), after: pick(after) };
}

const AUDIT_COLUMNS = ["action", "table_name", "row_key", "actor_id", "actor_kind", "transaction_id", "before", "after"].map(quoteIdent);
const PARAMS_PER_CHUNK = 30_000;

/** The transaction's id as SQL (Postgres) or a bound value (SQLite: one generated per transaction). */
function transactionIdSql(session: Session, params: unknown[], placeholder: (n: number) => string): string {
  if (session.family === "postgres") return "txid_current()::text";
  params.push(session.auditTransactionId());
  return placeholder(params.length);
}

/** Insert the audit rows of one write (in chunks under the bind-parameter limits). */
export async function writeAudit(session: Session, info: TableInfo, action: AuditAction, actor: Actor | undefined, changes: readonly RowChange[]): Promise<void> {
  const driver = session.driver;
  const json = { kind: "json" } as const;
  const placeholder = (n: number) => (session.family === "postgres" ? `$${n}` : "?");
  const perChunk = Math.max(1, Math.floor(PARAMS_PER_CHUNK / 8));
  for (let start = 0; start < changes.length; start += perChunk) {
    const params: unknown[] = [];
    const bind = (value: unknown) => {
      params.push(value);
      return placeholder(params.length);
    };
    const tuples = changes.slice(start, start + perChunk).map((change) => {
      const fields = changedFields(info, change);
      return `(${[
        bind(action),
        bind(info.name),
        bind(rowKeyText(info, (change.after ?? change.before)!)),
        bind(actor?.id ?? null),
        bind(actor?.kind ?? null),
        transactionIdSql(session, params, placeholder),
        bind(driver.encode(json, fields.before)),
        bind(driver.encode(json, fields.after)),
      ].join(", ")})`;
    });
    await session.query(`INSERT INTO ${quoteIdent(AUDIT_TABLE)} (${AUDIT_COLUMNS.join(", ")}) VALUES ${tuples.join(", ")}`, params);
  }
}

/**
 * Postgres: a column of the rows `alias` as the audit trail's JSON value, computed by the server
 * in the same form auditValue gives (the bulk path builds audit rows without a round trip).
 */
function postgresJsonValue(column: ColumnInfo, alias: string): string {
  const ref = `${alias}.${column.quoted}`;
  if (column.config.sensitive) return `to_json(${quoteLiteral(REDACTED)}::text)`;
  switch (column.type.kind) {
    case "bigint":
    case "numeric":
    case "uuid":
    case "enum":
    case "time":
      return `to_json(${ref}::text)`;
    case "date":
      return `to_json(to_char(${ref}, 'YYYY-MM-DD'))`;
    case "timestamptz":
      return `to_json(to_char(${ref} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))`;
    case "timestamp":
      return `to_json(to_char(${ref}, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))`;
    case "bytea":
      return `to_json(encode(${ref}, 'hex'))`;
    case "json":
      return `${ref}::json`;
    case "array":
      // bigint and numeric elements as strings, as auditValue gives them.
      return column.type.element.kind === "bigint" || column.type.element.kind === "numeric" ? `to_json(${ref}::text[])` : `to_json(${ref})`;
    default:
      return `to_json(${ref})`;
  }
}

/**
 * Postgres: the INSERT … SELECT that writes one "after-only" audit row (an insert) for each row
 * of `source` (a CTE or table holding the table's columns under their database names). $1 and $2
 * are the actor's id and kind.
 */
export function postgresInsertAuditSelect(info: TableInfo, action: AuditAction, source: string): string {
  const alias = "w";
  const jsonNull = (column: ColumnInfo) => `COALESCE(${postgresJsonValue(column, alias)}, 'null'::json)`;
  const after = `json_build_object(${info.columns.map((c) => `${quoteLiteral(c.key)}, ${jsonNull(c)}`).join(", ")})`;
  // The key as the same JSON text rowKeyText writes: {"id":"42"}, without jsonb's spaces.
  const key = info.primaryKey.map((c, i) => `${quoteLiteral(`${i === 0 ? "{" : ","}${JSON.stringify(c.key)}:`)} || ${jsonNull(c)}::text`).join(" || ");
  return `INSERT INTO ${quoteIdent(AUDIT_TABLE)} (${AUDIT_COLUMNS.join(", ")}) SELECT ${quoteLiteral(action)}, ${quoteLiteral(info.name)}, ${key} || '}', $1, $2, txid_current()::text, NULL, ${after} FROM ${source} AS ${alias}`;
}

/** SQLite: a column of the trigger's NEW row as the audit trail's JSON value (as auditValue gives it). */
function sqliteJsonValue(column: ColumnInfo, ref: string): string {
  if (column.config.sensitive) return quoteLiteral(REDACTED);
  switch (column.type.kind) {
    case "bigint":
      return `CAST(${ref} AS TEXT)`;
    case "boolean":
      return `json(CASE WHEN ${ref} IS NULL THEN 'null' WHEN ${ref} THEN 'true' ELSE 'false' END)`;
    case "timestamptz":
    case "timestamp":
      return `strftime('%Y-%m-%dT%H:%M:%fZ', ${ref})`;
    case "json":
    case "jsonb":
      return `json(${ref})`;
    case "array":
      // Stored bigint elements are JSON integers; the audit trail has them as strings (auditValue).
      if (column.type.element.kind === "bigint") return `CASE WHEN ${ref} IS NULL THEN NULL ELSE (SELECT json_group_array(CAST(value AS TEXT) ORDER BY key) FROM json_each(${ref})) END`;
      return `json(${ref})`;
    case "bytea":
      return `CASE WHEN ${ref} IS NULL THEN NULL ELSE lower(hex(${ref})) END`;
    default:
      return ref;
  }
}

/** SQLite: an audit row's values (AUDIT_COLUMNS order) made by the engine from the row whose columns `ref` names. */
function sqliteAuditValues(info: TableInfo, action: AuditAction, actor: Actor | undefined, transactionId: string, ref: (column: ColumnInfo) => string): string {
  const value = (column: ColumnInfo) => sqliteJsonValue(column, ref(column));
  const key = `json_object(${info.primaryKey.map((c) => `${quoteLiteral(c.key)}, ${value(c)}`).join(", ")})`;
  const after = `json_object(${info.columns.map((c) => `${quoteLiteral(c.key)}, ${value(c)}`).join(", ")})`;
  const text = (v: string | undefined) => (v === undefined ? "NULL" : quoteLiteral(v));
  return [quoteLiteral(action), quoteLiteral(info.name), key, text(actor?.id), text(actor?.kind), quoteLiteral(transactionId), "NULL", after].join(", ");
}

/**
 * SQLite: a temporary trigger (this connection only, dropped after the load) that writes the
 * audit row of every row the bulk load inserts, inside the engine: no round trip per row.
 */
export function sqliteAuditTrigger(info: TableInfo, name: string, action: AuditAction, actor: Actor | undefined, transactionId: string): string {
  const values = sqliteAuditValues(info, action, actor, transactionId, (column) => `NEW.${column.quoted}`);
  return `CREATE TEMP TRIGGER ${quoteIdent(name)} AFTER INSERT ON main.${info.quotedName} BEGIN INSERT INTO main.${quoteIdent(AUDIT_TABLE)} (${AUDIT_COLUMNS.join(", ")}) VALUES (${values}); END`;
}

/**
 * SQLite: a name for the table's rowid when the rows do not give it (an identity or serial key
 * is the rowid; other tables have one of their own): then SQLite numbers the rows of a load past
 * every rowid there was, so they are the rows past the largest rowid before it. Undefined when
 * the rows give it, or columns take every name of it.
 */
export function sqliteRowidName(info: TableInfo, given: readonly ColumnInfo[]): string | undefined {
  if (given.some((c) => c.config.identity !== undefined || c.config.serial)) return undefined;
  const taken = new Set(info.columns.map((c) => c.dbName.toLowerCase()));
  return ["rowid", "_rowid_", "oid"].find((name) => !taken.has(name));
}

/**
 * SQLite: the INSERT … SELECT that writes, in one statement inside the engine, the audit rows of
 * the table's rows whose rowid (named `rowid`, see sqliteRowidName) is past the one bound: those
 * a bulk load has just written.
 */
export function sqliteInsertAuditSelect(info: TableInfo, action: AuditAction, actor: Actor | undefined, transactionId: string, rowid: string): string {
  const values = sqliteAuditValues(info, action, actor, transactionId, (column) => column.quoted);
  return `INSERT INTO main.${quoteIdent(AUDIT_TABLE)} (${AUDIT_COLUMNS.join(", ")}) SELECT ${values} FROM main.${info.quotedName} WHERE ${rowid} > ? ORDER BY ${rowid}`;
}

/** Column kinds whose stored value is exactly the value given (numeric and time are reformatted by the database, real rounded to 4 bytes). */
const FAITHFUL = new Set(["text", "varchar", "uuid", "enum", "smallint", "integer", "bigint", "double", "boolean", "timestamptz", "date", "json", "jsonb", "bytea"]);

/** Whether the database stores a given value of this column exactly (a timestamptz(0..2) rounds a Date's milliseconds). */
function storesAsGiven(type: ColumnInfo["type"]): boolean {
  if (type.kind === "array") return storesAsGiven(type.element);
  return FAITHFUL.has(type.kind) && !(type.kind === "timestamptz" && type.precision !== undefined && type.precision < 3);
}

type JsonText = (values: Record<string, unknown>) => string;

/** The audit JSON of a bulk load's rows, written straight from the values given: no object per row. */
export interface AuditRowText {
  /** The row's key, as rowKeyText writes it. */
  key: JsonText;
  /** Every field after the insert, sensitive ones redacted. */
  after: JsonText;
}

/** How a bulk load's audit rows are built on this side (see auditRowPlan). */
export interface AuditRowPlan {
  /** Omitted timestamptz columns defaulting to now(): they hold the load's time. */
  nowColumns: ColumnInfo[];
  /** The writers for a load whose time is `nowJson` (the JSON of its ISO text). */
  text(nowJson: string): AuditRowText;
}

/**
 * Bulk load: whether the audit rows can be built here, from the values given, so they load
 * beside the rows with no statement reading the rows back. Yes when the key is given and every
 * column the rows leave out gets a value known in advance (a literal default; now() on a
 * timestamptz: the load's time, the same for every row). Undefined when some value only the
 * database knows (identity, serial, an expression default).
 */
export function auditRowPlan(info: TableInfo, given: readonly ColumnInfo[]): AuditRowPlan | undefined {
  const givenKeys = new Set(given.map((c) => c.key));
  if (!info.primaryKey.every((c) => givenKeys.has(c.key))) return undefined;
  const redacted = JSON.stringify(REDACTED);
  const fields: Array<{ column: ColumnInfo; write: JsonText | "now" }> = [];
  const nowColumns: ColumnInfo[] = [];
  for (const column of info.columns) {
    if (!storesAsGiven(column.type)) return undefined;
    let write: JsonText | "now";
    if (givenKeys.has(column.key)) write = jsonWriter(column);
    else {
      const fallback = column.config.default;
      if (column.config.identity !== undefined || column.config.serial) return undefined;
      if (fallback === undefined) write = () => "null";
      else if (fallback.kind === "literal") {
        const text = JSON.stringify(fallback.value);
        write = () => text;
      } else if (fallback.kind === "now" && column.type.kind === "timestamptz") {
        nowColumns.push(column);
        write = "now";
      } else return undefined;
    }
    fields.push({ column, write: column.config.sensitive ? () => redacted : write });
  }
  return {
    nowColumns,
    text(nowJson) {
      const now = () => nowJson;
      return {
        key: jsonObjectWriter(info.primaryKey.map((column) => ({ column, write: jsonWriter(column) }))),
        after: jsonObjectWriter(fields.map(({ column, write }) => ({ column, write: write === "now" ? now : write }))),
      };
    },
  };
}

/** A JSON object of the fields' values, keys in this order, concatenated as text. */
function jsonObjectWriter(fields: Array<{ column: ColumnInfo; write: JsonText }>): JsonText {
  const parts = fields.map(({ column, write }, i) => ({ prefix: `${i === 0 ? "{" : ","}${JSON.stringify(column.key)}:`, write }));
  return (values) => {
    let out = "";
    for (const part of parts) out += part.prefix + part.write(values);
    return `${out}}`;
  };
}

/**
 * A given value as JSON text, the same as JSON.stringify(auditValue(value)) but without the
 * general path where the type makes it unnecessary (this runs once per column per loaded row).
 */
function jsonWriter(column: ColumnInfo): JsonText {
  const key = column.key;
  const general: JsonText = (values) => JSON.stringify(auditValue(values[key]));
  switch (column.type.kind) {
    case "bigint":
      return (values) => {
        const value = values[key];
        return typeof value === "bigint" ? `"${value}"` : general(values);
      };
    case "smallint":
    case "integer":
      return (values) => {
        const value = values[key];
        return typeof value === "number" && Number.isFinite(value) ? String(value) : general(values);
      };
    case "boolean":
      return (values) => {
        const value = values[key];
        return value === true ? "true" : value === false ? "false" : general(values);
      };
    case "timestamptz":
      return (values) => {
        const value = values[key];
        return value instanceof Date ? `"${value.toISOString()}"` : general(values);
      };
    default:
      return general;
  }
}

/** Who and what of a bulk load's audit rows: the same on each of them. */
export interface AuditLoad {
  action: AuditAction;
  table: string;
  actor: Actor | undefined;
  transactionId: string;
}

/** The audit columns with the same value on every row of a bulk load. */
const AUDIT_LOAD_SAME = ["action", "table_name", "actor_id", "actor_kind", "transaction_id"];

/**
 * Postgres family: the audit table's columns a bulk load's COPY fills, those the same on every
 * row first. All are text or json, so their COPY binary form is their text.
 */
export const AUDIT_LOAD_COLUMNS = [...AUDIT_LOAD_SAME, "before", "row_key", "after"];

/** Postgres family: a bulk load's audit rows as COPY binary data (columns AUDIT_LOAD_COLUMNS), made as COPY pulls it. */
export function* postgresAuditCopy(load: AuditLoad, text: AuditRowText, rows: Iterable<Record<string, unknown>>): Generator<Uint8Array> {
  const same = Buffer.concat([load.action, load.table, load.actor?.id ?? null, load.actor?.kind ?? null, load.transactionId, null].map(binaryTextField));
  const out = new CopyBinaryWriter();
  for (const values of rows) {
    out.row(AUDIT_LOAD_COLUMNS.length);
    out.raw(same);
    out.text(text.key(values));
    out.text(text.after(values));
    const chunk = out.take();
    if (chunk) yield chunk;
  }
  yield out.rest();
}

/** SQLite: how many audit rows one INSERT of a bulk load writes. */
const SQLITE_AUDIT_ROWS_PER_INSERT = 100;

/**
 * SQLite: write a bulk load's audit rows, many to an INSERT, with what is the same on every row
 * (action, table, actor, transaction, and `at`: the load's time) written into the statement, so
 * each row binds two values, its key and its values; SQLite then takes half the time it takes
 * for one row a statement with every column bound.
 */
export async function sqliteWriteAuditRows(conn: Connection, load: AuditLoad, at: string, text: AuditRowText, rows: readonly Record<string, unknown>[]): Promise<number> {
  const literal = (value: string | undefined) => (value === undefined ? "NULL" : quoteLiteral(value));
  const same = [load.action, load.table, load.actor?.id, load.actor?.kind, load.transactionId, at].map(literal).join(", ");
  const columns = [...AUDIT_LOAD_SAME, "at", "row_key", "after"].map(quoteIdent).join(", ");
  const statement = (count: number) => `INSERT INTO ${quoteIdent(AUDIT_TABLE)} (${columns}) VALUES ${Array(count).fill(`(${same}, ?, ?)`).join(", ")}`;
  const full = statement(SQLITE_AUDIT_ROWS_PER_INSERT);
  let written = 0;
  for (let start = 0; start < rows.length; start += SQLITE_AUDIT_ROWS_PER_INSERT) {
    const end = Math.min(rows.length, start + SQLITE_AUDIT_ROWS_PER_INSERT);
    const params: string[] = [];
    for (let i = start; i < end; i++) params.push(text.key(rows[i]!), text.after(rows[i]!));
    written += (await conn.query(end - start === SQLITE_AUDIT_ROWS_PER_INSERT ? full : statement(end - start), params)).rowCount;
  }
  return written;
}

/** What `db.audit.find()` filters on. */
export interface AuditQuery {
  /** The audited table: its model or its name. */
  table?: AnyTable | string;
  /** The row's primary key (the value, or an object for a composite key); needs `table`. */
  pk?: unknown;
  /** The actor's id, or { id, kind }. */
  actor?: string | Actor;
  action?: AuditAction;
  /** Entries written at or after this time. */
  since?: Date;
  /** Oldest first (default) or newest first. */
  order?: "asc" | "desc";
  limit?: number;
}

/** One audit row as `db.audit.find()` returns it. */
export interface AuditEntry {
  id: bigint;
  action: AuditAction;
  table: string;
  pk: Record<string, unknown>;
  actor: Actor | null;
  at: Date;
  transactionId: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

/** `db.audit`: reads the audit trail through the audit table's controller. */
export class AuditReader {
  constructor(
    private readonly session: Session,
    private readonly tableInfo: (name: string) => TableInfo | undefined,
  ) {}

  async find(query: AuditQuery = {}): Promise<AuditEntry[]> {
    const controller = this.auditController();
    const where: Record<string, unknown> = {};
    const name = query.table === undefined ? undefined : isTableModel(query.table) ? query.table.$.name : query.table;
    if (name !== undefined) where.tableName = name;
    if (query.pk !== undefined) where.rowKey = this.keyText(name, query.pk);
    if (query.actor !== undefined) {
      const actor = typeof query.actor === "string" ? { id: query.actor } : query.actor;
      where.actorId = actor.id;
      if (actor.kind !== undefined) where.actorKind = actor.kind;
    }
    if (query.action !== undefined) where.action = query.action;
    if (query.since !== undefined) where.at = { gte: query.since };
    const rows = await controller.find({ where, orderBy: { id: query.order ?? "asc" }, ...(query.limit === undefined ? {} : { limit: query.limit }) });
    return (rows as Array<Record<string, any>>).map((row) => ({
      id: row.id,
      action: row.action,
      table: row.tableName,
      pk: JSON.parse(row.rowKey) as Record<string, unknown>,
      actor: row.actorId === null ? null : { id: row.actorId, ...(row.actorKind === null ? {} : { kind: row.actorKind }) },
      at: row.at,
      transactionId: row.transactionId,
      before: row.before,
      after: row.after,
    }));
  }

  private auditController() {
    if (!this.tableInfo(AUDIT_TABLE)) {
      throw new RetortError("RETORT_INVALID_QUERY", `db.audit: no model in the schema given to connect() has { audit: true }, so there is no ${AUDIT_TABLE} table to read`, {
        hint: "Mark a model with table(name, columns, { audit: true }), or pass the auditLog model in connect()'s schema.",
      });
    }
    return this.session.controllerFor(auditLog);
  }

  private keyText(name: string | undefined, pk: unknown): string {
    const info = name === undefined ? undefined : this.tableInfo(name);
    if (!info || info.primaryKey.length === 0) {
      throw new RetortError("RETORT_INVALID_QUERY", `db.audit.find(): pk needs the table of an audited model with a primary key${name ? ` (got "${name}")` : ""}`, {
        hint: "Pass { table: users, pk: id }.",
      });
    }
    const single = info.primaryKey.length === 1 && (typeof pk !== "object" || pk === null || pk instanceof Date || pk instanceof Uint8Array);
    return rowKeyText(info, single ? { [info.primaryKey[0]!.key]: pk } : (pk as Record<string, unknown>));
  }
}
