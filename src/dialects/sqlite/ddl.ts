/**
 * SQLite DDL: schema snapshot → CREATE/DROP statements.
 *
 * How each logical type lives in SQLite (the driver converts values both ways, see values.ts):
 *
 * | logical        | declared type         | stored as                                   | enforced by                              |
 * |----------------|-----------------------|---------------------------------------------|------------------------------------------|
 * | uuid           | UUID                  | TEXT, lowercase canonical                   | encode (format)                          |
 * | text           | TEXT                  | TEXT                                        |                                          |
 * | varchar(n)     | VARCHAR(n)            | TEXT                                        | CHECK (length("col") <= n)               |
 * | varchar        | VARCHAR               | TEXT                                        |                                          |
 * | smallint       | SMALLINT              | INTEGER                                     | encode (range)                           |
 * | integer        | INTEGER               | INTEGER                                     | encode (range)                           |
 * | bigint         | BIGINT                | INTEGER (64-bit, read exactly as bigint)    | encode (range)                           |
 * | numeric(p,s)   | NUMERIC_TEXT(p,s)     | TEXT: the canonical decimal ("1.50")        | encode (precision, scale)                |
 * | real / double  | REAL / DOUBLE         | REAL                                        |                                          |
 * | boolean        | BOOLEAN               | INTEGER 0/1                                 | CHECK ("col" IN (0, 1))                  |
 * | timestamptz(p) | TIMESTAMPTZ           | TEXT 'YYYY-MM-DDTHH:MM:SS.sssZ' (UTC)       | encode (rounds to p digits)              |
 * | timestamp(p)   | TIMESTAMP             | TEXT 'YYYY-MM-DDTHH:MM:SS.sssZ' (UTC)       | encode (rounds to p digits)              |
 * | date           | DATE                  | TEXT 'YYYY-MM-DD'                           | encode                                   |
 * | time(p)        | TIME                  | TEXT 'HH:MM:SS[.fraction]'                  | encode (rounds to p digits)              |
 * | jsonb / json   | JSONB_TEXT / JSON_TEXT| TEXT: JSON                                  | CHECK (json_valid("col"))                |
 * | bytea          | BLOB                  | BLOB                                        |                                          |
 * | inet           | INET_TEXT             | TEXT, as Postgres prints it ("10.0.0.1")    | encode (format)                          |
 * | enum           | TEXT                  | TEXT                                        | CHECK ("col" IN ('a', 'b'))              |
 * | text[]         | TEXT_ARRAY            | TEXT: a JSON array of strings               | CHECK (json_valid("col"))                |
 * | other arrays   | TEXT_ARRAY_<element>  | TEXT: a JSON array, each element in its     | CHECK (json_valid("col")), encode        |
 * |                | (I16/I32/I64, VARCHAR(n), UUID, BOOLEAN, REAL, DOUBLE, NUMERIC(p,s), DATE) | scalar storage form; booleans true/false, bigints exact JSON integers | |
 *
 * Notes:
 * - Exact decimals are text, so SQL comparisons and ORDER BY on numeric columns are textual
 *   ("10.00" < "9.00"); compare in the application or cast when order matters.
 * - ISO-8601 UTC text with fixed milliseconds sorts and compares correctly as text.
 * - The "TEXT" in JSONB_TEXT/JSON_TEXT/NUMERIC_TEXT gives TEXT affinity: a bare "JSONB" would get
 *   NUMERIC affinity and store the JSON text '123' as the integer 123.
 * - Synthetic CHECKs are named ck_<table>_<column>_<varchar|boolean|enum|json> so violations name them.
 * - An identity column must be the table's single-column integer primary key: it becomes
 *   `INTEGER PRIMARY KEY`, the rowid. SQLite cannot refuse explicit values ("always"). A serial
 *   column likewise, as `INTEGER PRIMARY KEY AUTOINCREMENT`: like a sequence, it never hands out
 *   a number twice (a plain rowid reuses the largest after a delete); its line carries `serial, <kind>`.
 * - Foreign keys can only be declared in CREATE TABLE on SQLite, so they are always inline.
 * - Index access methods (gin, gist…) do not exist on SQLite: a plain index is made instead.
 * - SQLite has no COMMENT ON: table and column comments become `-- comment` lines inside the
 *   CREATE TABLE text, which sqlite_master keeps.
 * - What the declared types cannot say is kept in block comments (which sqlite_master keeps too),
 *   for introspection: an enum column definition ends with the comment `enum "<name>"` (its values
 *   are in the CHECK), and an identity column's line carries `identity <always|by-default>, <kind>`
 *   after its comma (the rowid alias must be declared exactly INTEGER, so the integer kind and the
 *   mode cannot live in the type).
 */
import { RetortError } from "../../errors.js";
import type { ColumnSchema, ColumnType, DefaultValue, EnumSchema, IndexSchema, JsonValue, Schema, TableSchema } from "../../schema/snapshot.js";
import type { DdlCompiler } from "../ddl.js";
import { foreignKeyClause, identList, quoteIdent, quoteLiteral } from "../sql-text.js";
import { columnCheck, sqliteDeclaredType } from "./types.js";
import { canonicalNumeric, encodeValue } from "./values.js";

const NOW_TIMESTAMP = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

/**
 * A v4 UUID from randomblob: 8-4-4-4-12 lowercase hex, version nibble "4", variant one of 8/9/a/b.
 * `random() & 3` (not abs(random()) % 4, which overflows on the minimum int64) picks the variant.
 */
export const RANDOM_UUID_SQL =
  "lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' || " +
  "substr('89ab', 1 + (random() & 3), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))";

/** Identity and serial columns are the rowid on SQLite (the only column it numbers). */
export function isRowidColumn(column: ColumnSchema): boolean {
  return column.identity !== undefined || column.serial === true;
}

function assertIdentitySupported(column: ColumnSchema, table: TableSchema): void {
  const pk = table.primaryKey?.columns;
  const integerType = column.type.kind === "smallint" || column.type.kind === "integer" || column.type.kind === "bigint";
  if (pk?.length === 1 && pk[0] === column.name && integerType) return;
  const what = column.serial ? "Serial" : "Identity";
  throw new RetortError(
    "RETORT_UNSUPPORTED",
    `${what} column "${table.name}"."${column.name}" is not supported on SQLite: only a table's single-column integer primary key can be numbered by the database (it becomes INTEGER PRIMARY KEY, the rowid)`,
    {
      hint: `Make "${column.name}" the only primary-key column of "${table.name}", or make it a plain integer and give it a default (for example a random UUID).`,
      details: { table: table.name, column: column.name },
    },
  );
}

function renderDefault(value: DefaultValue, type: ColumnType): string {
  switch (value.kind) {
    case "now":
      if (type.kind === "date") return "(date('now'))";
      if (type.kind === "time") return "(strftime('%H:%M:%f', 'now'))";
      return `(${NOW_TIMESTAMP})`;
    case "random-uuid":
      return `(${RANDOM_UUID_SQL})`;
    case "sql":
      return `(${value.sql})`;
    case "literal":
      return renderLiteral(value.value, type);
  }
}

function badLiteral(type: ColumnType, value: JsonValue): RetortError {
  return new RetortError("RETORT_INVALID_MODEL", `Default ${JSON.stringify(value)} does not suit a ${type.kind} column`, {
    hint: "Give a default of the column's type (bigint as a digit string, Date as ISO text, bytes as hex).",
  });
}

/** A constant default in the column's storage form (see DefaultValue for how literals are given). */
function renderLiteral(value: JsonValue, type: ColumnType): string {
  if (value === null) return "NULL";
  switch (type.kind) {
    case "boolean":
      if (typeof value !== "boolean") throw badLiteral(type, value);
      return value ? "1" : "0";
    case "json":
    case "jsonb":
      return quoteLiteral(JSON.stringify(value));
    case "array": {
      // The stored form rows get (bigint elements as JSON integers, booleans as true/false).
      if (!Array.isArray(value)) throw badLiteral(type, value);
      try {
        return quoteLiteral(encodeValue(type, value) as string);
      } catch {
        throw badLiteral(type, value);
      }
    }
    case "smallint":
    case "integer":
    case "bigint":
    case "real":
    case "double": {
      const text = String(value);
      if (typeof value === "object" || typeof value === "boolean" || !/^-?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i.test(text)) throw badLiteral(type, value);
      if (type.kind !== "real" && type.kind !== "double" && !/^-?\d+$/.test(text)) throw badLiteral(type, value);
      return text;
    }
    case "numeric": {
      const canonical = typeof value === "string" || typeof value === "number" ? canonicalNumeric(String(value), type.precision, type.scale) : undefined;
      if (canonical === undefined) throw badLiteral(type, value);
      return quoteLiteral(canonical);
    }
    case "timestamptz":
    case "timestamp":
    case "date":
    case "time":
    case "inet":
      if (typeof value !== "string") throw badLiteral(type, value);
      return quoteLiteral(encodeValue(type, value) as string);
    case "bytea": {
      const hex = typeof value === "string" ? value.replace(/^(\\x|0x)/i, "") : undefined;
      if (hex === undefined || !/^([0-9a-f]{2})*$/i.test(hex)) throw badLiteral(type, value);
      return `X'${hex}'`;
    }
    case "uuid":
    case "text":
    case "varchar":
    case "enum":
      if (typeof value !== "string") throw badLiteral(type, value);
      return quoteLiteral(value);
  }
}

/** A JSON string that cannot end a block comment. */
function commentString(text: string): string {
  return JSON.stringify(text).replaceAll("*/", "*\\/");
}

/** The comment naming the enum of an enum column (the CHECK holds only its values): enum "mood". */
export function enumAnnotation(name: string): string {
  return `/* enum ${commentString(name)} */`;
}

/** An identity column's mode and integer kind, which `INTEGER PRIMARY KEY` cannot say. */
export function identityAnnotation(column: ColumnSchema): string {
  if (column.serial) return `/* serial, ${column.type.kind} */`;
  return `/* identity ${column.identity ?? "by-default"}, ${column.type.kind} */`;
}

/** A comment fit for a `-- ` line: one line, no characters that would end it early. */
function lineComment(text: string): string {
  return `-- ${text.replace(/[\r\n]+/g, " ")}`;
}

function indexElements(index: IndexSchema): string {
  return index.elements
    .map((element) => {
      const target = "column" in element ? quoteIdent(element.column) : `(${element.expression})`;
      return element.order ? `${target} ${element.order.toUpperCase()}` : target;
    })
    .join(", ");
}

/** Tables ordered so each comes after the tables its foreign keys reference (cycles keep input order). */
function dependencyOrder(tables: readonly TableSchema[]): TableSchema[] {
  const byName = new Map(tables.map((table) => [table.name, table]));
  const ordered: TableSchema[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (table: TableSchema) => {
    if (state.has(table.name)) return;
    state.set(table.name, "visiting");
    for (const fk of table.foreignKeys) {
      const parent = byName.get(fk.refTable);
      if (parent && parent !== table) visit(parent);
    }
    state.set(table.name, "done");
    ordered.push(table);
  };
  for (const table of tables) visit(table);
  return ordered;
}

/**
 * What a live SQLite table can have that the neutral snapshot has no place for. Models never give
 * these; a table rebuild reads them from the table as it is (introspect.ts, readTableExtras) and
 * writes them into the new table, so it keeps behaving as before.
 */
export interface SqliteTableExtras {
  strict: boolean;
  withoutRowid: boolean;
  /** By column name. */
  columns: Readonly<Record<string, SqliteColumnExtras>>;
}

export interface SqliteColumnExtras {
  /** `COLLATE <name>`. */
  collation?: string;
  /** `GENERATED ALWAYS AS (<expression>) VIRTUAL|STORED`: rows cannot be inserted into it. */
  generated?: { expression: string; stored: boolean };
}

function columnExtrasSql(extras: SqliteColumnExtras | undefined): string {
  let sql = "";
  if (extras?.collation !== undefined) sql += ` COLLATE ${/^[A-Za-z_][A-Za-z0-9_]*$/.test(extras.collation) ? extras.collation : quoteIdent(extras.collation)}`;
  if (extras?.generated) sql += ` GENERATED ALWAYS AS (${extras.generated.expression}) ${extras.generated.stored ? "STORED" : "VIRTUAL"}`;
  return sql;
}

/** The declared type the DDL writes for a column (a rowid column is exactly INTEGER). */
export function declaredTypeOf(column: ColumnSchema): string {
  return isRowidColumn(column) ? "INTEGER" : sqliteDeclaredType(column.type);
}

function columnDefinition(column: ColumnSchema, table: TableSchema, schema: Schema, extras?: SqliteColumnExtras): string {
  const name = quoteIdent(column.name);
  if (isRowidColumn(column)) {
    assertIdentitySupported(column, table);
    // Exactly "INTEGER PRIMARY KEY" (any integer kind) makes the column the rowid alias.
    return `${name} INTEGER CONSTRAINT ${quoteIdent(table.primaryKey!.name)} PRIMARY KEY${column.serial ? " AUTOINCREMENT" : ""}${columnExtrasSql(extras)}`;
  }
  let sql = `${name} ${sqliteDeclaredType(column.type)}${columnExtrasSql(extras)}`;
  if (!column.nullable) sql += " NOT NULL";
  if (column.default) sql += ` DEFAULT ${renderDefault(column.default, column.type)}`;
  const check = columnCheck(table, column, schema);
  if (check) sql += ` CONSTRAINT ${quoteIdent(check.name)} CHECK (${check.expression})`;
  if (column.type.kind === "enum") sql += ` ${enumAnnotation(column.type.name)}`;
  return sql;
}

/** CREATE TABLE for `table`; `extras` (a rebuild's) adds what the snapshot cannot say. */
export function createSqliteTable(table: TableSchema, schema: Schema, extras?: SqliteTableExtras): string[] {
  // Each entry is one line of the body; a comment goes after the line's comma.
  const lines: Array<{ sql: string; annotation?: string; comment?: string }> = table.columns.map((column) => ({
    sql: columnDefinition(column, table, schema, extras?.columns[column.name]),
    ...(isRowidColumn(column) ? { annotation: identityAnnotation(column) } : {}),
    comment: column.comment,
  }));
  const identityKey = table.columns.some(isRowidColumn);
  if (table.primaryKey && !identityKey) {
    lines.push({ sql: `CONSTRAINT ${quoteIdent(table.primaryKey.name)} PRIMARY KEY (${identList(table.primaryKey.columns)})` });
  }
  for (const unique of table.uniques) lines.push({ sql: `CONSTRAINT ${quoteIdent(unique.name)} UNIQUE (${identList(unique.columns)})` });
  for (const check of table.checks) lines.push({ sql: `CONSTRAINT ${quoteIdent(check.name)} CHECK (${check.expression})` });
  for (const fk of table.foreignKeys) lines.push({ sql: foreignKeyClause(fk) });
  const body = lines.map((line, i) => {
    let text = `  ${line.sql}${i < lines.length - 1 ? "," : ""}`;
    if (line.annotation !== undefined) text += ` ${line.annotation}`;
    return line.comment === undefined ? text : `${text} ${lineComment(line.comment)}`;
  });
  if (table.comment !== undefined) body.unshift(`  ${lineComment(table.comment)}`);
  const options = [...(extras?.withoutRowid ? ["WITHOUT ROWID"] : []), ...(extras?.strict ? ["STRICT"] : [])].join(", ");
  return [`CREATE TABLE ${quoteIdent(table.name)} (\n${body.join("\n")}\n)${options === "" ? "" : ` ${options}`}`];
}

function createIndex(table: TableSchema, index: IndexSchema): string {
  // `index.using` is ignored: SQLite has only b-tree indexes, so a GIN request becomes a plain index.
  const unique = index.unique ? "UNIQUE " : "";
  const where = index.where === undefined ? "" : ` WHERE ${index.where}`;
  return `CREATE ${unique}INDEX ${quoteIdent(index.name)} ON ${quoteIdent(table.name)} (${indexElements(index)})${where}`;
}

export const sqliteDdl: DdlCompiler = {
  createSchema(schema) {
    // Enums need no statement: each enum column carries its own CHECK.
    const statements: string[] = [];
    for (const table of dependencyOrder(schema.tables)) {
      statements.push(...createSqliteTable(table, schema));
      for (const index of table.indexes) statements.push(createIndex(table, index));
    }
    return statements;
  },

  dropSchema(schema) {
    const statements: string[] = [];
    // Children first: with foreign keys on, dropping a parent deletes its rows, which children would block.
    for (const table of dependencyOrder(schema.tables).reverse()) {
      for (const index of table.indexes) statements.push(`DROP INDEX IF EXISTS ${quoteIdent(index.name)}`);
      statements.push(`DROP TABLE IF EXISTS ${quoteIdent(table.name)}`);
    }
    return statements;
  },

  createTable: (table, schema) => createSqliteTable(table, schema),
  dropTable: (name) => `DROP TABLE ${quoteIdent(name)}`,
  createIndex,
  dropIndex: (name) => `DROP INDEX ${quoteIdent(name)}`,
  createEnum: (_enumSchema: EnumSchema) => [],
  columnDefinition: (column, table, schema) => columnDefinition(column, table, schema),
};
