/**
 * What the `op` API can say in one call. The differ shapes its operations with these helpers so
 * that the rendered migration, when run, records exactly the operations the differ produced:
 *
 * - `op.createTable` takes single-column foreign keys (`.references("t.c")`), but a composite
 *   foreign key, or a second one on the same column, needs ColumnRefs of the target table, which a
 *   migration does not have: those become `op.addForeignKey` after the table.
 * - `unique(c.a, c.b)` in createTable is a unique constraint; a unique *index* on plain columns
 *   (no predicate, method or order) cannot be written there, so it becomes `op.createIndex(…, {
 *   unique: true })` after the table.
 * - `.defaultNow()` is for timestamps and `.defaultRandom()` for uuids; those defaults on other
 *   types are written as the SQL each dialect uses for them (they compare equal).
 */
import { RANDOM_UUID_SQL } from "../dialects/sqlite/ddl.js";
import { constraintName, expressionSlug } from "../schema/naming.js";
import type { ColumnSchema, Dialect, ForeignKeySchema, IndexSchema, TableSchema } from "../schema/snapshot.js";
import type { DataOp } from "../operations/types.js";

/** `column` with a default the column builder can express. */
export function renderableColumn(column: ColumnSchema, dialect: Dialect): ColumnSchema {
  const value = column.default;
  if (value?.kind === "now" && column.type.kind !== "timestamptz" && column.type.kind !== "timestamp") {
    let sql = "now()";
    if (dialect === "sqlite") {
      sql = column.type.kind === "date" ? "date('now')" : column.type.kind === "time" ? "strftime('%H:%M:%f', 'now')" : "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";
    }
    return { ...column, default: { kind: "sql", sql } };
  }
  if (value?.kind === "random-uuid" && column.type.kind !== "uuid") {
    return { ...column, default: { kind: "sql", sql: dialect === "sqlite" ? RANDOM_UUID_SQL : "gen_random_uuid()" } };
  }
  return column;
}

/** Whether a unique index is one createTable cannot express (it would become a unique constraint). */
export function isBareUniqueIndex(index: IndexSchema): boolean {
  return index.unique && index.where === undefined && index.using === undefined && index.elements.every((element) => "column" in element && element.order === undefined && element.opclass === undefined);
}

/** The conventional name of an index (what `index(…)` / `unique(…)` / `op.createIndex(null, …)` give it). */
export function conventionalIndexName(table: string, index: Pick<IndexSchema, "elements" | "unique">): string {
  const parts = index.elements.map((element) => ("column" in element ? element.column : expressionSlug(element.expression)));
  return index.unique ? constraintName.unique(table, parts) : constraintName.index(table, parts);
}

export function conventionalForeignKeyName(table: string, fk: Pick<ForeignKeySchema, "columns" | "refTable">): string {
  return constraintName.foreignKey(table, fk.columns, fk.refTable);
}

/**
 * Which foreign keys of a table createTable writes inline (`.references()` on its column): single
 * column ones, the first per column.
 */
export function inlineForeignKeys(table: TableSchema): ForeignKeySchema[] {
  const seen = new Set<string>();
  const inline: ForeignKeySchema[] = [];
  for (const fk of table.foreignKeys) {
    if (fk.columns.length !== 1 || seen.has(fk.columns[0]!)) continue;
    seen.add(fk.columns[0]!);
    inline.push(fk);
  }
  return inline;
}

/** A table as createTable can write it, and the operations that must follow it. */
export function splitCreateTable(table: TableSchema, dialect: Dialect): { table: TableSchema; after: DataOp[] } {
  const inline = inlineForeignKeys(table);
  const after: DataOp[] = [];
  for (const index of table.indexes) if (isBareUniqueIndex(index)) after.push({ kind: "createIndex", table: table.name, index });
  for (const fk of table.foreignKeys) if (!inline.includes(fk)) after.push({ kind: "addForeignKey", table: table.name, foreignKey: fk });
  return {
    table: {
      ...table,
      columns: table.columns.map((column) => renderableColumn(column, dialect)),
      indexes: table.indexes.filter((index) => !isBareUniqueIndex(index)),
      foreignKeys: inline,
    },
    after,
  };
}
