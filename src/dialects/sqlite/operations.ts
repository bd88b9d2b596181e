/**
 * Migration operations → SQLite. What SQLite's ALTER TABLE can do is compiled directly: create
 * and drop tables and indexes, rename tables and columns, add a column with a constant default,
 * drop a column nothing else uses. Everything else is a table rebuild (rebuild.ts) from the
 * table's definition before and after the operation (the fold): type, nullability and default
 * changes, constraints, and enum changes (enums are CHECKs here, so every table with a column of
 * the enum is rebuilt; a renamed label is rewritten in the copied rows).
 *
 * Renames are direct too, followed by a rebuild when the table has Retort's synthetic column
 * CHECKs (varchar length, boolean, enum, JSON): those are named ck_<table>_<column>_<kind>, and the
 * rebuild gives them their new names, which error translation and introspection rely on.
 *
 * Not applicable on SQLite, so compiled to nothing: createEnum/dropEnum (no types),
 * createExtension/dropExtension (no extensions), validateConstraint
 * (constraints are always checked when added), `concurrently`, and index access methods.
 */
import { RetortError } from "../../errors.js";
import { bulkInsertSteps, hexBytes, badValue } from "../../operations/bulk.js";
import { mentionsColumn } from "../../operations/expressions.js";
import { tableNamed } from "../../operations/apply.js";
import { Op, sqlForDialect, type DataOp, type Step } from "../../operations/types.js";
import type { ColumnSchema, ColumnType, JsonValue, Schema, TableSchema } from "../../schema/snapshot.js";
import { quoteIdent, quoteLiteral } from "../sql-text.js";
import { isRowidColumn, sqliteDdl } from "./ddl.js";
import { planRebuild } from "./rebuild.js";
import { columnCheckKind } from "./types.js";
import { encodeValue } from "./values.js";

function tableOf(schema: Schema, name: string): TableSchema {
  // The fold has already checked that it exists.
  return tableNamed(schema, name)!;
}

/** SQLite's ADD COLUMN takes a column with no default or a constant one, and NOT NULL only with a non-null default. */
function canAddDirectly(column: ColumnSchema): boolean {
  if (isRowidColumn(column) || column.comment !== undefined) return false;
  const value = column.default;
  if (value !== undefined && value.kind !== "literal") return false;
  return column.nullable || (value !== undefined && value.value !== null);
}

/** SQLite's DROP COLUMN refuses a column used by the primary key, a unique constraint, an index, a foreign key or a table CHECK. */
/**
 * Retort writes column comments and identity notes after a column's comma in the stored CREATE
 * text. SQLite's ADD COLUMN splices text before the closing parenthesis and DROP COLUMN cuts from
 * the comma before the column, so either would move or delete those notes: such tables are
 * rebuilt instead, which writes the text afresh.
 */
function hasNotesAfterCommas(table: TableSchema): boolean {
  return table.columns.some((column) => column.comment !== undefined || isRowidColumn(column));
}

function canDropDirectly(table: TableSchema, column: string): boolean {
  if (table.primaryKey?.columns.includes(column)) return false;
  if (hasNotesAfterCommas(table)) return false;
  if (table.uniques.some((unique) => unique.columns.includes(column))) return false;
  if (table.foreignKeys.some((fk) => fk.columns.includes(column))) return false;
  if (table.checks.some((check) => mentionsColumn(check.expression, column))) return false;
  return !table.indexes.some(
    (index) =>
      index.elements.some((element) => ("column" in element ? element.column === column : mentionsColumn(element.expression, column))) ||
      (index.where !== undefined && mentionsColumn(index.where, column)),
  );
}

function usesEnum(table: TableSchema, name: string): ColumnSchema[] {
  return table.columns.filter((column) => column.type.kind === "enum" && column.type.name === name);
}

/** A JSON-safe value → what better-sqlite3 binds for a column of `type` (stored as Retort stores it). */
export function encodeSqliteValue(type: ColumnType, value: JsonValue, where: string): unknown {
  if (value === null) return null;
  try {
    if (type.kind === "bytea") return hexBytes(where, type, value);
    if (type.kind === "bigint" && typeof value === "string" && !/^-?\d+$/.test(value)) throw badValue(where, type, value, "an integer");
    return encodeValue(type, value);
  } catch (error) {
    if (error instanceof RetortError && error.code === "RETORT_VALIDATION") {
      throw new RetortError("RETORT_INVALID_OPERATION", `${where}: ${error.message}`, { hint: error.hint, cause: error });
    }
    throw error;
  }
}

export function compileSqliteOperation(op: DataOp, before: Schema, after: Schema): Step[] {
  const description = Op.describe(op);
  const step = (sql: string): Step => ({ sql, description });
  const rebuild = (table: string, expressions?: Record<string, string>) =>
    planRebuild(before, after, table, expressions === undefined ? { description } : { description, expressions });
  const unchanged = (name: string) => JSON.stringify(tableOf(before, name)) === JSON.stringify(tableOf(after, name));

  switch (op.kind) {
    case "createTable": {
      const table = tableOf(after, op.table.name);
      return [...sqliteDdl.createTable(table, after), ...table.indexes.map((index) => sqliteDdl.createIndex(table, index))].map(step);
    }
    case "dropTable":
      return [step(sqliteDdl.dropTable(op.name))];
    case "renameTable": {
      const renamed = step(`ALTER TABLE ${quoteIdent(op.from)} RENAME TO ${quoteIdent(op.to)}`);
      // The synthetic column CHECKs are named after the table (ck_<table>_<column>_<kind>): a
      // rebuild gives them their new names, which error messages and introspection rely on.
      const table = tableOf(after, op.to);
      if (!table.columns.some((column) => columnCheckKind(column.type) !== undefined)) return [renamed];
      return [renamed, ...planRebuild(after, after, op.to, { description })];
    }
    case "addColumn": {
      const table = tableOf(after, op.table);
      const column = table.columns.find((candidate) => candidate.name === op.column.name)!;
      if (!canAddDirectly(column) || hasNotesAfterCommas(tableOf(before, op.table))) return rebuild(op.table);
      return [step(`ALTER TABLE ${quoteIdent(op.table)} ADD COLUMN ${sqliteDdl.columnDefinition(column, table, after)}`)];
    }
    case "dropColumn":
      if (!canDropDirectly(tableOf(before, op.table), op.name)) return rebuild(op.table);
      return [step(`ALTER TABLE ${quoteIdent(op.table)} DROP COLUMN ${quoteIdent(op.name)}`)];
    case "renameColumn": {
      const renamed = step(`ALTER TABLE ${quoteIdent(op.table)} RENAME COLUMN ${quoteIdent(op.from)} TO ${quoteIdent(op.to)}`);
      // As for tables: a synthetic CHECK named after the column is renamed by a rebuild.
      const column = tableOf(after, op.table).columns.find((candidate) => candidate.name === op.to)!;
      if (columnCheckKind(column.type) === undefined) return [renamed];
      return [renamed, ...planRebuild(after, after, op.table, { description })];
    }
    case "alterColumn":
      // `using` is Postgres SQL; SQLite converts by the logical types (see convertColumn).
      return unchanged(op.table) ? [] : rebuild(op.table);
    case "createIndex":
      return [step(sqliteDdl.createIndex(tableOf(after, op.table), op.index))];
    case "dropIndex":
      return [step(sqliteDdl.dropIndex(op.name))];
    case "addPrimaryKey":
    case "addUnique":
    case "addForeignKey":
    case "addCheck":
    case "dropConstraint":
      return rebuild(op.table);
    case "validateConstraint":
    case "createEnum":
    case "dropEnum":
    case "createExtension":
    case "dropExtension":
      return [];
    case "addEnumValue":
      return after.tables.filter((table) => usesEnum(table, op.enum).length > 0).flatMap((table) => rebuild(table.name));
    case "renameEnumValue":
      return after.tables
        .filter((table) => usesEnum(table, op.enum).length > 0)
        .flatMap((table) => {
          const expressions: Record<string, string> = {};
          for (const column of usesEnum(table, op.enum)) {
            const c = quoteIdent(column.name);
            expressions[column.name] = `CASE WHEN ${c} = ${quoteLiteral(op.from)} THEN ${quoteLiteral(op.to)} ELSE ${c} END`;
          }
          return rebuild(table.name, expressions);
        });
    case "execute":
      return [{ sql: sqlForDialect(op.sql, "sqlite"), description, raw: true, ...(op.params === undefined || op.params.length === 0 ? {} : { params: [...op.params] }) }];
    case "bulkInsert":
      return bulkInsertSteps(op, tableOf(before, op.table), "sqlite", encodeSqliteValue);
  }
}
