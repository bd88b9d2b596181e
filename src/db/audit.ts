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
  return value;
}

/** The primary key as the audit trail writes it: JSON text, keys in key order. */
export function rowKeyText(info: TableInfo, row: Record<string, unknown>): string {
  const key: Record<string, unknown> = {};
  for (const column of info.primaryKey) key[column.key] = auditValue(row[column.key]);
  return JSON.stringify(key);
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
  const json = { kind: "jsonb" } as const;
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
  if (column.config.sensitive) return `to_jsonb(${quoteLiteral(REDACTED)}::text)`;
  switch (column.type.kind) {
    case "bigint":
    case "numeric":
    case "uuid":
    case "enum":
    case "time":
      return `to_jsonb(${ref}::text)`;
    case "date":
      return `to_jsonb(to_char(${ref}, 'YYYY-MM-DD'))`;
    case "timestamptz":
      return `to_jsonb(to_char(${ref} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))`;
    case "timestamp":
      return `to_jsonb(to_char(${ref}, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))`;
    case "bytea":
      return `to_jsonb(encode(${ref}, 'hex'))`;
    case "json":
      return `${ref}::jsonb`;
    default:
      return `to_jsonb(${ref})`;
  }
}

/**
 * Postgres: the INSERT … SELECT that writes one "after-only" audit row (an insert) for each row
 * of `source` (a CTE or table holding the table's columns under their database names). $1 and $2
 * are the actor's id and kind.
 */
export function postgresInsertAuditSelect(info: TableInfo, action: AuditAction, source: string): string {
  const alias = "w";
  const jsonNull = (column: ColumnInfo) => `COALESCE(${postgresJsonValue(column, alias)}, 'null'::jsonb)`;
  const after = `jsonb_build_object(${info.columns.map((c) => `${quoteLiteral(c.key)}, ${jsonNull(c)}`).join(", ")})`;
  // The key as the same JSON text rowKeyText writes: {"id":"42"}, without jsonb's spaces.
  const key = info.primaryKey.map((c, i) => `${quoteLiteral(`${i === 0 ? "{" : ","}${JSON.stringify(c.key)}:`)} || ${jsonNull(c)}::text`).join(" || ");
  return `INSERT INTO ${quoteIdent(AUDIT_TABLE)} (${AUDIT_COLUMNS.join(", ")}) SELECT ${quoteLiteral(action)}, ${quoteLiteral(info.name)}, ${key} || '}', $1, $2, txid_current()::text, NULL, ${after} FROM ${source} AS ${alias}`;
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
