/**
 * The fold: what an operation does to a schema snapshot, without a database. `applyOperation`
 * never mutates its input; it returns a new snapshot (unchanged tables are shared). An operation
 * that targets something absent, or that the databases would refuse (a duplicate name, dropping a
 * table other tables still reference…), fails here with RETORT_INVALID_OPERATION naming it, so a
 * broken migration is caught before anything runs.
 *
 * This is how "the schema at migrations head" is computed in memory, and what the SQLite compiler
 * uses as the current and the new definition of a table it rebuilds.
 *
 * Like Postgres, dropping a column also drops the indexes and constraints of its table that use
 * it (a CHECK or index expression "uses" it when its text names the column).
 */
import { RetortError } from "../errors.js";
import { extensionsOf, withExtensions, type ColumnSchema, type ForeignKeySchema, type IndexSchema, type Schema, type TableSchema } from "../schema/snapshot.js";
import { mentionsColumn, renameColumnIn } from "./expressions.js";
import { Op } from "./types.js";

function fail(op: Op, message: string, hint?: string, details: Record<string, unknown> = {}): RetortError {
  return new RetortError("RETORT_INVALID_OPERATION", `${Op.describe(op)}: ${message}`, {
    ...(hint === undefined ? {} : { hint }),
    details: { operation: op.kind, ...details },
  });
}

const clone = <T>(value: T): T => structuredClone(value);

/**
 * Where each table of a snapshot sits, and which table owns each index or constraint name. A fold
 * applies thousands of operations, each to the snapshot the previous one returned; scanning every
 * table for each would make it quadratic. So an operation that only adds (a table, an index, a
 * constraint) hands its input's lookup on to the snapshot it returns, and the input loses it
 * (rebuilt if that snapshot is ever used again). Only arrays this module created are keyed:
 * callers never mutate them, while a snapshot passed in may be someone's work in progress.
 */
interface Lookup {
  readonly position: Map<string, number>;
  readonly owner: Map<string, string>;
}
const lookups = new WeakMap<readonly TableSchema[], Lookup>();

function lookupOf(schema: Schema): Lookup {
  const known = lookups.get(schema.tables);
  if (known) return known;
  const lookup: Lookup = { position: new Map(), owner: new Map() };
  schema.tables.forEach((table, i) => {
    lookup.position.set(table.name, i);
    for (const name of tableObjectNames(table)) if (!lookup.owner.has(name)) lookup.owner.set(name, table.name);
  });
  return lookup;
}

/** `next` = `previous` with the same tables in place (one may be appended) and `names` added to `table`. */
function handOn(previous: Schema, next: Schema, table: TableSchema, names: readonly string[]): Schema {
  const lookup = lookupOf(previous);
  lookups.delete(previous.tables);
  if (next.tables.length > previous.tables.length) lookup.position.set(table.name, next.tables.length - 1);
  for (const name of names) lookup.owner.set(name, table.name);
  lookups.set(next.tables, lookup);
  return next;
}

/** The table called `name` in a snapshot (undefined when there is none). */
export function tableNamed(schema: Schema, name: string): TableSchema | undefined {
  const i = lookupOf(schema).position.get(name);
  return i === undefined ? undefined : schema.tables[i];
}

function getTable(schema: Schema, op: Op, name: string): TableSchema {
  const table = tableNamed(schema, name);
  if (!table) {
    throw fail(op, `table "${name}" does not exist`, "Check the table name (database names, as in the schema), or create the table first.", { table: name });
  }
  return table;
}

function getColumn(table: TableSchema, op: Op, name: string): ColumnSchema {
  const column = table.columns.find((candidate) => candidate.name === name);
  if (!column) {
    throw fail(op, `column "${table.name}"."${name}" does not exist`, `"${table.name}" has: ${table.columns.map((c) => c.name).join(", ") || "no columns"}.`, {
      table: table.name,
      column: name,
    });
  }
  return column;
}

function assertColumns(table: TableSchema, op: Op, names: readonly string[], what: string): void {
  if (names.length === 0) throw fail(op, `${what} needs at least one column`);
  for (const name of names) getColumn(table, op, name);
  if (new Set(names).size !== names.length) throw fail(op, `${what} lists a column twice (${names.join(", ")})`);
}

function replaceTable(schema: Schema, name: string, table: TableSchema): Schema {
  const tables = schema.tables.slice();
  const i = lookupOf(schema).position.get(name);
  if (i !== undefined) tables[i] = table;
  return { ...schema, tables };
}

/** Index and constraint names of a table (Postgres keeps index names, and Retort all of these, unique per schema). */
function tableObjectNames(table: TableSchema): string[] {
  return [
    ...(table.primaryKey ? [table.primaryKey.name] : []),
    ...table.uniques.map((u) => u.name),
    ...table.indexes.map((i) => i.name),
    ...table.foreignKeys.map((f) => f.name),
    ...table.checks.map((c) => c.name),
  ];
}

/** Whether `table` has an index or constraint called `name` (no allocation: this runs for every op of a fold). */
function usesName(table: TableSchema, name: string): boolean {
  if (table.primaryKey?.name === name) return true;
  for (const list of [table.uniques, table.indexes, table.foreignKeys, table.checks] as const) {
    for (const item of list) if (item.name === name) return true;
  }
  return false;
}

function assertNameFree(schema: Schema, op: Op, name: string): void {
  if (name.length === 0) throw fail(op, "a constraint or index name cannot be empty");
  const owner = lookupOf(schema).owner.get(name);
  if (owner !== undefined) {
    throw fail(op, `the name "${name}" is already used by an index or constraint of table "${owner}"`, "Give it another name.", { name, table: owner });
  }
}

function sameColumns(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name) => b.includes(name));
}

/** Whether `columns` of `table` are covered by a primary key, unique constraint or plain unique index (what a foreign key needs). */
function isUniqueKey(table: TableSchema, columns: readonly string[]): boolean {
  if (table.primaryKey && sameColumns(table.primaryKey.columns, columns)) return true;
  if (table.uniques.some((unique) => sameColumns(unique.columns, columns))) return true;
  return table.indexes.some(
    (index) =>
      index.unique &&
      index.where === undefined &&
      index.elements.every((element) => "column" in element) &&
      sameColumns(
        index.elements.map((element) => (element as { column: string }).column),
        columns,
      ),
  );
}

/** Foreign keys (of any table, `self` included) that point at `table`. */
function referencingKeys(schema: Schema, table: string): Array<{ table: string; foreignKey: ForeignKeySchema }> {
  return schema.tables.flatMap((candidate) =>
    candidate.foreignKeys.filter((fk) => fk.refTable === table).map((foreignKey) => ({ table: candidate.name, foreignKey })),
  );
}

function assertForeignKey(schema: Schema, op: Op, table: TableSchema, fk: ForeignKeySchema): void {
  assertColumns(table, op, fk.columns, `foreign key "${fk.name}"`);
  const target = fk.refTable === table.name ? table : getTable(schema, op, fk.refTable);
  assertColumns(target, op, fk.refColumns, `foreign key "${fk.name}" (its target)`);
  if (fk.columns.length !== fk.refColumns.length) {
    throw fail(op, `foreign key "${fk.name}" has ${fk.columns.length} column(s) but ${fk.refColumns.length} target column(s)`);
  }
  if (!isUniqueKey(target, fk.refColumns)) {
    throw fail(
      op,
      `foreign key "${fk.name}" targets "${target.name}" (${fk.refColumns.join(", ")}), which is not its primary key or a unique constraint`,
      `Add a unique constraint on "${target.name}" (${fk.refColumns.join(", ")}) first, or reference the primary key.`,
    );
  }
}

function assertEnumsExist(schema: Schema, op: Op, table: string, columns: readonly ColumnSchema[]): void {
  for (const column of columns) {
    if (column.type.kind === "enum" && !schema.enums.some((e) => e.name === (column.type as { name: string }).name)) {
      throw fail(op, `column "${table}"."${column.name}" uses enum "${column.type.name}", which does not exist`, `Create it first: op.createEnum("${column.type.name}", [...]).`, {
        enum: column.type.name,
      });
    }
  }
}

function assertIndex(table: TableSchema, op: Op, index: IndexSchema): void {
  if (index.elements.length === 0) throw fail(op, `index "${index.name}" needs at least one column or expression`);
  for (const element of index.elements) if ("column" in element) getColumn(table, op, element.column);
}

/** Every check createTable makes of a new table against the schema it joins. */
function assertNewTable(schema: Schema, op: Op, table: TableSchema): void {
  if (tableNamed(schema, table.name)) throw fail(op, `table "${table.name}" already exists`, undefined, { table: table.name });
  if (schema.enums.some((e) => e.name === table.name)) {
    throw fail(op, `"${table.name}" is already the name of an enum type (Postgres gives each table a type of the same name)`);
  }
  const names = table.columns.map((column) => column.name);
  const duplicate = names.find((name, i) => names.indexOf(name) !== i);
  if (duplicate !== undefined) throw fail(op, `column "${duplicate}" is listed twice`);
  assertEnumsExist(schema, op, table.name, table.columns);
  if (table.primaryKey) assertColumns(table, op, table.primaryKey.columns, `primary key "${table.primaryKey.name}"`);
  for (const unique of table.uniques) assertColumns(table, op, unique.columns, `unique constraint "${unique.name}"`);
  for (const index of table.indexes) assertIndex(table, op, index);
  // A key to the new table itself is resolved by assertForeignKey; others look in the schema.
  for (const fk of table.foreignKeys) assertForeignKey(schema, op, table, fk);
  const own = tableObjectNames(table);
  const repeated = own.find((name, i) => own.indexOf(name) !== i);
  if (repeated !== undefined) throw fail(op, `the name "${repeated}" is used twice in the table`);
  for (const name of own) assertNameFree(schema, op, name);
}

function renameIn(columns: readonly string[], from: string, to: string): string[] {
  return columns.map((name) => (name === from ? to : name));
}

/** The snapshot after `op`. Throws RETORT_INVALID_OPERATION when the operation does not fit the schema. */
export function applyOperation(schema: Schema, op: Op): Schema {
  switch (op.kind) {
    case "createTable": {
      assertNewTable(schema, op, op.table);
      const table = clone(op.table);
      return handOn(schema, { ...schema, tables: [...schema.tables, table] }, table, tableObjectNames(table));
    }

    case "dropTable": {
      getTable(schema, op, op.name);
      const children = referencingKeys(schema, op.name).filter((ref) => ref.table !== op.name);
      if (children.length > 0) {
        const list = children.map((ref) => `"${ref.foreignKey.name}" on "${ref.table}"`).join(", ");
        throw fail(op, `other tables still reference "${op.name}": ${list}`, "Drop those foreign keys (or their tables) first.", {
          table: op.name,
          referencedBy: children.map((ref) => ref.table),
        });
      }
      return { ...schema, tables: schema.tables.filter((table) => table.name !== op.name) };
    }

    case "renameTable": {
      const table = getTable(schema, op, op.from);
      if (op.from === op.to) throw fail(op, "the new name is the same as the old one");
      if (tableNamed(schema, op.to)) throw fail(op, `table "${op.to}" already exists`);
      if (schema.enums.some((e) => e.name === op.to)) throw fail(op, `"${op.to}" is already the name of an enum type`);
      const renamed = { ...table, name: op.to };
      return {
        ...schema,
        tables: schema.tables.map((candidate) => {
          const current = candidate === table ? renamed : candidate;
          if (!current.foreignKeys.some((fk) => fk.refTable === op.from)) return current;
          return { ...current, foreignKeys: current.foreignKeys.map((fk) => (fk.refTable === op.from ? { ...fk, refTable: op.to } : fk)) };
        }),
      };
    }

    case "addColumn": {
      const table = getTable(schema, op, op.table);
      if (table.columns.some((column) => column.name === op.column.name)) throw fail(op, `column "${op.table}"."${op.column.name}" already exists`);
      assertEnumsExist(schema, op, op.table, [op.column]);
      const next = { ...table, columns: [...table.columns, clone(op.column)] };
      return handOn(schema, replaceTable(schema, op.table, next), next, []);
    }

    case "dropColumn": {
      const table = getTable(schema, op, op.table);
      getColumn(table, op, op.name);
      const referencing = referencingKeys(schema, op.table).filter((ref) => ref.foreignKey.refColumns.includes(op.name));
      if (referencing.length > 0) {
        const list = referencing.map((ref) => `"${ref.foreignKey.name}" on "${ref.table}"`).join(", ");
        throw fail(op, `foreign keys reference "${op.table}"."${op.name}": ${list}`, "Drop those foreign keys first.", { referencedBy: referencing.map((ref) => ref.table) });
      }
      const uses = (columns: readonly string[]) => columns.includes(op.name);
      const next: TableSchema = {
        ...table,
        columns: table.columns.filter((column) => column.name !== op.name),
        uniques: table.uniques.filter((unique) => !uses(unique.columns)),
        indexes: table.indexes.filter(
          (index) =>
            !index.elements.some((element) => ("column" in element ? element.column === op.name : mentionsColumn(element.expression, op.name))) &&
            !(index.where !== undefined && mentionsColumn(index.where, op.name)),
        ),
        foreignKeys: table.foreignKeys.filter((fk) => !uses(fk.columns)),
        checks: table.checks.filter((check) => !mentionsColumn(check.expression, op.name)),
      };
      if (table.primaryKey && uses(table.primaryKey.columns)) delete next.primaryKey;
      return replaceTable(schema, op.table, next);
    }

    case "renameColumn": {
      const table = getTable(schema, op, op.table);
      getColumn(table, op, op.from);
      if (op.from === op.to) throw fail(op, "the new name is the same as the old one");
      if (table.columns.some((column) => column.name === op.to)) throw fail(op, `column "${op.table}"."${op.to}" already exists`);
      const { from, to } = op;
      const next: TableSchema = {
        ...table,
        columns: table.columns.map((column) => (column.name === from ? { ...column, name: to } : column)),
        uniques: table.uniques.map((unique) => ({ ...unique, columns: renameIn(unique.columns, from, to) })),
        indexes: table.indexes.map((index) => {
          const renamed: IndexSchema = {
            ...index,
            elements: index.elements.map((element) =>
              "column" in element
                ? { ...element, column: element.column === from ? to : element.column }
                : { ...element, expression: renameColumnIn(element.expression, from, to) },
            ),
          };
          if (index.where !== undefined) renamed.where = renameColumnIn(index.where, from, to);
          return renamed;
        }),
        foreignKeys: table.foreignKeys.map((fk) => ({ ...fk, columns: renameIn(fk.columns, from, to) })),
        checks: table.checks.map((check) => ({ ...check, expression: renameColumnIn(check.expression, from, to) })),
      };
      if (table.primaryKey) next.primaryKey = { ...table.primaryKey, columns: renameIn(table.primaryKey.columns, from, to) };
      const renamed = replaceTable(schema, op.table, next);
      return {
        ...renamed,
        tables: renamed.tables.map((candidate) =>
          candidate.foreignKeys.some((fk) => fk.refTable === op.table)
            ? { ...candidate, foreignKeys: candidate.foreignKeys.map((fk) => (fk.refTable === op.table ? { ...fk, refColumns: renameIn(fk.refColumns, from, to) } : fk)) }
            : candidate,
        ),
      };
    }

    case "alterColumn": {
      const table = getTable(schema, op, op.table);
      const column = getColumn(table, op, op.name);
      if (op.type === undefined && op.nullable === undefined && op.default === undefined && op.comment === undefined && op.serial === undefined) {
        throw fail(op, "nothing to change: give type, nullable, default, comment or serial");
      }
      if (op.using !== undefined && op.type === undefined) throw fail(op, "using is only for a type change: give type too");
      const next: ColumnSchema = { ...column };
      if (op.type !== undefined) {
        next.type = clone(op.type);
        assertEnumsExist(schema, op, op.table, [next]);
      }
      if (op.nullable !== undefined) {
        if (op.nullable && column.identity !== undefined) throw fail(op, `"${op.table}"."${op.name}" is an identity column, which is always NOT NULL`);
        if (op.nullable && (op.serial ?? column.serial)) throw fail(op, `"${op.table}"."${op.name}" is a serial column, which is always NOT NULL`);
        if (op.nullable && table.primaryKey?.columns.includes(op.name)) {
          throw fail(op, `"${op.table}"."${op.name}" is in the primary key "${table.primaryKey.name}", which needs NOT NULL`, "Drop the primary key first.");
        }
        next.nullable = op.nullable;
      }
      if (op.default !== undefined) {
        if (op.default !== null && column.identity !== undefined) throw fail(op, `"${op.table}"."${op.name}" is an identity column and cannot have a default`);
        if (op.default !== null && (op.serial ?? column.serial)) throw fail(op, `"${op.table}"."${op.name}" is a serial column: its default is its sequence`);
        if (op.default === null) delete next.default;
        else next.default = clone(op.default);
      }
      if (op.comment !== undefined) {
        if (op.comment === null) delete next.comment;
        else next.comment = op.comment;
      }
      if (op.serial !== undefined) {
        if (op.serial && next.identity !== undefined) throw fail(op, `"${op.table}"."${op.name}" is an identity column; it cannot be serial too`, "Drop the identity first.");
        if (op.serial && next.default !== undefined) throw fail(op, `"${op.table}"."${op.name}" has a default; a serial column's default is its sequence`, "Give default: null in the same alterColumn.");
        if (op.serial && !["smallint", "integer", "bigint"].includes(next.type.kind)) throw fail(op, `a serial column must be smallint, integer or bigint, not ${next.type.kind}`);
        if (op.serial) {
          next.serial = true;
          next.nullable = false;
        } else delete next.serial;
      }
      const changed = { ...table, columns: table.columns.map((candidate) => (candidate === column ? next : candidate)) };
      return handOn(schema, replaceTable(schema, op.table, changed), changed, []);
    }

    case "createIndex": {
      const table = getTable(schema, op, op.table);
      assertIndex(table, op, op.index);
      assertNameFree(schema, op, op.index.name);
      const next = { ...table, indexes: [...table.indexes, clone(op.index)] };
      return handOn(schema, replaceTable(schema, op.table, next), next, [op.index.name]);
    }

    case "dropIndex": {
      const candidates = op.table === undefined ? schema.tables : [getTable(schema, op, op.table)];
      const table = candidates.find((candidate) => candidate.indexes.some((index) => index.name === op.name));
      if (!table) {
        const owner = candidates.find((candidate) => usesName(candidate, op.name));
        if (owner) {
          throw fail(op, `"${op.name}" is a constraint of "${owner.name}", not an index`, `Use op.dropConstraint("${op.name}", "${owner.name}").`);
        }
        throw fail(op, `index "${op.name}" does not exist${op.table === undefined ? "" : ` on "${op.table}"`}`, undefined, { index: op.name });
      }
      return replaceTable(schema, table.name, { ...table, indexes: table.indexes.filter((index) => index.name !== op.name) });
    }

    case "addPrimaryKey": {
      const table = getTable(schema, op, op.table);
      if (table.primaryKey) throw fail(op, `"${op.table}" already has a primary key ("${table.primaryKey.name}")`, "Drop it first with op.dropConstraint.");
      assertColumns(table, op, op.primaryKey.columns, "the primary key");
      assertNameFree(schema, op, op.primaryKey.name);
      // As on Postgres, primary key columns become NOT NULL.
      const columns = table.columns.map((column) => (op.primaryKey.columns.includes(column.name) && column.nullable ? { ...column, nullable: false } : column));
      return replaceTable(schema, op.table, { ...table, columns, primaryKey: clone(op.primaryKey) });
    }

    case "addUnique": {
      const table = getTable(schema, op, op.table);
      assertColumns(table, op, op.unique.columns, "the unique constraint");
      assertNameFree(schema, op, op.unique.name);
      const next = { ...table, uniques: [...table.uniques, clone(op.unique)] };
      return handOn(schema, replaceTable(schema, op.table, next), next, [op.unique.name]);
    }

    case "addForeignKey": {
      const table = getTable(schema, op, op.table);
      assertForeignKey(schema, op, table, op.foreignKey);
      assertNameFree(schema, op, op.foreignKey.name);
      const next = { ...table, foreignKeys: [...table.foreignKeys, clone(op.foreignKey)] };
      return handOn(schema, replaceTable(schema, op.table, next), next, [op.foreignKey.name]);
    }

    case "addCheck": {
      const table = getTable(schema, op, op.table);
      if (op.check.expression.trim() === "") throw fail(op, "the check expression is empty");
      assertNameFree(schema, op, op.check.name);
      const next = { ...table, checks: [...table.checks, clone(op.check)] };
      return handOn(schema, replaceTable(schema, op.table, next), next, [op.check.name]);
    }

    case "dropConstraint": {
      const table = getTable(schema, op, op.table);
      const keyColumns =
        table.primaryKey?.name === op.name ? table.primaryKey.columns : table.uniques.find((unique) => unique.name === op.name)?.columns;
      if (keyColumns) {
        const dependents = referencingKeys(schema, op.table).filter((ref) => sameColumns(ref.foreignKey.refColumns, keyColumns));
        if (dependents.length > 0) {
          const list = dependents.map((ref) => `"${ref.foreignKey.name}" on "${ref.table}"`).join(", ");
          throw fail(op, `foreign keys depend on it: ${list}`, "Drop those foreign keys first.");
        }
        const next: TableSchema = { ...table, uniques: table.uniques.filter((unique) => unique.name !== op.name) };
        if (table.primaryKey?.name === op.name) delete next.primaryKey;
        return replaceTable(schema, op.table, next);
      }
      if (table.foreignKeys.some((fk) => fk.name === op.name)) {
        return replaceTable(schema, op.table, { ...table, foreignKeys: table.foreignKeys.filter((fk) => fk.name !== op.name) });
      }
      if (table.checks.some((check) => check.name === op.name)) {
        return replaceTable(schema, op.table, { ...table, checks: table.checks.filter((check) => check.name !== op.name) });
      }
      if (table.indexes.some((index) => index.name === op.name)) {
        throw fail(op, `"${op.name}" is an index, not a constraint`, `Use op.dropIndex("${op.name}").`);
      }
      throw fail(op, `constraint "${op.name}" does not exist on "${op.table}"`, undefined, { constraint: op.name });
    }

    case "validateConstraint": {
      const table = getTable(schema, op, op.table);
      if (!table.foreignKeys.some((fk) => fk.name === op.name) && !table.checks.some((check) => check.name === op.name)) {
        throw fail(op, `no foreign key or check constraint "${op.name}" on "${op.table}"`);
      }
      return schema;
    }

    case "createEnum": {
      const { name, values } = op.enum;
      if (schema.enums.some((e) => e.name === name)) throw fail(op, `enum "${name}" already exists`);
      if (schema.tables.some((table) => table.name === name)) throw fail(op, `"${name}" is already the name of a table (Postgres gives each table a type of the same name)`);
      if (values.length === 0 || new Set(values).size !== values.length) throw fail(op, "an enum needs at least one value and no duplicates");
      return { ...schema, enums: [...schema.enums, clone(op.enum)] };
    }

    case "dropEnum": {
      if (!schema.enums.some((e) => e.name === op.name)) throw fail(op, `enum "${op.name}" does not exist`);
      const users = schema.tables.flatMap((table) =>
        table.columns.filter((column) => column.type.kind === "enum" && column.type.name === op.name).map((column) => `${table.name}.${column.name}`),
      );
      if (users.length > 0) throw fail(op, `columns still use it: ${users.join(", ")}`, "Drop those columns or change their type first.");
      return { ...schema, enums: schema.enums.filter((e) => e.name !== op.name) };
    }

    case "addEnumValue": {
      const target = schema.enums.find((e) => e.name === op.enum);
      if (!target) throw fail(op, `enum "${op.enum}" does not exist`);
      if (target.values.includes(op.value)) throw fail(op, `enum "${op.enum}" already has the value '${op.value}'`);
      if (op.before !== undefined && op.after !== undefined) throw fail(op, "give before or after, not both");
      const anchor = op.before ?? op.after;
      if (anchor !== undefined && !target.values.includes(anchor)) throw fail(op, `enum "${op.enum}" has no value '${anchor}'`);
      const values = [...target.values];
      if (anchor === undefined) values.push(op.value);
      else values.splice(values.indexOf(anchor) + (op.after !== undefined ? 1 : 0), 0, op.value);
      return { ...schema, enums: schema.enums.map((e) => (e === target ? { ...e, values } : e)) };
    }

    case "renameEnumValue": {
      const target = schema.enums.find((e) => e.name === op.enum);
      if (!target) throw fail(op, `enum "${op.enum}" does not exist`);
      if (!target.values.includes(op.from)) throw fail(op, `enum "${op.enum}" has no value '${op.from}'`);
      if (target.values.includes(op.to)) throw fail(op, `enum "${op.enum}" already has the value '${op.to}'`);
      const enums = schema.enums.map((e) => (e === target ? { ...e, values: e.values.map((v) => (v === op.from ? op.to : v)) } : e));
      // Defaults naming the old label follow it, as on Postgres (which stores the label's identity).
      const tables = schema.tables.map((table) => {
        const affected = table.columns.some((column) => isEnumDefault(column, op.enum, op.from));
        if (!affected) return table;
        return {
          ...table,
          columns: table.columns.map((column) => (isEnumDefault(column, op.enum, op.from) ? { ...column, default: { kind: "literal" as const, value: op.to } } : column)),
        };
      });
      return { ...schema, tables, enums };
    }

    case "createExtension": {
      const names = extensionsOf(schema);
      if (names.includes(op.name)) throw fail(op, `extension "${op.name}" is already created by an earlier operation`, "Create each extension once.");
      return withExtensions(schema, [...names, op.name]);
    }

    case "dropExtension": {
      const names = extensionsOf(schema);
      if (!names.includes(op.name)) throw fail(op, `extension "${op.name}" was not created by the migrations`, names.length ? `Created: ${names.join(", ")}.` : "No extension is created yet.");
      return withExtensions(schema, names.filter((name) => name !== op.name));
    }

    case "execute":
    case "run":
      return schema;

    case "bulkInsert": {
      const table = getTable(schema, op, op.table);
      const known = new Set(table.columns.map((column) => column.name));
      for (const [i, row] of op.rows.entries()) {
        const unknown = Object.keys(row).find((key) => !known.has(key));
        if (unknown !== undefined) throw fail(op, `row ${i + 1} has "${unknown}", which is not a column of "${op.table}"`, `Columns: ${[...known].join(", ")}.`);
      }
      return schema;
    }
  }
}

function isEnumDefault(column: ColumnSchema, enumName: string, value: string): boolean {
  return column.type.kind === "enum" && column.type.name === enumName && column.default?.kind === "literal" && column.default.value === value;
}

/** Fold a list of operations, in order. */
export function applyOperations(schema: Schema, ops: Iterable<Op>): Schema {
  let current = schema;
  for (const op of ops) current = applyOperation(current, op);
  return current;
}
