/**
 * The audit table: one row per row written by a controller on a model with `{ audit: true }`.
 * A model like any other, so the project's schema includes it (see collectModels) and
 * autogenerate creates it; the controllers fill it (src/db/audit.ts).
 */
import { t } from "./column.js";
import { index, table } from "./table.js";

export const AUDIT_TABLE = "retort_audit_log";

export const auditLog = table(
  AUDIT_TABLE,
  {
    // identity, not bigserial: on SQLite a plain INTEGER PRIMARY KEY, without AUTOINCREMENT's extra write per row.
    id: t.bigint().identity().primaryKey(),
    /** The controller method: create, update, upsert, delete, restore, hardDelete, createMany, updateMany, deleteMany. */
    action: t.varchar(16),
    tableName: t.text(),
    /** The row's primary key as JSON text, e.g. {"id":"42"}, written the same way every time so it can be compared. */
    rowKey: t.text(),
    actorId: t.text().nullable(),
    actorKind: t.text().nullable(),
    at: t.timestamptz().defaultNow(),
    /** Postgres: txid_current(); SQLite: an id generated once per transaction. */
    transactionId: t.text(),
    // json rather than jsonb: written far more often than searched, and json costs less to write.
    /** The changed fields before the write (null for an insert); sensitive values "[redacted]". */
    before: t.json<Record<string, unknown>>().nullable(),
    /** The changed fields after the write (null for a hard delete). */
    after: t.json<Record<string, unknown>>().nullable(),
  },
  // A hash index: find({ table, pk }) looks rows up by key, and a hash index costs a bulk load far
  // less than a b-tree on text (SQLite ignores `using` and builds its usual index).
  (a) => [index(a.rowKey).using("hash")],
);
