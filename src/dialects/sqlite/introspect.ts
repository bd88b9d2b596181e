/**
 * SQLite introspection: a live database → the neutral schema snapshot (see ../introspect.ts).
 *
 * Sources: `pragma_table_list` (which tables: ordinary tables of "main", not views, virtual or
 * shadow tables, nor sqlite_* or Retort's own), `pragma_table_xinfo` (columns in order: declared
 * type, NOT NULL, primary-key position) and the CREATE TABLE / CREATE INDEX text kept in
 * sqlite_schema, read by introspect-sql.ts, for everything the pragmas lose: constraint names,
 * CHECK expressions, defaults as written, index expressions and predicates, comments.
 *
 * How Retort's DDL (ddl.ts) is read back:
 * - Types: the declared type names of the storage table (UUID, VARCHAR(n), NUMERIC_TEXT(p,s)…).
 *   Declared types Retort does not write but that have an obvious meaning (INT, BIGINT, DOUBLE
 *   PRECISION, DECIMAL(p,s), DATETIME, BOOL, CLOB…) are read too; anything else is
 *   RETORT_UNSUPPORTED naming the column.
 * - Enums: a TEXT column with the CHECK named ck_<table>_<column>_enum of the form
 *   `"col" IN ('a', 'b')`. The enum's name comes from the `enum "<name>"` block comment the DDL
 *   writes; without it (tables made before that comment existed) an annotated enum with the same
 *   values lends its name, else the enum is called <table>_<column>. Two columns naming one enum
 *   with different values: the later (tables by name, columns in order) gets <name>_<table>_<column>,
 *   so the disagreement shows in a diff instead of being hidden.
 * - Synthetic CHECKs (varchar length, boolean 0/1, enum, JSON validity) are part of the column
 *   type, not checks: a CHECK is dropped when its name is the column's synthetic name AND its text
 *   is what the DDL writes for the column's type; otherwise it is reported as a check.
 * - Identity: a column declared exactly INTEGER with an inline PRIMARY KEY (not DESC) in a rowid
 *   table is the rowid, which Retort's DDL writes only for identity and serial columns (other
 *   primary keys are table-level clauses). Mode and integer kind come from the `identity <mode>,
 *   <kind>` or `serial, <kind>` comment; without it, AUTOINCREMENT means serial, else "by-default"
 *   identity, and integer (what SQLite does: it numbers rows unless given a value).
 *   An identity column is never nullable.
 * - Defaults: a parenthesised default is an expression: the DDL's now / random-UUID renderings
 *   become { kind: "now" } / { kind: "random-uuid" }, anything else { kind: "sql" } with the text
 *   inside the parentheses. An unparenthesised default is a literal decoded by the column type as
 *   models give it (1/0 → booleans, JSON text → value, bigint → digit string, numeric → canonical
 *   text, X'..' → lowercase hex, timestamps as stored); a literal that does not fit the type, and
 *   keywords such as CURRENT_TIMESTAMP, are { kind: "sql" }.
 * - Comments: `-- ` lines before the first column are the table's comment; a `-- ` comment on a
 *   column's line (after its comma) is the column's.
 * - Unnamed constraints (hand-written tables) get the naming convention's names: pk_<table>,
 *   uq_<table>_<cols>, fk_<table>_<cols>_<ref>, ck_<table>_<column> for a column CHECK (then
 *   _2, _3…), ck_<table>_<n> for the n-th unnamed table CHECK.
 * - Not recoverable: an index's access method (SQLite has only b-trees; `using` is never set).
 *
 * Order: tables and enums by name, columns by position, constraints and indexes by name.
 */
import { RetortError } from "../../errors.js";
import { RETORT_TABLES } from "../../runtime/version-table.js";
import { constraintName } from "../../schema/naming.js";
import type {
  CheckSchema,
  ColumnSchema,
  ColumnType,
  DefaultValue,
  EnumSchema,
  ForeignKeySchema,
  IndexElement,
  IndexSchema,
  JsonValue,
  Schema,
  TableSchema,
  UniqueSchema,
} from "../../schema/snapshot.js";
import { tableFilter } from "../../schema/table-filter.js";
import type { Connection } from "../driver.js";
import type { Introspector } from "../introspect.js";
import { sqliteDdl, type SqliteColumnExtras } from "./ddl.js";
import {
  identifierValue,
  isComment,
  parseCreateIndex,
  parseCreateTable,
  stringValue,
  tokenize,
  type ParsedCheck,
  type ParsedColumn,
  type ParsedDefault,
  type ParsedTable,
  type Token,
} from "./introspect-sql.js";
import type { LiveTableExtras } from "./rebuild.js";
import { columnCheck, columnCheckKind, columnCheckName, columnTypeFromDeclared } from "./types.js";
import { canonicalNumeric, decoderFor } from "./values.js";

interface XinfoRow {
  cid: number;
  name: string;
  type: string;
  notnull: number;
  dflt_value: string | null;
  pk: number;
  hidden: number;
}

const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

export const introspectSqlite: Introspector = async (conn, options = {}) => {
  const excluded = new Set([...RETORT_TABLES, ...(options.exclude ?? [])]);
  const { rows: listed } = await conn.query<{ name: string; wr: number | bigint }>(
    "SELECT name, wr FROM pragma_table_list WHERE schema = 'main' AND type = 'table'",
  );
  const keep = options.tables ?? tableFilter();
  const tables = listed.filter((row) => !row.name.startsWith("sqlite_") && !excluded.has(row.name) && keep(row.name));
  const { rows: objects } = await conn.query<{ type: string; name: string; tbl_name: string; sql: string | null }>(
    "SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE type IN ('table', 'index') AND sql IS NOT NULL",
  );
  const tableSql = new Map(objects.filter((row) => row.type === "table").map((row) => [row.name, row.sql!]));

  const xinfoCache = new Map<string, XinfoRow[]>();
  const xinfo = async (table: string): Promise<XinfoRow[]> => {
    let rows = xinfoCache.get(table);
    if (!rows) {
      const result = await conn.query<Record<string, unknown>>("SELECT cid, name, type, \"notnull\", dflt_value, pk, hidden FROM pragma_table_xinfo(?) ORDER BY cid", [table]);
      rows = result.rows.map((row) => ({
        cid: Number(row.cid),
        name: String(row.name),
        type: row.type === null ? "" : String(row.type),
        notnull: Number(row.notnull),
        dflt_value: row.dflt_value === null ? null : String(row.dflt_value),
        pk: Number(row.pk),
        hidden: Number(row.hidden),
      }));
      xinfoCache.set(table, rows);
    }
    return rows;
  };

  const enums = new EnumCollector();
  const result: TableSchema[] = [];
  for (const { name, wr } of [...tables].sort(byName)) {
    const parsed = parseCreateTable(tableSql.get(name) ?? "");
    const indexes = objects.filter((row) => row.type === "index" && row.tbl_name === name);
    result.push(await readTable(name, Number(wr) !== 0, await xinfo(name), parsed, indexes, xinfo, enums));
  }
  return { tables: result, enums: enums.list() };
};

/**
 * What table `name` has beyond its snapshot (see SqliteTableExtras): STRICT, WITHOUT ROWID, column
 * collations and generated columns, and the clauses no rebuild can carry (ParsedTable.uncarried).
 * undefined when there is no such table.
 */
export async function readTableExtras(conn: Connection, name: string): Promise<LiveTableExtras | undefined> {
  const { rows: listed } = await conn.query<{ wr: number | bigint; strict: number | bigint; sql: string | null }>(
    "SELECT l.wr, l.strict, s.sql FROM pragma_table_list AS l JOIN sqlite_schema AS s ON s.name = l.name AND s.type = 'table' WHERE l.schema = 'main' AND l.name = ?",
    [name],
  );
  const table = listed[0];
  if (!table) return undefined;
  const parsed = parseCreateTable(table.sql ?? "");
  // hidden: 2 a virtual generated column, 3 a stored one.
  const { rows: xinfo } = await conn.query<{ name: string; hidden: number | bigint }>("SELECT name, hidden FROM pragma_table_xinfo(?)", [name]);
  const columns: Record<string, SqliteColumnExtras> = {};
  for (const row of xinfo) {
    // Keyed by the name the snapshot has (pragma's); the text may spell it in another case.
    const column = parsed.columns.find((candidate) => candidate.name === row.name) ?? parsed.columns.find((candidate) => candidate.name.toLowerCase() === row.name.toLowerCase());
    const extras: SqliteColumnExtras = {};
    if (column?.collation !== undefined) extras.collation = column.collation;
    if (column?.generated) extras.generated = { expression: column.generated.expression, stored: Number(row.hidden) === 3 };
    if (Object.keys(extras).length > 0) columns[row.name] = extras;
  }
  return { extras: { strict: Number(table.strict) !== 0, withoutRowid: Number(table.wr) !== 0, columns }, uncarried: parsed.uncarried };
}

/** The enums found on columns, keyed by name, with the rules for missing or clashing names. */
class EnumCollector {
  private readonly byName = new Map<string, EnumSchema>();
  private readonly pending: Array<{ column: ColumnSchema; fallback: string; values: string[] }> = [];

  /** A column whose enum name was written by the DDL. */
  add(column: ColumnSchema, name: string, values: string[], table: string): void {
    const existing = this.byName.get(name);
    let final = name;
    if (existing && existing.values.join("\u0000") !== values.join("\u0000")) final = `${name}_${table}_${column.name}`;
    if (!this.byName.has(final)) this.byName.set(final, { name: final, values });
    column.type = { kind: "enum", name: final };
  }

  /** A column whose enum name is unknown: resolved once every annotated enum has been seen. */
  addUnnamed(column: ColumnSchema, values: string[], table: string): void {
    column.type = { kind: "enum", name: `${table}_${column.name}` };
    this.pending.push({ column, fallback: `${table}_${column.name}`, values });
  }

  list(): EnumSchema[] {
    const annotated = [...this.byName.values()];
    for (const { column, fallback, values } of this.pending) {
      const key = values.join("\u0000");
      const same = annotated.filter((candidate) => candidate.values.join("\u0000") === key);
      const name = same.length === 1 ? same[0]!.name : fallback;
      column.type = { kind: "enum", name };
      if (!this.byName.has(name)) this.byName.set(name, { name, values });
    }
    return [...this.byName.values()].sort(byName);
  }
}

async function readTable(
  name: string,
  withoutRowid: boolean,
  rows: XinfoRow[],
  parsed: ParsedTable,
  indexRows: Array<{ name: string; sql: string | null }>,
  xinfo: (table: string) => Promise<XinfoRow[]>,
  enums: EnumCollector,
): Promise<TableSchema> {
  const table: TableSchema = { name, columns: [], uniques: [], indexes: [], foreignKeys: [], checks: [] };
  if (parsed.comments.length > 0) table.comment = parsed.comments.join(" ");
  const parsedColumn = (column: string): ParsedColumn | undefined =>
    parsed.columns.find((candidate) => candidate.name === column) ?? parsed.columns.find((candidate) => candidate.name.toLowerCase() === column.toLowerCase());

  const pkColumns = rows.filter((row) => row.pk > 0).sort((a, b) => a.pk - b.pk).map((row) => row.name);
  // Every CHECK with the column it was declared on (undefined: table-level), in declaration order.
  const checks: Array<{ check: ParsedCheck; column?: string }> = [
    ...parsed.columns.flatMap((column) => column.checks.map((check) => ({ check, column: column.name }))),
    ...parsed.checks.map((check) => ({ check })),
  ];
  const absorbed = new Set<ParsedCheck>();

  for (const row of rows) {
    if (row.hidden === 1) continue; // hidden columns of virtual tables
    const source = parsedColumn(row.name);
    const column: ColumnSchema = { name: row.name, type: declaredType(name, row), nullable: row.notnull === 0 };
    const identity = source?.primaryKey !== undefined && source.primaryKey.order !== "desc" && row.type.trim().toUpperCase() === "INTEGER" && pkColumns.length === 1 && !withoutRowid;
    if (identity) {
      const note = source.blockComments.map((text) => /^(?:identity (always|by-default)|(serial)), (smallint|integer|bigint)$/.exec(text)).find((match) => match !== null);
      // AUTOINCREMENT without Retort's note (a table another tool made) is a serial too: numbers are never reused.
      if (note?.[2] === "serial" || (note === undefined && source.primaryKey?.autoincrement === true)) column.serial = true;
      else column.identity = (note?.[1] as ColumnSchema["identity"]) ?? "by-default";
      column.type = { kind: (note?.[3] ?? "integer") as "smallint" | "integer" | "bigint" };
      column.nullable = false;
    }

    // An enum: TEXT with its membership CHECK.
    if (column.type.kind === "text") {
      const enumName = columnCheckName(name, column.name, "enum");
      const found = checks.find(({ check }) => check.name === enumName && enumCheckValues(check.expression, column.name) !== undefined);
      if (found) {
        absorbed.add(found.check);
        const values = enumCheckValues(found.check.expression, column.name)!;
        const annotated = source?.blockComments.map((text) => /^enum ("(?:[^"\\]|\\.)*")$/.exec(text)).find((match) => match !== null);
        const annotatedName = annotated ? parseJsonString(annotated[1]!) : undefined;
        if (annotatedName !== undefined) enums.add(column, annotatedName, values, name);
        else enums.addUnnamed(column, values, name);
      }
    } else {
      // The other synthetic CHECKs: exactly what the DDL writes for this type.
      const kind = columnCheckKind(column.type);
      if (kind !== undefined && kind !== "enum") {
        const expected = columnCheck(table, column, { tables: [], enums: [] })!;
        const found = checks.find(({ check }) => check.name === expected.name && sameTokens(check.expression, expected.expression));
        if (found) absorbed.add(found.check);
      }
    }

    const value = readDefault(source?.default, row.dflt_value, column.type);
    if (value !== undefined && !identity) column.default = value;
    if (source && source.lineComments.length > 0) column.comment = source.lineComments.join(" ");
    table.columns.push(column);
  }

  if (pkColumns.length > 0) {
    const inline = parsed.columns.find((column) => column.primaryKey !== undefined)?.primaryKey?.name;
    table.primaryKey = { name: parsed.primaryKey?.name ?? inline ?? constraintName.primaryKey(name), columns: pkColumns };
  }

  const uniques: UniqueSchema[] = [
    ...parsed.columns.flatMap((column) => column.uniques.map((unique) => ({ name: unique.name, columns: [column.name] }))),
    ...parsed.uniques,
  ].map((unique) => ({ name: unique.name ?? constraintName.unique(name, unique.columns), columns: unique.columns }));
  table.uniques = uniques.sort(byName);

  const foreignKeys: ForeignKeySchema[] = [];
  for (const fk of [...parsed.columns.flatMap((column) => column.foreignKeys), ...parsed.foreignKeys]) {
    const refColumns =
      fk.refColumns ??
      (await xinfo(fk.refTable))
        .filter((row) => row.pk > 0)
        .sort((a, b) => a.pk - b.pk)
        .map((row) => row.name);
    foreignKeys.push({
      name: fk.name ?? constraintName.foreignKey(name, fk.columns, fk.refTable),
      columns: fk.columns,
      refTable: fk.refTable,
      refColumns,
      onDelete: fk.onDelete,
      onUpdate: fk.onUpdate,
      ...(fk.deferrable === undefined ? {} : { deferrable: fk.deferrable }),
    });
  }
  table.foreignKeys = foreignKeys.sort(byName);

  const userChecks: CheckSchema[] = [];
  const perColumn = new Map<string, number>();
  let tableLevel = 0;
  for (const { check, column } of checks) {
    if (absorbed.has(check)) continue;
    let checkName = check.name;
    if (checkName === undefined) {
      if (column !== undefined) {
        const n = (perColumn.get(column) ?? 0) + 1;
        perColumn.set(column, n);
        checkName = constraintName.check(name, n === 1 ? column : `${column}_${n}`);
      } else {
        checkName = constraintName.check(name, String(++tableLevel));
      }
    }
    userChecks.push({ name: checkName, expression: check.expression });
  }
  table.checks = userChecks.sort(byName);

  for (const row of indexRows) {
    const index = row.sql === null ? undefined : parseCreateIndex(row.sql);
    if (!index) continue;
    const elements = index.elements.map((element): IndexElement => {
      const out: IndexElement = element.column !== undefined ? { column: element.column } : { expression: element.expression };
      if (element.order !== undefined) out.order = element.order;
      return out;
    });
    const schema: IndexSchema = { name: row.name, elements, unique: index.unique };
    if (index.where !== undefined) schema.where = index.where;
    table.indexes.push(schema);
  }
  table.indexes.sort(byName);
  return table;
}

// ---------------------------------------------------------------------------------------------
// types

/** Declared types with a clear meaning that Retort's DDL does not write (hand-made tables). */
function otherDeclaredType(declared: string): ColumnType | undefined {
  const match = /^([A-Z_][A-Z0-9_ ]*?)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?$/.exec(declared.trim().toUpperCase().replace(/\s+/g, " "));
  if (!match) return undefined;
  const [, base, first, second] = match;
  switch (base) {
    case "INT":
    case "INTEGER":
    case "MEDIUMINT":
      return { kind: "integer" };
    case "TINYINT":
    case "SMALLINT":
    case "INT2":
      return { kind: "smallint" };
    case "BIGINT":
    case "INT8":
    case "UNSIGNED BIG INT":
      return { kind: "bigint" };
    case "VARCHAR":
    case "NVARCHAR":
    case "CHARACTER VARYING":
    case "VARYING CHARACTER":
      if (second !== undefined) return { kind: "text" };
      return first === undefined ? { kind: "varchar" } : { kind: "varchar", length: Number(first) };
    case "TEXT":
    case "CLOB":
    case "CHAR":
    case "CHARACTER":
    case "NCHAR":
    case "NATIVE CHARACTER":
      return { kind: "text" };
    case "REAL":
      return { kind: "real" };
    case "FLOAT":
    case "DOUBLE":
    case "DOUBLE PRECISION":
      return { kind: "double" };
    case "NUMERIC":
    case "DECIMAL": {
      const type: ColumnType = { kind: "numeric" };
      if (first !== undefined) type.precision = Number(first);
      if (second !== undefined) type.scale = Number(second);
      return type;
    }
    case "BOOLEAN":
    case "BOOL":
      return { kind: "boolean" };
    case "DATE":
      return { kind: "date" };
    case "DATETIME":
    case "TIMESTAMP":
      return { kind: "timestamp" };
    case "TIME":
      return { kind: "time" };
    case "JSON":
      return { kind: "json" };
    case "JSONB":
      return { kind: "jsonb" };
    case "BLOB":
      return { kind: "bytea" };
    case "UUID":
      return { kind: "uuid" };
    default:
      return undefined;
  }
}

function declaredType(table: string, row: XinfoRow): ColumnType {
  const type = columnTypeFromDeclared(row.type) ?? otherDeclaredType(row.type);
  if (type) return type;
  throw new RetortError(
    "RETORT_UNSUPPORTED",
    `Column "${table}"."${row.name}" has the declared type ${row.type.trim() === "" ? "(none)" : `"${row.type}"`}, which Retort cannot map to a column type`,
    {
      hint: `Declare "${row.name}" with a type Retort knows (TEXT, INTEGER, BIGINT, REAL, BLOB, NUMERIC(p,s), BOOLEAN, DATE, TIMESTAMP, JSON…), or leave the table "${table}" out of introspection (exclude).`,
      details: { table, column: row.name, declaredType: row.type },
    },
  );
}

// ---------------------------------------------------------------------------------------------
// checks

function significant(sql: string): Token[] {
  return tokenize(sql).filter((token) => !isComment(token));
}

/** Equal as token sequences (whitespace and comments aside). */
function sameTokens(a: string, b: string): boolean {
  const x = significant(a).map((token) => token.text);
  const y = significant(b).map((token) => token.text);
  return x.length === y.length && x.every((text, i) => text === y[i]);
}

/** `"col" IN ('a', 'b')` → ["a", "b"]; undefined for any other shape. */
function enumCheckValues(expression: string, column: string): string[] | undefined {
  const tokens = significant(expression);
  const [target, keyword, open] = tokens;
  if (!target || (target.kind !== "ident" && target.kind !== "word") || identifierValue(target) !== column) return undefined;
  if (keyword?.kind !== "word" || keyword.text.toUpperCase() !== "IN" || open?.text !== "(" || tokens[tokens.length - 1]?.text !== ")") return undefined;
  const inner = tokens.slice(3, -1);
  const values: string[] = [];
  for (let i = 0; i < inner.length; i++) {
    const token = inner[i]!;
    if (i % 2 === 0) {
      if (token.kind !== "string") return undefined;
      values.push(stringValue(token));
    } else if (token.text !== ",") {
      return undefined;
    }
  }
  if (inner.length > 0 && inner.length % 2 === 0) return undefined;
  return values;
}

function parseJsonString(text: string): string | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "string" ? value : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// defaults

/** How the DDL renders an expression default for a column of `type` (the text inside its parentheses). */
const renderedDefaults = new Map<string, string | undefined>();
function renderedDefault(kind: "now" | "random-uuid", type: ColumnType): string | undefined {
  const key = `${kind}:${type.kind}`;
  if (!renderedDefaults.has(key)) {
    const column: ColumnSchema = { name: "c", type, nullable: true, default: { kind } };
    const stub: TableSchema = { name: "t", columns: [column], uniques: [], indexes: [], foreignKeys: [], checks: [] };
    let text: string | undefined;
    try {
      // An enum stub needs its enum to render its CHECK; give it one.
      const schema: Schema = { tables: [stub], enums: type.kind === "enum" ? [{ name: type.name, values: [] }] : [] };
      const definition = sqliteDdl.columnDefinition(column, stub, schema);
      text = parseCreateTable(`CREATE TABLE t (${definition})`).columns[0]?.default?.text;
    } catch {
      text = undefined;
    }
    renderedDefaults.set(key, text);
  }
  return renderedDefaults.get(key);
}

function readDefault(parsed: ParsedDefault | undefined, pragmaText: string | null, type: ColumnType): DefaultValue | undefined {
  if (parsed === undefined) {
    if (pragmaText === null) return undefined;
    // Not found in the CREATE text (unexpected): the pragma's text, which has lost its parentheses.
    const tokens = significant(pragmaText);
    return literalDefault(tokens, pragmaText, type) ?? { kind: "sql", sql: pragmaText };
  }
  if (parsed.parenthesized) {
    for (const kind of ["now", "random-uuid"] as const) {
      const rendered = renderedDefault(kind, type);
      if (rendered !== undefined && sameTokens(parsed.text, rendered)) return { kind };
    }
    return { kind: "sql", sql: parsed.text };
  }
  return literalDefault(parsed.tokens, parsed.text, type) ?? { kind: "sql", sql: parsed.text };
}

const INTEGER_TEXT = /^[+-]?\d+$/;
const NUMBER_TEXT = /^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i;

/** A literal default decoded as the model would give it, or undefined when it is not one of this type. */
function literalDefault(tokens: Token[], text: string, type: ColumnType): DefaultValue | undefined {
  const literal = (value: JsonValue): DefaultValue => ({ kind: "literal", value });
  const last = tokens[tokens.length - 1];
  if (!last) return undefined;
  const signed = tokens.length === 2 && (tokens[0]!.text === "-" || tokens[0]!.text === "+") && last.kind === "number";
  if (tokens.length !== 1 && !signed) return undefined;
  if (last.kind === "word") {
    const word = last.text.toUpperCase();
    if (word === "NULL") return literal(null);
    if (type.kind === "boolean" && (word === "TRUE" || word === "FALSE")) return literal(word === "TRUE");
    return undefined;
  }
  if (last.kind === "number") {
    const number = text.replace(/\s+/g, "");
    switch (type.kind) {
      case "boolean":
        return number === "1" || number === "0" ? literal(number === "1") : undefined;
      case "smallint":
      case "integer":
        return INTEGER_TEXT.test(number) ? literal(Number(number)) : undefined;
      case "bigint":
        return INTEGER_TEXT.test(number) ? literal(BigInt(number).toString()) : undefined;
      case "real":
      case "double":
        return NUMBER_TEXT.test(number) ? literal(Number(number)) : undefined;
      case "numeric": {
        const canonical = NUMBER_TEXT.test(number) ? numericText(number, type) : undefined;
        return canonical === undefined ? undefined : literal(canonical);
      }
      default:
        return undefined;
    }
  }
  if (last.kind === "string" && tokens.length === 1) {
    const value = stringValue(last);
    switch (type.kind) {
      case "uuid":
      case "text":
      case "varchar":
      case "enum":
      case "timestamptz":
      case "timestamp":
      case "date":
      case "time":
      case "inet":
        return literal(value);
      case "numeric": {
        const canonical = numericText(value, type);
        return canonical === undefined ? undefined : literal(canonical);
      }
      case "json":
      case "jsonb":
        try {
          return literal(JSON.parse(value) as JsonValue);
        } catch {
          return undefined;
        }
      case "array":
        try {
          // Read as rows are (bigint elements exactly), then in the snapshot's JSON form (bigint as digits).
          const items = decoderFor(type)(value);
          return Array.isArray(items) ? literal(items.map((item: unknown) => (typeof item === "bigint" ? item.toString() : item)) as JsonValue) : undefined;
        } catch {
          return undefined;
        }
      default:
        return undefined;
    }
  }
  if (last.kind === "blob" && type.kind === "bytea" && tokens.length === 1) {
    const hex = last.text.slice(2, -1);
    return /^([0-9a-f]{2})*$/i.test(hex) ? literal(hex.toLowerCase()) : undefined;
  }
  return undefined;
}

function numericText(text: string, type: Extract<ColumnType, { kind: "numeric" }>): string | undefined {
  try {
    return canonicalNumeric(text, type.precision, type.scale);
  } catch {
    return undefined;
  }
}
