/**
 * Operations → the TypeScript of a migration's `upgrade` / `downgrade` bodies, written the way a
 * person writes them with the `op` API (see examples/community-bot/migrations): createTable with
 * `t.*` builders and an extras callback, `enumColumn("name")` for enum columns, sql`…` for SQL,
 * names only where they differ from the naming convention. Running the rendered code records the
 * same operations (the tests check it).
 *
 * Destructive operations get a `// DESTRUCTIVE: …` comment. The downgrade is the reverse of the
 * upgrade: where a reverse cannot bring data back, a comment says so; where there is no reverse,
 * the downgrade body throws `irreversible: <operation>`. An enum value added by the upgrade is
 * removed in the downgrade by rebuilding the type (Postgres cannot drop an enum value).
 */
import { RetortError, isRetortError } from "../errors.js";
import { applyOperation } from "../operations/apply.js";
import { annotateOperation, reverseOperation } from "../operations/reverse.js";
import { Op, type DataOp, type DialectSql } from "../operations/types.js";
import { constraintName, snakeCase } from "../schema/naming.js";
import type { ColumnSchema, ColumnType, DefaultValue, Dialect, ForeignKeySchema, IndexElement, IndexSchema, JsonValue, Schema, TableSchema } from "../schema/snapshot.js";
import { compareSchemas, type CompareOptions } from "./compare.js";
import type { RenameDecision } from "./renames.js";
import { conventionalForeignKeyName, conventionalIndexName, inlineForeignKeys, isBareUniqueIndex } from "./renderable.js";
import { destructiveReason, isWidening } from "./safety.js";

export interface RenderOptions {
  /** One level of indentation (default two spaces). */
  indent?: string;
}

export interface RenderedOperations {
  /** Statements, unindented (the migration template indents them). */
  body: string;
  /** Names to import from "retort-db" (sorted): t, sql, enumColumn, index, unique… */
  imports: string[];
}

/** One operation to render, with comments above it; `code` replaces the statement (a generated stub). */
export interface RenderItem {
  op: Op;
  comments?: string[];
  code?: string[];
}
type Item = RenderItem;

/** Render operations as `op.*` statements. */
export function renderOperations(ops: readonly Op[], options: RenderOptions = {}): RenderedOperations {
  const renderer = new Renderer(options.indent ?? "  ");
  const body = renderer.items(ops.map((op) => ({ op })));
  return { body, imports: renderer.importList() };
}

// ---------------------------------------------------------------------------------------------
// JavaScript literals

export const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const RESERVED_KEYS = new Set(["__proto__"]);

export function jsString(value: string): string {
  return JSON.stringify(value);
}

/** `onDelete: "cascade"`, `deferrable: "deferred"`…: a key's options that differ from the default, for `op.addForeignKey` and `.references()` alike. */
export function foreignKeyOptions(fk: ForeignKeySchema): string[] {
  const options: string[] = [];
  if (fk.onDelete !== "no action") options.push(`onDelete: ${jsString(fk.onDelete)}`);
  if (fk.onUpdate !== "no action") options.push(`onUpdate: ${jsString(fk.onUpdate)}`);
  if (fk.deferrable !== undefined) options.push(`deferrable: ${jsString(fk.deferrable)}`);
  return options;
}

export function jsKey(key: string): string {
  if (RESERVED_KEYS.has(key)) return `[${jsString(key)}]`;
  return IDENTIFIER.test(key) ? key : jsString(key);
}

/** A JSON value as a JavaScript literal: `{ messageIds: [] }`. */
export function jsValue(value: JsonValue, indent = "  ", depth = 0): string {
  if (value === null || typeof value === "boolean") return String(value);
  if (typeof value === "number") return Object.is(value, -0) ? "-0" : String(value);
  if (typeof value === "string") return jsString(value);
  const inner = indent.repeat(depth + 1);
  const outer = indent.repeat(depth);
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    const items = value.map((item) => jsValue(item, indent, depth + 1));
    const line = `[${items.join(", ")}]`;
    return line.length <= 80 && !line.includes("\n") ? line : `[\n${items.map((item) => `${inner}${item},`).join("\n")}\n${outer}]`;
  }
  const entries = Object.entries(value);
  if (entries.length === 0) return "{}";
  const items = entries.map(([key, item]) => `${jsKey(key)}: ${jsValue(item, indent, depth + 1)}`);
  const line = `{ ${items.join(", ")} }`;
  return line.length <= 80 && !line.includes("\n") ? line : `{\n${items.map((item) => `${inner}${item},`).join("\n")}\n${outer}}`;
}

/** SQL text as a sql`…` template (backslashes, backticks and `${` escaped). */
function sqlTemplate(text: string): string {
  return `sql\`${text.replaceAll("\\", "\\\\").replaceAll("`", "\\`").replaceAll("${", "\\${")}\``;
}

// ---------------------------------------------------------------------------------------------
// the renderer

/** Writes DSL code and remembers the names it used (for the imports). Shared with render-models.ts. */
export class Renderer {
  private readonly used = new Set<string>();

  constructor(private readonly indent: string) {}

  importList(): string[] {
    return [...this.used].sort();
  }

  use(name: string): string {
    this.used.add(name);
    return name;
  }

  sql(text: string): string {
    this.use("sql");
    return sqlTemplate(text);
  }

  /** Raw SQL for op.execute: sql`…`, or { postgres: sql`…`, sqlite: sql`…` } per dialect. */
  private dialectSql(text: DialectSql): string {
    if (typeof text === "string") return this.sql(text);
    return `{ ${Object.entries(text).map(([dialect, sql]) => `${dialect}: ${this.sql(sql!)}`).join(", ")} }`;
  }

  items(items: readonly Item[]): string {
    const blocks: string[] = [];
    for (const item of items) {
      const lines: string[] = [];
      for (const comment of item.comments ?? []) lines.push(...comment.split("\n").map((line) => `// ${line}`));
      const reason = destructiveReason(item.op);
      if (reason !== undefined) lines.push(`// DESTRUCTIVE: ${reason}`);
      lines.push(...(item.code ?? this.statement(item.op)));
      blocks.push(lines.join("\n"));
    }
    // Multi-line statements stand apart; one-liners stay together.
    let out = "";
    blocks.forEach((block, i) => {
      if (i > 0) out += block.includes("\n") || blocks[i - 1]!.includes("\n") ? "\n\n" : "\n";
      out += block;
    });
    return out;
  }

  /** One operation as one or more statements. */
  statement(op: Op): string[] {
    const s = jsString;
    switch (op.kind) {
      case "createTable":
        return this.createTable(op.table);
      case "dropTable":
        return [`op.dropTable(${s(op.name)});`];
      case "renameTable":
        return [`op.renameTable(${s(op.from)}, ${s(op.to)});`];
      case "addColumn":
        return [`op.addColumn(${s(op.table)}, ${s(op.column.name)}, ${this.columnBuilder(op.table, op.column, false)});`];
      case "dropColumn":
        return [`op.dropColumn(${s(op.table)}, ${s(op.name)});`];
      case "renameColumn":
        return [`op.renameColumn(${s(op.table)}, ${s(op.from)}, ${s(op.to)});`];
      case "alterColumn": {
        const fields: string[] = [];
        if (op.type !== undefined) fields.push(`type: ${this.typeBuilder(op.type, false)}`);
        if (op.using !== undefined) fields.push(`using: ${s(op.using)}`);
        if (op.nullable !== undefined) fields.push(`nullable: ${op.nullable}`);
        if (op.default !== undefined) fields.push(`default: ${this.alterDefault(op.default)}`);
        if (op.comment !== undefined) fields.push(`comment: ${op.comment === null ? "null" : s(op.comment)}`);
        if (op.serial !== undefined) fields.push(`serial: ${op.serial}`);
        return [`op.alterColumn(${s(op.table)}, ${s(op.name)}, { ${fields.join(", ")} });`];
      }
      case "createIndex": {
        const index = op.index;
        const name = index.name === conventionalIndexName(op.table, index) ? "null" : s(index.name);
        const elements = `[${index.elements.map((element) => this.indexElement(element)).join(", ")}]`;
        const options: string[] = [];
        if (index.unique) options.push("unique: true");
        if (index.where !== undefined) options.push(`where: ${this.sql(index.where)}`);
        if (index.using !== undefined) options.push(`using: ${s(index.using)}`);
        if (op.concurrently) options.push("concurrently: true");
        return [`op.createIndex(${name}, ${s(op.table)}, ${elements}${options.length ? `, { ${options.join(", ")} }` : ""});`];
      }
      case "dropIndex": {
        const options: string[] = [];
        if (op.table !== undefined) options.push(`table: ${s(op.table)}`);
        if (op.concurrently) options.push("concurrently: true");
        return [`op.dropIndex(${s(op.name)}${options.length ? `, { ${options.join(", ")} }` : ""});`];
      }
      case "addPrimaryKey": {
        const name = op.primaryKey.name === constraintName.primaryKey(op.table) ? "null" : s(op.primaryKey.name);
        return [`op.addPrimaryKey(${name}, ${s(op.table)}, ${this.columnList(op.primaryKey.columns)});`];
      }
      case "addUnique": {
        const name = op.unique.name === constraintName.unique(op.table, op.unique.columns) ? "null" : s(op.unique.name);
        return [`op.addUnique(${name}, ${s(op.table)}, ${this.columnList(op.unique.columns)});`];
      }
      case "addForeignKey": {
        const fk = op.foreignKey;
        const name = fk.name === conventionalForeignKeyName(op.table, fk) ? "null" : s(fk.name);
        const options = foreignKeyOptions(fk);
        if (op.notValid) options.push("notValid: true");
        return [
          `op.addForeignKey(${name}, ${s(op.table)}, ${this.columnList(fk.columns)}, ${s(fk.refTable)}, ${this.columnList(fk.refColumns)}${
            options.length ? `, { ${options.join(", ")} }` : ""
          });`,
        ];
      }
      case "addCheck":
        return [`op.addCheck(${s(op.check.name)}, ${s(op.table)}, ${this.sql(op.check.expression)}${op.notValid ? ", { notValid: true }" : ""});`];
      case "dropConstraint":
        return [`op.dropConstraint(${s(op.name)}, ${s(op.table)});`];
      case "validateConstraint":
        return [`op.validateConstraint(${s(op.name)}, ${s(op.table)});`];
      case "createEnum":
        return [`op.createEnum(${s(op.enum.name)}, ${jsValue(op.enum.values, this.indent)});`];
      case "dropEnum":
        return [`op.dropEnum(${s(op.name)});`];
      case "addEnumValue": {
        const position = op.before !== undefined ? `, { before: ${s(op.before)} }` : op.after !== undefined ? `, { after: ${s(op.after)} }` : "";
        return [`op.addEnumValue(${s(op.enum)}, ${s(op.value)}${position});`];
      }
      case "renameEnumValue":
        return [`op.renameEnumValue(${s(op.enum)}, ${s(op.from)}, ${s(op.to)});`];
      case "createExtension":
        return [`op.createExtension(${s(op.name)});`];
      case "dropExtension":
        return [`op.dropExtension(${s(op.name)});`];
      case "execute": {
        const args = [this.dialectSql(op.sql)];
        if (op.params !== undefined && op.params.length > 0) args.push(jsValue([...op.params], this.indent));
        if (op.reverseSql !== undefined) args.push(`{ reverseSql: ${this.dialectSql(op.reverseSql)} }`);
        return [`op.execute(${args.join(", ")});`];
      }
      case "bulkInsert":
        return [`op.bulkInsert(${s(op.table)}, ${jsValue(op.rows as JsonValue[], this.indent)});`];
      case "run":
        return [
          `// op.run(${s(op.description)}, …) holds a function and cannot be written out: write it by hand.`,
          `throw new Error(${s(`op.run(${op.description}) must be written by hand`)});`,
        ];
    }
  }

  private columnList(columns: readonly string[]): string {
    return columns.length === 1 ? jsString(columns[0]!) : jsValue([...columns]);
  }

  private indexElement(element: IndexElement): string {
    const more = `${element.order === undefined ? "" : `, order: ${jsString(element.order)}`}${element.opclass === undefined ? "" : `, opclass: ${jsString(element.opclass)}`}`;
    if ("column" in element) return more === "" ? jsString(element.column) : `{ column: ${jsString(element.column)}${more} }`;
    return more === "" ? this.sql(element.expression) : `{ expression: ${jsString(element.expression)}${more} }`;
  }

  private alterDefault(value: DefaultValue | null): string {
    if (value === null) return "null";
    switch (value.kind) {
      case "now":
        return `${this.use("serverDefault")}.now`;
      case "random-uuid":
        return `${this.use("serverDefault")}.randomUuid`;
      case "sql":
        return this.sql(value.sql);
      case "literal":
        return jsValue(value.value, this.indent, 1);
    }
  }

  // -------------------------------------------------------------------------------------------
  // columns

  /** One key of an index in a models file: `c.slug`, `desc(c.at)`, `opclass(c.slug, "varchar_pattern_ops")`, `sql\`lower(email)\``. */
  indexTarget(item: IndexElement, ref: (column: string) => string): string {
    let target = "column" in item ? ref(item.column) : this.sql(item.expression);
    if (item.opclass !== undefined) target = `${this.use("opclass")}(${target}, ${jsString(item.opclass)})`;
    return item.order === undefined ? target : `${this.use(item.order)}(${target})`;
  }

  /** `t.bigint()`, `enumColumn("mood")`… (`serial`: t.smallserial()/t.serial()/t.bigserial()). */
  typeBuilder(type: ColumnType, serial: boolean): string {
    const t = () => this.use("t");
    switch (type.kind) {
      case "enum":
        return `${this.use("enumColumn")}(${jsString(type.name)})`;
      case "varchar":
        return `${t()}.varchar(${type.length ?? ""})`;
      case "timestamptz":
      case "timestamp":
      case "time":
        return `${t()}.${type.kind}(${type.precision ?? ""})`;
      case "numeric":
        if (type.precision === undefined) return type.scale === undefined ? `${t()}.numeric()` : `${t()}.numeric(undefined, ${type.scale})`;
        return type.scale === undefined ? `${t()}.numeric(${type.precision})` : `${t()}.numeric(${type.precision}, ${type.scale})`;
      case "smallint":
        return serial ? `${t()}.smallserial()` : `${t()}.smallint()`;
      case "integer":
        return serial ? `${t()}.serial()` : `${t()}.integer()`;
      case "bigint":
        return serial ? `${t()}.bigserial()` : `${t()}.bigint()`;
      case "jsonb":
      case "json":
        return `${t()}.${type.kind}()`;
      case "array":
        return type.element.kind === "text" ? `${t()}.textArray()` : `${t()}.array(${this.typeBuilder(type.element, false)})`;
      default:
        return `${t()}.${type.kind}()`;
    }
  }

  /** The argument of `.default(…)` for a constant of `type`, exactly as the snapshot holds it. */
  literalDefault(type: ColumnType, value: JsonValue): string {
    const exact = (text: string) => text;
    const cast = () => `${jsValue(value, this.indent, 1)} as never`;
    if (value === null) return "null as never";
    switch (type.kind) {
      case "text":
      case "varchar":
      case "enum":
      case "uuid":
      case "date":
      case "time":
      case "numeric":
      case "inet":
        return typeof value === "string" ? exact(jsString(value)) : cast();
      case "smallint":
      case "integer":
      case "real":
      case "double":
        return typeof value === "number" ? exact(String(value)) : cast();
      case "bigint":
        return typeof value === "string" && /^-?\d+$/.test(value) && String(BigInt(value)) === value ? `${value}n` : cast();
      case "boolean":
        return typeof value === "boolean" ? String(value) : cast();
      case "timestamptz":
      case "timestamp":
        if (typeof value === "string") {
          const date = new Date(value);
          if (!Number.isNaN(date.getTime()) && date.toISOString() === value) return `new Date(${jsString(value)})`;
        }
        return cast();
      case "json":
      case "jsonb":
        return jsValue(value, this.indent, 1);
      case "bytea":
        return typeof value === "string" && /^([0-9a-f]{2})*$/.test(value) ? `Buffer.from(${jsString(value)}, "hex")` : cast();
      case "array": {
        if (!Array.isArray(value)) return cast();
        // Each element as a default of the element type; an element that needs a cast casts the whole array.
        const items = value.map((item) => (item === null ? undefined : this.literalDefault(type.element, item)));
        return items.every((item) => item !== undefined && !item.endsWith(" as never")) ? `[${items.join(", ")}]` : cast();
      }
    }
  }

  defaultCall(column: ColumnSchema): string {
    const value = column.default;
    if (value === undefined) return "";
    switch (value.kind) {
      case "now":
        if (column.type.kind === "timestamptz" || column.type.kind === "timestamp") return ".defaultNow()";
        return `.default(${this.sql("now()")})`;
      case "random-uuid":
        if (column.type.kind === "uuid") return ".defaultRandom()";
        return `.default(${this.sql("gen_random_uuid()")})`;
      case "sql":
        return `.default(${this.sql(value.sql)})`;
      case "literal":
        return `.default(${this.literalDefault(column.type, value.value)})`;
    }
  }

  /**
   * A column builder. `inline` holds what createTable writes on the column itself (primary key,
   * unique, index, reference, check); addColumn gets the bare column.
   */
  private columnBuilder(
    table: string,
    column: ColumnSchema,
    inline: false | { primaryKey: boolean; unique?: string | null; index?: IndexSchema; reference?: TableSchema["foreignKeys"][number]; check?: string },
  ): string {
    let code = this.typeBuilder(column.type, column.serial === true);
    if (column.identity !== undefined) code += column.identity === "always" ? ".identity({ always: true })" : ".identity()";
    if (inline && inline.primaryKey) code += ".primaryKey()";
    if (inline && inline.reference) {
      const fk = inline.reference;
      const options = foreignKeyOptions(fk);
      if (fk.name !== conventionalForeignKeyName(table, fk)) options.push(`name: ${jsString(fk.name)}`);
      code += `.references(${jsString(`${fk.refTable}.${fk.refColumns[0]}`)}${options.length ? `, { ${options.join(", ")} }` : ""})`;
    }
    if (column.nullable && !(inline && inline.primaryKey)) code += ".nullable()";
    code += this.defaultCall(column);
    if (inline && inline.unique !== undefined) code += inline.unique === null ? ".unique()" : `.unique(${jsString(inline.unique)})`;
    if (inline && inline.index) {
      const index = inline.index;
      const options: string[] = [];
      if (index.name !== conventionalIndexName(table, index)) options.push(`name: ${jsString(index.name)}`);
      if (index.using !== undefined) options.push(`using: ${jsString(index.using)}`);
      code += options.length ? `.index({ ${options.join(", ")} })` : ".index()";
    }
    if (inline && inline.check !== undefined) code += `.check(${this.sql(inline.check)})`;
    if (column.comment !== undefined) code += `.comment(${jsString(column.comment)})`;
    if (inline && snakeCase(columnKey(column.name)) !== column.name) code += `.name(${jsString(column.name)})`;
    return code;
  }

  // -------------------------------------------------------------------------------------------
  // createTable

  private createTable(table: TableSchema): string[] {
    const i1 = this.indent;
    const i2 = this.indent.repeat(2);
    const name = table.name;
    const after: DataOp[] = [];

    // What goes on the columns themselves.
    const pk = table.primaryKey;
    const pkColumn =
      pk && pk.columns.length === 1 && pk.name === constraintName.primaryKey(name) && table.columns.find((column) => column.name === pk.columns[0])?.nullable === false
        ? pk.columns[0]
        : undefined;
    const inlineUnique = new Map<string, TableSchema["uniques"][number]>();
    for (const unique of table.uniques) if (unique.columns.length === 1 && !inlineUnique.has(unique.columns[0]!)) inlineUnique.set(unique.columns[0]!, unique);
    const indexes = table.indexes.filter((index) => {
      if (!isBareUniqueIndex(index)) return true;
      after.push({ kind: "createIndex", table: name, index });
      return false;
    });
    const inlineIndex = new Map<string, IndexSchema>();
    for (const index of indexes) {
      const element = index.elements[0]!;
      if (!index.unique && index.where === undefined && index.elements.length === 1 && "column" in element && element.order === undefined && element.opclass === undefined && !inlineIndex.has(element.column)) {
        inlineIndex.set(element.column, index);
      }
    }
    const references = inlineForeignKeys(table).filter((fk) => !fk.refColumns[0]!.includes("."));
    for (const fk of table.foreignKeys) if (!references.includes(fk)) after.push({ kind: "addForeignKey", table: name, foreignKey: fk });
    const inlineCheck = new Map<string, TableSchema["checks"][number]>();
    for (const check of table.checks) {
      const column = table.columns.find((candidate) => constraintName.check(name, candidate.name) === check.name);
      if (column && !inlineCheck.has(column.name)) inlineCheck.set(column.name, check);
    }

    const columnLines = table.columns.map((column) => {
      const unique = inlineUnique.get(column.name);
      const fk = references.find((candidate) => candidate.columns[0] === column.name);
      const builder = this.columnBuilder(name, column, {
        primaryKey: pkColumn === column.name,
        ...(unique ? { unique: unique.name === constraintName.unique(name, [column.name]) ? null : unique.name } : {}),
        ...(inlineIndex.has(column.name) ? { index: inlineIndex.get(column.name)! } : {}),
        ...(fk ? { reference: fk } : {}),
        ...(inlineCheck.has(column.name) ? { check: inlineCheck.get(column.name)!.expression } : {}),
      });
      return `${jsKey(columnKey(column.name))}: ${builder},`;
    });

    // The extras callback.
    const param = /^[a-su-z]/.test(name) ? name[0]! : "c";
    const ref = (column: string) => (IDENTIFIER.test(columnKey(column)) ? `${param}.${columnKey(column)}` : `${param}[${jsString(columnKey(column))}]`);
    const extras: string[] = [];
    if (pk && pkColumn === undefined) {
      extras.push(`${this.use("primaryKey")}(${pk.columns.map(ref).join(", ")})${pk.name === constraintName.primaryKey(name) ? "" : `.name(${jsString(pk.name)})`}`);
    }
    for (const unique of table.uniques) {
      if (inlineUnique.get(unique.columns[0]!) === unique) continue;
      const named = unique.name === constraintName.unique(name, unique.columns) ? "" : `.name(${jsString(unique.name)})`;
      extras.push(`${this.use("unique")}(${unique.columns.map(ref).join(", ")})${named}`);
    }
    for (const index of indexes) {
      const element = index.elements[0]!;
      if ("column" in element && inlineIndex.get(element.column) === index) continue;
      const targets = index.elements.map((item) => this.indexTarget(item, ref));
      let code = `${this.use(index.unique ? "unique" : "index")}(${targets.join(", ")})`;
      if (index.where !== undefined) code += `.where(${this.sql(index.where)})`;
      if (index.using !== undefined) code += `.using(${jsString(index.using)})`;
      if (index.name !== conventionalIndexName(name, index)) code += `.name(${jsString(index.name)})`;
      extras.push(code);
    }
    for (const check of table.checks) {
      if ([...inlineCheck.values()].includes(check)) continue;
      const prefix = `ck_${name}_`;
      const suffix = check.name.startsWith(prefix) ? check.name.slice(prefix.length) : "";
      if (suffix !== "" && constraintName.check(name, suffix) === check.name) {
        extras.push(`${this.use("check")}(${jsString(suffix)}, ${this.sql(check.expression)})`);
      } else {
        extras.push(`${this.use("check")}(${jsString(check.name)}, ${this.sql(check.expression)}).name(${jsString(check.name)})`);
      }
    }

    const options = table.comment === undefined ? undefined : `{ comment: ${jsString(table.comment)} }`;
    const lines: string[] = [];
    if (extras.length === 0 && options === undefined) {
      lines.push(`op.createTable(${jsString(name)}, {`, ...columnLines.map((line) => `${i1}${line}`), "});");
    } else {
      lines.push("op.createTable(", `${i1}${jsString(name)},`, `${i1}{`, ...columnLines.map((line) => `${i2}${line}`), `${i1}},`);
      if (extras.length > 0) {
        const single = `${i1}(${param}) => [${extras.join(", ")}],`;
        if (single.length <= 110 && !single.includes("\n")) lines.push(single);
        else lines.push(`${i1}(${param}) => [`, ...extras.map((extra) => `${i2}${extra},`), `${i1}],`);
      }
      if (options !== undefined) lines.push(`${i1}${options},`);
      lines.push(");");
    }
    for (const op of after) lines.push(...this.statement(op));
    return lines;
  }
}

/** The createTable key for a database column name (when its snake_case is not the name, `.name()` is added). */
function columnKey(name: string): string {
  return name === "$" ? "_$" : name;
}

// ---------------------------------------------------------------------------------------------
// upgrade and downgrade bodies

export interface MigrationBodiesOptions extends RenderOptions {
  /** The schema before the upgrade: lets the downgrade remove added enum values and fill missing `previous` fields. */
  from?: Schema;
  /** For the enum-value downgrade (default "postgres"). */
  dialect?: Dialect;
  /** Rewrites each body's items before rendering (safe autogenerate: autogenerate/safe.ts). */
  rewrite?: { upgrade(items: RenderItem[]): RenderItem[]; downgrade(items: RenderItem[]): RenderItem[] };
}

export interface MigrationBodies {
  upgrade: string;
  downgrade: string;
  /** Names to import from "retort-db" for both bodies, sorted. */
  imports: string[];
  /** One line per destructive upgrade operation. */
  destructive: string[];
}

export interface AutogeneratedBodies extends MigrationBodies {
  ops: Op[];
  decisions: RenameDecision[];
  notes: string[];
}

/** The bodies of a migration doing `ops` (its downgrade reverses them). */
export function renderMigrationBodies(ops: readonly Op[], options?: MigrationBodiesOptions): MigrationBodies;
/** The bodies of a migration from schema `from` to schema `to` (compare, then render). */
export function renderMigrationBodies(from: Schema, to: Schema, options: MigrationBodiesOptions & CompareOptions): AutogeneratedBodies;
export function renderMigrationBodies(
  first: readonly Op[] | Schema,
  second?: MigrationBodiesOptions | Schema,
  third?: MigrationBodiesOptions & CompareOptions,
): MigrationBodies | AutogeneratedBodies {
  if (!Array.isArray(first)) {
    const from = first as Schema;
    const options = third!;
    const result = compareSchemas(from, second as Schema, options);
    return { ...bodies(result.ops, { ...options, from }), ops: result.ops, decisions: result.decisions, notes: result.notes };
  }
  return bodies(first as readonly Op[], (second as MigrationBodiesOptions | undefined) ?? {});
}

function bodies(ops: readonly Op[], options: MigrationBodiesOptions): MigrationBodies {
  const renderer = new Renderer(options.indent ?? "  ");
  const upgradeItems = ops.map((op): Item => ({ op }));
  const upgrade = renderer.items(options.rewrite ? options.rewrite.upgrade(upgradeItems) : upgradeItems);
  const destructive = ops.flatMap((op) => {
    const reason = destructiveReason(op);
    return reason === undefined ? [] : [`${Op.describe(op)}: ${reason}`];
  });
  const down = downgradeItems(ops, options);
  let downgrade: string;
  if ("irreversible" in down) {
    const { op, error } = down.irreversible;
    const lines = [`// ${Op.describe(op)} has no reverse: ${error.message.replace(/^.*? cannot be reversed: /, "")}`];
    if (error.hint) lines.push(`// ${error.hint}`);
    lines.push(`throw new Error(${jsString(`irreversible: ${Op.describe(op)}`)});`);
    downgrade = lines.join("\n");
  } else {
    downgrade = renderer.items(options.rewrite ? options.rewrite.downgrade(down.items) : down.items) || "// nothing to undo";
  }
  return { upgrade: upgrade || "// no changes", downgrade, imports: renderer.importList(), destructive };
}

/**
 * The operations of the downgrade of `ops`: each reversed, in reverse order; enum values the
 * upgrade added are removed by rebuilding the type (needs `from`). Throws RETORT_IRREVERSIBLE
 * naming the first operation (from the end) that has no reverse.
 */
export function downgradeOperations(ops: readonly Op[], options: { from?: Schema; dialect?: Dialect } = {}): Op[] {
  const down = downgradeItems(ops, options);
  if ("irreversible" in down) throw down.irreversible.error;
  return down.items.map((item) => item.op);
}

/** The downgrade as items: reversed operations with comments, or one irreversible stop. */
function downgradeItems(ops: readonly Op[], options: { from?: Schema; dialect?: Dialect }): { items: Item[] } | { irreversible: { op: Op; error: RetortError } } {
  // States before each operation, when the starting schema is known.
  let states: Schema[] | undefined;
  let annotated: Op[] = [...ops];
  if (options.from) {
    try {
      states = [];
      annotated = [];
      let schema = options.from;
      for (const op of ops) {
        states.push(schema);
        const full = annotateOperation(schema, op);
        annotated.push(full);
        schema = applyOperation(schema, full);
      }
      states.push(schema);
    } catch {
      states = undefined;
      annotated = [...ops];
    }
  }
  const items: Item[] = [];
  for (let i = annotated.length - 1; i >= 0; i--) {
    const op = annotated[i]!;
    if (op.kind === "addEnumValue") {
      // Consecutive values added to one enum are removed together (one rebuild).
      let first = i;
      while (first > 0 && annotated[first - 1]!.kind === "addEnumValue" && (annotated[first - 1] as typeof op).enum === op.enum) first--;
      const values = annotated.slice(first, i + 1).map((added) => (added as typeof op).value);
      if (!states) return { irreversible: { op, error: reverseError(op) } };
      const after = states[i + 1]!;
      const target: Schema = {
        ...after,
        enums: after.enums.map((e) => (e.name === op.enum ? { ...e, values: e.values.filter((value) => !values.includes(value)) } : e)),
      };
      const removal = compareSchemas(after, target, { dialect: options.dialect ?? "postgres" }).ops;
      const list = values.map((value) => `'${value}'`).join(", ");
      removal.forEach((removalOp, j) =>
        items.push({
          op: removalOp,
          ...(j === 0 ? { comments: [`Removes ${list} from enum "${op.enum}" (Postgres cannot drop an enum value: the type is made again; rows holding ${values.length === 1 ? "it" : "them"} make this fail).`] } : {}),
        }),
      );
      i = first;
      continue;
    }
    let reversed: Op;
    try {
      reversed = reverseOperation(op);
    } catch (error) {
      if (isRetortError(error, "RETORT_IRREVERSIBLE")) return { irreversible: { op, error } };
      throw error;
    }
    const comments: string[] = [];
    if (op.kind === "dropColumn") comments.push(`Restores column "${op.table}"."${op.name}"; its values are not restored.`);
    if (op.kind === "dropTable") comments.push(`Restores table "${op.name}"; its rows are not restored.`);
    if (op.kind === "alterColumn" && op.type !== undefined && op.previous?.type !== undefined && !isWidening(op.previous.type, op.type)) {
      comments.push(`Values the upgrade changed or cut when narrowing "${op.table}"."${op.name}" are not restored.`);
    }
    items.push({ op: reversed, ...(comments.length ? { comments } : {}) });
  }
  return { items };
}

function reverseError(op: Op): RetortError {
  try {
    reverseOperation(op);
  } catch (error) {
    if (error instanceof RetortError) return error;
  }
  return new RetortError("RETORT_IRREVERSIBLE", `${Op.describe(op)} cannot be reversed`);
}
