/**
 * A schema snapshot → the TypeScript of a models module (`retort pull`): extensions, enums, then one
 * `table()` per table, then the relations its foreign keys imply. The output is meant to be read
 * and kept: camelCase keys with `.name()` only where snake_case would not give the database name,
 * constraint and index names only where they differ from the naming convention, column-level
 * pieces on the column and the rest in the extras callback.
 *
 * Loading the file and building its snapshot (schemaFromModels) gives back the input, up to what
 * the differ treats as equal (the round-trip tests check it on every backend).
 */
import { RetortError } from "../errors.js";
import { mentionsColumn } from "../operations/expressions.js";
import { constraintName, snakeCase } from "../schema/naming.js";
import { extensionsOf, type CheckSchema, type ColumnSchema, type ForeignKeySchema, type IndexSchema, type Schema, type TableSchema } from "../schema/snapshot.js";
import { foreignKeyOptions, IDENTIFIER, jsKey, jsString, jsValue, Renderer } from "./render.js";
import { conventionalForeignKeyName, conventionalIndexName } from "./renderable.js";

export interface RenderModelsOptions {
  /** The module the models import from (default "retort-db"). */
  importFrom?: string;
  /** One level of indentation (default two spaces). */
  indent?: string;
  /** A comment for the top of the file (one line per line). */
  header?: string;
}

/** Names a generated module must not declare (its imports, and what JavaScript reserves). */
const TAKEN = new Set([
  ...["t", "sql", "table", "enumType", "extension", "unique", "uniqueIndex", "index", "check", "primaryKey", "foreignKey", "asc", "desc", "relations"],
  ...["break", "case", "catch", "class", "const", "continue", "debugger", "default", "delete", "do", "else", "enum", "export", "extends", "false", "finally", "for", "function", "if", "import", "in", "instanceof", "new", "null", "return", "super", "switch", "this", "throw", "true", "try", "typeof", "var", "void", "while", "with", "yield", "let", "static", "implements", "interface", "package", "private", "protected", "public", "await", "arguments", "eval", "undefined", "NaN", "Infinity"],
]);

/** `guild_members` → `guildMembers`; what is left that is not an identifier character becomes `_`. */
export function camelCase(name: string): string {
  const parts = name.split("_");
  let out = parts[0]!;
  for (const part of parts.slice(1)) out += part === "" ? "_" : part[0]!.toUpperCase() + part.slice(1);
  out = out.replace(/[^A-Za-z0-9_$]/g, "_");
  return /^[0-9]/.test(out) || out === "" ? `_${out}` : out;
}

/** A name not yet in `used` (`name`, `name2`, `name3`…), added to it. */
function fresh(name: string, used: Set<string>): string {
  let candidate = name;
  for (let n = 2; used.has(candidate); n++) candidate = `${name}${n}`;
  used.add(candidate);
  return candidate;
}

/** The models module for `schema`. */
export function renderModels(schema: Schema, options: RenderModelsOptions = {}): string {
  return new ModelsRenderer(schema, options).render();
}

interface TablePlan {
  table: TableSchema;
  variable: string;
  /** Column name → TS key. */
  keys: Map<string, string>;
}

class ModelsRenderer {
  private readonly code: Renderer;
  private readonly indent: string;
  private readonly enumVars = new Map<string, string>();
  private readonly extensionVars = new Map<string, string>();
  private readonly tables = new Map<string, TablePlan>();

  constructor(
    private readonly schema: Schema,
    private readonly options: RenderModelsOptions,
  ) {
    this.indent = options.indent ?? "  ";
    this.code = new Renderer(this.indent);
    const used = new Set(TAKEN);
    // "uuid-ossp" → uuidOssp: a hyphen separates words like an underscore.
    for (const name of extensionsOf(schema)) this.extensionVars.set(name, fresh(camelCase(name.replace(/-/g, "_")), used));
    for (const e of schema.enums) this.enumVars.set(e.name, fresh(camelCase(e.name), used));
    for (const table of schema.tables) {
      const keys = new Map<string, string>();
      const usedKeys = new Set(["$"]);
      for (const column of table.columns) keys.set(column.name, fresh(camelCase(column.name), usedKeys));
      this.tables.set(table.name, { table, variable: fresh(camelCase(table.name), used), keys });
    }
  }

  render(): string {
    const blocks: string[] = [];
    const extensions = [...this.extensionVars].map(([name, variable]) => `export const ${variable} = ${this.code.use("extension")}(${jsString(name)});`);
    if (extensions.length > 0) blocks.push(extensions.join("\n"));
    for (const e of this.schema.enums) {
      if (e.values.length === 0) {
        throw new RetortError("RETORT_UNSUPPORTED", `enum "${e.name}" has no values, which a model cannot declare`, {
          hint: `Add a value to it (ALTER TYPE ... ADD VALUE) or drop the type, then pull again.`,
        });
      }
      blocks.push(`export const ${this.enumVars.get(e.name)} = ${this.code.use("enumType")}(${jsString(e.name)}, ${jsValue(e.values, this.indent)});`);
    }
    for (const plan of this.tables.values()) blocks.push(this.table(plan));
    blocks.push(...this.relations());
    const imports = this.code.importList();
    const lines: string[] = [];
    if (this.options.header) lines.push(...this.options.header.split("\n").map((line) => `// ${line}`.trimEnd()));
    lines.push(`import { ${imports.join(", ")} } from ${jsString(this.options.importFrom ?? "retort-db")};`);
    return `${lines.join("\n")}\n\n${blocks.join("\n\n")}\n`;
  }

  // -------------------------------------------------------------------------------------------
  // one table

  private table(plan: TablePlan): string {
    const { table, keys } = plan;
    const i1 = this.indent;
    const i2 = i1.repeat(2);
    const name = table.name;
    const param = "c";
    const ref = (column: string) => {
      const key = keys.get(column)!;
      return IDENTIFIER.test(key) ? `${param}.${key}` : `${param}[${jsString(key)}]`;
    };

    // What goes on the columns themselves.
    const pk = table.primaryKey;
    const pkColumn = pk && pk.columns.length === 1 ? pk.columns[0] : undefined;
    const inlineUnique = new Map<string, string>();
    for (const unique of table.uniques) if (unique.columns.length === 1 && !inlineUnique.has(unique.columns[0]!)) inlineUnique.set(unique.columns[0]!, unique.name);
    const inlineIndex = new Map<string, IndexSchema>();
    for (const index of table.indexes) {
      const element = index.elements[0]!;
      if (!index.unique && index.where === undefined && index.elements.length === 1 && "column" in element && element.order === undefined && element.opclass === undefined && !inlineIndex.has(element.column)) {
        inlineIndex.set(element.column, index);
      }
    }
    const inlineReference = new Map<string, ForeignKeySchema>();
    for (const fk of table.foreignKeys) if (fk.columns.length === 1 && !inlineReference.has(fk.columns[0]!)) inlineReference.set(fk.columns[0]!, fk);
    const inlineChecks = this.columnChecks(table);

    const columnLines = table.columns.map((column) => {
      let builder = this.columnType(column);
      if (pkColumn === column.name) builder += pk!.name === constraintName.primaryKey(name) ? ".primaryKey()" : `.primaryKey({ name: ${jsString(pk!.name)} })`;
      const fk = inlineReference.get(column.name);
      if (fk) builder += this.reference(name, fk);
      if (column.nullable && pkColumn !== column.name) builder += ".nullable()";
      builder += this.code.defaultCall(column);
      const unique = inlineUnique.get(column.name);
      if (unique !== undefined) builder += unique === constraintName.unique(name, [column.name]) ? ".unique()" : `.unique(${jsString(unique)})`;
      const index = inlineIndex.get(column.name);
      if (index) {
        const parts: string[] = [];
        if (index.name !== conventionalIndexName(name, index)) parts.push(`name: ${jsString(index.name)}`);
        if (index.using !== undefined) parts.push(`using: ${jsString(index.using)}`);
        builder += parts.length ? `.index({ ${parts.join(", ")} })` : ".index()";
      }
      for (const check of inlineChecks.get(column.name) ?? []) builder += check.named ? `.check(${this.code.sql(check.expression)}, ${jsString(check.name)})` : `.check(${this.code.sql(check.expression)})`;
      if (column.comment !== undefined) builder += `.comment(${jsString(column.comment)})`;
      const key = keys.get(column.name)!;
      if (snakeCase(key) !== column.name) builder += `.name(${jsString(column.name)})`;
      return `${jsKey(key)}: ${builder},`;
    });

    // The extras callback.
    const extras: string[] = [];
    if (pk && pkColumn === undefined) {
      extras.push(`${this.code.use("primaryKey")}(${pk.columns.map(ref).join(", ")})${pk.name === constraintName.primaryKey(name) ? "" : `.name(${jsString(pk.name)})`}`);
    }
    for (const unique of table.uniques) {
      if (unique.columns.length === 1 && inlineUnique.get(unique.columns[0]!) === unique.name) continue;
      const named = unique.name === constraintName.unique(name, unique.columns) ? "" : `.name(${jsString(unique.name)})`;
      extras.push(`${this.code.use("unique")}(${unique.columns.map(ref).join(", ")})${named}`);
    }
    for (const index of table.indexes) {
      const element = index.elements[0]!;
      if ("column" in element && inlineIndex.get(element.column) === index) continue;
      const targets = index.elements.map((item) => this.code.indexTarget(item, ref));
      const plainColumns = index.elements.every((item) => "column" in item && item.order === undefined && item.opclass === undefined);
      // unique() on plain columns alone is a constraint: a unique index of those says uniqueIndex().
      const builder = !index.unique ? "index" : plainColumns && index.where === undefined && index.using === undefined ? "uniqueIndex" : "unique";
      let code = `${this.code.use(builder)}(${targets.join(", ")})`;
      if (index.where !== undefined) code += `.where(${this.code.sql(index.where)})`;
      if (index.using !== undefined) code += `.using(${jsString(index.using)})`;
      if (index.name !== conventionalIndexName(name, index)) code += `.name(${jsString(index.name)})`;
      extras.push(code);
    }
    for (const fk of table.foreignKeys) {
      if (fk.columns.length === 1 && inlineReference.get(fk.columns[0]!) === fk) continue;
      const target = this.tables.get(fk.refTable);
      const targets = target ? fk.refColumns.map((column) => `${target.variable}.${target.keys.get(column) ?? camelCase(column)}`) : [];
      extras.push(`${this.code.use("foreignKey")}([${fk.columns.map(ref).join(", ")}], () => [${targets.join(", ")}]${this.foreignKeyOptions(name, fk)})`);
    }
    for (const check of table.checks) {
      if ([...inlineChecks.values()].some((list) => list.some((item) => item.name === check.name))) continue;
      const prefix = `ck_${name}_`;
      const suffix = check.name.startsWith(prefix) ? check.name.slice(prefix.length) : "";
      if (suffix !== "" && constraintName.check(name, suffix) === check.name) extras.push(`${this.code.use("check")}(${jsString(suffix)}, ${this.code.sql(check.expression)})`);
      else extras.push(`${this.code.use("check")}(${jsString(check.name)}, ${this.code.sql(check.expression)}).name(${jsString(check.name)})`);
    }

    this.code.use("table");
    const head = `export const ${plan.variable} = table(`;
    if (extras.length === 0 && table.comment === undefined) {
      return [`${head}${jsString(name)}, {`, ...columnLines.map((line) => `${i1}${line}`), "});"].join("\n");
    }
    const lines = [head, `${i1}${jsString(name)},`, `${i1}{`, ...columnLines.map((line) => `${i2}${line}`), `${i1}},`];
    if (extras.length > 0) {
      const usesColumns = extras.some((extra) => extra.includes(`${param}.`) || extra.includes(`${param}[`));
      const callback = usesColumns ? `(${param}) =>` : "() =>";
      const single = `${i1}${callback} [${extras.join(", ")}],`;
      if (single.length <= 100) lines.push(single);
      else lines.push(`${i1}${callback} [`, ...extras.map((extra) => `${i2}${extra},`), `${i1}],`);
    } else {
      lines.push(`${i1}undefined,`);
    }
    if (table.comment !== undefined) lines.push(`${i1}{ comment: ${jsString(table.comment)} },`);
    lines.push(");");
    return lines.join("\n");
  }

  /** `t.bigint()`, `mood.column()`, identity folded in. */
  private columnType(column: ColumnSchema): string {
    let code = column.type.kind === "enum" ? `${this.enumVars.get(column.type.name) ?? this.missingEnum(column.type.name)}.column()` : this.code.typeBuilder(column.type, column.serial === true);
    if (column.identity !== undefined) code += column.identity === "always" ? ".identity({ always: true })" : ".identity()";
    return code;
  }

  private missingEnum(name: string): never {
    throw new RetortError("RETORT_UNSUPPORTED", `a column uses enum "${name}", which is not in the schema being pulled`, {
      hint: "Pull the schema that defines the enum, or change the column's type.",
    });
  }

  private foreignKeyOptions(table: string, fk: ForeignKeySchema): string {
    const parts = foreignKeyOptions(fk);
    if (fk.name !== conventionalForeignKeyName(table, fk)) parts.push(`name: ${jsString(fk.name)}`);
    return parts.length ? `, { ${parts.join(", ")} }` : "";
  }

  /** `.references(() => guilds.id, …)`, or by database names when the target is not being pulled. */
  private reference(table: string, fk: ForeignKeySchema): string {
    const target = this.tables.get(fk.refTable);
    const column = fk.refColumns[0]!;
    const key = target?.keys.get(column);
    const pointer = target && key !== undefined ? `() => ${target.variable}${IDENTIFIER.test(key) ? `.${key}` : `[${jsString(key)}]`}` : jsString(`${fk.refTable}.${column}`);
    return `.references(${pointer}${this.foreignKeyOptions(table, fk)})`;
  }

  /**
   * Checks that mention exactly one column go on that column, in order; the name is written
   * unless it is the one the column's position would give (ck_<table>_<column>, then _2, _3…).
   */
  private columnChecks(table: TableSchema): Map<string, Array<CheckSchema & { named: boolean }>> {
    const out = new Map<string, Array<CheckSchema & { named: boolean }>>();
    for (const check of table.checks) {
      const mentioned = table.columns.filter((column) => mentionsColumn(check.expression, column.name));
      if (mentioned.length !== 1) continue;
      const column = mentioned[0]!.name;
      const list = out.get(column) ?? [];
      const conventional = constraintName.check(table.name, list.length === 0 ? column : `${column}_${list.length + 1}`);
      list.push({ ...check, named: check.name !== conventional });
      out.set(column, list);
    }
    return out;
  }

  // -------------------------------------------------------------------------------------------
  // relations

  /** `one` on the referencing table, `many` on the referenced one, per foreign key. */
  private relations(): string[] {
    const byTable = new Map<string, string[]>();
    const names = new Map<string, Set<string>>();
    const add = (table: string, name: string, code: string) => {
      let used = names.get(table);
      if (!used) {
        const plan = this.tables.get(table)!;
        names.set(table, (used = new Set()));
        // Relation names share `with: { … }` with nothing else, but keep them off column keys for readability.
        for (const key of plan.keys.values()) used.add(key);
      }
      const list = byTable.get(table) ?? [];
      list.push(`${fresh(name, used)}: ${code}`);
      byTable.set(table, list);
    };
    for (const plan of this.tables.values()) {
      for (const fk of plan.table.foreignKeys) {
        const target = this.tables.get(fk.refTable);
        if (!target) continue;
        const between = plan.table.foreignKeys.filter((other) => other.refTable === fk.refTable).length;
        // `via` names a single foreign-key column; a second composite key to the same table cannot be told apart.
        const needsVia = between > 1 || fk.refTable === plan.table.name;
        if (needsVia && fk.columns.length !== 1) continue;
        const via = needsVia ? `, { via: ${plan.variable}.${plan.keys.get(fk.columns[0]!)} }` : "";
        const oneName = fk.columns.length === 1 && /_id$/.test(fk.columns[0]!) ? camelCase(fk.columns[0]!.slice(0, -3)) : target.variable;
        add(plan.table.name, oneName, `one(${target.variable}${via})`);
        add(target.table.name, needsVia ? `${plan.variable}By${upperFirst(plan.keys.get(fk.columns[0]!)!)}` : plan.variable, `many(${plan.variable}${via})`);
      }
    }
    const blocks: string[] = [];
    const used = new Set([...TAKEN, ...this.enumVars.values(), ...[...this.tables.values()].map((plan) => plan.variable)]);
    for (const plan of this.tables.values()) {
      const entries = byTable.get(plan.table.name);
      if (!entries) continue;
      const helpers = ["one", "many"].filter((helper) => entries.some((entry) => entry.includes(`: ${helper}(`)));
      const variable = fresh(`${plan.variable}Relations`, used);
      const body = entries.map((entry) => `${this.indent}${entry},`).join("\n");
      blocks.push(`export const ${variable} = ${this.code.use("relations")}(${plan.variable}, ({ ${helpers.join(", ")} }) => ({\n${body}\n}));`);
    }
    return blocks;
  }
}

function upperFirst(text: string): string {
  return text === "" ? text : text[0]!.toUpperCase() + text.slice(1);
}
