/**
 * SQLite table rebuilds: how Retort changes what SQLite's ALTER TABLE cannot (a column's type,
 * nullability or default, constraints, enum CHECKs), without losing a row. This is SQLite's
 * documented 12-step procedure (https://www.sqlite.org/lang_altertable.html#otheralter):
 *
 *   (runtime) PRAGMA foreign_keys = OFF, then BEGIN      — the pragma is a no-op inside a transaction
 *   1. guard: fail unless foreign keys really are off      — else DROP TABLE would delete (ON DELETE
 *                                                            CASCADE) or orphan the children's rows
 *   2. CREATE TABLE "_retort_tmp_<t>" (the new definition, rendered by the same DDL as createAll)
 *   3. INSERT INTO it SELECT the kept columns FROM "<t>"   — converted when the type changed; new
 *                                                            columns take their default; generated
 *                                                            columns are computed, not copied
 *      (AUTOINCREMENT) the old table's sqlite_sequence counter goes to the new one
 *   4. DROP TABLE "<t>"                                    — its indexes and triggers go with it
 *   5. ALTER TABLE "_retort_tmp_<t>" RENAME TO "<t>"       — with legacy_alter_table on, so views
 *                                                            naming "<t>" do not make the rename fail
 *   6. CREATE INDEX … for the table's indexes; (runtime) re-create its triggers
 *   7. (runtime) PRAGMA foreign_key_check on the table and on every table referencing it; any row
 *      aborts the transaction, leaving the database as it was
 *   (runtime) COMMIT, then PRAGMA foreign_keys = ON
 *
 * Every step is flagged `foreignKeysOff`; the first carries `saveTriggers`, the last
 * `restoreTriggers`, and the checks `checkForeignKeys` (see Step in operations/types.ts).
 *
 * These steps are planned from the fold (what the migrations created), which is all offline SQL
 * has. On a live database the executor plans them again when they run, from the introspected
 * table (liveRebuildSteps), so what raw SQL added to the table is carried over too, and what the
 * snapshot has no place for (collations, generated columns, STRICT, WITHOUT ROWID: SqliteTableExtras).
 */
import { RetortError } from "../../errors.js";
import { mentionsColumn } from "../../operations/expressions.js";
import type { RebuildSource, Step } from "../../operations/types.js";
import type { ArrayElementType, ColumnSchema, ColumnType, Schema, TableSchema } from "../../schema/snapshot.js";
import { identList, quoteIdent, quoteLiteral } from "../sql-text.js";
import { createSqliteTable, declaredTypeOf, isRowidColumn, sqliteDdl, type SqliteTableExtras } from "./ddl.js";
import { describeType } from "./values.js";

export const REBUILD_PREFIX = "_retort_tmp_";

/** Fails (inside SQL: SQLite has no RAISE outside triggers) when foreign keys are on. */
const FOREIGN_KEYS_GUARD =
  "SELECT json_extract('{}', 'Retort: PRAGMA foreign_keys must be OFF (set before BEGIN) while a table is rebuilt, or child rows would be deleted') " +
  "FROM pragma_foreign_keys WHERE foreign_keys";

/** An SQL expression that aborts the statement with `message` (built at run time, so it can show the value). */
function raise(messageSql: string): string {
  return `json_extract('{}', ${messageSql})`;
}

type Storage = "integer" | "boolean" | "real" | "numeric" | "text" | "timestamp" | "date" | "time" | "json" | "array" | "blob";

function storageOf(type: ColumnType): Storage {
  switch (type.kind) {
    case "smallint":
    case "integer":
    case "bigint":
      return "integer";
    case "real":
    case "double":
      return "real";
    case "uuid":
    case "text":
    case "varchar":
    case "enum":
    case "inet":
      return "text";
    case "timestamptz":
    case "timestamp":
      return "timestamp";
    case "json":
    case "jsonb":
      return "json";
    case "bytea":
      return "blob";
    default:
      return type.kind;
  }
}

/**
 * The SELECT expression that turns an old column's stored value into the new type's storage form,
 * or undefined when SQLite has no faithful conversion. Values that cannot be converted abort the
 * copy with a message naming the column and the value, as Postgres' casts do.
 */
export function convertColumn(table: string, column: string, from: ColumnType, to: ColumnType): string | undefined {
  const c = quoteIdent(column);
  if (from.kind === "array" && to.kind === "array") return convertArray(table, column, c, from.element, to.element);
  return convertValue(`"${table}"."${column}"`, c, from, to);
}

/**
 * An array column to another element type: the same JSON when the elements are stored alike
 * (text → varchar, integer → bigint), else each element converted as a column of its type
 * would be (json_each's value is an element's SQL value: text, a number, 1/0 for true/false).
 */
function convertArray(table: string, column: string, c: string, from: ArrayElementType, to: ArrayElementType): string | undefined {
  const source = storageOf(from);
  const target = storageOf(to);
  if (source === target) return c;
  const element = convertValue(`an element of "${table}"."${column}"`, "value", from, to);
  if (element === undefined) return undefined;
  const json = target === "boolean" ? `CASE WHEN (${element}) IS NULL THEN NULL WHEN (${element}) THEN json('true') ELSE json('false') END` : element;
  return `CASE WHEN ${c} IS NULL THEN NULL ELSE (SELECT json_group_array(${json} ORDER BY key) FROM json_each(${c})) END`;
}

/** The SELECT expression turning the SQL value `c` of type `from` into `to`'s storage form (`what` names it in errors). */
function convertValue(what: string, c: string, from: ColumnType, to: ColumnType): string | undefined {
  const source = storageOf(from);
  const target = storageOf(to);
  // SQLite shows the message in single quotes (doubling any inside), so the value goes in double quotes.
  const fail = raise(`${quoteLiteral(`Retort: cannot convert ${what} value "`)} || CAST(${c} AS TEXT) || ${quoteLiteral(`" to ${describeType(to)}`)}`);
  const guarded = (valid: string, converted: string) => `CASE WHEN ${c} IS NULL THEN NULL WHEN ${valid} THEN ${converted} ELSE ${fail} END`;
  // A number written as text: JSON number syntax (json_type is only asked once json_valid said yes).
  const numberText = (kinds: string, converted: string) =>
    `CASE WHEN ${c} IS NULL THEN NULL WHEN NOT json_valid(trim(${c})) THEN ${fail} WHEN json_type(trim(${c})) IN (${kinds}) THEN ${converted} ELSE ${fail} END`;
  const booleanText = `CASE WHEN ${c} IS NULL THEN NULL WHEN ${c} THEN 'true' ELSE 'false' END`;

  if (source === target) return c;
  switch (target) {
    case "integer":
      if (source === "boolean") return c;
      if (source === "real") return `CAST(round(${c}) AS INTEGER)`;
      if (source === "text") return numberText("'integer'", `CAST(trim(${c}) AS INTEGER)`);
      if (source === "numeric") return numberText("'integer', 'real'", `CAST(round(CAST(trim(${c}) AS REAL)) AS INTEGER)`);
      return undefined;
    case "real":
      if (source === "integer") return `CAST(${c} AS REAL)`;
      if (source === "text" || source === "numeric") return numberText("'integer', 'real'", `CAST(trim(${c}) AS REAL)`);
      return undefined;
    case "numeric":
      if (source === "integer" || source === "real") return `CAST(${c} AS TEXT)`;
      if (source === "text") return numberText("'integer', 'real'", `trim(${c})`);
      return undefined;
    case "boolean":
      if (source === "integer") return `CASE WHEN ${c} IS NULL THEN NULL WHEN ${c} <> 0 THEN 1 ELSE 0 END`;
      if (source === "text") {
        return `CASE WHEN ${c} IS NULL THEN NULL WHEN lower(trim(${c})) IN ('t', 'true', 'y', 'yes', 'on', '1') THEN 1 WHEN lower(trim(${c})) IN ('f', 'false', 'n', 'no', 'off', '0') THEN 0 ELSE ${fail} END`;
      }
      return undefined;
    case "text":
      if (source === "integer" || source === "real") return `CAST(${c} AS TEXT)`;
      if (source === "boolean") return booleanText;
      if (source === "blob") return `CASE WHEN ${c} IS NULL THEN NULL ELSE '\\x' || lower(hex(${c})) END`;
      return c; // numeric, dates and times, JSON: already text
    case "timestamp":
      if (source === "date") return `${c} || 'T00:00:00.000Z'`;
      if (source === "text") return guarded(`strftime('%Y-%m-%dT%H:%M:%fZ', ${c}) IS NOT NULL`, `strftime('%Y-%m-%dT%H:%M:%fZ', ${c})`);
      return undefined;
    case "date":
      if (source === "timestamp") return `substr(${c}, 1, 10)`;
      if (source === "text") return guarded(`date(${c}) IS NOT NULL`, `date(${c})`);
      return undefined;
    case "time":
      if (source === "timestamp" || source === "text") return guarded(`time(${c}) IS NOT NULL`, `time(${c})`);
      return undefined;
    case "json":
      if (source === "array" || source === "text" || source === "numeric") return c; // the json_valid CHECK vets text
      if (source === "integer" || source === "real") return `CAST(${c} AS TEXT)`;
      if (source === "boolean") return booleanText;
      if (source === "timestamp" || source === "date" || source === "time") return `json_quote(${c})`;
      return undefined;
    case "array":
      if (source === "json") return c;
      return undefined;
    case "blob":
      if (source === "text") return `CAST(${c} AS BLOB)`;
      return undefined;
  }
}

export interface RebuildOptions {
  /** Prefix of every step's description (the operation). */
  description: string;
  /** SELECT expressions for columns of the new table, instead of the automatic copy/conversion. */
  expressions?: Readonly<Record<string, string>>;
}

function tableIn(schema: Schema, name: string): TableSchema {
  const table = schema.tables.find((candidate) => candidate.name === name);
  if (!table) throw new Error(`internal: table "${name}" missing from the schema given to the SQLite rebuild`);
  return table;
}

/** What is copied into the new table: column name → SELECT expression over the old table. */
function copyExpressions(old: TableSchema, next: TableSchema, options: RebuildOptions, extras: SqliteTableExtras | undefined): Array<[string, string]> {
  const copies: Array<[string, string]> = [];
  for (const column of next.columns) {
    if (extras?.columns[column.name]?.generated) continue; // SQLite computes it; it cannot be inserted into
    const given = options.expressions?.[column.name];
    if (given !== undefined) {
      copies.push([column.name, given]);
      continue;
    }
    const previous: ColumnSchema | undefined = old.columns.find((candidate) => candidate.name === column.name);
    if (!previous) continue; // a new column: its DEFAULT fills it
    const expression = convertColumn(next.name, column.name, previous.type, column.type);
    if (expression === undefined) {
      throw new RetortError(
        "RETORT_UNSUPPORTED",
        `${options.description}: SQLite has no automatic conversion of "${next.name}"."${column.name}" from ${describeType(previous.type)} to ${describeType(column.type)}`,
        {
          hint: "Convert the values yourself: add a new column, fill it with op.execute(…) or op.run(…), drop the old one and rename the new one.",
          details: { table: next.name, column: column.name },
        },
      );
    }
    copies.push([column.name, expression]);
  }
  return copies;
}

/**
 * The steps that rebuild table `name` from its definition in `before` to the one in `after`
 * (same name in both), keeping every row. The first step records what they were planned from,
 * so a live run can plan them again from the table as it is (liveRebuildSteps).
 */
export function planRebuild(before: Schema, after: Schema, name: string, options: RebuildOptions): Step[] {
  const steps = rebuildSteps(tableIn(before, name), tableIn(after, name), after, options);
  const source: RebuildSource = { table: name, before, after, description: options.description, stepCount: steps.length, ...(options.expressions ? { expressions: options.expressions } : {}) };
  steps[0] = { ...steps[0]!, rebuild: source };
  return steps;
}

function rebuildSteps(old: TableSchema, next: TableSchema, after: Schema, options: RebuildOptions, extras?: SqliteTableExtras): Step[] {
  const name = next.name;
  if (next.columns.length === 0) {
    throw new RetortError("RETORT_UNSUPPORTED", `${options.description}: a SQLite table needs at least one column`, { hint: `Drop the table "${name}" instead.` });
  }
  const table = quoteIdent(name);
  const tmp = quoteIdent(`${REBUILD_PREFIX}${name}`);
  const [create] = createSqliteTable(next, after, extras);
  const head = `CREATE TABLE ${table} (`;
  if (!create?.startsWith(head)) throw new Error(`internal: unexpected CREATE TABLE text for "${name}"`);
  const copies = copyExpressions(old, next, options, extras);

  const label = (what: string) => `${options.description}: rebuild "${name}": ${what}`;
  const steps: Step[] = [
    { sql: FOREIGN_KEYS_GUARD, description: label("check that foreign keys are off"), saveTriggers: name },
    { sql: `CREATE TABLE ${tmp} (${create.slice(head.length)}`, description: label("create the new table") },
  ];
  if (copies.length > 0) {
    steps.push({
      sql: `INSERT INTO ${tmp} (${identList(copies.map(([column]) => column))}) SELECT ${copies.map(([, expression]) => expression).join(", ")} FROM ${table}`,
      description: label("copy the rows"),
    });
  } else {
    // Every column is new: keep the row count, each row taking the defaults.
    steps.push({ sql: `INSERT INTO ${tmp} (rowid) SELECT rowid FROM ${table}`, description: label("copy the rows") });
  }
  if (next.columns.some((column) => column.serial)) {
    // AUTOINCREMENT never reuses a number: the copy only knows the largest id left, so the new
    // table takes the old one's high-water mark (the rename carries it to the table's name).
    const tmpName = quoteLiteral(`${REBUILD_PREFIX}${name}`);
    steps.push(
      { sql: `DELETE FROM sqlite_sequence WHERE name = ${tmpName}`, description: label("keep the AUTOINCREMENT counter") },
      { sql: `INSERT INTO sqlite_sequence (name, seq) SELECT ${tmpName}, seq FROM sqlite_sequence WHERE name = ${quoteLiteral(name)}`, description: label("keep the AUTOINCREMENT counter") },
    );
  }
  steps.push(
    { sql: `DROP TABLE ${table}`, description: label("drop the old table") },
    { sql: "PRAGMA legacy_alter_table = ON", description: label("rename without rewriting views") },
    { sql: `ALTER TABLE ${tmp} RENAME TO ${table}`, description: label("rename the new table") },
    { sql: "PRAGMA legacy_alter_table = OFF", description: label("restore ALTER TABLE behaviour") },
    ...next.indexes.map((index) => ({ sql: sqliteDdl.createIndex(next, index), description: label(`create index ${index.name}`) })),
  );
  const last = steps.length - 1;
  steps[last] = { ...steps[last]!, restoreTriggers: name, checkForeignKeys: name };
  const children = after.tables.filter((candidate) => candidate.name !== name && candidate.foreignKeys.some((fk) => fk.refTable === name));
  for (const child of children) {
    steps.push({
      sql: `PRAGMA foreign_key_check(${quoteIdent(child.name)})`,
      description: label(`check the foreign keys of "${child.name}", which references it`),
      checkForeignKeys: child.name,
    });
  }
  return steps.map((step) => ({ ...step, foreignKeysOff: true }));
}

const named = <T extends { name: string }>(items: readonly T[], name: string) => items.some((item) => item.name === name);

/** What the live table has beyond its snapshot (readTableExtras in introspect.ts). */
export interface LiveTableExtras {
  extras: SqliteTableExtras;
  /** Clauses no rebuild can carry (ON CONFLICT, DEFERRABLE INITIALLY DEFERRED, COLLATE in a key list). */
  uncarried: readonly string[];
}

/**
 * A rebuild planned again from the table as the database holds it now (`live`: its introspection,
 * and `found`: what the snapshot has no place for), not only from the fold: columns, indexes,
 * unique constraints, checks and foreign keys that the migrations did not create (raw SQL, hand
 * edits), column collations, generated columns, STRICT and WITHOUT ROWID are carried over
 * unchanged. Refuses, with RETORT_INVALID_OPERATION naming it, what cannot be carried: such an
 * object using a column the operation drops, a column of the fold missing from the table, a name
 * clash with a new column, a change to a generated column, a column type STRICT does not accept,
 * a WITHOUT ROWID table losing its primary key, and clauses the snapshot cannot hold (ON CONFLICT…).
 */
export function liveRebuildSteps(live: Schema, source: RebuildSource, found: LiveTableExtras): Step[] {
  const name = source.table;
  const where = `${source.description}: rebuild "${name}"`;
  const refuse = (what: string, hint: string, details: Record<string, unknown> = {}) =>
    new RetortError("RETORT_INVALID_OPERATION", `${where}: ${what}`, { hint, details: { table: name, ...details } });
  const current = live.tables.find((candidate) => candidate.name === name);
  if (!current) throw refuse("the table is not in the database", "The migrations and the database disagree: check `retort drift`.");
  const known = tableIn(source.before, name);
  const target = tableIn(source.after, name);

  const missing = known.columns.filter((column) => !named(current.columns, column.name)).map((column) => column.name);
  if (missing.length > 0) {
    throw refuse(`column(s) ${missing.map((column) => `"${column}"`).join(", ")} created by the migrations are not in the table (changed outside the migrations?)`, "Make the table and the migrations agree again (check `retort drift`), then run again.", { columns: missing });
  }
  const dropped = known.columns.filter((column) => !named(target.columns, column.name)).map((column) => column.name);
  const extraColumns = current.columns.filter((column) => !named(known.columns, column.name));
  for (const column of extraColumns) {
    if (named(target.columns, column.name)) {
      throw refuse(`column "${column.name}" is already in the table (added outside the migrations), and this operation adds a column of that name`, "Drop one of them, or remove the operation, then run again.", { column: column.name });
    }
  }
  const usesDropped = (columns: readonly string[], expressions: ReadonlyArray<string | undefined>) =>
    dropped.find((column) => columns.includes(column) || expressions.some((expression) => expression !== undefined && mentionsColumn(expression, column)));
  const carry = <T extends { name: string }>(kind: string, extras: readonly T[], uses: (item: T) => string | undefined): T[] =>
    extras.map((item) => {
      const column = uses(item);
      if (column !== undefined) {
        throw refuse(
          `${kind} "${item.name}" (not created by the migrations) uses column "${column}", which this operation drops: it cannot be carried over`,
          `Drop ${kind} "${item.name}" first (op.execute in an earlier step), or recreate it without "${column}", then run again.`,
          { object: item.name, column },
        );
      }
      return item;
    });
  const extra = <T extends { name: string }>(all: readonly T[], before: readonly T[], now: readonly T[]) => all.filter((item) => !named(before, item.name) && !named(now, item.name));

  const indexes = carry("index", extra(current.indexes, known.indexes, target.indexes), (index) =>
    usesDropped(
      index.elements.flatMap((element) => ("column" in element ? [element.column] : [])),
      [...index.elements.map((element) => ("column" in element ? undefined : element.expression)), index.where],
    ),
  );
  const uniques = carry("unique constraint", extra(current.uniques, known.uniques, target.uniques), (unique) => usesDropped(unique.columns, []));
  const checks = carry("check", extra(current.checks, known.checks, target.checks), (check) => usesDropped([], [check.expression]));
  const foreignKeys = carry("foreign key", extra(current.foreignKeys, known.foreignKeys, target.foreignKeys), (fk) => usesDropped(fk.columns, []));

  const old: TableSchema = { ...known, columns: [...known.columns, ...extraColumns] };
  const next: TableSchema = {
    ...target,
    columns: [...target.columns, ...extraColumns],
    indexes: [...target.indexes, ...indexes],
    uniques: [...target.uniques, ...uniques],
    checks: [...target.checks, ...checks],
    foreignKeys: [...target.foreignKeys, ...foreignKeys],
  };
  refuseUncarried(next, known, found, usesDropped, refuse);
  const after: Schema = { ...source.after, tables: source.after.tables.map((table) => (table.name === name ? next : table)) };
  return rebuildSteps(old, next, after, { description: source.description, ...(source.expressions ? { expressions: source.expressions } : {}) }, found.extras);
}

/** The declared types a STRICT table accepts (https://www.sqlite.org/stricttables.html). */
const STRICT_TYPES = new Set(["INT", "INTEGER", "REAL", "TEXT", "BLOB", "ANY"]);

/** Throws when the new table `next` cannot keep what the live table has beyond its snapshot. */
function refuseUncarried(
  next: TableSchema,
  known: TableSchema,
  found: LiveTableExtras,
  usesDropped: (columns: readonly string[], expressions: ReadonlyArray<string | undefined>) => string | undefined,
  refuse: (what: string, hint: string, details?: Record<string, unknown>) => RetortError,
): void {
  const yourself = "rebuild the table yourself with op.execute (CREATE TABLE with the definition you want, INSERT … SELECT, DROP TABLE, ALTER TABLE … RENAME TO)";
  if (found.uncarried.length > 0) {
    throw refuse(
      `the table has ${found.uncarried.join("; ")}, which Retort's rebuild cannot carry over (it would be silently dropped)`,
      `Remove the clause first (or accept losing it) and ${yourself}, instead of this operation.`,
      { clauses: found.uncarried },
    );
  }
  for (const [column, extras] of Object.entries(found.extras.columns)) {
    const generated = extras.generated;
    if (!generated) continue;
    const definition = `GENERATED ALWAYS AS (${generated.expression}) ${generated.stored ? "STORED" : "VIRTUAL"}`;
    const before = known.columns.find((candidate) => candidate.name === column);
    const after = next.columns.find((candidate) => candidate.name === column);
    if (after === undefined) continue; // dropped with the rebuild
    if (before !== undefined && JSON.stringify(before) !== JSON.stringify(after)) {
      throw refuse(
        `column "${column}" is a generated column (${definition}), and this operation changes it: a rebuild cannot change a generated column`,
        `Drop "${column}" and add it again as you want it (op.execute("ALTER TABLE … ADD COLUMN … GENERATED ALWAYS AS (…) VIRTUAL")), or ${yourself}.`,
        { column },
      );
    }
    const uses = usesDropped([], [generated.expression]);
    if (uses !== undefined) {
      throw refuse(
        `generated column "${column}" (${definition}) uses column "${uses}", which this operation drops: it cannot be carried over`,
        `Drop "${column}" first (op.dropColumn in an earlier step), or recreate it without "${uses}", then run again.`,
        { column, uses },
      );
    }
  }
  if (found.extras.strict) {
    const misfit = next.columns.find((column) => !STRICT_TYPES.has(declaredTypeOf(column).toUpperCase()));
    if (misfit) {
      throw refuse(
        `the table is STRICT, which accepts only the column types ${[...STRICT_TYPES].join(", ")}, and column "${misfit.name}" would be declared ${declaredTypeOf(misfit)}`,
        `Give "${misfit.name}" a type declared as one of those (text, integer, real, bytea), or ${yourself} without STRICT.`,
        { column: misfit.name, declared: declaredTypeOf(misfit) },
      );
    }
  }
  if (found.extras.withoutRowid) {
    const numbered = next.columns.find(isRowidColumn);
    if (next.primaryKey === undefined || numbered !== undefined) {
      throw refuse(
        numbered !== undefined
          ? `the table is WITHOUT ROWID, which cannot have an identity or serial column ("${numbered.name}": INTEGER PRIMARY KEY numbers rows by the rowid)`
          : "the table is WITHOUT ROWID, which needs a primary key, and this operation leaves it without one",
        `Keep a primary key (not an identity or serial column) on the table, or ${yourself} as a rowid table.`,
      );
    }
  }
}
