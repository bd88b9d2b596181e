/**
 * fast-check arbitraries for random schema snapshots and for pairs (A, B) of schemas one
 * migration apart — shared by the differ's property tests and the database property tests
 * (create → introspect → compare).
 *
 * Every schema is valid by construction (the fold accepts it) and creatable on the dialects
 * asked for: `dialect: "any"` (the default) keeps to what Postgres, PGlite and SQLite all accept
 * (identity only as a single-column integer primary key, SQL that both understand); expressions
 * are the kinds Postgres rewrites when it stores them (BETWEEN, IN lists, LIKE, casts on varchar),
 * so introspection exercises the normalizer.
 *
 * Pairs come from applying 1–4 random mutations to A: tables, columns, types, nullability,
 * defaults, comments, indexes, uniques, checks, foreign keys, enum values, and renames (table,
 * column, enum value) — renames come with the `RenameHints` that decide them. Mutations keep
 * both schemas valid; the pair's `mutations` say what was done (for failure messages).
 */
import fc from "fast-check";
import { applyOperations } from "../../src/operations/apply.js";
import { renameColumnIn } from "../../src/operations/expressions.js";
import type { Op } from "../../src/operations/types.js";
import { constraintName, expressionSlug } from "../../src/schema/naming.js";
import type { ColumnSchema, ColumnType, DefaultValue, EnumSchema, ForeignKeySchema, IndexSchema, JsonValue, ReferentialAction, Schema, TableSchema } from "../../src/schema/snapshot.js";
import type { RenameHints } from "../../src/autogenerate/renames.js";
import { printIdentifier } from "../../src/autogenerate/normalize.js";
import { mentionsColumn } from "../../src/operations/expressions.js";

export type ArbitraryDialect = "postgres" | "sqlite" | "any";

export interface SchemaArbitraryOptions {
  dialect?: ArbitraryDialect;
  /** At most this many tables (default 4). */
  maxTables?: number;
  /** At most this many columns besides the key columns (default 6). */
  maxColumns?: number;
}

export interface SchemaPair {
  from: Schema;
  to: Schema;
  /** Answers to every rename question of the pair (hints for the renames made, notRenames for the rest). */
  renames: RenameHints;
  /** What was done to `from` to get `to`. */
  mutations: string[];
}

export interface PairArbitraryOptions extends SchemaArbitraryOptions {
  /** Also change table comments (Postgres does it with op.execute, which the in-memory fold cannot see). */
  tableComments?: boolean;
  /** Also make renames (with their hints). Default true. */
  renames?: boolean;
}

// ---------------------------------------------------------------------------------------------
// drawing

type G = fc.GeneratorValue;

interface Draw {
  int(min: number, max: number): number;
  bool(chance?: number): boolean;
  pick<T>(items: readonly T[]): T;
}

function draw(g: G): Draw {
  return {
    int: (min, max) => g(fc.integer, { min, max }),
    bool: (chance = 0.5) => g(fc.integer, { min: 0, max: 999 }) < chance * 1000,
    pick: (items) => items[g(fc.integer, { min: 0, max: items.length - 1 })]!,
  };
}

const TABLE_NAMES = ["accounts", "orders", "items", "tags", "users", "posts", "teams", "events", "files", "notes", "Audit Log"];
const COLUMN_NAMES = ["name", "title", "amount", "score", "flag", "body", "code", "label", "price", "qty", "kind", "data", "starts_on", "opened", "payload", "note", "userRef", "order", "rank", "size"];
const ENUM_POOL: Array<{ name: string; values: string[] }> = [
  { name: "mood", values: ["happy", "sad", "ok", "it's fine"] },
  { name: "status", values: ["draft", "live", "gone"] },
  { name: "tier", values: ["low", "mid", "high", "max"] },
];
const ACTIONS: ReferentialAction[] = ["no action", "cascade", "restrict", "set null"];

const SCALAR_TYPES: ColumnType[] = [
  { kind: "uuid" },
  { kind: "text" },
  { kind: "varchar", length: 40 },
  { kind: "varchar" },
  { kind: "smallint" },
  { kind: "integer" },
  { kind: "bigint" },
  { kind: "numeric", precision: 10, scale: 2 },
  { kind: "numeric" },
  { kind: "real" },
  { kind: "double" },
  { kind: "boolean" },
  { kind: "timestamptz" },
  { kind: "timestamptz", precision: 3 },
  { kind: "timestamp" },
  { kind: "timestamp", precision: 0 },
  { kind: "date" },
  { kind: "time" },
  { kind: "time", precision: 2 },
  { kind: "jsonb" },
  { kind: "json" },
  { kind: "bytea" },
  { kind: "inet" },
  { kind: "array", element: { kind: "text" } },
  { kind: "array", element: { kind: "varchar", length: 20 } },
  { kind: "array", element: { kind: "varchar" } },
  { kind: "array", element: { kind: "smallint" } },
  { kind: "array", element: { kind: "integer" } },
  { kind: "array", element: { kind: "bigint" } },
  { kind: "array", element: { kind: "uuid" } },
  { kind: "array", element: { kind: "boolean" } },
  { kind: "array", element: { kind: "real" } },
  { kind: "array", element: { kind: "double" } },
  { kind: "array", element: { kind: "numeric", precision: 10, scale: 2 } },
  { kind: "array", element: { kind: "numeric" } },
  { kind: "array", element: { kind: "date" } },
];

/** Element values for array defaults, per element kind (in the snapshot's JSON form). */
const ARRAY_ITEMS: Record<string, JsonValue[]> = {
  text: ["a", "b,c", 'q"', "NULL"],
  varchar: ["x", "it's"],
  smallint: [1, -2],
  integer: [0, 2147483647],
  bigint: ["9007199254740993", "-1"],
  uuid: ["00000000-0000-4000-8000-000000000000"],
  boolean: [true, false],
  real: [1.5],
  double: [2.25, -0.5],
  numeric: ["1.50", "12"],
  date: ["2024-01-02"],
};

const isNumeric = (type: ColumnType) => ["smallint", "integer", "bigint", "numeric", "real", "double"].includes(type.kind);
const isText = (type: ColumnType) => type.kind === "text" || type.kind === "varchar";

/** A valid default for a column of `type` (or none). */
function drawDefault(d: Draw, type: ColumnType, enums: readonly EnumSchema[]): DefaultValue | undefined {
  if (d.bool(0.45)) return undefined;
  const lit = (value: DefaultValue & { kind: "literal" }) => value;
  switch (type.kind) {
    case "uuid":
      return d.pick<DefaultValue>([{ kind: "random-uuid" }, lit({ kind: "literal", value: "00000000-0000-4000-8000-000000000000" })]);
    case "text":
      return d.pick<DefaultValue>([lit({ kind: "literal", value: "" }), lit({ kind: "literal", value: "it's" }), { kind: "sql", sql: "'a' || 'b'" }]);
    case "varchar":
      return lit({ kind: "literal", value: d.pick(["x", "hello"]) });
    case "smallint":
      return lit({ kind: "literal", value: d.pick([0, 1, 7]) });
    case "integer":
      return d.pick<DefaultValue>([lit({ kind: "literal", value: d.pick([0, -5, 42]) }), { kind: "sql", sql: "1 + 1" }]);
    case "bigint":
      return lit({ kind: "literal", value: d.pick(["0", "9007199254740993", "-3"]) });
    case "numeric":
      return lit({ kind: "literal", value: type.scale === 2 ? d.pick(["0.00", "1.50"]) : d.pick(["0", "12.5"]) });
    case "real":
      return lit({ kind: "literal", value: 1.5 });
    case "double":
      return lit({ kind: "literal", value: d.pick([0, 2.25]) });
    case "boolean":
      return lit({ kind: "literal", value: d.bool() });
    case "timestamptz":
    case "timestamp":
      return d.pick<DefaultValue>([{ kind: "now" }, lit({ kind: "literal", value: "2024-01-02T03:04:05.000Z" })]);
    case "date":
      return lit({ kind: "literal", value: "2024-01-02" });
    case "time":
      return lit({ kind: "literal", value: "12:30:00" });
    case "jsonb":
    case "json":
      return lit({ kind: "literal", value: d.pick<JsonValue>([{}, [], { a: 1, b: [true, null] }]) });
    case "bytea":
      return lit({ kind: "literal", value: "00ff" });
    case "inet":
      // Postgres keeps '10.0.0.1/32' as '10.0.0.1': compare must see them equal.
      return lit({ kind: "literal", value: d.pick(["10.0.0.1/32", "::FFFF:1.2.3.4", "192.168.0.0/16"]) });
    case "array":
      return lit({ kind: "literal", value: d.pick([[], ARRAY_ITEMS[type.element.kind]!]) });
    case "enum": {
      const values = enums.find((e) => e.name === type.name)?.values ?? [];
      return values.length > 0 ? lit({ kind: "literal", value: d.pick(values) }) : undefined;
    }
  }
}

const q = printIdentifier;

/** A CHECK expression over `column`, or undefined when its type has none here. */
function drawCheck(d: Draw, column: ColumnSchema): string | undefined {
  const c = q(column.name);
  const integer = ["smallint", "integer", "bigint"].includes(column.type.kind);
  const base = isNumeric(column.type)
    ? d.pick([`${c} >= 0`, `${c} BETWEEN -10 AND 1000`, `${c} IN (1, 2, 3)`, `${c} <> 0`, `${c} NOT IN (4, 5)`, `coalesce(${c}, 0) >= 0`, `NOT (${c} = 5)`, ...(integer ? [`${c} % 2 = 0`, `${c} * 2 < 1000`] : [])])
    : isText(column.type)
      ? d.pick([`length(${c}) > 0`, `${c} <> ''`, `${c} IN ('x', 'y')`, `${c} LIKE 'a%'`, `lower(${c}) <> 'nope'`, `length(trim(${c})) > 0`, `${c} NOT LIKE 'z%'`, `upper(${c}) <> 'X' OR ${c} = ''`])
      : column.type.kind === "boolean"
        ? `${c} = true OR ${c} = false`
        : undefined;
  if (base === undefined) return undefined;
  return column.nullable && d.bool(0.3) ? `${c} IS NULL OR ${base}` : base;
}

function conventionalIndex(table: string, elements: IndexSchema["elements"], unique: boolean): string {
  const parts = elements.map((element) => ("column" in element ? element.column : expressionSlug(element.expression)));
  return unique ? constraintName.unique(table, parts) : constraintName.index(table, parts);
}

function objectNames(schema: Schema): Set<string> {
  const names = new Set<string>();
  for (const table of schema.tables) {
    if (table.primaryKey) names.add(table.primaryKey.name);
    for (const list of [table.uniques, table.indexes, table.foreignKeys, table.checks]) for (const item of list) names.add(item.name);
  }
  return names;
}

// ---------------------------------------------------------------------------------------------
// building a schema

interface Context {
  d: Draw;
  dialect: ArbitraryDialect;
  maxColumns: number;
}

function drawColumn(ctx: Context, name: string, enums: readonly EnumSchema[]): ColumnSchema {
  const { d } = ctx;
  const types: ColumnType[] = [...SCALAR_TYPES, ...enums.map((e) => ({ kind: "enum", name: e.name }) as ColumnType)];
  const type = structuredClone(d.pick(types));
  const column: ColumnSchema = { name, type, nullable: d.bool(0.4) };
  const value = drawDefault(d, type, enums);
  if (value) column.default = value;
  if (d.bool(0.1)) column.comment = d.pick(["the column's note", "ünïcode ✓"]);
  return column;
}

/** Identity and serial columns: the database numbers them (mutations leave them alone). */
const numbered = (column: ColumnSchema) => column.identity !== undefined || column.serial === true;

/** The key columns of a new table. */
function drawKey(ctx: Context, table: TableSchema): void {
  const { d } = ctx;
  const style = d.pick(["identity", "identity", "serial", "uuid", "text", "composite", "none"] as const);
  if (style === "none") return;
  if (style === "composite") {
    table.columns.push({ name: "part_a", type: { kind: "bigint" }, nullable: false }, { name: "part_b", type: { kind: "text" }, nullable: false });
    table.primaryKey = { name: constraintName.primaryKey(table.name), columns: ["part_a", "part_b"] };
    return;
  }
  const column: ColumnSchema =
    style === "identity"
      ? { name: "id", type: { kind: d.pick(["integer", "bigint"] as const) }, nullable: false, identity: d.bool(0.8) ? "by-default" : "always" }
      : style === "serial"
        ? { name: "id", type: { kind: d.pick(["integer", "bigint"] as const) }, nullable: false, serial: true }
        : style === "uuid"
        ? { name: "id", type: { kind: "uuid" }, nullable: false, ...(d.bool() ? { default: { kind: "random-uuid" } as DefaultValue } : {}) }
        : { name: "id", type: { kind: "text" }, nullable: false };
  table.columns.push(column);
  table.primaryKey = { name: constraintName.primaryKey(table.name), columns: ["id"] };
}

function freshColumnName(d: Draw, table: TableSchema, taken: (name: string) => boolean = () => false): string | undefined {
  const free = COLUMN_NAMES.filter((name) => !table.columns.some((column) => column.name === name) && !taken(name));
  return free.length === 0 ? undefined : d.pick(free);
}

/** Indexes, uniques and checks over the table's own columns. */
function drawTableObjects(ctx: Context, table: TableSchema, schema: Schema): void {
  const { d } = ctx;
  const names = objectNames(schema);
  const add = <T extends { name: string }>(list: T[], item: T) => {
    if (names.has(item.name)) return;
    names.add(item.name);
    list.push(item);
  };
  const columns = table.columns.filter((column) => !table.primaryKey?.columns.includes(column.name));
  const indexable = columns.filter((column) => column.type.kind !== "json" && column.type.kind !== "jsonb");
  for (let i = d.int(0, 2); i > 0 && indexable.length > 0; i--) {
    const kind = d.pick(["plain", "plain", "multi", "expression", "partial", "unique-partial", "bare-unique", "gin", "pattern"] as const);
    const column = d.pick(indexable);
    let index: IndexSchema | undefined;
    if (kind === "plain") index = { name: "", elements: [{ column: column.name, ...(d.bool(0.3) ? { order: "desc" as const } : {}) }], unique: false };
    else if (kind === "multi" && indexable.length > 1) {
      const other = d.pick(indexable.filter((candidate) => candidate !== column));
      index = { name: "", elements: [{ column: column.name }, { column: other.name }], unique: false };
    } else if (kind === "expression") {
      const text = indexable.find((candidate) => isText(candidate.type));
      if (text) index = { name: "", elements: [{ expression: `lower(${q(text.name)})` }], unique: d.bool(0.3) };
    } else if (kind === "partial" || kind === "unique-partial") {
      const where = column.nullable ? `${q(column.name)} IS NOT NULL` : isNumeric(column.type) ? `${q(column.name)} > 0` : undefined;
      if (where) index = { name: "", elements: [{ column: column.name }], unique: kind === "unique-partial", where };
    } else if (kind === "bare-unique") {
      index = { name: "", elements: [{ column: column.name }], unique: true };
    } else if (kind === "pattern") {
      // Django's …_like index: a LIKE-prefix operator class (SQLite has none and ignores it).
      const text = indexable.find((candidate) => isText(candidate.type));
      if (text) index = { name: "", elements: [{ column: text.name, opclass: text.type.kind === "varchar" ? "varchar_pattern_ops" : "text_pattern_ops" }], unique: false };
    } else if (kind === "gin") {
      const json = columns.find((candidate) => candidate.type.kind === "jsonb");
      if (json) index = { name: "", elements: [{ column: json.name }], unique: false, using: "gin" };
    }
    if (!index) continue;
    index.name = d.bool(0.15) ? `custom_${table.name.replace(/\W/g, "_")}_${i}` : conventionalIndex(table.name, index.elements, index.unique);
    add(table.indexes, index);
  }
  if (indexable.length > 0 && d.bool(0.4)) {
    const picked = [...new Set([d.pick(indexable).name, ...(d.bool(0.3) ? [d.pick(indexable).name] : [])])];
    add(table.uniques, { name: constraintName.unique(table.name, picked), columns: picked });
  }
  for (let i = d.int(0, 2); i > 0 && columns.length > 0; i--) {
    const column = d.pick(columns);
    const expression = drawCheck(d, column);
    if (expression) add(table.checks, { name: constraintName.check(table.name, `${column.name}_${i}`), expression });
  }
}

function drawTable(ctx: Context, name: string, schema: Schema): TableSchema {
  const { d } = ctx;
  const table: TableSchema = { name, columns: [], uniques: [], indexes: [], foreignKeys: [], checks: [] };
  drawKey(ctx, table);
  for (let i = d.int(1, ctx.maxColumns); i > 0; i--) {
    const columnName = freshColumnName(d, table);
    if (columnName) table.columns.push(drawColumn(ctx, columnName, schema.enums));
  }
  if (d.bool(0.15)) table.comment = d.pick(["Things we keep", "a 'quoted' comment"]);
  drawTableObjects(ctx, table, { ...schema, tables: [...schema.tables, table] });
  return table;
}

/** A foreign key from `table` to a key of `target`, adding the referencing column(s). */
function drawForeignKey(ctx: Context, schema: Schema, table: TableSchema, target: TableSchema): void {
  const { d } = ctx;
  const key = target.primaryKey;
  if (!key) return;
  const columns: string[] = [];
  for (const refColumn of key.columns) {
    const source = target.columns.find((column) => column.name === refColumn)!;
    let name = `${target.name.replace(/\W/g, "_")}_${refColumn}`.toLowerCase();
    while (table.columns.some((column) => column.name === name)) name += "_x";
    table.columns.push({ name, type: structuredClone(source.type), nullable: d.bool(0.5) });
    columns.push(name);
  }
  const nullable = columns.every((name) => table.columns.find((column) => column.name === name)!.nullable);
  const actions = nullable ? ACTIONS : ACTIONS.filter((action) => action !== "set null");
  const fk: ForeignKeySchema = {
    name: constraintName.foreignKey(table.name, columns, target.name),
    columns,
    refTable: target.name,
    refColumns: [...key.columns],
    onDelete: d.pick(actions),
    onUpdate: d.bool(0.8) ? "no action" : d.pick(actions),
  };
  if (objectNames(schema).has(fk.name) || table.foreignKeys.some((other) => other.name === fk.name)) {
    table.columns = table.columns.filter((column) => !columns.includes(column.name));
    return;
  }
  table.foreignKeys.push(fk);
}

function buildSchema(g: G, options: SchemaArbitraryOptions): Schema {
  const d = draw(g);
  const ctx: Context = { d, dialect: options.dialect ?? "any", maxColumns: options.maxColumns ?? 6 };
  const schema: Schema = { tables: [], enums: [] };
  for (const candidate of ENUM_POOL) {
    if (d.bool(0.35)) {
      const count = d.int(1, candidate.values.length);
      schema.enums.push({ name: candidate.name, values: candidate.values.slice(0, count) });
    }
  }
  const tableCount = d.int(1, options.maxTables ?? 4);
  const names = [...TABLE_NAMES];
  for (let i = 0; i < tableCount; i++) {
    const name = names.splice(d.int(0, names.length - 1), 1)[0]!;
    schema.tables.push(drawTable(ctx, name, schema));
  }
  // Foreign keys, once every table exists: earlier, later (cycles) and self references.
  for (const table of schema.tables) {
    for (let i = d.int(0, 2); i > 0; i--) drawForeignKey(ctx, schema, table, d.pick(schema.tables));
  }
  return schema;
}

// ---------------------------------------------------------------------------------------------
// validity (by the fold alone)

/** Whether the fold accepts `schema` built from nothing (enums, tables without foreign keys, then the keys). */
export function isValidSchema(schema: Schema): boolean {
  const ops: Op[] = [
    ...schema.enums.map((e): Op => ({ kind: "createEnum", enum: e })),
    ...schema.tables.map((table): Op => ({ kind: "createTable", table: { ...table, foreignKeys: [] } })),
    ...schema.tables.flatMap((table) => table.foreignKeys.map((foreignKey): Op => ({ kind: "addForeignKey", table: table.name, foreignKey }))),
  ];
  try {
    applyOperations({ tables: [], enums: [] }, ops);
    return true;
  } catch {
    return false;
  }
}

/** Random valid schemas. */
export function schemaArbitrary(options: SchemaArbitraryOptions = {}): fc.Arbitrary<Schema> {
  return fc
    .gen()
    .map((g) => buildSchema(g, options))
    .filter(isValidSchema);
}

// ---------------------------------------------------------------------------------------------
// mutations

type Hints = Required<Pick<RenameHints, "tables" | "columns" | "enumValues">> & { retired: Set<string> };
type Mutation = (ctx: Context, schema: Schema, hints: Hints) => string | undefined;

const usedBy = (schema: Schema, table: string, column: string) =>
  schema.tables.some((other) => other.foreignKeys.some((fk) => fk.refTable === table && fk.refColumns.includes(column)));

function mentions(table: TableSchema, column: string): boolean {
  return (
    (table.primaryKey?.columns.includes(column) ?? false) ||
    table.uniques.some((unique) => unique.columns.includes(column)) ||
    table.foreignKeys.some((fk) => fk.columns.includes(column)) ||
    table.indexes.some(
      (index) =>
        index.elements.some((element) => ("column" in element ? element.column === column : mentionsColumn(element.expression, column))) ||
        (index.where !== undefined && mentionsColumn(index.where, column)),
    ) ||
    table.checks.some((check) => mentionsColumn(check.expression, column))
  );
}

/** Remove a column and everything that uses it (its table's objects, foreign keys pointing at it). */
function removeColumn(schema: Schema, table: TableSchema, column: string): void {
  table.columns = table.columns.filter((candidate) => candidate.name !== column);
  table.uniques = table.uniques.filter((unique) => !unique.columns.includes(column));
  table.foreignKeys = table.foreignKeys.filter((fk) => !fk.columns.includes(column));
  table.indexes = table.indexes.filter(
    (index) =>
      !index.elements.some((element) => ("column" in element ? element.column === column : mentionsColumn(element.expression, column))) &&
      !(index.where !== undefined && mentionsColumn(index.where, column)),
  );
  table.checks = table.checks.filter((check) => !mentionsColumn(check.expression, column));
  if (table.primaryKey?.columns.includes(column)) delete table.primaryKey;
  for (const other of schema.tables) other.foreignKeys = other.foreignKeys.filter((fk) => !(fk.refTable === table.name && fk.refColumns.includes(column)));
}

const MUTATIONS: Record<string, Mutation> = {
  addTable(ctx, schema, hints) {
    // A new table never takes the old name of a renamed one (that would be a different question).
    const free = TABLE_NAMES.filter((name) => !schema.tables.some((table) => table.name === name) && !(name in hints.tables) && !hints.retired.has(name));
    if (free.length === 0) return undefined;
    const table = drawTable(ctx, ctx.d.pick(free), schema);
    schema.tables.push(table);
    if (ctx.d.bool(0.6)) drawForeignKey(ctx, schema, table, ctx.d.pick(schema.tables));
    if (ctx.d.bool(0.3)) {
      const other = ctx.d.pick(schema.tables);
      if (other !== table) drawForeignKey(ctx, schema, other, table);
    }
    return `add table ${table.name}`;
  },
  dropTable(ctx, schema, hints) {
    if (schema.tables.length <= 1) return undefined;
    const table = ctx.d.pick(schema.tables);
    hints.retired.add(table.name);
    schema.tables = schema.tables.filter((candidate) => candidate !== table);
    for (const other of schema.tables) other.foreignKeys = other.foreignKeys.filter((fk) => fk.refTable !== table.name);
    return `drop table ${table.name}`;
  },
  addColumn(ctx, schema, hints) {
    const table = ctx.d.pick(schema.tables);
    // Never the name of a column dropped from this table in the same pair: that is a type change
    // (a different question, which a type without a cast leaves undecided).
    const name = freshColumnName(ctx.d, table, (candidate) => hints.retired.has(`${table.name}.${candidate}`));
    if (!name) return undefined;
    table.columns.push(drawColumn(ctx, name, schema.enums));
    return `add column ${table.name}.${name}`;
  },
  dropColumn(ctx, schema, hints) {
    const table = ctx.d.pick(schema.tables);
    const candidates = table.columns.filter((column) => !table.primaryKey?.columns.includes(column.name) && !numbered(column));
    if (candidates.length === 0 || table.columns.length <= 1) return undefined;
    const column = ctx.d.pick(candidates);
    hints.retired.add(`${table.name}.${column.name}`);
    removeColumn(schema, table, column.name);
    return `drop column ${table.name}.${column.name}`;
  },
  changeType(ctx, schema) {
    const table = ctx.d.pick(schema.tables);
    const candidates = table.columns.filter((column) => !mentions(table, column.name) && !usedBy(schema, table.name, column.name) && !numbered(column));
    if (candidates.length === 0) return undefined;
    const column = ctx.d.pick(candidates);
    const before = column.type;
    const options: ColumnType[] = isNumeric(before)
      ? [{ kind: "bigint" }, { kind: "integer" }, { kind: "double" }, { kind: "numeric", precision: 12, scale: 2 }, { kind: "text" }]
      : isText(before)
        ? [{ kind: "text" }, { kind: "varchar", length: 80 }, { kind: "varchar", length: 20 }, { kind: "varchar" }]
        : before.kind === "json"
          ? [{ kind: "jsonb" }, { kind: "text" }]
          : before.kind === "jsonb"
            ? [{ kind: "json" }, { kind: "text" }]
            : before.kind === "timestamp"
              ? [{ kind: "timestamptz" }, { kind: "date" }, { kind: "timestamp", precision: 3 }]
              : before.kind === "array"
                ? // Element type changes (SQLite cannot turn text back into an array).
                  before.element.kind === "text" || before.element.kind === "varchar"
                  ? [{ kind: "array", element: { kind: "varchar", length: 40 } }, { kind: "array", element: { kind: "text" } }]
                  : isNumeric(before.element)
                    ? [{ kind: "array", element: { kind: "bigint" } }, { kind: "array", element: { kind: "numeric", precision: 12, scale: 2 } }, { kind: "array", element: { kind: "text" } }]
                    : [{ kind: "array", element: { kind: "text" } }]
                : [{ kind: "text" }];
    if (options.length === 0) return undefined;
    const type = structuredClone(ctx.d.pick(options));
    if (JSON.stringify(type) === JSON.stringify(before)) return undefined;
    column.type = type;
    const value = drawDefault(ctx.d, type, schema.enums);
    if (value) column.default = value;
    else delete column.default;
    return `change type of ${table.name}.${column.name} to ${type.kind}`;
  },
  toggleNullable(ctx, schema) {
    const table = ctx.d.pick(schema.tables);
    const candidates = table.columns.filter((column) => !table.primaryKey?.columns.includes(column.name) && !numbered(column));
    if (candidates.length === 0) return undefined;
    const column = ctx.d.pick(candidates);
    if (!column.nullable && table.foreignKeys.some((fk) => fk.columns.includes(column.name) && (fk.onDelete === "set null" || fk.onUpdate === "set null"))) return undefined;
    if (column.nullable && table.foreignKeys.some((fk) => fk.columns.includes(column.name) && (fk.onDelete === "set null" || fk.onUpdate === "set null"))) return undefined;
    column.nullable = !column.nullable;
    return `${column.nullable ? "allow" : "forbid"} NULL in ${table.name}.${column.name}`;
  },
  changeDefault(ctx, schema) {
    const table = ctx.d.pick(schema.tables);
    const candidates = table.columns.filter((column) => !numbered(column));
    if (candidates.length === 0) return undefined;
    const column = ctx.d.pick(candidates);
    const value = drawDefault(ctx.d, column.type, schema.enums);
    if (value) column.default = value;
    else delete column.default;
    return `change default of ${table.name}.${column.name}`;
  },
  changeComment(ctx, schema) {
    const table = ctx.d.pick(schema.tables);
    const column = ctx.d.pick(table.columns);
    if (column.comment === undefined) column.comment = "new note";
    else delete column.comment;
    return `change comment of ${table.name}.${column.name}`;
  },
  reshuffleObjects(ctx, schema) {
    const table = ctx.d.pick(schema.tables);
    const which = ctx.d.pick(["index", "unique", "check"] as const);
    if (which === "index" && table.indexes.length > 0 && ctx.d.bool()) {
      const index = ctx.d.pick(table.indexes);
      const keyed = schema.tables.some((other) => other.foreignKeys.some((fk) => fk.refTable === table.name));
      if (index.unique && keyed) return undefined;
      table.indexes = table.indexes.filter((candidate) => candidate !== index);
      return `drop index ${index.name}`;
    }
    if (which === "unique" && table.uniques.length > 0 && ctx.d.bool()) {
      const unique = ctx.d.pick(table.uniques);
      if (schema.tables.some((other) => other.foreignKeys.some((fk) => fk.refTable === table.name))) return undefined;
      table.uniques = table.uniques.filter((candidate) => candidate !== unique);
      return `drop unique ${unique.name}`;
    }
    if (which === "check" && table.checks.length > 0 && ctx.d.bool()) {
      const check = ctx.d.pick(table.checks);
      table.checks = table.checks.filter((candidate) => candidate !== check);
      return `drop check ${check.name}`;
    }
    const before = objectNames(schema).size;
    drawTableObjects(ctx, table, schema);
    return objectNames(schema).size === before ? undefined : `add indexes/constraints to ${table.name}`;
  },
  renameIndex(ctx, schema) {
    const table = ctx.d.pick(schema.tables);
    if (table.indexes.length === 0) return undefined;
    const index = ctx.d.pick(table.indexes);
    const name = `${index.name}_renamed`.slice(0, 60);
    if (objectNames(schema).has(name)) return undefined;
    index.name = name;
    return `rename index to ${name}`;
  },
  foreignKeys(ctx, schema) {
    const table = ctx.d.pick(schema.tables);
    if (table.foreignKeys.length > 0 && ctx.d.bool()) {
      const fk = ctx.d.pick(table.foreignKeys);
      if (ctx.d.bool()) {
        table.foreignKeys = table.foreignKeys.filter((candidate) => candidate !== fk);
        return `drop foreign key ${fk.name}`;
      }
      const nullable = fk.columns.every((name) => table.columns.find((column) => column.name === name)!.nullable);
      fk.onDelete = ctx.d.pick(nullable ? ACTIONS : ACTIONS.filter((action) => action !== "set null"));
      return `change ${fk.name} on delete to ${fk.onDelete}`;
    }
    drawForeignKey(ctx, schema, table, ctx.d.pick(schema.tables));
    return `add a foreign key to ${table.name}`;
  },
  enums(ctx, schema) {
    const unused = ENUM_POOL.filter((candidate) => !schema.enums.some((e) => e.name === candidate.name));
    if (schema.enums.length === 0 || (unused.length > 0 && ctx.d.bool(0.2))) {
      if (unused.length === 0) return undefined;
      const picked = ctx.d.pick(unused);
      schema.enums.push({ name: picked.name, values: picked.values.slice(0, ctx.d.int(1, picked.values.length)) });
      return `create enum ${picked.name}`;
    }
    const e = ctx.d.pick(schema.enums);
    const pool = ENUM_POOL.find((candidate) => candidate.name === e.name)!.values;
    const missing = pool.filter((value) => !e.values.includes(value));
    const users = schema.tables.flatMap((table) => table.columns.filter((column) => column.type.kind === "enum" && column.type.name === e.name));
    if (users.length === 0 && ctx.d.bool(0.3)) {
      schema.enums = schema.enums.filter((candidate) => candidate !== e);
      return `drop enum ${e.name}`;
    }
    if (missing.length > 0 && ctx.d.bool(0.6)) {
      const value = ctx.d.pick(missing);
      e.values.splice(ctx.d.int(0, e.values.length), 0, value);
      return `add '${value}' to ${e.name}`;
    }
    if (e.values.length > 1) {
      const value = ctx.d.pick(e.values);
      e.values = e.values.filter((candidate) => candidate !== value);
      for (const column of users) if (column.default?.kind === "literal" && column.default.value === value) delete column.default;
      // Checks or predicates naming the value would break: leave those schemas alone.
      return `remove '${value}' from ${e.name}`;
    }
    return undefined;
  },
};

const RENAMES: Record<string, Mutation> = {
  renameTable(ctx, schema, hints) {
    const table = ctx.d.pick(schema.tables);
    const free = TABLE_NAMES.filter((name) => !schema.tables.some((candidate) => candidate.name === name) && !(name in hints.tables));
    if (free.length === 0 || Object.values(hints.tables).includes(table.name)) return undefined;
    const to = ctx.d.pick(free);
    const from = Object.entries(hints.tables).find(([, value]) => value === table.name)?.[0] ?? table.name;
    for (const other of schema.tables) for (const fk of other.foreignKeys) if (fk.refTable === table.name) fk.refTable = to;
    table.name = to;
    hints.tables[from] = to;
    return `rename table ${from} to ${to}`;
  },
  renameColumn(ctx, schema, hints) {
    const table = ctx.d.pick(schema.tables);
    const column = ctx.d.pick(table.columns);
    const to = freshColumnName(ctx.d, table);
    if (!to || Object.keys(hints.columns).some((key) => key.startsWith(`${table.name}.`)) || Object.values(hints.tables).includes(table.name)) return undefined;
    const from = column.name;
    const swap = (list: string[]) => list.map((name) => (name === from ? to : name));
    column.name = to;
    if (table.primaryKey) table.primaryKey.columns = swap(table.primaryKey.columns);
    for (const unique of table.uniques) unique.columns = swap(unique.columns);
    for (const fk of table.foreignKeys) fk.columns = swap(fk.columns);
    for (const index of table.indexes) {
      index.elements = index.elements.map((element) => ("column" in element ? { ...element, column: element.column === from ? to : element.column } : { ...element, expression: renameColumnIn(element.expression, from, to) }));
      if (index.where !== undefined) index.where = renameColumnIn(index.where, from, to);
    }
    for (const check of table.checks) check.expression = renameColumnIn(check.expression, from, to);
    for (const other of schema.tables) for (const fk of other.foreignKeys) if (fk.refTable === table.name) fk.refColumns = swap(fk.refColumns);
    hints.columns[`${table.name}.${from}`] = to;
    return `rename column ${table.name}.${from} to ${to}`;
  },
  renameEnumValue(ctx, schema, hints) {
    if (schema.enums.length === 0) return undefined;
    const e = ctx.d.pick(schema.enums);
    if (Object.keys(hints.enumValues).some((key) => key.startsWith(`${e.name}.`))) return undefined;
    const from = ctx.d.pick(e.values);
    const to = `${from}_v2`;
    e.values = e.values.map((value) => (value === from ? to : value));
    for (const table of schema.tables) {
      for (const column of table.columns) {
        if (column.type.kind === "enum" && column.type.name === e.name && column.default?.kind === "literal" && column.default.value === from) column.default = { kind: "literal", value: to };
      }
    }
    hints.enumValues[`${e.name}.${from}`] = to;
    return `rename '${from}' of ${e.name} to '${to}'`;
  },
};

function mutate(g: G, from: Schema, options: PairArbitraryOptions): SchemaPair {
  const d = draw(g);
  const ctx: Context = { d, dialect: options.dialect ?? "any", maxColumns: options.maxColumns ?? 6 };
  const to: Schema = structuredClone(from);
  const hints: Hints = { tables: {}, columns: {}, enumValues: {}, retired: new Set() };
  const mutations: string[] = [];
  const kinds = { ...MUTATIONS, ...(options.renames === false ? {} : RENAMES) };
  const names = Object.keys(kinds);
  // Renames first, so later mutations see the new names (hints name the old ones).
  const steps = Array.from({ length: d.int(1, 4) }, () => d.pick(names)).sort((a, b) => Number(b in RENAMES) - Number(a in RENAMES));
  for (const step of steps) {
    const done = kinds[step]!(ctx, to, hints);
    if (done) mutations.push(done);
  }
  if (options.tableComments && d.bool(0.3)) {
    const table = d.pick(to.tables);
    if (table.comment === undefined) table.comment = "changed";
    else delete table.comment;
    mutations.push(`change comment of table ${table.name}`);
  }
  return { from, to, renames: { tables: hints.tables, columns: hints.columns, enumValues: hints.enumValues, notRenames: notRenames(from, to, hints) }, mutations };
}

/** Every dropped table, column and enum value that is not a rename: the answer to every other rename question. */
function notRenames(from: Schema, to: Schema, hints: Hints): string[] {
  const out: string[] = [];
  const newName = (table: string) => hints.tables[table] ?? table;
  for (const table of from.tables) {
    const target = to.tables.find((candidate) => candidate.name === newName(table.name));
    if (!target) {
      out.push(table.name);
      continue;
    }
    for (const column of table.columns) {
      const hinted = hints.columns[`${table.name}.${column.name}`] ?? hints.columns[`${target.name}.${column.name}`];
      const renamed = hinted !== undefined && target.columns.some((candidate) => candidate.name === hinted);
      if (!renamed && !target.columns.some((candidate) => candidate.name === column.name)) out.push(`${target.name}.${column.name}`);
    }
  }
  for (const e of from.enums) {
    const target = to.enums.find((candidate) => candidate.name === e.name);
    if (!target) continue;
    for (const value of e.values) {
      const hinted = hints.enumValues[`${e.name}.${value}`];
      if (!(hinted !== undefined && target.values.includes(hinted)) && !target.values.includes(value)) out.push(`${e.name}.${value}`);
    }
  }
  return out;
}

/**
 * Random pairs (A, B): B is A after 1–4 mutations. `renames` answers every rename question the
 * pair raises: hints for the renames made, `notRenames` for every other dropped table, column and
 * enum value — so compareSchemas(from, to, { renames }) returns no decisions.
 */
export function schemaPairArbitrary(options: PairArbitraryOptions = {}): fc.Arbitrary<SchemaPair> {
  return fc
    .tuple(schemaArbitrary(options), fc.gen())
    .map(([from, g]) => mutate(g, from, options))
    .filter((pair) => isValidSchema(pair.to));
}

// ---------------------------------------------------------------------------------------------
// comparing schemas in tests

/**
 * A schema in a canonical order for deep equality: tables, enums and each table's constraints and
 * indexes sorted by name, columns by name (addColumn appends, so a column added "in the middle" of
 * a model ends up last in the database and in the fold), rename hints dropped.
 */
export function canonicalSchema(schema: Schema): Schema {
  const byName = <T extends { name: string }>(items: readonly T[]) => [...items].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return {
    enums: byName(schema.enums).map((e) => ({ name: e.name, values: [...e.values] })),
    tables: byName(schema.tables).map((table) => {
      const copy: TableSchema = structuredClone(table);
      delete copy.renamedFrom;
      copy.columns = byName(copy.columns).map((column) => {
        delete column.renamedFrom;
        return column;
      });
      copy.uniques = byName(copy.uniques);
      copy.indexes = byName(copy.indexes);
      copy.foreignKeys = byName(copy.foreignKeys);
      copy.checks = byName(copy.checks);
      return copy;
    }),
  };
}
