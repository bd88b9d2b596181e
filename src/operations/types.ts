/**
 * Migration operations as data. Each operation is a plain, frozen, JSON-serialisable object with a
 * `readonly kind` discriminant (like Kysely's operation nodes), carrying database names and the
 * neutral snapshot shapes (TableSchema, ColumnSchema, …). The same objects are recorded by the
 * `op` API in migration files, folded into a schema (apply.ts), compiled per dialect
 * (compile.ts), reversed (reverse.ts) and, later, produced and rendered by autogenerate.
 *
 * `previous` fields describe what an operation removes or changes; they are optional for hand
 * written migrations and are what makes the operation reversible.
 *
 * One operation is not data: `run`, the typed data-migration escape hatch, holds a function. It
 * cannot be compiled to SQL, rendered or reversed; the runtime executes it.
 */
import type { Kysely } from "kysely";
import { RetortError } from "../errors.js";
import type {
  CheckSchema,
  Dialect,
  ColumnSchema,
  ColumnType,
  DefaultValue,
  EnumSchema,
  ForeignKeySchema,
  IndexSchema,
  JsonValue,
  PrimaryKeySchema,
  Schema,
  TableSchema,
  UniqueSchema,
} from "../schema/snapshot.js";

export interface CreateTableOp {
  readonly kind: "createTable";
  /** The whole table, indexes and constraints included. */
  readonly table: TableSchema;
}

export interface DropTableOp {
  readonly kind: "dropTable";
  readonly name: string;
  readonly previous?: TableSchema;
}

export interface RenameTableOp {
  readonly kind: "renameTable";
  readonly from: string;
  readonly to: string;
}

export interface AddColumnOp {
  readonly kind: "addColumn";
  readonly table: string;
  readonly column: ColumnSchema;
}

export interface DropColumnOp {
  readonly kind: "dropColumn";
  readonly table: string;
  readonly name: string;
  readonly previous?: ColumnSchema;
}

export interface RenameColumnOp {
  readonly kind: "renameColumn";
  readonly table: string;
  readonly from: string;
  readonly to: string;
}

/** What an alterColumn changes. `null` removes a default or a comment; absent leaves it alone. */
export interface ColumnChanges {
  readonly type?: ColumnType;
  readonly nullable?: boolean;
  readonly default?: DefaultValue | null;
  readonly comment?: string | null;
  /** Make the column sequence-backed (serial) or not: the sequence is created or dropped with it. */
  readonly serial?: boolean;
}

export interface AlterColumnOp extends ColumnChanges {
  readonly kind: "alterColumn";
  readonly table: string;
  readonly name: string;
  /** Postgres/PGlite: the USING expression of a type change. SQLite converts by the logical types. */
  readonly using?: string;
  /** The column's values before, for each field this operation changes (null: it had none). */
  readonly previous?: ColumnChanges;
}

export interface CreateIndexOp {
  readonly kind: "createIndex";
  readonly table: string;
  readonly index: IndexSchema;
  /** Postgres: CREATE INDEX CONCURRENTLY (runs outside a transaction). Ignored on SQLite. */
  readonly concurrently?: boolean;
}

export interface DropIndexOp {
  readonly kind: "dropIndex";
  /** The index's table; when absent, the index is found by name (index names are unique per schema). */
  readonly table?: string;
  readonly name: string;
  readonly previous?: IndexSchema;
  readonly concurrently?: boolean;
}

export interface AddPrimaryKeyOp {
  readonly kind: "addPrimaryKey";
  readonly table: string;
  readonly primaryKey: PrimaryKeySchema;
}

export interface AddUniqueOp {
  readonly kind: "addUnique";
  readonly table: string;
  readonly unique: UniqueSchema;
}

export interface AddForeignKeyOp {
  readonly kind: "addForeignKey";
  readonly table: string;
  readonly foreignKey: ForeignKeySchema;
  /** Postgres: NOT VALID (existing rows are checked later by validateConstraint). SQLite checks them at once. */
  readonly notValid?: boolean;
}

export interface AddCheckOp {
  readonly kind: "addCheck";
  readonly table: string;
  readonly check: CheckSchema;
  readonly notValid?: boolean;
}

/** A table constraint as a dropConstraint's `previous`: exactly one of the four keys. */
export type ConstraintSchema =
  | { readonly primaryKey: PrimaryKeySchema }
  | { readonly unique: UniqueSchema }
  | { readonly foreignKey: ForeignKeySchema }
  | { readonly check: CheckSchema };

export interface DropConstraintOp {
  readonly kind: "dropConstraint";
  readonly table: string;
  readonly name: string;
  readonly previous?: ConstraintSchema;
}

export interface ValidateConstraintOp {
  readonly kind: "validateConstraint";
  readonly table: string;
  readonly name: string;
}

export interface CreateEnumOp {
  readonly kind: "createEnum";
  readonly enum: EnumSchema;
}

export interface DropEnumOp {
  readonly kind: "dropEnum";
  readonly name: string;
  readonly previous?: EnumSchema;
}

export interface AddEnumValueOp {
  readonly kind: "addEnumValue";
  readonly enum: string;
  readonly value: string;
  readonly before?: string;
  readonly after?: string;
}

export interface RenameEnumValueOp {
  readonly kind: "renameEnumValue";
  readonly enum: string;
  readonly from: string;
  readonly to: string;
}

/** `CREATE EXTENSION IF NOT EXISTS "name"` on Postgres and PGlite; nothing on SQLite. */
export interface CreateExtensionOp {
  readonly kind: "createExtension";
  readonly name: string;
}

/** `DROP EXTENSION IF EXISTS "name"` (no CASCADE: Postgres refuses while something uses it). */
export interface DropExtensionOp {
  readonly kind: "dropExtension";
  readonly name: string;
}

/**
 * Raw SQL: one text for every dialect, or one per dialect. PGlite speaks Postgres, so it takes
 * the `postgres` text unless it is given its own.
 */
export type DialectSql = string | Readonly<{ postgres?: string; pglite?: string; sqlite?: string }>;

export interface ExecuteOp {
  readonly kind: "execute";
  readonly sql: DialectSql;
  readonly params?: readonly JsonValue[];
  /** SQL that undoes `sql`; without it the operation is irreversible. */
  readonly reverseSql?: DialectSql;
}

/** The dialects an op.execute text was written for ("every dialect" for one plain string). */
export function dialectsOf(text: DialectSql): string {
  return typeof text === "string" ? "every dialect" : Object.keys(text).join(", ");
}

/** The text of `text` for `dialect`; RETORT_INVALID_OPERATION when none was written for it. */
export function sqlForDialect(text: DialectSql, dialect: Dialect): string {
  if (typeof text === "string") return text;
  const found = text[dialect] ?? (dialect === "pglite" ? text.postgres : undefined);
  if (found === undefined) {
    throw new RetortError("RETORT_INVALID_OPERATION", `op.execute() has no SQL for ${dialect} (it has SQL for ${dialectsOf(text)})`, {
      hint: `Add a ${dialect === "pglite" ? "postgres (or pglite)" : dialect}: "…" entry to op.execute({ … }), or give one string for every dialect.`,
      details: { dialect, given: Object.keys(text) },
    });
  }
  return found;
}

export interface BulkInsertOp {
  readonly kind: "bulkInsert";
  readonly table: string;
  /**
   * Rows keyed by database column name, values JSON-safe as in snapshot literals: bigint as a
   * decimal string, Date as ISO text, bytes as hex, JSON as itself. Encoded per column type when
   * compiled. A column missing from a row takes its default.
   */
  readonly rows: readonly Readonly<Record<string, JsonValue>>[];
}

/** The typed data-migration escape hatch: the runtime calls `fn` with a Kysely handle inside the migration's transaction. */
export interface RunOp {
  readonly kind: "run";
  readonly description: string;
  readonly fn: (db: Kysely<any>) => Promise<void>;
}

/** Every operation that is plain data (compilable, serialisable). */
export type DataOp =
  | CreateTableOp
  | DropTableOp
  | RenameTableOp
  | AddColumnOp
  | DropColumnOp
  | RenameColumnOp
  | AlterColumnOp
  | CreateIndexOp
  | DropIndexOp
  | AddPrimaryKeyOp
  | AddUniqueOp
  | AddForeignKeyOp
  | AddCheckOp
  | DropConstraintOp
  | ValidateConstraintOp
  | CreateEnumOp
  | DropEnumOp
  | AddEnumValueOp
  | RenameEnumValueOp
  | CreateExtensionOp
  | DropExtensionOp
  | ExecuteOp
  | BulkInsertOp;

export type Op = DataOp | RunOp;
export type OpKind = Op["kind"];

/**
 * One statement to execute, compiled from an operation for one dialect.
 *
 * The flags tell the runtime what must surround the statement:
 * - `outsideTransaction`: run it on its own, not inside the migration's transaction (Postgres:
 *   CREATE/DROP INDEX CONCURRENTLY, ALTER TYPE … ADD VALUE).
 * - `foreignKeysOff` (SQLite table rebuilds): `PRAGMA foreign_keys = OFF` must be in effect while
 *   it runs. SQLite ignores that pragma inside a transaction, so the runtime sets it BEFORE BEGIN
 *   and restores it after COMMIT/ROLLBACK. Every rebuild starts with a guard statement that fails
 *   when foreign keys are still on, because DROP TABLE on a parent would otherwise delete (ON
 *   DELETE CASCADE) or orphan its children's rows.
 * - `checkForeignKeys` (SQLite): after the statement, run `PRAGMA foreign_key_check("<table>")`
 *   and fail (roll back) if it returns any row.
 * - `saveTriggers` / `restoreTriggers` (SQLite rebuilds): DROP TABLE removes the table's triggers.
 *   Before running a step with `saveTriggers: t`, read `SELECT sql FROM sqlite_master WHERE
 *   type = 'trigger' AND tbl_name = t`; after running the step with `restoreTriggers: t`, execute
 *   each saved statement again.
 * - `rebuild` (SQLite, on the first step of a table rebuild): what the rebuild was planned from. A
 *   run on a live database replaces the rebuild's `stepCount` steps by ones built from the table
 *   as it is then (so objects added by raw SQL are carried over); offline SQL uses them as they are.
 */
export interface Step {
  readonly sql: string;
  readonly params?: readonly unknown[];
  /** What the statement does, for progress and error messages: "addColumn members.nickname". */
  readonly description: string;
  readonly outsideTransaction?: boolean;
  /** Raw SQL a migration wrote: in a revision without a transaction it may be a statement no transaction can hold (VACUUM…). */
  readonly raw?: boolean;
  readonly foreignKeysOff?: boolean;
  readonly checkForeignKeys?: string;
  readonly saveTriggers?: string;
  readonly restoreTriggers?: string;
  readonly rebuild?: RebuildSource;
  /** createExtension: the extension the statement creates (PGlite loads its files before the run). */
  readonly extension?: string;
}

/** A SQLite table rebuild as planned from the fold: the table, the schemas around the operation, how it copies. */
export interface RebuildSource {
  readonly table: string;
  readonly before: Schema;
  readonly after: Schema;
  readonly description: string;
  readonly expressions?: Readonly<Record<string, string>>;
  /** The steps the fold planned for it, this one first. */
  readonly stepCount: number;
}

const KINDS: readonly OpKind[] = Object.freeze([
  "createTable",
  "dropTable",
  "renameTable",
  "addColumn",
  "dropColumn",
  "renameColumn",
  "alterColumn",
  "createIndex",
  "dropIndex",
  "addPrimaryKey",
  "addUnique",
  "addForeignKey",
  "addCheck",
  "dropConstraint",
  "validateConstraint",
  "createEnum",
  "dropEnum",
  "addEnumValue",
  "renameEnumValue",
  "createExtension",
  "dropExtension",
  "execute",
  "bulkInsert",
  "run",
] satisfies OpKind[]);
const KIND_SET: ReadonlySet<string> = new Set(KINDS);

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

function shorten(text: string, max = 60): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** A one-line description of an operation, for step descriptions and messages: "addColumn members.nickname". */
function describe(op: Op): string {
  switch (op.kind) {
    case "createTable":
      return `createTable ${op.table.name}`;
    case "dropTable":
      return `dropTable ${op.name}`;
    case "renameTable":
      return `renameTable ${op.from} → ${op.to}`;
    case "addColumn":
      return `addColumn ${op.table}.${op.column.name}`;
    case "dropColumn":
      return `dropColumn ${op.table}.${op.name}`;
    case "renameColumn":
      return `renameColumn ${op.table}.${op.from} → ${op.to}`;
    case "alterColumn": {
      const fields = (["type", "nullable", "default", "comment", "serial"] as const).filter((field) => op[field] !== undefined);
      return `alterColumn ${op.table}.${op.name} (${fields.join(", ")})`;
    }
    case "createIndex":
      return `createIndex ${op.index.name} on ${op.table}`;
    case "dropIndex":
      return `dropIndex ${op.name}`;
    case "addPrimaryKey":
      return `addPrimaryKey ${op.primaryKey.name} on ${op.table}`;
    case "addUnique":
      return `addUnique ${op.unique.name} on ${op.table}`;
    case "addForeignKey":
      return `addForeignKey ${op.foreignKey.name} on ${op.table}`;
    case "addCheck":
      return `addCheck ${op.check.name} on ${op.table}`;
    case "dropConstraint":
      return `dropConstraint ${op.name} on ${op.table}`;
    case "validateConstraint":
      return `validateConstraint ${op.name} on ${op.table}`;
    case "createEnum":
      return `createEnum ${op.enum.name}`;
    case "dropEnum":
      return `dropEnum ${op.name}`;
    case "addEnumValue":
      return `addEnumValue ${op.enum} '${op.value}'`;
    case "renameEnumValue":
      return `renameEnumValue ${op.enum} '${op.from}' → '${op.to}'`;
    case "createExtension":
      return `createExtension ${op.name}`;
    case "dropExtension":
      return `dropExtension ${op.name}`;
    case "execute":
      return `execute ${shorten(typeof op.sql === "string" ? op.sql : Object.values(op.sql)[0] ?? "")}`;
    case "bulkInsert":
      return `bulkInsert ${op.table} (${op.rows.length} row${op.rows.length === 1 ? "" : "s"})`;
    case "run":
      return `run ${op.description}`;
  }
}

/** The companion of the `Op` type: kinds, a type guard, freezing and descriptions. */
export const Op = Object.freeze({
  /** Every operation kind. */
  kinds: KINDS,
  /** Whether `value` looks like an operation (an object with a known `kind`). */
  is(value: unknown): value is Op {
    return typeof value === "object" && value !== null && KIND_SET.has((value as { kind?: unknown }).kind as string);
  },
  /** Whether the operation is plain data (everything but `run`). */
  isData(op: Op): op is DataOp {
    return op.kind !== "run";
  },
  /** Freeze an operation deeply (a `run` keeps its function as is) and return it. */
  freeze<T extends Op>(op: T): T {
    return deepFreeze(op);
  },
  describe,
});
