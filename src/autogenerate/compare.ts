/**
 * compare(from, to): the operations that turn schema `from` into schema `to`, in an order every
 * database accepts. Each operation is checked against the fold as it is produced (applied to a
 * running copy of `from`), and annotated with its `previous` state, so the list is valid and
 * reversible by construction.
 *
 * Order (each phase sees the schema the earlier ones left):
 *  0. create extensions (defaults, types and operator classes of what follows may need them)
 *  1. renames: tables, then columns, then enum values (decided ones only; see renames.ts)
 *  2. enums: create new ones, add values (in place, with before/after to keep the order)
 *  3. drop foreign keys that go or change, and those that depend on a key dropped in 4, and
 *     those that close a cycle among dropped tables
 *  4. drop primary keys, unique constraints, indexes and checks that go or change (and
 *     expressions over columns whose enum is rebuilt in 7)
 *  5. drop tables, referencing tables first
 *  6. drop columns
 *  7. enums that lose or reorder values: their columns become text, the type is dropped and
 *     created again with the new values (their columns return to it in 8)
 *  8. alter columns (type with USING where needed, nullability, default, comment, serial); add columns
 *  9. drop enums nothing uses any more
 * 10. add primary keys, unique constraints, indexes and checks to existing tables
 * 11. create tables, referenced tables first; a table's own indexes follow it
 * 12. add foreign keys: to existing tables, and those of new tables that had to wait (a cycle,
 *     a composite key)
 * 13. table comments (op.execute on Postgres: there is no operation for them)
 * 14. drop extensions (last: what used them is gone by then)
 */
import { isDeepStrictEqual } from "node:util";
import { RetortError } from "../errors.js";
import { applyOperation } from "../operations/apply.js";
import { mentionsColumn } from "../operations/expressions.js";
import { annotateOperation } from "../operations/reverse.js";
import { Op, type DataOp } from "../operations/types.js";
import { renderDefault as renderPostgresDefault } from "../dialects/postgres/ddl.js";
import { quoteIdent, quoteLiteral } from "../dialects/sql-text.js";
import { extensionsOf } from "../schema/snapshot.js";
import type {
  CheckSchema,
  ColumnSchema,
  Dialect,
  EnumSchema,
  ForeignKeySchema,
  IndexSchema,
  PrimaryKeySchema,
  Schema,
  TableSchema,
  UniqueSchema,
} from "../schema/snapshot.js";
import {
  holdColumn,
  holdEnumValue,
  holdTable,
  resolveColumnRenames,
  resolveEnumValueRenames,
  resolveTableRenames,
  type RenameDecision,
  type RenameHints,
} from "./renames.js";
import { renderableColumn, splitCreateTable } from "./renderable.js";
import {
  checkKey,
  commentKey,
  defaultKey,
  dialectRules,
  effectiveNullable,
  foreignKeyKey,
  identityKey,
  indexKey,
  modelChecks,
  plainUniqueColumns,
  typeKey,
  type DialectRules,
} from "./rules.js";
import { castExists, destructiveReason, readableType, usingExpression } from "./safety.js";

export interface CompareOptions {
  dialect: Dialect;
  renames?: RenameHints;
  /** Leave comments out of the comparison (for an introspector that cannot read them). */
  ignoreComments?: boolean;
}

export interface DestructiveWarning {
  /** Index of the operation in `ops`. */
  index: number;
  op: Op;
  message: string;
}

export interface CompareResult {
  ops: Op[];
  /** Possible renames that must be decided; no operations are produced for them. */
  decisions: RenameDecision[];
  destructive: DestructiveWarning[];
  /** Things worth telling the user: ignored hints, changes done as drop + create, raw SQL used. */
  notes: string[];
}

/** The operations that turn `from` into `to`; see the module comment for their order. */
export function compareSchemas(from: Schema, to: Schema, options: CompareOptions): CompareResult {
  const rules = dialectRules(options.dialect, options.ignoreComments === undefined ? {} : { ignoreComments: options.ignoreComments });
  const differ = new Differ(from, prepareTarget(to), rules, options.renames ?? {});
  return differ.run();
}

/** Whether two schemas are the same for `dialect` (no operations, no decisions). */
export function schemasEqual(a: Schema, b: Schema, dialect: Dialect): boolean {
  const result = compareSchemas(a, b, { dialect });
  return result.ops.length === 0 && result.decisions.length === 0;
}

/** The target without what is not DDL (rename hints) and with NULL defaults removed (they are no default). */
function prepareTarget(to: Schema): Schema {
  const target: Schema = structuredClone(to);
  for (const table of target.tables) {
    for (const column of table.columns) {
      if (column.default?.kind === "literal" && column.default.value === null) delete column.default;
      if (column.identity !== undefined || column.serial) delete column.default;
    }
  }
  return target;
}

function stripHints<T extends TableSchema | ColumnSchema>(item: T): T {
  if (!("renamedFrom" in item)) return item;
  const copy = { ...item };
  delete copy.renamedFrom;
  return copy;
}

function stripTable(table: TableSchema): TableSchema {
  const copy = stripHints(table);
  return { ...copy, columns: copy.columns.map(stripHints) };
}

/** Named objects of one kind matched by name and definition. */
function match<T extends { name: string }>(current: readonly T[], target: readonly T[], key: (item: T) => string) {
  const targetByName = new Map(target.map((item) => [item.name, item]));
  const kept = new Set<string>();
  for (const item of current) {
    const other = targetByName.get(item.name);
    if (other && key(other) === key(item)) kept.add(item.name);
  }
  const dropped = current.filter((item) => !kept.has(item.name));
  const added = target.filter((item) => !kept.has(item.name));
  return { kept, dropped, added };
}

/** A unique key as the differ sees it: a unique constraint, or a plain unique index standing for one. */
interface UniqueKey {
  name: string;
  columns: string[];
  origin: "constraint" | "index";
  unique?: UniqueSchema;
  index?: IndexSchema;
}

function uniqueKeys(table: TableSchema, rules: DialectRules): UniqueKey[] {
  const keys: UniqueKey[] = table.uniques.map((unique) => ({ name: unique.name, columns: unique.columns, origin: "constraint", unique }));
  for (const index of table.indexes) {
    const columns = plainUniqueColumns(index, rules);
    if (columns) keys.push({ name: index.name, columns, origin: "index", index });
  }
  return keys;
}

/** A unique constraint and a unique index on the same columns are different objects: the key says which. */
const uniqueKeyKey = (key: UniqueKey) => `${key.origin}: ${key.columns.join(", ")}`;

function plainIndexes(table: TableSchema, rules: DialectRules): IndexSchema[] {
  return table.indexes.filter((index) => plainUniqueColumns(index, rules) === undefined);
}

const sameColumnSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((name) => b.includes(name));

class Differ {
  private current: Schema;
  private target: Schema;
  private readonly ops: Op[] = [];
  private readonly decisions: RenameDecision[] = [];
  private readonly notes: string[] = [];
  /** Foreign keys to drop in phase 3 even though they did not change (table → names). */
  private readonly forcedForeignKeyDrops = new Map<string, Set<string>>();
  /** Objects to drop in phase 4 even though they did not change. */
  private readonly forcedObjectDrops = new Map<string, Set<string>>();
  /** Enums rebuilt in phase 7 (name → target values). */
  private readonly rebuilds = new Map<string, EnumSchema>();
  /** Columns whose primary key was dropped: still NOT NULL in the database. */
  private readonly formerKeyColumns = new Set<string>();

  constructor(
    from: Schema,
    target: Schema,
    private readonly rules: DialectRules,
    private readonly hints: RenameHints,
  ) {
    this.current = from;
    this.target = target;
  }

  run(): CompareResult {
    this.createExtensions();
    this.renames();
    this.enumsFirst();
    this.planRebuilds();
    this.planForcedDrops();
    this.dropForeignKeys();
    this.dropTableObjects();
    this.dropTables();
    this.dropColumns();
    this.rebuildEnums();
    this.alterAndAddColumns();
    this.dropEnums();
    this.addTableObjects();
    this.createTables();
    this.addForeignKeys();
    this.tableComments();
    this.dropExtensions();
    const destructive: DestructiveWarning[] = [];
    this.ops.forEach((op, index) => {
      const message = destructiveReason(op);
      if (message !== undefined) destructive.push({ index, op, message });
    });
    return { ops: this.ops, decisions: this.decisions, destructive, notes: this.notes };
  }

  // -------------------------------------------------------------------------------------------
  // helpers

  private emit(op: DataOp): void {
    if (!this.rules.namedEnums) {
      // SQLite: an enum exists only through its columns; create it when an operation first needs it.
      for (const name of enumsUsedBy(op)) {
        const found = this.target.enums.find((candidate) => candidate.name === name);
        if (found && !this.current.enums.some((candidate) => candidate.name === name)) this.emitChecked({ kind: "createEnum", enum: structuredClone(found) });
      }
    }
    this.emitChecked(op);
  }

  private emitChecked(op: DataOp): void {
    const frozen = Op.freeze(op);
    let annotated: Op;
    try {
      annotated = annotateOperation(this.current, frozen);
      this.current = applyOperation(this.current, annotated);
    } catch (error) {
      if (error instanceof RetortError) {
        throw new RetortError("RETORT_INVALID_OPERATION", `autogenerate produced an operation the schema refuses (${Op.describe(frozen)}): ${error.message}`, {
          hint: "This is a bug in the differ, or the target schema is not valid (check it with schemaFromModels / the fold).",
          details: { operation: frozen },
          cause: error,
        });
      }
      throw error;
    }
    this.ops.push(annotated);
  }

  private table(schema: Schema, name: string): TableSchema | undefined {
    return schema.tables.find((table) => table.name === name);
  }

  private persisting(): Array<[TableSchema, TableSchema]> {
    const pairs: Array<[TableSchema, TableSchema]> = [];
    for (const table of this.current.tables) {
      const other = this.table(this.target, table.name);
      if (other) pairs.push([table, other]);
    }
    return pairs;
  }

  private force(map: Map<string, Set<string>>, table: string, name: string): void {
    let set = map.get(table);
    if (!set) map.set(table, (set = new Set()));
    set.add(name);
  }

  private forced(map: Map<string, Set<string>>, table: string, name: string): boolean {
    return map.get(table)?.has(name) ?? false;
  }

  // -------------------------------------------------------------------------------------------
  // 0. and 14. extensions (by name; SQLite has none)

  private createExtensions(): void {
    if (!this.rules.extensions) return;
    const existing = extensionsOf(this.current);
    for (const name of extensionsOf(this.target)) if (!existing.includes(name)) this.emit({ kind: "createExtension", name });
  }

  private dropExtensions(): void {
    if (!this.rules.extensions) return;
    const kept = extensionsOf(this.target);
    for (const name of [...extensionsOf(this.current)].reverse()) if (!kept.includes(name)) this.emit({ kind: "dropExtension", name });
  }

  // -------------------------------------------------------------------------------------------
  // 1. renames

  private renames(): void {
    const tables = resolveTableRenames(this.current, this.target, this.hints, this.rules);
    this.notes.push(...tables.notes);
    this.decisions.push(...tables.decisions);
    for (const decision of tables.decisions) this.target = holdTable(this.target, this.current, decision.from, decision.to);
    const renamedTables = new Map<string, string>();
    for (const pair of orderRenames(tables.renames, new Set(this.current.tables.map((table) => table.name)))) {
      this.emit({ kind: "renameTable", from: pair.from, to: pair.to });
      if (!pair.temporary) renamedTables.set(pair.to, pair.original);
    }

    for (const [currentTable, targetTable] of this.persisting()) {
      const oldName = renamedTables.get(currentTable.name) ?? currentTable.name;
      const columns = resolveColumnRenames(currentTable, this.current, targetTable, this.target, oldName, this.hints, this.rules);
      this.notes.push(...columns.notes);
      this.decisions.push(...columns.decisions);
      for (const decision of columns.decisions) {
        this.target = holdColumn(this.target, this.current, currentTable.name, targetTable.name, decision.from, decision.to);
      }
      const existing = new Set(currentTable.columns.map((column) => column.name));
      for (const pair of orderRenames(columns.renames, existing)) this.emit({ kind: "renameColumn", table: targetTable.name, from: pair.from, to: pair.to });
    }

    const values = resolveEnumValueRenames(this.current, this.target, this.hints);
    this.notes.push(...values.notes);
    this.decisions.push(...values.decisions);
    for (const decision of values.decisions) this.target = holdEnumValue(this.target, this.current, decision.enum!, decision.from, decision.to);
    const byEnum = new Map<string, Array<{ from: string; to: string }>>();
    for (const rename of values.renames) byEnum.set(rename.enum, [...(byEnum.get(rename.enum) ?? []), rename]);
    for (const [name, pairs] of byEnum) {
      const existing = new Set(this.current.enums.find((candidate) => candidate.name === name)?.values ?? []);
      for (const pair of orderRenames(pairs, existing)) this.emit({ kind: "renameEnumValue", enum: name, from: pair.from, to: pair.to });
    }
  }

  // -------------------------------------------------------------------------------------------
  // 2. enums: create, add values

  private enumsFirst(): void {
    for (const targetEnum of this.target.enums) {
      const currentEnum = this.current.enums.find((candidate) => candidate.name === targetEnum.name);
      if (!this.rules.namedEnums) {
        // SQLite: unused enums do not exist; new ones are created when first used (see emit).
        if (!currentEnum || !usesEnum(this.target, targetEnum.name)) continue;
        if (!usesEnum(this.current, targetEnum.name)) {
          // Known to the fold but used by nothing: replace it when the values differ (no SQL either way).
          const same = currentEnum.values.length === targetEnum.values.length && currentEnum.values.every((value) => targetEnum.values.includes(value));
          if (!same) {
            this.emit({ kind: "dropEnum", name: targetEnum.name });
            this.emit({ kind: "createEnum", enum: structuredClone(targetEnum) });
          }
          continue;
        }
      } else if (!currentEnum) {
        this.emit({ kind: "createEnum", enum: structuredClone(targetEnum) });
        continue;
      }
      if (!currentEnum) continue;
      const additions = this.enumAdditions(currentEnum.values, targetEnum.values);
      if (additions === undefined) {
        this.rebuilds.set(targetEnum.name, targetEnum);
        continue;
      }
      for (const addition of additions) this.emit({ kind: "addEnumValue", enum: targetEnum.name, value: addition.value, ...addition.position });
    }
  }

  /**
   * The values to add to turn `current` into `target` in place, each with where it goes; undefined
   * when values are removed (or, on Postgres, reordered): the type must be rebuilt.
   */
  private enumAdditions(current: readonly string[], target: readonly string[]): Array<{ value: string; position: { before?: string; after?: string } }> | undefined {
    if (current.some((value) => !target.includes(value))) return undefined;
    const kept = target.filter((value) => current.includes(value));
    if (this.rules.namedEnums && kept.some((value, i) => value !== current[i])) return undefined;
    const list = [...current];
    const additions: Array<{ value: string; position: { before?: string; after?: string } }> = [];
    target.forEach((value, i) => {
      if (list.includes(value)) return;
      if (!this.rules.namedEnums) {
        list.push(value);
        additions.push({ value, position: {} });
        return;
      }
      const previous = target[i - 1];
      if (previous === undefined) {
        additions.push({ value, position: { before: list[0]! } });
        list.unshift(value);
      } else if (list[list.length - 1] === previous) {
        additions.push({ value, position: {} });
        list.push(value);
      } else {
        additions.push({ value, position: { after: previous } });
        list.splice(list.indexOf(previous) + 1, 0, value);
      }
    });
    return additions;
  }

  // -------------------------------------------------------------------------------------------
  // planning forced drops

  private planRebuilds(): void {
    // Expressions over columns whose enum is rebuilt: Postgres cannot re-parse `role <> 'x'::old`
    // once the column is text, so such indexes and checks are dropped first and made again after.
    for (const name of this.rebuilds.keys()) {
      for (const table of this.current.tables) {
        if (!this.table(this.target, table.name)) continue;
        for (const column of table.columns) {
          if (column.type.kind !== "enum" || column.type.name !== name) continue;
          for (const index of table.indexes) {
            const uses =
              index.elements.some((element) => "expression" in element && mentionsColumn(element.expression, column.name)) ||
              (index.where !== undefined && mentionsColumn(index.where, column.name));
            if (uses) this.force(this.forcedObjectDrops, table.name, index.name);
          }
          for (const check of table.checks) if (mentionsColumn(check.expression, column.name)) this.force(this.forcedObjectDrops, table.name, check.name);
        }
      }
    }
  }

  /** Keys that will be dropped in phase 4: the foreign keys relying on them must go first (and come back in 12). */
  private planForcedDrops(): void {
    for (const [currentTable, targetTable] of this.persisting()) {
      const droppedKeys: string[][] = [];
      if (currentTable.primaryKey && !this.samePrimaryKey(currentTable.primaryKey, targetTable.primaryKey)) droppedKeys.push(currentTable.primaryKey.columns);
      const keys = match(uniqueKeys(currentTable, this.rules), uniqueKeys(targetTable, this.rules), uniqueKeyKey);
      for (const key of keys.dropped) droppedKeys.push(key.columns);
      for (const key of uniqueKeys(currentTable, this.rules)) if (this.forced(this.forcedObjectDrops, currentTable.name, key.name)) droppedKeys.push(key.columns);
      if (droppedKeys.length === 0) continue;
      for (const table of this.current.tables) {
        for (const fk of table.foreignKeys) {
          if (fk.refTable === currentTable.name && droppedKeys.some((columns) => sameColumnSet(columns, fk.refColumns))) {
            this.force(this.forcedForeignKeyDrops, table.name, fk.name);
          }
        }
      }
    }
  }

  private samePrimaryKey(a: PrimaryKeySchema | undefined, b: PrimaryKeySchema | undefined): boolean {
    if (!a || !b) return a === b;
    return a.name === b.name && a.columns.join(", ") === b.columns.join(", ");
  }

  // -------------------------------------------------------------------------------------------
  // 3. drop foreign keys

  private dropForeignKeys(): void {
    const droppedTables = this.current.tables.filter((table) => !this.table(this.target, table.name));
    // Among tables that are dropped: break reference cycles (the drop order handles the rest).
    const cycles = new Set(dependencyOrder(droppedTables).cycleEdges.map((edge) => `${edge.table}\u0000${edge.fk.name}`));
    for (const currentTable of [...this.current.tables]) {
      const targetTable = this.table(this.target, currentTable.name);
      const names = new Set(targetTable ? match(currentTable.foreignKeys, targetTable.foreignKeys, foreignKeyKey).dropped.map((fk) => fk.name) : []);
      for (const fk of currentTable.foreignKeys) {
        if (this.forced(this.forcedForeignKeyDrops, currentTable.name, fk.name) || cycles.has(`${currentTable.name}\u0000${fk.name}`)) names.add(fk.name);
      }
      for (const fk of currentTable.foreignKeys) if (names.has(fk.name)) this.emit({ kind: "dropConstraint", table: currentTable.name, name: fk.name });
    }
  }

  // -------------------------------------------------------------------------------------------
  // 4. drop keys, indexes and checks

  private dropTableObjects(): void {
    for (const [currentTable, targetTable] of this.persisting()) {
      const table = currentTable.name;
      const forced = (name: string) => this.forced(this.forcedObjectDrops, table, name);
      const dropChecks = new Set(match(modelChecks(currentTable, this.rules), modelChecks(targetTable, this.rules), checkKey).dropped.map((check) => check.name));
      for (const check of modelChecks(currentTable, this.rules)) if (forced(check.name)) dropChecks.add(check.name);
      for (const name of dropChecks) this.emit({ kind: "dropConstraint", table, name });
      const indexes = match(plainIndexes(currentTable, this.rules), plainIndexes(targetTable, this.rules), (index) => indexKey(index, this.rules));
      this.noteIndexRenames(table, indexes.dropped, indexes.added);
      const dropIndexes = new Set(indexes.dropped.map((index) => index.name));
      for (const index of plainIndexes(currentTable, this.rules)) if (forced(index.name)) dropIndexes.add(index.name);
      for (const name of dropIndexes) this.emit({ kind: "dropIndex", table, name });
      const keys = match(uniqueKeys(currentTable, this.rules), uniqueKeys(targetTable, this.rules), uniqueKeyKey);
      const dropKeys = new Set(keys.dropped.map((key) => key.name));
      for (const key of uniqueKeys(currentTable, this.rules)) if (forced(key.name)) dropKeys.add(key.name);
      for (const key of uniqueKeys(currentTable, this.rules)) {
        if (!dropKeys.has(key.name)) continue;
        if (key.origin === "index") this.emit({ kind: "dropIndex", table, name: key.name });
        else this.emit({ kind: "dropConstraint", table, name: key.name });
      }
      if (currentTable.primaryKey && !this.samePrimaryKey(currentTable.primaryKey, targetTable.primaryKey)) {
        for (const column of currentTable.primaryKey.columns) this.formerKeyColumns.add(`${table}\u0000${column}`);
        this.emit({ kind: "dropConstraint", table, name: currentTable.primaryKey.name });
      }
    }
  }

  private noteIndexRenames(table: string, dropped: IndexSchema[], added: IndexSchema[]): void {
    for (const index of dropped) {
      const renamed = added.find((candidate) => indexKey(candidate, this.rules) === indexKey(index, this.rules));
      if (renamed) {
        this.notes.push(`index "${index.name}" on "${table}" is renamed to "${renamed.name}": done as dropIndex + createIndex (there is no rename operation; the index is rebuilt)`);
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // 6. drop columns

  /** Drops that would empty a table wait until its new columns exist (a table needs a column). */
  private readonly deferredColumnDrops: DataOp[] = [];

  private dropColumns(): void {
    for (const [currentTable, targetTable] of this.persisting()) {
      const keep = new Set(targetTable.columns.map((column) => column.name));
      const dropped = currentTable.columns.filter((column) => !keep.has(column.name));
      const last = dropped.length === currentTable.columns.length ? dropped.pop() : undefined;
      for (const column of dropped) this.emit({ kind: "dropColumn", table: currentTable.name, name: column.name });
      if (last) this.deferredColumnDrops.push({ kind: "dropColumn", table: currentTable.name, name: last.name });
    }
  }

  // -------------------------------------------------------------------------------------------
  // 5. drop tables

  private dropTables(): void {
    const dropped = this.current.tables.filter((table) => !this.table(this.target, table.name));
    // Referencing tables first: the reverse of the creation order.
    const { order } = dependencyOrder(dropped);
    for (const table of order.reverse()) this.emit({ kind: "dropTable", name: table.name });
  }

  // -------------------------------------------------------------------------------------------
  // 7. enum rebuilds

  private rebuildEnums(): void {
    for (const [name, targetEnum] of this.rebuilds) {
      const currentEnum = this.current.enums.find((candidate) => candidate.name === name)!;
      const removed = currentEnum.values.filter((value) => !targetEnum.values.includes(value));
      this.notes.push(
        removed.length > 0
          ? `enum "${name}" loses ${removed.map((value) => `'${value}'`).join(", ")}: its columns go through text while the type is made again (rows still holding ${removed.length === 1 ? "that value" : "those values"} make the migration fail)`
          : `enum "${name}" changes the order of its values: its columns go through text while the type is made again`,
      );
      for (const table of this.current.tables) {
        for (const column of table.columns) {
          if (column.type.kind === "enum" && column.type.name === name) {
            this.emit({ kind: "alterColumn", table: table.name, name: column.name, type: { kind: "text" } });
          }
        }
      }
      this.emit({ kind: "dropEnum", name });
      this.emit({ kind: "createEnum", enum: structuredClone(targetEnum) });
    }
  }

  // -------------------------------------------------------------------------------------------
  // 8. alter and add columns

  private alterAndAddColumns(): void {
    for (const [, targetTable] of this.persisting()) {
      for (const targetColumn of targetTable.columns) {
        const currentTable = this.table(this.current, targetTable.name)!;
        const currentColumn = currentTable.columns.find((column) => column.name === targetColumn.name);
        if (!currentColumn) {
          this.emit({ kind: "addColumn", table: targetTable.name, column: renderableColumn(stripHints(targetColumn), this.rules.dialect) });
          continue;
        }
        this.alterColumn(currentTable, currentColumn, targetTable, targetColumn);
      }
    }
    for (const op of this.deferredColumnDrops) this.emit(op);
  }

  private alterColumn(currentTable: TableSchema, current: ColumnSchema, targetTable: TableSchema, target: ColumnSchema): void {
    const table = targetTable.name;
    const op: { -readonly [K in keyof Extract<DataOp, { kind: "alterColumn" }>]: Extract<DataOp, { kind: "alterColumn" }>[K] } = { kind: "alterColumn", table, name: target.name };
    if (typeKey(current.type, this.current, this.rules) !== typeKey(target.type, this.target, this.rules)) {
      const conversion = this.conversion(table, current, target);
      if (conversion === "recreate") {
        this.recreateColumn(currentTable, current, targetTable, target);
        return;
      }
      if (conversion !== "undecided") {
        op.type = structuredClone(target.type);
        if (conversion !== undefined) op.using = conversion;
      }
    }
    const wasKey = this.formerKeyColumns.has(`${table}\u0000${current.name}`);
    const currentNullable = effectiveNullable(currentTable, current) && !wasKey;
    const targetNullable = effectiveNullable(targetTable, target);
    if (currentNullable !== targetNullable) op.nullable = targetNullable;
    const identityChanged = identityKey(current, this.rules) !== identityKey(target, this.rules);
    const serialChanged = Boolean(current.serial) !== Boolean(target.serial);
    // A serial that goes: its sequence and default first (a new default or an identity may follow).
    if (serialChanged && current.serial) this.emit({ kind: "alterColumn", table, name: target.name, serial: false });
    // With a type change the default is set again in the new type's form ("0" for a bigint is 0
    // for a double): compare it as written, not only by meaning.
    const defaultChanged =
      op.type !== undefined ? !isDeepStrictEqual(current.default, target.default) : defaultKey(current) !== defaultKey(target);
    if (!identityChanged && current.identity === undefined && defaultChanged) {
      op.default = target.default === undefined ? null : structuredClone(target.default);
    }
    if (commentKey(current.comment, this.rules) !== commentKey(target.comment, this.rules)) op.comment = commentKey(target.comment, this.rules) ?? null;
    if (op.type !== undefined || op.nullable !== undefined || op.default !== undefined || op.comment !== undefined) {
      // Identity columns cannot become nullable or take a default: change the identity first.
      this.emit(op);
    }
    if (identityChanged) this.identityChange(table, current, target);
    if (serialChanged && target.serial) this.emit({ kind: "alterColumn", table, name: target.name, serial: true });
  }

  /**
   * How a column's values reach its new type: undefined (a cast does it), a USING expression, a
   * drop and add of the column ("recreate", decided), or "undecided" when the database has no
   * cast and nobody said what to do (a "cast" decision is listed; the type stays as it is).
   */
  private conversion(table: string, current: ColumnSchema, target: ColumnSchema): string | undefined | "recreate" | "undecided" {
    const key = `${table}.${target.name}`;
    const given = this.hints.using?.[key];
    if (given !== undefined && this.rules.usingClause) return given;
    if (this.hints.recreate?.includes(key)) return "recreate";
    if (castExists(current.type, target.type, this.rules.dialect)) {
      return this.rules.usingClause ? usingExpression(target.name, current.type, target.type) : undefined;
    }
    const from = readableType(current.type);
    const to = readableType(target.type);
    this.decisions.push({
      kind: "cast",
      table,
      from: target.name,
      to: target.name,
      reason: `${this.rules.dialect === "sqlite" ? "SQLite's table rebuild cannot convert" : "Postgres has no cast from"} ${from} to ${to}`,
    });
    return "undecided";
  }

  /** The decided answer to a type change without a cast: drop the column, add it again with the new type. */
  private recreateColumn(currentTable: TableSchema, current: ColumnSchema, targetTable: TableSchema, target: ColumnSchema): void {
    this.notes.push(`"${targetTable.name}"."${target.name}" changes from ${readableType(current.type)} to ${readableType(target.type)} by dropping and adding the column (as decided): its values are lost`);
    if (targetTable.columns.length === 1 && currentTable.columns.length === 1) {
      throw new RetortError("RETORT_UNSUPPORTED", `"${targetTable.name}"."${target.name}" is the table's only column: it cannot be dropped and added again`, {
        hint: `Give a USING expression instead (--using ${targetTable.name}.${target.name}=<SQL>).`,
      });
    }
    this.emit({ kind: "dropColumn", table: targetTable.name, name: current.name });
    this.emit({ kind: "addColumn", table: targetTable.name, column: renderableColumn(stripHints(target), this.rules.dialect) });
  }

  private identityChange(table: string, current: ColumnSchema, target: ColumnSchema): void {
    const where = `"${table}"."${target.name}"`;
    if (this.rules.dialect === "sqlite") {
      this.notes.push(`identity of ${where} changes (${current.identity ?? "none"} → ${target.identity ?? "none"}): SQLite cannot change it in place and there is no operation for it; write this step by hand`);
      return;
    }
    if (current.identity === undefined && current.default !== undefined) {
      // Postgres refuses an identity on a column with a default: drop it first.
      this.emit({ kind: "alterColumn", table, name: target.name, default: null });
    }
    const alter = `ALTER TABLE ${quoteIdent(table)} ALTER COLUMN ${quoteIdent(target.name)}`;
    const add = (mode: "always" | "by-default") => `${alter} ADD GENERATED ${mode === "always" ? "ALWAYS" : "BY DEFAULT"} AS IDENTITY`;
    const set = (mode: "always" | "by-default") => `${alter} SET GENERATED ${mode === "always" ? "ALWAYS" : "BY DEFAULT"}`;
    const drop = `${alter} DROP IDENTITY`;
    let sql: string;
    let reverseSql: string;
    if (current.identity === undefined) {
      sql = add(target.identity!);
      reverseSql = drop;
    } else if (target.identity === undefined) {
      sql = drop;
      reverseSql = add(current.identity);
    } else {
      sql = set(target.identity);
      reverseSql = set(current.identity);
    }
    this.notes.push(`identity of ${where} changes (${current.identity ?? "none"} → ${target.identity ?? "none"}): done with op.execute (there is no operation for it; the fold reads it with the Postgres parser)`);
    this.emit({ kind: "execute", sql, reverseSql });
    const targetDefault = target.identity === undefined ? renderPostgresDefault(target) : undefined;
    if (targetDefault !== undefined) this.emit({ kind: "execute", sql: `${alter} SET DEFAULT ${targetDefault}`, reverseSql: `${alter} DROP DEFAULT` });
  }

  // -------------------------------------------------------------------------------------------
  // 9. drop enums

  private dropEnums(): void {
    // SQLite: enums exist only through their columns; an unused one is nothing to drop.
    if (!this.rules.namedEnums) return;
    for (const currentEnum of [...this.current.enums]) {
      if (this.target.enums.some((candidate) => candidate.name === currentEnum.name)) continue;
      const used = this.current.tables.some((table) => table.columns.some((column) => column.type.kind === "enum" && column.type.name === currentEnum.name));
      if (used) continue; // SQLite: a column kept its (equivalent) enum
      this.emit({ kind: "dropEnum", name: currentEnum.name });
    }
  }

  // -------------------------------------------------------------------------------------------
  // 10. add keys, indexes and checks to existing tables

  private addTableObjects(): void {
    for (const [, targetTable] of this.persisting()) {
      const table = targetTable.name;
      const current = () => this.table(this.current, table)!;
      if (targetTable.primaryKey && !current().primaryKey) {
        // Make the columns NOT NULL explicitly, so that the downgrade gives them back their NULLs.
        for (const name of targetTable.primaryKey.columns) {
          const column = current().columns.find((candidate) => candidate.name === name)!;
          if (column.nullable) this.emit({ kind: "alterColumn", table, name, nullable: false });
        }
        this.emit({ kind: "addPrimaryKey", table, primaryKey: structuredClone(targetTable.primaryKey) });
      }
      const keys = match(uniqueKeys(current(), this.rules), uniqueKeys(targetTable, this.rules), uniqueKeyKey);
      for (const key of keys.added) {
        if (key.origin === "index") this.emit({ kind: "createIndex", table, index: structuredClone(key.index!) });
        else this.emit({ kind: "addUnique", table, unique: structuredClone(key.unique!) });
      }
      const indexes = match(plainIndexes(current(), this.rules), plainIndexes(targetTable, this.rules), (index) => indexKey(index, this.rules));
      for (const index of indexes.added) this.emit({ kind: "createIndex", table, index: structuredClone(index) });
      const checks = match(modelChecks(current(), this.rules), modelChecks(targetTable, this.rules), checkKey);
      for (const check of checks.added) this.emit({ kind: "addCheck", table, check: structuredClone(check) });
    }
  }

  // -------------------------------------------------------------------------------------------
  // 11. create tables

  private readonly deferredForeignKeys: Array<{ table: string; foreignKey: ForeignKeySchema }> = [];
  private readonly createdTables = new Set<string>();

  private createTables(): void {
    const added = this.target.tables.filter((table) => !this.table(this.current, table.name));
    const { order, cycleEdges } = dependencyOrder(added);
    const deferred = new Set(cycleEdges.map((edge) => `${edge.table}\u0000${edge.fk.name}`));
    for (const table of order) {
      this.createdTables.add(table.name);
      const split = splitCreateTable(stripTable(table), this.rules.dialect);
      const inline = split.table.foreignKeys.filter((fk) => !deferred.has(`${table.name}\u0000${fk.name}`));
      for (const fk of split.table.foreignKeys) if (!inline.includes(fk)) this.deferredForeignKeys.push({ table: table.name, foreignKey: fk });
      this.emit({ kind: "createTable", table: { ...split.table, foreignKeys: inline } });
      for (const op of split.after) {
        if (op.kind === "addForeignKey") this.deferredForeignKeys.push({ table: op.table, foreignKey: op.foreignKey });
        else this.emit(op);
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // 12. foreign keys

  private addForeignKeys(): void {
    for (const [, targetTable] of this.persisting()) {
      if (this.createdTables.has(targetTable.name)) continue;
      const currentTable = this.table(this.current, targetTable.name)!;
      for (const fk of match(currentTable.foreignKeys, targetTable.foreignKeys, foreignKeyKey).added) {
        this.emit({ kind: "addForeignKey", table: targetTable.name, foreignKey: structuredClone(fk) });
      }
    }
    for (const { table, foreignKey } of this.deferredForeignKeys) this.emit({ kind: "addForeignKey", table, foreignKey: structuredClone(foreignKey) });
  }

  // -------------------------------------------------------------------------------------------
  // 13. table comments

  private tableComments(): void {
    for (const [currentTable, targetTable] of this.persisting()) {
      const before = commentKey(currentTable.comment, this.rules);
      const after = commentKey(targetTable.comment, this.rules);
      if (before === after) continue;
      if (this.rules.dialect === "sqlite") {
        this.notes.push(`the comment of table "${targetTable.name}" changes: SQLite keeps comments in the CREATE TABLE text and there is no operation for it; it is left as it is`);
        continue;
      }
      const comment = (text: string | undefined) => `COMMENT ON TABLE ${quoteIdent(targetTable.name)} IS ${text === undefined ? "NULL" : quoteLiteral(text)}`;
      this.notes.push(`the comment of table "${targetTable.name}" changes: done with op.execute (there is no operation for table comments; the fold reads it with the Postgres parser)`);
      this.emit({ kind: "execute", sql: comment(after), reverseSql: comment(before) });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// helpers

function usesEnum(schema: Schema, name: string): boolean {
  return schema.tables.some((table) => table.columns.some((column) => column.type.kind === "enum" && column.type.name === name));
}

/** Enum types an operation needs to exist. */
function enumsUsedBy(op: DataOp): string[] {
  const columns = op.kind === "createTable" ? op.table.columns : op.kind === "addColumn" ? [op.column] : [];
  const names = columns.flatMap((column) => (column.type.kind === "enum" ? [column.type.name] : []));
  if (op.kind === "alterColumn" && op.type?.kind === "enum") names.push(op.type.name);
  return names;
}

/**
 * Tables ordered so each comes after the tables it references (among `tables`); references that
 * close a cycle are returned as `cycleEdges` (they must be added after, or dropped before).
 */
export function dependencyOrder(tables: readonly TableSchema[]): { order: TableSchema[]; cycleEdges: Array<{ table: string; fk: ForeignKeySchema }> } {
  const byName = new Map(tables.map((table) => [table.name, table]));
  const state = new Map<string, "visiting" | "done">();
  const order: TableSchema[] = [];
  const cycleEdges: Array<{ table: string; fk: ForeignKeySchema }> = [];
  const visit = (table: TableSchema) => {
    state.set(table.name, "visiting");
    for (const fk of table.foreignKeys) {
      if (fk.refTable === table.name) continue;
      const parent = byName.get(fk.refTable);
      if (!parent) continue;
      const seen = state.get(parent.name);
      if (seen === "visiting") cycleEdges.push({ table: table.name, fk });
      else if (seen === undefined) visit(parent);
    }
    state.set(table.name, "done");
    order.push(table);
  };
  for (const table of tables) if (!state.has(table.name)) visit(table);
  return { order, cycleEdges };
}

/**
 * Renames in an order that never takes a name still in use; a cycle (a ↔ b) goes through a
 * temporary name.
 */
function orderRenames<P extends { from: string; to: string }>(pairs: readonly P[], existing: ReadonlySet<string>): Array<{ from: string; to: string; original: string; temporary: boolean }> {
  const pending = pairs.map((pair) => ({ from: pair.from, to: pair.to, original: pair.from }));
  const names = new Set(existing);
  const out: Array<{ from: string; to: string; original: string; temporary: boolean }> = [];
  while (pending.length > 0) {
    const ready = pending.findIndex((pair) => !names.has(pair.to));
    if (ready >= 0) {
      const [pair] = pending.splice(ready, 1);
      names.delete(pair!.from);
      names.add(pair!.to);
      out.push({ ...pair!, temporary: false });
      continue;
    }
    // Every target name is taken by another pending rename: break the cycle.
    const pair = pending[0]!;
    let temporary = `${pair.from}__retort_tmp`;
    while (names.has(temporary)) temporary += "_";
    out.push({ from: pair.from, to: temporary, original: pair.original, temporary: true });
    names.delete(pair.from);
    names.add(temporary);
    pair.from = temporary;
  }
  return out;
}

export type { CheckSchema };
