/**
 * Dialect-aware equality, in one place. Everything the differ treats as "the same" is decided
 * here: which parts of a definition a dialect stores (and so can be compared), and the keys that
 * make two definitions equal when only their spelling differs.
 *
 * | rule                 | postgres / pglite                         | sqlite                                              |
 * |----------------------|-------------------------------------------|-----------------------------------------------------|
 * | index access method  | compared (btree = none)                   | ignored: not stored                                 |
 * | enums                | named, ordered types; unused ones count   | CHECKs on columns: a column's enum is its value set  |
 * |                      |                                           | (name and order ignored); unused enums are ignored   |
 * | identity             | "always" vs "by-default" compared         | presence only (INTEGER PRIMARY KEY is the rowid)     |
 * | comments             | compared                                  | compared (kept as `--` lines in CREATE TABLE); turn  |
 * |                      |                                           | off with `ignoreComments` if an introspector cannot  |
 * |                      |                                           | read them                                            |
 * | synthetic CHECKs     | n/a                                       | ck_<table>_<column>_<varchar/boolean/enum/json>      |
 * |                      |                                           | that match the column's type are type rules: ignored |
 * | USING on type change | emitted where no assignment cast exists   | never (SQLite converts by the logical types)         |
 * | extensions           | compared by name                          | ignored: SQLite has none                             |
 *
 * On every dialect: columns of a primary key and identity columns are NOT NULL whatever the
 * snapshot says (the database makes them so); an index element "asc" is the default order; a
 * unique constraint and a plain unique index (columns only, no predicate, method or order) on
 * the same columns are different objects (both dialects keep them apart: Postgres in pg_constraint
 * vs pg_index, SQLite as UNIQUE in CREATE TABLE vs CREATE UNIQUE INDEX); "" and no comment are the same; expressions,
 * predicates and defaults compare by their normal forms (normalize.ts).
 */
import { columnCheckKind, columnCheckName } from "../dialects/sqlite/types.js";
import type {
  CheckSchema,
  ColumnSchema,
  ColumnType,
  Dialect,
  ForeignKeySchema,
  IndexElement,
  IndexSchema,
  Schema,
  TableSchema,
} from "../schema/snapshot.js";
import { MAX_TIME_PRECISION, typeModifier } from "../schema/snapshot.js";
import { expressionColumn, normalizeDefault, normalizeExpression } from "./normalize.js";

export interface DialectRules {
  readonly dialect: Dialect;
  /** Index access methods and operator classes are stored and compared (Postgres). */
  readonly indexMethods: boolean;
  /** Enums are named, ordered types (Postgres); otherwise only a column's value set counts. */
  readonly namedEnums: boolean;
  /** identity "always" and "by-default" differ. */
  readonly identityKind: boolean;
  /** Table and column comments are compared. */
  readonly comments: boolean;
  /** Retort's synthetic column CHECKs may appear in an introspected snapshot and are ignored. */
  readonly syntheticChecks: boolean;
  /** Type changes carry a USING expression where the database needs one. */
  readonly usingClause: boolean;
  /** The fractional-second precision of time types is kept (SQLite stores every time as text, whatever the model says). */
  readonly timePrecision: boolean;
  /** Extensions exist (Postgres); SQLite has none, so they are not compared there. */
  readonly extensions: boolean;
}

export function dialectRules(dialect: Dialect, options: { ignoreComments?: boolean } = {}): DialectRules {
  const sqlite = dialect === "sqlite";
  return Object.freeze({
    dialect,
    indexMethods: !sqlite,
    namedEnums: !sqlite,
    identityKind: !sqlite,
    comments: options.ignoreComments !== true,
    syntheticChecks: sqlite,
    usingClause: !sqlite,
    timePrecision: !sqlite,
    extensions: !sqlite,
  });
}

// ---------------------------------------------------------------------------------------------
// columns

function enumValuesOf(schema: Schema, name: string): readonly string[] | undefined {
  return schema.enums.find((candidate) => candidate.name === name)?.values;
}

/** A key equal for types the dialect stores the same way. */
export function typeKey(type: ColumnType, schema: Schema, rules: DialectRules): string {
  switch (type.kind) {
    case "varchar":
      return `varchar${typeModifier(type)}`;
    case "timestamptz":
    case "timestamp":
    case "time":
      // timestamptz(6) is what timestamptz means: the same type to every query.
      return rules.timePrecision && type.precision !== undefined && type.precision !== MAX_TIME_PRECISION ? `${type.kind}(${type.precision})` : type.kind;
    case "numeric":
      return type.precision === undefined ? "numeric" : `numeric(${type.precision},${type.scale ?? 0})`;
    case "enum": {
      if (rules.namedEnums) return `enum:${type.name}`;
      const values = enumValuesOf(schema, type.name);
      return values ? `enum{${[...values].sort().join("\u0000")}}` : `enum:${type.name}`;
    }
    case "array":
      return `${typeKey(type.element, schema, rules)}[]`;
    default:
      return type.kind;
  }
}

export function isPrimaryKeyColumn(table: TableSchema, column: string): boolean {
  return table.primaryKey?.columns.includes(column) ?? false;
}

/** Nullability as the database has it: primary-key, identity and serial columns are NOT NULL. */
export function effectiveNullable(table: TableSchema, column: ColumnSchema): boolean {
  return column.nullable && column.identity === undefined && !column.serial && !isPrimaryKeyColumn(table, column.name);
}

export function identityKey(column: ColumnSchema, rules: DialectRules): string | undefined {
  if (column.identity === undefined) return undefined;
  return rules.identityKind ? column.identity : "identity";
}

export function commentKey(comment: string | undefined, rules: DialectRules): string | undefined {
  if (!rules.comments) return undefined;
  return comment === undefined || comment === "" ? undefined : comment;
}

export function defaultKey(column: ColumnSchema): string | undefined {
  // An identity or serial column generates its values: its default is not the model's to give.
  if (column.identity !== undefined || column.serial) return undefined;
  return normalizeDefault(column.default, column);
}

// ---------------------------------------------------------------------------------------------
// indexes and constraints

function elementKey(element: IndexElement, rules: DialectRules): string {
  const order = `${rules.indexMethods && element.opclass !== undefined ? ` ${element.opclass}` : ""}${element.order === "desc" ? " desc" : ""}`;
  if ("column" in element) return `c:${element.column}${order}`;
  const column = expressionColumn(element.expression);
  return column !== undefined ? `c:${column}${order}` : `e:${normalizeExpression(element.expression)}${order}`;
}

function methodKey(using: string | undefined, rules: DialectRules): string {
  if (!rules.indexMethods || using === undefined) return "";
  const method = using.trim().toLowerCase();
  return method === "btree" ? "" : method;
}

export function indexKey(index: IndexSchema, rules: DialectRules): string {
  return [
    index.unique ? "unique" : "index",
    index.elements.map((element) => elementKey(element, rules)).join(", "),
    index.where === undefined ? "" : `where ${normalizeExpression(index.where)}`,
    methodKey(index.using, rules),
  ].join(" | ");
}

/**
 * The columns of a unique index that is nothing more than a unique constraint (only columns, in
 * the default order, no predicate, default method), else undefined.
 */
export function plainUniqueColumns(index: IndexSchema, rules: DialectRules): string[] | undefined {
  if (!index.unique || index.where !== undefined || methodKey(index.using, rules) !== "") return undefined;
  const columns: string[] = [];
  for (const element of index.elements) {
    if (element.order === "desc" || (rules.indexMethods && element.opclass !== undefined)) return undefined;
    const column = "column" in element ? element.column : expressionColumn(element.expression);
    if (column === undefined) return undefined;
    columns.push(column);
  }
  return columns;
}

export function checkKey(check: CheckSchema): string {
  return normalizeExpression(check.expression);
}

export function foreignKeyKey(fk: ForeignKeySchema): string {
  const deferrable = fk.deferrable === undefined ? "" : ` deferrable initially ${fk.deferrable}`;
  return `(${fk.columns.join(", ")}) → ${fk.refTable}(${fk.refColumns.join(", ")}) on delete ${fk.onDelete} on update ${fk.onUpdate}${deferrable}`;
}

/** Whether `check` is one of Retort's synthetic SQLite column CHECKs for a column of `table`. */
export function isSyntheticCheck(table: TableSchema, check: CheckSchema, rules: DialectRules): boolean {
  if (!rules.syntheticChecks || !check.name.startsWith("ck_")) return false;
  return table.columns.some((column) => {
    const kind = columnCheckKind(column.type);
    return kind !== undefined && columnCheckName(table.name, column.name, kind) === check.name;
  });
}

/** The table's checks that are the model's own (synthetic SQLite checks left out). */
export function modelChecks(table: TableSchema, rules: DialectRules): CheckSchema[] {
  return rules.syntheticChecks ? table.checks.filter((check) => !isSyntheticCheck(table, check, rules)) : table.checks;
}
