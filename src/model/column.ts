/**
 * Column builders. Each modifier returns a new immutable builder whose type parameter records
 * what TypeScript needs: the value type, NOT NULL, whether inserts may omit it, and an explicit
 * database name. The runtime half (`config`) is what the schema snapshot is built from.
 */
import { RetortError } from "../errors.js";
import { ARRAY_ELEMENT_KINDS, isArrayElementType, MAX_TIME_PRECISION, type ArrayElementType, type ColumnType, type Deferrable, type DefaultValue, type JsonValue, type ReferentialAction } from "../schema/snapshot.js";
import { isSqlExpression, type SqlExpression } from "./sql.js";

export interface ColumnState {
  /** The TypeScript value type (without null). */
  data: unknown;
  notNull: boolean;
  /** Inserts may omit the column (server default, client default or identity). */
  hasDefault: boolean;
  /** Explicit database name, or undefined for snake_case of the key. */
  dbName: string | undefined;
}

type With<S extends ColumnState, K extends keyof ColumnState, V> = {
  [P in keyof S]: P extends K ? V : S[P];
};

export type ColumnRole = "createdAt" | "updatedAt" | "deletedAt";

/** Options of a foreign key, on `.references()` and `foreignKey()` alike. */
export interface ReferenceOptions {
  onDelete?: ReferentialAction;
  onUpdate?: ReferentialAction;
  name?: string;
  /**
   * `DEFERRABLE INITIALLY DEFERRED` ("deferred": checked at commit, so a transaction may insert a
   * child before its parent; what Django creates) or `DEFERRABLE INITIALLY IMMEDIATE`
   * ("immediate": checked per statement unless `SET CONSTRAINTS … DEFERRED`). Absent: not deferrable.
   */
  deferrable?: Deferrable;
}

export interface ReferenceConfig extends ReferenceOptions {
  target: () => ColumnReference;
}

/** What a foreign key target must look like: a column of a model table. */
export interface ColumnReference {
  readonly key: string;
  readonly dbName: string;
  readonly tableName: string;
}

export interface ColumnConfig {
  readonly type: ColumnType;
  /** An array column whose elements may be null (`t.array(t.integer().nullable())`); validation only. */
  readonly elementNullable?: boolean;
  /** Enum labels when `type.kind === "enum"` (for validation and SQLite CHECKs). */
  readonly enumValues?: readonly string[];
  readonly nullable: boolean;
  readonly primaryKey: boolean;
  /** An explicit name for a column-level primary key (else pk_<table>). */
  readonly primaryKeyName?: string;
  readonly default?: DefaultValue;
  /** Client-side default, evaluated by the controllers for each inserted row. */
  readonly defaultFn?: () => unknown;
  readonly identity?: "always" | "by-default";
  /** Sequence-backed (t.serial() / t.bigserial() / t.smallserial()). */
  readonly serial?: boolean;
  readonly unique?: { name?: string };
  readonly index?: { name?: string; using?: string };
  readonly references?: ReferenceConfig;
  readonly checks: ReadonlyArray<{ expression: string; name?: string }>;
  readonly comment?: string;
  readonly dbName?: string;
  readonly role?: ColumnRole;
  /** Earlier database names of the column: a rename hint for autogenerate (not DDL). */
  readonly renamedFrom?: readonly string[];
  /** The audit trail records that the value changed, never the value itself (not DDL). */
  readonly sensitive?: boolean;
}

export class Column<S extends ColumnState = ColumnState> {
  /** Type-level state only; never set at runtime. */
  declare readonly _: S;

  constructor(readonly config: ColumnConfig) {
    Object.freeze(this);
  }

  private with<N extends ColumnState>(patch: Partial<ColumnConfig>): Column<N> {
    return new Column<N>({ ...this.config, ...patch });
  }

  /** Allow NULL (columns are NOT NULL unless this is called). */
  nullable(): Column<With<S, "notNull", false>> {
    return this.with({ nullable: true });
  }

  /** A server-side default: a value of the column's type, or `sql` text. */
  default(value: S["data"] | SqlExpression): Column<With<S, "hasDefault", true>> {
    return this.with({ default: toDefault(this.config.type, value) });
  }

  /** Server-side default: the current timestamp. */
  defaultNow(): Column<With<S, "hasDefault", true>> {
    assertKind(this.config, ["timestamptz", "timestamp"], "defaultNow()");
    return this.with({ default: { kind: "now" } });
  }

  /** Server-side default: a random (v4) UUID. For time-ordered ids use `.defaultFn(uuidv7)`. */
  defaultRandom(): Column<With<S, "hasDefault", true>> {
    assertKind(this.config, ["uuid"], "defaultRandom()");
    return this.with({ default: { kind: "random-uuid" } });
  }

  /** Client-side default, computed by the controllers for each inserted row (e.g. `uuidv7`). */
  defaultFn(fn: () => S["data"]): Column<With<S, "hasDefault", true>> {
    return this.with({ defaultFn: fn });
  }

  /** An identity column: the database numbers the rows. */
  identity(options: { always?: boolean } = {}): Column<With<S, "hasDefault", true>> {
    assertKind(this.config, ["smallint", "integer", "bigint"], "identity()");
    return this.with({ identity: options.always ? "always" : "by-default" });
  }

  /** The table's primary key, named `pk_<table>` unless `{ name }` says otherwise. */
  primaryKey(options: { name?: string } = {}): Column<With<S, "notNull", true>> {
    return this.with({ primaryKey: true, nullable: false, ...(options.name === undefined ? {} : { primaryKeyName: options.name }) });
  }

  unique(name?: string): Column<S> {
    return this.with({ unique: name === undefined ? {} : { name } });
  }

  index(options: { name?: string; using?: string } = {}): Column<S> {
    return this.with({ index: options });
  }

  /**
   * A foreign key to another model's column: `t.bigint().references(() => guilds.id, { onDelete: "cascade" })`,
   * or by database names as `"table.column"` (what migrations use: `.references("guilds.id")`).
   */
  references(
    target: (() => ColumnReference & { readonly _: { data: S["data"] } }) | `${string}.${string}`,
    options: ReferenceOptions = {},
  ): Column<S> {
    return this.with({ references: { target: typeof target === "string" ? referenceByName(target) : target, ...options } });
  }

  /**
   * A CHECK constraint; the expression uses database column names. Named exactly `name` when one
   * is given, else `ck_<table>_<column>`.
   */
  check(expression: string | SqlExpression, name?: string): Column<S> {
    const text = isSqlExpression(expression) ? expression.text : expression;
    return this.with({ checks: [...this.config.checks, name === undefined ? { expression: text } : { expression: text, name }] });
  }

  comment(text: string): Column<S> {
    return this.with({ comment: text });
  }

  /** Use this database name instead of the snake_case of the key. */
  name<N extends string>(dbName: N): Column<With<S, "dbName", N>> {
    return this.with({ dbName });
  }

  /**
   * The column's earlier database name(s): autogenerate renames "old_name" to this column instead
   * of asking whether the drop and add are a rename. Harmless once the rename is applied.
   */
  renamedFrom(...names: [string, ...string[]]): Column<S> {
    if (names.length === 0 || !names.every((name) => typeof name === "string" && name.length > 0)) {
      throw new RetortError("RETORT_INVALID_MODEL", "renamedFrom() needs the column's earlier database name(s)");
    }
    return this.with({ renamedFrom: [...(this.config.renamedFrom ?? []), ...names] });
  }

  /**
   * A value that must not be copied into the audit trail (a password hash, a token): audit rows
   * of an audited table say the column changed and show "[redacted]" instead of the value.
   */
  sensitive(): Column<S> {
    return this.with({ sensitive: true });
  }

  /** Mark the column's role for the controllers (timestamps/soft delete). Used by the helpers. */
  as(role: ColumnRole): Column<S> {
    return this.with({ role });
  }
}

/** `"guilds.id"` → a target naming a table and a column by their database names. */
function referenceByName(target: string): () => ColumnReference {
  const dot = target.lastIndexOf(".");
  if (dot <= 0 || dot === target.length - 1) {
    throw new RetortError("RETORT_INVALID_MODEL", `references("${target}"): give the target as "table.column"`, {
      hint: 'For example .references("guilds.id", { onDelete: "cascade" }).',
    });
  }
  const column = target.slice(dot + 1);
  const ref = Object.freeze({ kind: "column-ref" as const, tableName: target.slice(0, dot), key: column, dbName: column });
  return () => ref;
}

function assertKind(config: ColumnConfig, kinds: string[], what: string): void {
  if (!kinds.includes(config.type.kind)) {
    throw new RetortError("RETORT_INVALID_MODEL", `${what} is for ${kinds.join("/")} columns, not ${config.type.kind}`, {
      hint: `Remove ${what} or change the column type.`,
    });
  }
}

/** A JS default value → the snapshot's JSON-safe literal. */
function toDefault(type: ColumnType, value: unknown): DefaultValue {
  if (isSqlExpression(value)) return { kind: "sql", sql: value.text };
  return { kind: "literal", value: toJsonLiteral(type, value) };
}

export function toJsonLiteral(type: ColumnType, value: unknown): JsonValue {
  if (value === null || value === undefined) return null;
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString("hex");
  if (type.kind === "jsonb" || type.kind === "json") return JSON.parse(JSON.stringify(value)) as JsonValue;
  if (type.kind === "array" && Array.isArray(value)) return value.map((item) => toJsonLiteral(type.element, item));
  return value as JsonValue;
}

function column<T>(type: ColumnType, extra: Partial<ColumnConfig> = {}): Column<{ data: T; notNull: true; hasDefault: false; dbName: undefined }> {
  return new Column({ type, nullable: false, primaryKey: false, checks: [], ...extra });
}

/** A time type, with the fractional-second precision Postgres accepts (0..6) when one is given. */
function timeType(kind: "timestamptz" | "timestamp" | "time", precision: number | undefined): ColumnType {
  if (precision === undefined) return { kind };
  if (!Number.isInteger(precision) || precision < 0 || precision > MAX_TIME_PRECISION) {
    throw new RetortError("RETORT_INVALID_MODEL", `${kind}(${precision}): the precision must be a whole number of fractional-second digits from 0 to ${MAX_TIME_PRECISION}`);
  }
  return { kind, precision };
}

/** The logical column types. Each maps to native types on Postgres/PGlite and faithful fallbacks on SQLite. */
export const t = {
  uuid: () => column<string>({ kind: "uuid" }),
  text: () => column<string>({ kind: "text" }),
  /** `varchar(n)`; without a length, Postgres' unlimited `varchar` (stored as text, as `t.text()` is). */
  varchar: (length?: number) => {
    if (length === undefined) return column<string>({ kind: "varchar" });
    if (!Number.isInteger(length) || length < 1) {
      throw new RetortError("RETORT_INVALID_MODEL", `varchar(${length}): the length must be a positive integer`);
    }
    return column<string>({ kind: "varchar", length });
  },
  smallint: () => column<number>({ kind: "smallint" }),
  integer: () => column<number>({ kind: "integer" }),
  /** 64-bit integer, read and written as a JS `bigint` (exact beyond 2^53). */
  bigint: () => column<bigint>({ kind: "bigint" }),
  /**
   * Postgres' `serial`: an integer numbered by a sequence the column owns (`DEFAULT nextval(…)`;
   * dropped with the column). Not an identity column (for that: `t.integer().identity()`). On
   * SQLite: `INTEGER PRIMARY KEY AUTOINCREMENT`, so it must be the table's single-column key there.
   */
  serial: () => new Column<{ data: number; notNull: true; hasDefault: true; dbName: undefined }>({ type: { kind: "integer" }, nullable: false, primaryKey: false, checks: [], serial: true }),
  /** `bigserial`: a bigint numbered by a sequence the column owns. */
  bigserial: () => new Column<{ data: bigint; notNull: true; hasDefault: true; dbName: undefined }>({ type: { kind: "bigint" }, nullable: false, primaryKey: false, checks: [], serial: true }),
  /** `smallserial`: a smallint numbered by a sequence the column owns. */
  smallserial: () => new Column<{ data: number; notNull: true; hasDefault: true; dbName: undefined }>({ type: { kind: "smallint" }, nullable: false, primaryKey: false, checks: [], serial: true }),
  /** Exact decimal, read and written as a string ("12.50") so no precision is lost. */
  numeric: (precision?: number, scale?: number) => {
    const type: ColumnType = { kind: "numeric" };
    if (precision !== undefined) type.precision = precision;
    if (scale !== undefined) type.scale = scale;
    return column<string>(type);
  },
  real: () => column<number>({ kind: "real" }),
  double: () => column<number>({ kind: "double" }),
  boolean: () => column<boolean>({ kind: "boolean" }),
  /** An instant. `precision`: fractional-second digits kept, 0..6 (default 6; JS Dates carry 3). */
  timestamptz: (precision?: number) => column<Date>(timeType("timestamptz", precision)),
  /** Timestamp without time zone; values are read and written as UTC. */
  timestamp: (precision?: number) => column<Date>(timeType("timestamp", precision)),
  /** A calendar date as "YYYY-MM-DD" (a string, so no time zone can shift it). */
  date: () => column<string>({ kind: "date" }),
  /** A time of day as "HH:MM:SS[.ffffff]". */
  time: (precision?: number) => column<string>(timeType("time", precision)),
  jsonb: <T = unknown>() => column<T>({ kind: "jsonb" }),
  json: <T = unknown>() => column<T>({ kind: "json" }),
  bytea: () => column<Uint8Array>({ kind: "bytea" }),
  /** An IPv4 or IPv6 address, optionally with a netmask length; read back as Postgres prints it ("10.0.0.1", "::1", "10.0.0.0/8"). */
  inet: () => column<string>({ kind: "inet" }),
  /**
   * A one-dimensional array of `element`'s type: `t.array(t.integer())` is `integer[]` on Postgres
   * (a JSON array on SQLite) and `number[]` in TypeScript. Elements are non-null unless the element
   * is `.nullable()` (`t.array(t.text().nullable())` is `(string | null)[]`); that is checked by
   * validation only, as Postgres keeps no such rule.
   */
  array: <E extends Column>(element: E) => column<ArrayOf<E>>({ kind: "array", element: arrayElement(element) }, element.config.nullable ? { elementNullable: true } : {}),
  /** text[] on Postgres; a JSON array on SQLite. The same as `t.array(t.text())`. */
  textArray: () => column<string[]>({ kind: "array", element: { kind: "text" } }),
};

/** The TypeScript value of an array of `E`: `E`'s value, or null too when the element is nullable. */
type ArrayOf<E extends Column> = Array<E["_"]["data"] | (E["_"]["notNull"] extends true ? never : null)>;

/** The element type of `t.array(element)`: a bare column of a kind arrays can hold. */
function arrayElement(element: Column): ArrayElementType {
  if (!(element instanceof Column) || !isArrayElementType(element.config.type)) {
    const kind = element instanceof Column ? element.config.type.kind : typeof element;
    throw new RetortError("RETORT_INVALID_MODEL", `t.array(): arrays of ${kind} are not supported`, {
      hint: `Give t.array() a column of one of these types: ${ARRAY_ELEMENT_KINDS.join(", ")} (for example t.array(t.integer())); store other values as JSON (t.jsonb()).`,
    });
  }
  const { type, ...rest } = element.config;
  // Keys, defaults, references and the like belong to the array column, not to its elements.
  const extra = Object.entries(rest).filter(([key, value]) => key !== "nullable" && key !== "primaryKey" && key !== "checks" && value !== undefined);
  if (element.config.primaryKey || element.config.checks.length > 0 || extra.length > 0) {
    const what = [...(element.config.primaryKey ? ["primaryKey"] : []), ...(element.config.checks.length > 0 ? ["check"] : []), ...extra.map(([key]) => key)];
    throw new RetortError("RETORT_INVALID_MODEL", `t.array(): the element column carries ${what.join(", ")}, which only the array column itself can have`, {
      hint: "Give the element as a bare type (t.array(t.integer()) or t.array(t.integer().nullable())) and put defaults, keys and the like on the array: t.array(t.integer()).default([]).",
    });
  }
  return type;
}

/** Internal: build an enum column (see enumType). */
export function enumColumn<V extends string>(name: string, values: readonly V[]) {
  return column<V>({ kind: "enum", name }, { enumValues: values });
}
