/**
 * The `op` object migration files receive. Each call builds one operation (plain frozen data, see
 * types.ts) and records it; nothing touches a database here. Tables and columns are described
 * with the model DSL (`t`, `sql`, `unique`, `index`, `check`, `primaryKey`, `foreignKey`) and
 * turned into snapshot shapes by the same code as models, so names follow the same convention:
 *
 *   op.createEnum("member_role", ["owner", "member"]);
 *   op.createTable("members", {
 *     id: t.bigint().identity().primaryKey(),
 *     guild_id: t.bigint().references("guilds.id", { onDelete: "cascade" }),
 *     role: enumColumn("member_role").default("member"),
 *     nickname: t.text().nullable(),
 *   }, (c) => [index(c.guild_id), unique(c.guild_id, c.nickname)]);
 *   op.alterColumn("members", "xp", { type: t.bigint(), using: "xp::bigint" });
 *
 * In migrations, column keys and every name given as a string are database names (a camelCase
 * key is converted to snake_case exactly as in models). Foreign keys name their target as
 * "table.column", since models change over time and a migration must not.
 */
import type { Kysely } from "kysely";
import { RetortError } from "../errors.js";
import { enumColumn as modelEnumColumn, type Column, type ColumnConfig } from "../model/column.js";
import { isSqlExpression, type SqlExpression } from "../model/sql.js";
import { isColumnRef, isOpclassName, table as defineTable, type ColumnRefs, type ColumnsShape, type TableExtra } from "../model/table.js";
import { schemaFromModels } from "../schema/from-models.js";
import { constraintName, expressionSlug } from "../schema/naming.js";
import type { ColumnType, DefaultValue, Deferrable, IndexElement, IndexSchema, JsonValue, ReferentialAction, TableSchema } from "../schema/snapshot.js";
import { Op, type DialectSql } from "./types.js";

// ---------------------------------------------------------------------------------------------
// the public surface

export interface CreateTableOptions {
  comment?: string;
}

/** A server default that is not a constant (for alterColumn's `default`). */
export interface ServerDefault {
  readonly kind: "server-default";
  readonly value: DefaultValue;
}

/** `op.alterColumn(table, column, { default: serverDefault.now })`. */
export const serverDefault = Object.freeze({
  now: Object.freeze({ kind: "server-default", value: Object.freeze({ kind: "now" }) }) as ServerDefault,
  randomUuid: Object.freeze({ kind: "server-default", value: Object.freeze({ kind: "random-uuid" }) }) as ServerDefault,
});

export interface AlterColumnOptions {
  /** The new type, as a bare builder (`t.bigint()`) or a snapshot ColumnType. */
  type?: Column<any> | ColumnType;
  /** Postgres/PGlite: how to convert existing values (`"xp::bigint"`). SQLite converts by the logical types. */
  using?: string | SqlExpression;
  nullable?: boolean;
  /** A constant of the column's type, sql`…`, serverDefault.now / .randomUuid, or null to drop the default. */
  default?: unknown;
  /** null removes the comment. */
  comment?: string | null;
  /** true: number the column by a sequence it owns (what `serial` does); false: drop that sequence and default. */
  serial?: boolean;
}

/** An indexed element: a column name, sql`expression`, `desc(sql…)`, or `{ column, order }` / `{ expression, order }`. */
export type IndexElementInput = string | SqlExpression | IndexElement | { ref: unknown; order: "asc" | "desc" };

export interface CreateIndexOptions {
  unique?: boolean;
  /** Partial index predicate. */
  where?: string | SqlExpression;
  /** Access method (gin, gist, …; Postgres only). */
  using?: string;
  /** Postgres: CREATE INDEX CONCURRENTLY, run outside the migration's transaction. */
  concurrently?: boolean;
}

export interface ForeignKeyOptions {
  onDelete?: ReferentialAction;
  onUpdate?: ReferentialAction;
  /** DEFERRABLE INITIALLY IMMEDIATE | DEFERRED (see `references()`); absent: not deferrable. */
  deferrable?: Deferrable;
  /** Postgres: NOT VALID (validate later with op.validateConstraint). */
  notValid?: boolean;
}

/** Raw SQL for op.execute: one text for every dialect, or one per dialect (PGlite falls back to `postgres`). */
export type ExecuteSql = string | SqlExpression | { postgres?: string | SqlExpression; pglite?: string | SqlExpression; sqlite?: string | SqlExpression };

export interface ExecuteOptions {
  /** SQL that undoes this statement (makes the operation reversible); per dialect like the SQL. */
  reverseSql?: ExecuteSql;
}

export interface MigrationOps {
  /** Create a table: columns with the model DSL, keyed by database name; extras as in table(). */
  createTable<C extends ColumnsShape>(
    name: string,
    columns: C,
    extras?: ((columns: ColumnRefs<string, C>) => TableExtra[]) | CreateTableOptions,
    options?: CreateTableOptions,
  ): void;
  dropTable(name: string): void;
  renameTable(from: string, to: string): void;
  /**
   * Add a column. Column-level constraints on the builder (`.unique()`, `.index()`,
   * `.references("t.c")`, `.check()`, `.primaryKey()`) are recorded as their own operations.
   */
  addColumn(table: string, name: string, column: Column<any>): void;
  dropColumn(table: string, name: string): void;
  renameColumn(table: string, from: string, to: string): void;
  alterColumn(table: string, name: string, changes: AlterColumnOptions): void;
  /** `name` null: the conventional ix_/uq_ name. */
  createIndex(name: string | null, table: string, elements: readonly IndexElementInput[], options?: CreateIndexOptions): void;
  dropIndex(name: string, options?: { table?: string; concurrently?: boolean }): void;
  addPrimaryKey(name: string | null, table: string, columns: string | readonly string[]): void;
  addUnique(name: string | null, table: string, columns: string | readonly string[]): void;
  addForeignKey(
    name: string | null,
    table: string,
    columns: string | readonly string[],
    refTable: string,
    refColumns: string | readonly string[],
    options?: ForeignKeyOptions,
  ): void;
  /** `name` is the full constraint name ("ck_members_xp_positive"). */
  addCheck(name: string, table: string, expression: string | SqlExpression, options?: { notValid?: boolean }): void;
  dropConstraint(name: string, table: string): void;
  validateConstraint(name: string, table: string): void;
  createEnum(name: string, values: readonly string[]): void;
  dropEnum(name: string): void;
  addEnumValue(enumName: string, value: string, options?: { before?: string; after?: string }): void;
  renameEnumValue(enumName: string, from: string, to: string): void;
  /** `CREATE EXTENSION IF NOT EXISTS` (Postgres, PGlite); nothing on SQLite. */
  createExtension(name: string): void;
  /** `DROP EXTENSION IF EXISTS`, without CASCADE; nothing on SQLite. */
  dropExtension(name: string): void;
  /**
   * Raw SQL, run as written: one text for every dialect, or `{ postgres, sqlite, pglite }` (a
   * dialect without text is an error when a plan for it is made). `reverseSql` makes it reversible.
   */
  execute(sql: ExecuteSql, params?: readonly unknown[], options?: ExecuteOptions): void;
  execute(sql: ExecuteSql, options: ExecuteOptions): void;
  /** Insert rows (keyed by database column name; values of the columns' TypeScript types). */
  bulkInsert(table: string, rows: readonly Record<string, unknown>[]): void;
  /** A typed data migration: `fn` runs with a Kysely handle inside the migration's transaction. */
  run(description: string, fn: (db: Kysely<any>) => Promise<void>): void;
}

/** A column of an enum type that already exists in the database (migrations only; the values live in createEnum). */
export function enumColumn(name: string): Column<{ data: string; notNull: true; hasDefault: false; dbName: undefined }> {
  return modelEnumColumn<string>(name, []);
}

// ---------------------------------------------------------------------------------------------
// input checks

function bad(method: string, message: string, hint?: string): RetortError {
  return new RetortError("RETORT_INVALID_OPERATION", `op.${method}(): ${message}`, hint === undefined ? { details: { method } } : { hint, details: { method } });
}

function name(method: string, what: string, value: unknown): string {
  if (typeof value !== "string" || value.length === 0) throw bad(method, `${what} must be a non-empty string (got ${describeValue(value)})`);
  return value;
}

function optionalName(method: string, what: string, value: unknown): string | null {
  return value === null || value === undefined ? null : name(method, what, value);
}

function names(method: string, what: string, value: unknown): string[] {
  const list = typeof value === "string" ? [value] : value;
  if (!Array.isArray(list) || list.length === 0) throw bad(method, `${what} must be a column name or a non-empty list of them`);
  return list.map((item) => name(method, what, item));
}

function describeValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value === null || value === undefined) return String(value);
  return typeof value;
}

function options<T extends object>(method: string, value: T | undefined, allowed: readonly string[]): Partial<T> {
  if (value === undefined) return {};
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw bad(method, "options must be an object");
  const unknown = Object.keys(value).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) throw bad(method, `unknown option${unknown.length > 1 ? "s" : ""} ${unknown.map((key) => `"${key}"`).join(", ")}`, `Known options: ${allowed.join(", ")}.`);
  return value;
}

function flag(method: string, what: string, value: unknown): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "boolean") throw bad(method, `${what} must be true or false`);
  return value;
}

const ACTIONS: readonly ReferentialAction[] = ["cascade", "restrict", "no action", "set null", "set default"];

function action(method: string, what: string, value: unknown): ReferentialAction {
  if (value === undefined) return "no action";
  if (!ACTIONS.includes(value as ReferentialAction)) throw bad(method, `${what} must be one of ${ACTIONS.map((a) => `"${a}"`).join(", ")} (got ${describeValue(value)})`);
  return value as ReferentialAction;
}

function deferrable(method: string, value: unknown): { deferrable?: Deferrable } {
  if (value === undefined) return {};
  if (value !== "immediate" && value !== "deferred") throw bad(method, `deferrable must be "immediate" or "deferred" (got ${describeValue(value)})`);
  return { deferrable: value };
}

function sqlText(method: string, what: string, value: unknown): string {
  const text = isSqlExpression(value) ? value.text : value;
  if (typeof text !== "string" || text.trim() === "") throw bad(method, `${what} must be SQL text or sql\`…\``);
  return text;
}

const SQL_DIALECTS = ["postgres", "pglite", "sqlite"] as const;

/** op.execute's SQL: a text, or an object of texts keyed by dialect. */
function dialectSqlText(method: string, what: string, value: unknown): DialectSql {
  if (typeof value === "string" || isSqlExpression(value)) return sqlText(method, what, value);
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw bad(method, `${what} must be SQL text, sql\`…\`, or { postgres, sqlite } texts per dialect`);
  const unknown = Object.keys(value).filter((key) => !(SQL_DIALECTS as readonly string[]).includes(key));
  if (unknown.length > 0) throw bad(method, `${what}: unknown dialect${unknown.length > 1 ? "s" : ""} ${unknown.map((key) => `"${key}"`).join(", ")}`, `Dialects: ${SQL_DIALECTS.join(", ")} (pglite falls back to postgres).`);
  const texts: { postgres?: string; pglite?: string; sqlite?: string } = {};
  for (const dialect of SQL_DIALECTS) {
    const text = (value as Record<string, unknown>)[dialect];
    if (text !== undefined) texts[dialect] = sqlText(method, `${what} for ${dialect}`, text);
  }
  if (Object.keys(texts).length === 0) throw bad(method, `${what} gives no SQL for any dialect`, "Give { postgres: \"…\", sqlite: \"…\" } or one string for every dialect.");
  return Object.freeze(texts);
}

/** A value → its JSON-safe snapshot form: bigint as a decimal string, Date as ISO text, bytes as hex. */
export function toJsonSafe(value: unknown, where: string): JsonValue {
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new RetortError("RETORT_INVALID_OPERATION", `${where}: ${value} is not a finite number`);
    return value;
  }
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new RetortError("RETORT_INVALID_OPERATION", `${where}: invalid Date`);
    return value.toISOString();
  }
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("hex");
  if (Array.isArray(value)) return value.map((item, i) => toJsonSafe(item, `${where}[${i}]`));
  if (typeof value === "object" && (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null)) {
    const out: Record<string, JsonValue> = {};
    for (const [key, item] of Object.entries(value)) if (item !== undefined) out[key] = toJsonSafe(item, `${where}.${key}`);
    return out;
  }
  throw new RetortError("RETORT_INVALID_OPERATION", `${where}: a ${value === undefined ? "undefined" : typeof value === "object" ? (value.constructor?.name ?? "object") : typeof value} value cannot be stored in a migration`, {
    hint: "Use strings, numbers, booleans, null, bigint, Date, Uint8Array, arrays and plain objects.",
  });
}

function isColumnBuilder(value: unknown): value is Column<any> {
  return typeof value === "object" && value !== null && typeof (value as { config?: ColumnConfig }).config?.type?.kind === "string";
}

// ---------------------------------------------------------------------------------------------
// building snapshot shapes through the model code

/** Resolve a reference thunk for its table name only (stubs make schemaFromModels accept it). */
function referencedTable(target: () => unknown): string | undefined {
  try {
    const ref = target();
    return isColumnRef(ref) ? ref.tableName : undefined;
  } catch {
    return undefined; // schemaFromModels reports it
  }
}

/**
 * The TableSchema for a table declared in a migration, built by the model code. Tables its
 * foreign keys reference exist in the database, not among the models (the fold checks them).
 */
function buildTable(tableName: string, columns: ColumnsShape, extras?: (refs: any) => TableExtra[], tableOptions: CreateTableOptions = {}): TableSchema {
  const model = defineTable(tableName, columns, extras, tableOptions);
  const targets = new Set<string>();
  for (const column of Object.values(columns)) {
    const target = column.config.references?.target;
    const ref = target ? referencedTable(target) : undefined;
    if (ref !== undefined) targets.add(ref);
  }
  for (const extra of model.$.extras) {
    if (extra.kind !== "foreign-key") continue;
    for (const target of extra.targets()) if (isColumnRef(target)) targets.add(target.tableName);
  }
  targets.delete(tableName);
  const schema = schemaFromModels([model], { migration: { existingTables: targets } });
  return schema.tables.find((table) => table.name === tableName)!;
}

function indexElementOf(method: string, input: IndexElementInput): IndexElement {
  if (typeof input === "string") return { column: name(method, "a column", input) };
  if (isSqlExpression(input)) return { expression: sqlText(method, "an index expression", input) };
  if (typeof input === "object" && input !== null) {
    const order = (input as { order?: unknown }).order;
    if (order !== undefined && order !== "asc" && order !== "desc") throw bad(method, `order must be "asc" or "desc" (got ${describeValue(order)})`);
    const opclass = (input as { opclass?: unknown }).opclass;
    if (opclass !== undefined && !isOpclassName(opclass)) {
      throw bad(method, `opclass must be an operator class name such as "varchar_pattern_ops" (got ${describeValue(opclass)})`);
    }
    let element: IndexElement | undefined;
    if ("column" in input && typeof input.column === "string") element = { column: input.column };
    else if ("expression" in input && typeof input.expression === "string") element = { expression: input.expression };
    else if ("ref" in input) {
      const ref = input.ref;
      if (isSqlExpression(ref)) element = { expression: ref.text };
      else if (isColumnRef(ref)) element = { column: ref.dbName };
    }
    if (element) {
      if (order !== undefined) element.order = order;
      if (opclass !== undefined) element.opclass = opclass as string;
      return element;
    }
  }
  throw bad(method, `cannot index ${describeValue(input)}: give a column name, sql\`expression\` or { column, order }`);
}

function defaultOf(method: string, value: unknown): DefaultValue | null {
  if (value === null) return null;
  if (isSqlExpression(value)) return { kind: "sql", sql: value.text };
  if (typeof value === "object" && (value as ServerDefault).kind === "server-default") return structuredClone((value as ServerDefault).value);
  if (value === undefined) throw bad(method, "default must be a value, sql`…`, serverDefault.now / .randomUuid, or null");
  return { kind: "literal", value: toJsonSafe(value, `op.${method}() default`) };
}

function typeOf(method: string, value: unknown): ColumnType {
  if (isColumnBuilder(value)) {
    const config = value.config;
    const modifiers = [
      config.nullable && "nullable()",
      config.primaryKey && "primaryKey()",
      config.default !== undefined && "default()",
      config.identity !== undefined && "identity()",
      config.serial && "serial (use { serial: true })",
      config.unique && "unique()",
      config.index && "index()",
      config.references && "references()",
      config.checks.length > 0 && "check()",
      config.comment !== undefined && "comment()",
    ].filter(Boolean);
    if (modifiers.length > 0) {
      throw bad(method, `type takes a bare type such as t.bigint(), not one with ${modifiers.join(", ")}`, "Change nullability, default and comment with their own options; constraints with their own operations.");
    }
    return structuredClone(config.type);
  }
  if (typeof value === "object" && value !== null && typeof (value as ColumnType).kind === "string") return structuredClone(value as ColumnType);
  throw bad(method, "type must be a column type such as t.bigint()");
}

// ---------------------------------------------------------------------------------------------
// the recorder

/** A fresh `op` object and the list its calls append to (in call order). */
export function createOpRecorder(): { op: MigrationOps; ops: Op[] } {
  const ops: Op[] = [];
  const push = (operation: Op) => {
    ops.push(Op.freeze(operation));
  };

  const op: MigrationOps = {
    createTable(tableName, columns, extras, tableOptions) {
      const method = "createTable";
      name(method, "the table name", tableName);
      if (typeof columns !== "object" || columns === null || !Object.values(columns).every(isColumnBuilder)) {
        throw bad(method, "columns must be an object of column builders ({ id: t.bigint().primaryKey(), … })");
      }
      if (Object.keys(columns).length === 0) throw bad(method, "a table needs at least one column");
      let build = typeof extras === "function" ? extras : undefined;
      let opts = tableOptions;
      if (extras !== undefined && typeof extras !== "function") {
        if (tableOptions !== undefined) throw bad(method, "give the extras callback before the options");
        opts = extras;
        build = undefined;
      }
      const { comment } = options(method, opts, ["comment"]);
      if (comment !== undefined && typeof comment !== "string") throw bad(method, "comment must be a string");
      push({ kind: "createTable", table: buildTable(tableName, columns, build, comment === undefined ? {} : { comment }) });
    },

    dropTable(tableName) {
      push({ kind: "dropTable", name: name("dropTable", "the table name", tableName) });
    },

    renameTable(from, to) {
      push({ kind: "renameTable", from: name("renameTable", "the old name", from), to: name("renameTable", "the new name", to) });
    },

    addColumn(tableName, columnName, column) {
      const method = "addColumn";
      name(method, "the table name", tableName);
      name(method, "the column name", columnName);
      if (!isColumnBuilder(column)) throw bad(method, "the column must be a builder such as t.text().nullable()");
      if (column.config.dbName !== undefined && column.config.dbName !== columnName) {
        throw bad(method, `the column is named "${columnName}" but its builder says .name("${column.config.dbName}")`);
      }
      const table = buildTable(tableName, { [columnName]: column.name(columnName) });
      push({ kind: "addColumn", table: tableName, column: table.columns[0]! });
      if (table.primaryKey) push({ kind: "addPrimaryKey", table: tableName, primaryKey: table.primaryKey });
      for (const unique of table.uniques) push({ kind: "addUnique", table: tableName, unique });
      for (const index of table.indexes) push({ kind: "createIndex", table: tableName, index });
      for (const foreignKey of table.foreignKeys) push({ kind: "addForeignKey", table: tableName, foreignKey });
      for (const check of table.checks) push({ kind: "addCheck", table: tableName, check });
    },

    dropColumn(tableName, columnName) {
      push({ kind: "dropColumn", table: name("dropColumn", "the table name", tableName), name: name("dropColumn", "the column name", columnName) });
    },

    renameColumn(tableName, from, to) {
      const method = "renameColumn";
      push({ kind: "renameColumn", table: name(method, "the table name", tableName), from: name(method, "the old name", from), to: name(method, "the new name", to) });
    },

    alterColumn(tableName, columnName, changes) {
      const method = "alterColumn";
      name(method, "the table name", tableName);
      name(method, "the column name", columnName);
      if (changes === undefined) throw bad(method, "give the changes: { type, using, nullable, default, comment, serial }");
      const given = options(method, changes, ["type", "using", "nullable", "default", "comment", "serial"]);
      const result: Record<string, unknown> = { kind: "alterColumn", table: tableName, name: columnName };
      const type = given.type === undefined ? undefined : typeOf(method, given.type);
      if (type !== undefined) result.type = type;
      if (given.using !== undefined) {
        if (type === undefined) throw bad(method, "using is only for a type change: give type too");
        result.using = sqlText(method, "using", given.using);
      }
      const nullable = flag(method, "nullable", given.nullable);
      if (nullable !== undefined) result.nullable = nullable;
      if ("default" in given) result.default = defaultOf(method, given.default);
      if (given.comment !== undefined) {
        if (given.comment !== null && typeof given.comment !== "string") throw bad(method, "comment must be a string or null");
        result.comment = given.comment;
      }
      const serial = flag(method, "serial", given.serial);
      if (serial !== undefined) result.serial = serial;
      if (result.type === undefined && result.nullable === undefined && result.default === undefined && result.comment === undefined && result.serial === undefined) {
        throw bad(method, "nothing to change: give type, nullable, default, comment or serial");
      }
      push(result as unknown as Op);
    },

    createIndex(indexName, tableName, elements, indexOptions) {
      const method = "createIndex";
      const explicit = optionalName(method, "the index name", indexName);
      name(method, "the table name", tableName);
      if (!Array.isArray(elements) || elements.length === 0) throw bad(method, "give at least one column or expression to index");
      const given = options(method, indexOptions, ["unique", "where", "using", "concurrently"]);
      const parsed = elements.map((element) => indexElementOf(method, element));
      const unique = flag(method, "unique", given.unique) ?? false;
      const parts = parsed.map((element) => ("column" in element ? element.column : expressionSlug(element.expression)));
      const index: IndexSchema = {
        name: explicit ?? (unique ? constraintName.unique(tableName, parts) : constraintName.index(tableName, parts)),
        elements: parsed,
        unique,
      };
      if (given.where !== undefined) index.where = sqlText(method, "where", given.where);
      if (given.using !== undefined) index.using = name(method, "using", given.using);
      const concurrently = flag(method, "concurrently", given.concurrently);
      push({ kind: "createIndex", table: tableName, index, ...(concurrently ? { concurrently } : {}) });
    },

    dropIndex(indexName, dropOptions) {
      const method = "dropIndex";
      const given = options(method, dropOptions, ["table", "concurrently"]);
      const concurrently = flag(method, "concurrently", given.concurrently);
      push({
        kind: "dropIndex",
        name: name(method, "the index name", indexName),
        ...(given.table === undefined ? {} : { table: name(method, "table", given.table) }),
        ...(concurrently ? { concurrently } : {}),
      });
    },

    addPrimaryKey(keyName, tableName, columns) {
      const method = "addPrimaryKey";
      name(method, "the table name", tableName);
      push({
        kind: "addPrimaryKey",
        table: tableName,
        primaryKey: { name: optionalName(method, "the constraint name", keyName) ?? constraintName.primaryKey(tableName), columns: names(method, "columns", columns) },
      });
    },

    addUnique(uniqueName, tableName, columns) {
      const method = "addUnique";
      name(method, "the table name", tableName);
      const list = names(method, "columns", columns);
      push({ kind: "addUnique", table: tableName, unique: { name: optionalName(method, "the constraint name", uniqueName) ?? constraintName.unique(tableName, list), columns: list } });
    },

    addForeignKey(keyName, tableName, columns, refTable, refColumns, fkOptions) {
      const method = "addForeignKey";
      name(method, "the table name", tableName);
      name(method, "the referenced table", refTable);
      const given = options(method, fkOptions, ["onDelete", "onUpdate", "deferrable", "notValid"]);
      const list = names(method, "columns", columns);
      const refList = names(method, "referenced columns", refColumns);
      if (list.length !== refList.length) throw bad(method, `${list.length} column(s) but ${refList.length} referenced column(s)`);
      const notValid = flag(method, "notValid", given.notValid);
      push({
        kind: "addForeignKey",
        table: tableName,
        foreignKey: {
          name: optionalName(method, "the constraint name", keyName) ?? constraintName.foreignKey(tableName, list, refTable),
          columns: list,
          refTable,
          refColumns: refList,
          onDelete: action(method, "onDelete", given.onDelete),
          onUpdate: action(method, "onUpdate", given.onUpdate),
          ...deferrable(method, given.deferrable),
        },
        ...(notValid ? { notValid } : {}),
      });
    },

    addCheck(checkName, tableName, expression, checkOptions) {
      const method = "addCheck";
      const given = options(method, checkOptions, ["notValid"]);
      const notValid = flag(method, "notValid", given.notValid);
      push({
        kind: "addCheck",
        table: name(method, "the table name", tableName),
        check: { name: name(method, "the constraint name", checkName), expression: sqlText(method, "the check expression", expression) },
        ...(notValid ? { notValid } : {}),
      });
    },

    dropConstraint(constraint, tableName) {
      push({ kind: "dropConstraint", name: name("dropConstraint", "the constraint name", constraint), table: name("dropConstraint", "the table name", tableName) });
    },

    validateConstraint(constraint, tableName) {
      push({ kind: "validateConstraint", name: name("validateConstraint", "the constraint name", constraint), table: name("validateConstraint", "the table name", tableName) });
    },

    createEnum(enumName, values) {
      const method = "createEnum";
      name(method, "the enum name", enumName);
      if (!Array.isArray(values) || values.length === 0) throw bad(method, "give at least one value");
      const list = values.map((value) => name(method, "a value", value));
      const duplicate = list.find((value, i) => list.indexOf(value) !== i);
      if (duplicate !== undefined) throw bad(method, `the value "${duplicate}" is listed twice`);
      push({ kind: "createEnum", enum: { name: enumName, values: list } });
    },

    dropEnum(enumName) {
      push({ kind: "dropEnum", name: name("dropEnum", "the enum name", enumName) });
    },

    addEnumValue(enumName, value, valueOptions) {
      const method = "addEnumValue";
      const given = options(method, valueOptions, ["before", "after"]);
      if (given.before !== undefined && given.after !== undefined) throw bad(method, "give before or after, not both");
      push({
        kind: "addEnumValue",
        enum: name(method, "the enum name", enumName),
        value: name(method, "the value", value),
        ...(given.before === undefined ? {} : { before: name(method, "before", given.before) }),
        ...(given.after === undefined ? {} : { after: name(method, "after", given.after) }),
      });
    },

    renameEnumValue(enumName, from, to) {
      const method = "renameEnumValue";
      push({ kind: "renameEnumValue", enum: name(method, "the enum name", enumName), from: name(method, "the old value", from), to: name(method, "the new value", to) });
    },

    createExtension(extensionName) {
      push({ kind: "createExtension", name: name("createExtension", "the extension name", extensionName) });
    },

    dropExtension(extensionName) {
      push({ kind: "dropExtension", name: name("dropExtension", "the extension name", extensionName) });
    },

    execute(statement: ExecuteSql, params?: readonly unknown[] | ExecuteOptions, executeOptions?: ExecuteOptions) {
      const method = "execute";
      let list: readonly unknown[] | undefined;
      let opts = executeOptions;
      // op.execute(sql, { reverseSql }) reads naturally too.
      if (params !== undefined && !Array.isArray(params) && typeof params === "object" && executeOptions === undefined) opts = params as ExecuteOptions;
      else list = params as readonly unknown[] | undefined;
      if (list !== undefined && !Array.isArray(list)) throw bad(method, "params must be an array");
      const given = options(method, opts, ["reverseSql"]);
      push({
        kind: "execute",
        sql: dialectSqlText(method, "the SQL", statement),
        ...(list === undefined || list.length === 0 ? {} : { params: list.map((value, i) => toJsonSafe(value, `op.execute() param ${i + 1}`)) }),
        ...(given.reverseSql === undefined ? {} : { reverseSql: dialectSqlText(method, "reverseSql", given.reverseSql) }),
      });
    },

    bulkInsert(tableName, rows) {
      const method = "bulkInsert";
      name(method, "the table name", tableName);
      if (!Array.isArray(rows)) throw bad(method, "rows must be an array of objects");
      const converted = rows.map((row, i) => {
        if (typeof row !== "object" || row === null || Array.isArray(row)) throw bad(method, `row ${i + 1} must be an object keyed by column name`);
        return toJsonSafe(row, `op.bulkInsert("${tableName}") row ${i + 1}`) as Record<string, JsonValue>;
      });
      push({ kind: "bulkInsert", table: tableName, rows: converted });
    },

    run(description, fn) {
      name("run", "the description", description);
      if (typeof fn !== "function") throw bad("run", "give an async function (db) => { … }");
      push({ kind: "run", description, fn });
    },
  };

  return { op: Object.freeze(op), ops };
}
