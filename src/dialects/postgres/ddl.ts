/**
 * Schema snapshot → Postgres DDL (PGlite speaks the same). The helpers exported here (column
 * types, defaults, constraint clauses) are what the migration compiler reuses, so a column or
 * constraint renders the same in `createAll`, in migrations and in offline SQL.
 */
import { RetortError } from "../../errors.js";
import type { DdlCompiler } from "../ddl.js";
import { foreignKeyClause, identList, quoteIdent, quoteLiteral } from "../sql-text.js";
import { typeModifier } from "../../schema/snapshot.js";
import { arrayLiteral } from "./codecs.js";
import type {
  CheckSchema,
  ColumnSchema,
  ColumnType,
  EnumSchema,
  ForeignKeySchema,
  IndexElement,
  IndexSchema,
  PrimaryKeySchema,
  Schema,
  TableSchema,
  UniqueSchema,
} from "../../schema/snapshot.js";

export function columnType(type: ColumnType): string {
  switch (type.kind) {
    case "uuid":
    case "text":
    case "smallint":
    case "integer":
    case "bigint":
    case "real":
    case "boolean":
    case "date":
    case "inet":
    case "jsonb":
    case "json":
    case "bytea":
      return type.kind;
    case "double":
      return "double precision";
    case "varchar":
    case "timestamptz":
    case "timestamp":
    case "time":
      return `${type.kind}${typeModifier(type)}`;
    case "numeric":
      if (type.precision === undefined) return "numeric";
      return type.scale === undefined ? `numeric(${type.precision})` : `numeric(${type.precision}, ${type.scale})`;
    case "enum":
      return quoteIdent(type.name);
    case "array":
      return `${columnType(type.element)}[]`;
  }
}

/**
 * Whether SQL text can follow DEFAULT as is: a number, a (cast) string literal, a keyword
 * constant, a function call or something already in parentheses. Anything else (operators, CASE…)
 * is parenthesised, which is always valid.
 */
function isSelfContained(sql: string): boolean {
  if (/^-?\d+(\.\d+)?$/.test(sql) || /^(true|false|null)$/i.test(sql)) return true;
  if (/^'([^']|'')*'(::[\w ]+(\[\])?)?$/.test(sql)) return true;
  const call = /^[A-Za-z_][\w.]*\(/.exec(sql);
  const openAt = call ? call[0].length - 1 : sql.startsWith("(") ? 0 : -1;
  return openAt >= 0 && closingParen(sql, openAt) === sql.length - 1;
}

/** Index of the parenthesis closing the one at `open`, skipping string literals; -1 if none. */
function closingParen(sql: string, open: number): number {
  let depth = 0;
  for (let i = open; i < sql.length; i++) {
    const char = sql[i];
    if (char === "'") {
      i = sql.indexOf("'", i + 1);
      if (i < 0) return -1;
    } else if (char === "(") depth++;
    else if (char === ")" && --depth === 0) return i;
  }
  return -1;
}

function badDefault(column: ColumnSchema, expected: string): RetortError {
  return new RetortError(
    "RETORT_INVALID_MODEL",
    `Default for column "${column.name}" must be ${expected} (got ${JSON.stringify(column.default)})`,
    { hint: `Give a literal default that fits the column type ${columnType(column.type)}, or a { kind: "sql" } default.`, details: { column: column.name } },
  );
}

function literalDefault(column: ColumnSchema, value: unknown): string {
  const type = column.type;
  if (value === null) return "NULL";
  switch (type.kind) {
    case "text":
    case "varchar":
    case "enum":
      if (typeof value !== "string") throw badDefault(column, "a string");
      return quoteLiteral(value);
    case "uuid":
    case "date":
    case "time":
    case "timestamp":
    case "timestamptz":
    case "inet":
      if (typeof value !== "string") throw badDefault(column, "a string");
      return `${quoteLiteral(value)}::${type.kind}`;
    case "boolean":
      if (typeof value !== "boolean") throw badDefault(column, "true or false");
      return String(value);
    case "smallint":
    case "integer":
    case "real":
    case "double":
      if (typeof value !== "number" || !Number.isFinite(value)) throw badDefault(column, "a finite number");
      return String(value);
    case "bigint":
      if (!(typeof value === "string" && /^-?\d+$/.test(value)) && !Number.isSafeInteger(value)) {
        throw badDefault(column, "an integer or a decimal string");
      }
      return String(value);
    case "numeric":
      if (typeof value === "number" && Number.isFinite(value)) return String(value);
      if (typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value)) return value;
      throw badDefault(column, "a number or a decimal string");
    case "json":
    case "jsonb":
      return `${quoteLiteral(JSON.stringify(value))}::${type.kind}`;
    case "bytea": {
      if (typeof value !== "string" || !/^(\\x)?([0-9a-fA-F]{2})*$/.test(value)) throw badDefault(column, "a hex string");
      return `${quoteLiteral(value.startsWith("\\x") ? value : `\\x${value}`)}::bytea`;
    }
    case "array": {
      if (!Array.isArray(value)) throw badDefault(column, `an array of ${columnType(type.element)} values`);
      // Each element is checked as a default of the element type would be; the array goes as
      // its text form cast to the element's base type ('{1,2}'::integer[], '{}'::varchar[] for
      // varchar(30)[]): what Postgres prints for an untyped literal, as Rails and Django write them.
      const element = { ...column, type: type.element };
      for (const item of value) literalDefault(element, item);
      return `${quoteLiteral(arrayLiteral(value))}::${columnType({ kind: "array", element: { kind: type.element.kind } })}`;
    }
  }
}

/** The SQL after DEFAULT for this column, or undefined when it has none. */
export function renderDefault(column: ColumnSchema): string | undefined {
  const value = column.default;
  if (!value) return undefined;
  switch (value.kind) {
    case "now":
      return "now()";
    case "random-uuid":
      return "gen_random_uuid()";
    case "sql": {
      const sql = value.sql.trim();
      return isSelfContained(sql) ? sql : `(${sql})`;
    }
    case "literal":
      return literalDefault(column, value.value);
  }
}

/** serial / bigserial / smallserial: Postgres creates the owned sequence and the nextval default. */
const SERIAL_TYPES: Record<string, string> = { smallint: "smallserial", integer: "serial", bigint: "bigserial" };

export function columnDefinition(column: ColumnSchema): string {
  if (column.serial) return `${quoteIdent(column.name)} ${serialType(column)}`;
  let sql = `${quoteIdent(column.name)} ${columnType(column.type)}`;
  if (column.identity) {
    // An identity column generates its own values and is NOT NULL by definition: no DEFAULT.
    sql += column.identity === "always" ? " GENERATED ALWAYS AS IDENTITY" : " GENERATED BY DEFAULT AS IDENTITY";
    return sql;
  }
  if (!column.nullable) sql += " NOT NULL";
  const defaultSql = renderDefault(column);
  if (defaultSql !== undefined) sql += ` DEFAULT ${defaultSql}`;
  return sql;
}

export function serialType(column: ColumnSchema): string {
  const type = SERIAL_TYPES[column.type.kind];
  if (type === undefined) {
    throw new RetortError("RETORT_INVALID_MODEL", `column "${column.name}": a serial column must be smallint, integer or bigint, not ${column.type.kind}`, {
      hint: "Use t.serial(), t.bigserial() or t.smallserial().",
    });
  }
  return type;
}

export function primaryKeyClause(primaryKey: PrimaryKeySchema): string {
  return `CONSTRAINT ${quoteIdent(primaryKey.name)} PRIMARY KEY (${identList(primaryKey.columns)})`;
}

export function uniqueClause(unique: UniqueSchema): string {
  return `CONSTRAINT ${quoteIdent(unique.name)} UNIQUE (${identList(unique.columns)})`;
}

export function checkClause(check: CheckSchema): string {
  return `CONSTRAINT ${quoteIdent(check.name)} CHECK (${check.expression})`;
}

/** `ALTER TABLE … ADD CONSTRAINT …` for a foreign key (how createSchema adds them, after every table exists). */
export function addForeignKey(table: string, fk: ForeignKeySchema): string {
  return `ALTER TABLE ${quoteIdent(table)} ADD ${foreignKeyClause(fk)}`;
}

function indexElement(element: IndexElement): string {
  const target = "column" in element ? quoteIdent(element.column) : `(${element.expression})`;
  const withClass = element.opclass === undefined ? target : `${target} ${element.opclass.split(".").map(quoteIdent).join(".")}`;
  return element.order === "desc" ? `${withClass} DESC` : withClass;
}

export function createIndex(table: TableSchema, index: IndexSchema): string {
  let sql = `CREATE ${index.unique ? "UNIQUE INDEX" : "INDEX"} ${quoteIdent(index.name)} ON ${quoteIdent(table.name)}`;
  if (index.using) sql += ` USING ${index.using}`;
  sql += ` (${index.elements.map(indexElement).join(", ")})`;
  if (index.where) sql += ` WHERE ${index.where}`;
  return sql;
}

export function createEnum(enumSchema: EnumSchema): string[] {
  return [`CREATE TYPE ${quoteIdent(enumSchema.name)} AS ENUM (${enumSchema.values.map(quoteLiteral).join(", ")})`];
}

/** COMMENT ON TABLE / COLUMN statements for a table. */
export function tableComments(table: TableSchema): string[] {
  const statements: string[] = [];
  if (table.comment !== undefined) {
    statements.push(`COMMENT ON TABLE ${quoteIdent(table.name)} IS ${quoteLiteral(table.comment)}`);
  }
  for (const column of table.columns) {
    if (column.comment !== undefined) {
      statements.push(`COMMENT ON COLUMN ${quoteIdent(table.name)}.${quoteIdent(column.name)} IS ${quoteLiteral(column.comment)}`);
    }
  }
  return statements;
}

/** CREATE TABLE with columns and table constraints; foreign keys inline only when asked. */
function createTableStatement(table: TableSchema, withForeignKeys: boolean): string {
  const lines = table.columns.map(columnDefinition);
  if (table.primaryKey) lines.push(primaryKeyClause(table.primaryKey));
  lines.push(...table.uniques.map(uniqueClause), ...table.checks.map(checkClause));
  if (withForeignKeys) lines.push(...table.foreignKeys.map(foreignKeyClause));
  return `CREATE TABLE ${quoteIdent(table.name)} (\n  ${lines.join(",\n  ")}\n)`;
}

export const postgresDdl: DdlCompiler = {
  createSchema(schema: Schema): string[] {
    // Extensions first (defaults and operator classes use them); foreign keys come after every
    // table exists, so cycles and any table order work.
    return [
      ...(schema.extensions ?? []).map((name) => `CREATE EXTENSION IF NOT EXISTS ${quoteIdent(name)}`),
      ...schema.enums.flatMap(createEnum),
      ...schema.tables.map((table) => createTableStatement(table, false)),
      ...schema.tables.flatMap((table) => table.foreignKeys.map((fk) => addForeignKey(table.name, fk))),
      ...schema.tables.flatMap((table) => table.indexes.map((index) => createIndex(table, index))),
      ...schema.tables.flatMap(tableComments),
    ];
  },

  /** Extensions stay: other schemas or tools may use them too. */
  dropSchema(schema: Schema): string[] {
    return [
      ...schema.tables.map((table) => `DROP TABLE IF EXISTS ${quoteIdent(table.name)} CASCADE`).reverse(),
      ...schema.enums.map((enumSchema) => `DROP TYPE IF EXISTS ${quoteIdent(enumSchema.name)}`),
    ];
  },

  /** On its own (a migration), a table's foreign keys go inline: the tables it references already exist. */
  createTable(table: TableSchema): string[] {
    return [createTableStatement(table, true), ...tableComments(table)];
  },

  dropTable(name: string): string {
    return `DROP TABLE ${quoteIdent(name)}`;
  },

  createIndex,

  dropIndex(name: string): string {
    return `DROP INDEX ${quoteIdent(name)}`;
  },

  createEnum,

  columnDefinition,
};
