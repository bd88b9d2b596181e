/**
 * `table(name, columns, extras?)`: a model. The returned object exposes a reference per column
 * (`members.guildId`, for foreign keys, indexes and `sql` interpolation) and its metadata under
 * `$` (so a column may be called `name`).
 */
import { RetortError } from "../errors.js";
import { assertIdentifierFits, snakeCase } from "../schema/naming.js";
import type { Column, ColumnState, ReferenceOptions } from "./column.js";
import { isSqlExpression, type SqlExpression } from "./sql.js";
import { defaultProblem } from "./validation.js";

export type ColumnsShape = Record<string, Column<any>>;

/** snake_case at the type level; mirrors `snakeCase()` exactly. */
export type SnakeCase<S extends string> = S extends `${infer H}${infer Rest}`
  ? `${H extends Uppercase<H> ? (H extends Lowercase<H> ? H : `_${Lowercase<H>}`) : H}${SnakeCase<Rest>}`
  : S;

export type StateOf<C> = C extends Column<infer S> ? S : never;

/** The database name of a column key. */
export type ColumnDbName<K extends string, C> = StateOf<C>["dbName"] extends string ? StateOf<C>["dbName"] : SnakeCase<K>;

export class ColumnRef<S extends ColumnState = ColumnState, TName extends string = string, K extends string = string> {
  declare readonly _: S;
  readonly kind = "column-ref" as const;
  constructor(
    readonly tableName: TName,
    readonly key: K,
    readonly dbName: string,
    readonly column: Column<S>,
  ) {
    Object.freeze(this);
  }
}

export type ColumnRefs<TName extends string, C extends ColumnsShape> = {
  readonly [K in keyof C & string]: ColumnRef<StateOf<C[K]>, TName, K>;
};

type Direction = "asc" | "desc";

/** An operator class name as DDL takes it: `varchar_pattern_ops`, `schema.name` (written into the SQL, so nothing else). */
export function isOpclassName(name: unknown): name is string {
  return typeof name === "string" && /^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$/.test(name);
}
type IndexKey = ColumnRef<any> | SqlExpression;
export type IndexTarget = IndexKey | { ref: IndexKey; order?: Direction; opclass?: string };

/** A key of the target given as `key` (a column, an expression or another `desc`/`asc`/`opclass` target), with more said of it. */
function withKey(key: IndexKey | IndexTarget, more: { order?: Direction; opclass?: string }): IndexTarget {
  const base = isColumnRef(key) || isSqlExpression(key) ? { ref: key as IndexKey } : (key as Exclude<IndexTarget, IndexKey>);
  return { ...base, ...more };
}

export const desc = (key: IndexKey | IndexTarget): IndexTarget => withKey(key, { order: "desc" });
export const asc = (key: IndexKey | IndexTarget): IndexTarget => withKey(key, { order: "asc" });
/**
 * A key with a non-default operator class (Postgres; SQLite has none and ignores it):
 * `index(opclass(c.slug, "varchar_pattern_ops"))` serves `LIKE 'prefix%'` under any collation.
 */
export const opclass = (key: IndexKey | IndexTarget, name: string): IndexTarget => {
  if (!isOpclassName(name)) {
    throw new RetortError("RETORT_INVALID_MODEL", `opclass(…, ${JSON.stringify(name)}): an operator class is a name such as "varchar_pattern_ops" or "schema.name"`);
  }
  return withKey(key, { opclass: name });
};

/** Table-level pieces returned from the `extras` callback. Immutable builders. */
export class IndexDef {
  readonly kind = "index" as const;
  constructor(
    readonly targets: readonly IndexTarget[],
    readonly isUnique: boolean,
    /** `asIndex`: a unique index even on plain columns (else those make a unique constraint). */
    readonly options: { name?: string; where?: string; using?: string; asIndex?: boolean } = {},
  ) {
    if (targets.length === 0) throw new RetortError("RETORT_INVALID_MODEL", `${isUnique ? "unique" : "index"}() needs at least one column or expression`);
  }
  /** A partial index: only rows matching the predicate. */
  where(predicate: SqlExpression | string): IndexDef {
    return new IndexDef(this.targets, this.isUnique, { ...this.options, where: isSqlExpression(predicate) ? predicate.text : predicate });
  }
  /** Access method, e.g. "gin" (Postgres; ignored on SQLite). */
  using(method: string): IndexDef {
    return new IndexDef(this.targets, this.isUnique, { ...this.options, using: method });
  }
  name(name: string): IndexDef {
    return new IndexDef(this.targets, this.isUnique, { ...this.options, name });
  }
}

export class CheckDef {
  readonly kind = "check" as const;
  constructor(
    readonly checkName: string,
    readonly expression: string,
    readonly explicitName?: string,
  ) {}
  /** Use this exact constraint name instead of ck_<table>_<name>. */
  name(name: string): CheckDef {
    return new CheckDef(this.checkName, this.expression, name);
  }
}

export class PrimaryKeyDef {
  readonly kind = "primary-key" as const;
  constructor(
    readonly columns: readonly ColumnRef<any>[],
    readonly explicitName?: string,
  ) {}
  name(name: string): PrimaryKeyDef {
    return new PrimaryKeyDef(this.columns, name);
  }
}

export class ForeignKeyDef {
  readonly kind = "foreign-key" as const;
  constructor(
    readonly columns: readonly ColumnRef<any>[],
    readonly targets: () => readonly ColumnRef<any>[],
    readonly options: ReferenceOptions = {},
  ) {}
}

export type TableExtra = IndexDef | CheckDef | PrimaryKeyDef | ForeignKeyDef;

/** A unique constraint (or, with `.where()`, `.using()`, `desc()` or expressions, a unique index). */
export const unique = (...targets: IndexTarget[]) => new IndexDef(targets, true);
/**
 * A unique index (CREATE UNIQUE INDEX), never a constraint. The database enforces both the same
 * way, but they are different objects (dropped differently, listed differently), and the differ
 * tells them apart.
 */
export const uniqueIndex = (...targets: IndexTarget[]) => new IndexDef(targets, true, { asIndex: true });
export const index = (...targets: IndexTarget[]) => new IndexDef(targets, false);
/** A named CHECK constraint: `check("positive_xp", sql\`xp >= 0\`)` → ck_<table>_positive_xp. */
export const check = (name: string, expression: SqlExpression | string) =>
  new CheckDef(name, isSqlExpression(expression) ? expression.text : expression);
/** A composite primary key. */
export const primaryKey = (...columns: ColumnRef<any>[]) => new PrimaryKeyDef(columns);
/** A composite foreign key. */
export const foreignKey = (
  columns: ColumnRef<any>[],
  targets: () => ColumnRef<any>[],
  options: ReferenceOptions = {},
) => new ForeignKeyDef(columns, targets, options);

export interface TableMeta<TName extends string = string, C extends ColumnsShape = ColumnsShape> {
  readonly kind: "table";
  readonly name: TName;
  readonly columns: C;
  readonly refs: ColumnRefs<TName, C>;
  /** TS key → database column name, exact. */
  readonly dbNames: Readonly<Record<string, string>>;
  readonly primaryKey: readonly string[];
  readonly extras: readonly TableExtra[];
  /** Keys of the columns with a role (timestamps, soft delete). */
  readonly roles: Readonly<{ createdAt?: string; updatedAt?: string; deletedAt?: string }>;
  readonly comment?: string;
  /** Earlier names of the table: a rename hint for autogenerate (not DDL). */
  readonly renamedFrom?: readonly string[];
  /** Every controller write records audit rows (see `TableOptions.audit`). */
  readonly audit?: boolean;
}

export type TableModel<TName extends string = string, C extends ColumnsShape = ColumnsShape> = ColumnRefs<TName, C> & {
  readonly $: TableMeta<TName, C>;
};

export type AnyTable = TableModel<string, any>;

export interface TableOptions {
  comment?: string;
  /**
   * The table's earlier name(s): autogenerate renames "old_name" to this table instead of asking
   * whether the drop and create are a rename. An option rather than a method because a table
   * model's properties are its columns.
   */
  renamedFrom?: string | readonly string[];
  /**
   * Record every controller write (create, update, upsert, delete, restore, hardDelete and the
   * many-row forms) in the audit table `retort_audit_log`, in the write's own transaction. The
   * project's schema then includes that table, so autogenerate creates it.
   */
  audit?: boolean;
}

export function table<const TName extends string, C extends ColumnsShape>(
  name: TName,
  columns: C,
  extras?: ((refs: ColumnRefs<TName, C>) => TableExtra[]) | TableOptions,
  tableOptions: TableOptions = {},
): TableModel<TName, C> {
  // table(name, columns, { audit: true }) without extras reads as well as with them.
  const options = typeof extras === "object" && extras !== null ? extras : tableOptions;
  const buildExtras = typeof extras === "function" ? extras : undefined;
  if ("$" in columns) throw new RetortError("RETORT_INVALID_MODEL", `table "${name}": "$" is reserved and cannot be a column key`);
  assertIdentifierFits(name, `table "${name}"`, { table: name });
  const refs: Record<string, ColumnRef<any>> = {};
  const dbNames: Record<string, string> = {};
  const seen = new Map<string, string>();
  const roles: { createdAt?: string; updatedAt?: string; deletedAt?: string } = {};
  for (const [key, col] of Object.entries(columns)) {
    const dbName = col.config.dbName ?? snakeCase(key);
    const clash = seen.get(dbName);
    if (clash !== undefined) {
      throw new RetortError("RETORT_INVALID_MODEL", `table "${name}": columns "${clash}" and "${key}" both map to database column "${dbName}"`, {
        hint: `Give one of them another key or an explicit .name("...").`,
      });
    }
    seen.set(dbName, key);
    assertIdentifierFits(dbName, `table "${name}", column ${dbName === "" ? `of key "${key}"` : `"${dbName}"`}`, { table: name, column: dbName });
    assertDefaultFits(name, dbName, col.config);
    dbNames[key] = dbName;
    refs[key] = new ColumnRef(name, key, dbName, col);
    if (col.config.role) roles[col.config.role] = key;
  }
  const typedRefs = Object.freeze(refs) as ColumnRefs<TName, C>;
  const tableExtras = Object.freeze(buildExtras ? buildExtras(typedRefs) : []);
  const pkDef = tableExtras.find((extra): extra is PrimaryKeyDef => extra.kind === "primary-key");
  const primaryKey = pkDef ? pkDef.columns.map((ref) => ref.key) : Object.keys(columns).filter((key) => columns[key]!.config.primaryKey);
  const meta: TableMeta<TName, C> = Object.freeze({
    kind: "table" as const,
    name,
    columns,
    refs: typedRefs,
    dbNames: Object.freeze(dbNames),
    primaryKey: Object.freeze(primaryKey),
    extras: tableExtras,
    roles: Object.freeze(roles),
    ...(options.comment === undefined ? {} : { comment: options.comment }),
    ...(options.audit ? { audit: true } : {}),
    ...(options.renamedFrom === undefined ? {} : { renamedFrom: Object.freeze(typeof options.renamedFrom === "string" ? [options.renamedFrom] : [...options.renamedFrom]) }),
  });
  return Object.freeze({ ...typedRefs, $: meta }) as TableModel<TName, C>;
}

function assertDefaultFits(table: string, column: string, config: Column["config"]): void {
  const problem = defaultProblem(config);
  if (problem === undefined) return;
  const value = JSON.stringify(config.default?.kind === "literal" ? config.default.value : null);
  const type = config.type.kind === "enum" ? `enum "${config.type.name}"` : config.type.kind === "array" ? `${config.type.element.kind}[]` : config.type.kind;
  const details = { table, column, default: config.default?.kind === "literal" ? config.default.value : null };
  if (config.type.kind === "enum") {
    throw new RetortError("RETORT_INVALID_MODEL", `table "${table}", column "${column}": the default ${value} is not a label of ${type} (${(config.enumValues ?? []).join(", ")})`, {
      hint: "Use one of the enum's labels as the default, or add the label to the enum.",
      details,
    });
  }
  throw new RetortError("RETORT_INVALID_MODEL", `table "${table}", column "${column}": the default ${value} does not fit the ${type} column (${problem})`, {
    hint: "Give a default of the column's TypeScript type (bigint for bigint, Date for timestamps, Uint8Array for bytea), or an sql`…` expression.",
    details,
  });
}

/**
 * Brand checks, not instanceof: models may be loaded through another copy of Retort (a CLI
 * compiling the user's TypeScript, a bundler), whose classes are different objects.
 */
export function isColumnRef(value: unknown): value is ColumnRef<any> {
  return typeof value === "object" && value !== null && (value as ColumnRef).kind === "column-ref";
}

export function isTableModel(value: unknown): value is AnyTable {
  return typeof value === "object" && value !== null && (value as AnyTable).$?.kind === "table";
}
