/**
 * Renames are never guessed. When a dropped table and an added one have the same shape, a
 * dropped column and an added one the same type, or an enum loses one value and gains another,
 * the pair could be a rename (data kept) or a drop and an add (data lost). Each such pair is a
 * RenameDecision that must be made: by a hint (flags such as `--rename-column
 * members.nick=nickname`, a hints file, or `.renamedFrom("old")` in the model), or declared not a
 * rename (`notRenames`). Until then the differ produces no operations for the pair.
 */
import { readFile } from "node:fs/promises";
import { mentionsColumn } from "../operations/expressions.js";
import { RetortError, didYouMean } from "../errors.js";
import type { ColumnSchema, Schema, TableSchema } from "../schema/snapshot.js";
import { typeKey, type DialectRules } from "./rules.js";

/** Rename decisions given ahead of time. Every map is old name → new name. */
export interface RenameHints {
  /** `{ members: "guild_members" }` */
  tables?: Record<string, string>;
  /** `{ "members.nick": "nickname" }` (the table by its old or its new name). */
  columns?: Record<string, string>;
  /** `{ "member_role.mod": "moderator" }` */
  enumValues?: Record<string, string>;
  /**
   * Names that are not renames: a drop and an add. `"table"`, `"table.column"`, `"enum.value"`
   * (either side of the pair), or a pair `"old=new"` / `"table.old=new"`.
   */
  notRenames?: string[];
  /**
   * Type changes the database has no cast for (kind "cast" decisions), decided ahead:
   * `{ "orders.ref": "NULL" }` converts with that USING expression (Postgres), …
   */
  using?: Record<string, string>;
  /** … or `["orders.ref"]`: drop the column and add it again with the new type (its values are lost). */
  recreate?: string[];
}

export type RenameKind = "table" | "column" | "enumValue";

export interface RenameDecision {
  /** "cast": a column's type changes and the database has no conversion for it (`from` = `to` = the column). */
  kind: RenameKind | "cast";
  /** kind "column" and "cast": the table (by its new name). */
  table?: string;
  /** kind "enumValue": the enum. */
  enum?: string;
  from: string;
  to: string;
  /** Why the pair looks like a rename. */
  reason: string;
}

const usage = (message: string, hint: string) => new RetortError("RETORT_CONFIG", message, { hint });

/**
 * Parse a rename flag's value: `--rename-table a=b` → { from: "a", to: "b" };
 * `--rename-column members.nick=nickname` → { table: "members", from: "nick", to: "nickname" }
 * (`members.nick=members.nickname` is accepted too); `--rename-enum-value mood.sad=unhappy` →
 * { enum: "mood", from: "sad", to: "unhappy" }.
 */
export function parseRenameFlag(kind: RenameKind, text: string): { table?: string; enum?: string; from: string; to: string } {
  const eq = text.indexOf("=");
  const left = eq < 0 ? "" : text.slice(0, eq).trim();
  const right = eq < 0 ? "" : text.slice(eq + 1).trim();
  if (kind === "table") {
    if (!left || !right || left.includes(".") || right.includes(".")) {
      throw usage(`--rename-table "${text}": expected old=new`, "For example --rename-table members=guild_members.");
    }
    return { from: left, to: right };
  }
  const flag = kind === "column" ? "--rename-column" : "--rename-enum-value";
  const example = kind === "column" ? "members.nick=nickname" : "member_role.mod=moderator";
  const dot = left.lastIndexOf(".");
  if (!left || !right || dot <= 0 || dot === left.length - 1) throw usage(`${flag} "${text}": expected ${kind === "column" ? "table.old=new" : "enum.old=new"}`, `For example ${flag} ${example}.`);
  const owner = left.slice(0, dot);
  let to = right;
  if (right.includes(".")) {
    const rightDot = right.lastIndexOf(".");
    if (right.slice(0, rightDot) !== owner) throw usage(`${flag} "${text}": both sides must name the same ${kind === "column" ? "table" : "enum"}`, `For example ${flag} ${example}.`);
    to = right.slice(rightDot + 1);
  }
  const from = left.slice(dot + 1);
  return kind === "column" ? { table: owner, from, to } : { enum: owner, from, to };
}

/** Several hint sources into one (later sources win for the same old name). */
export function mergeHints(...sources: Array<RenameHints | undefined>): RenameHints {
  const out: Required<RenameHints> = { tables: {}, columns: {}, enumValues: {}, notRenames: [], using: {}, recreate: [] };
  for (const source of sources) {
    if (!source) continue;
    Object.assign(out.tables, source.tables);
    Object.assign(out.columns, source.columns);
    Object.assign(out.enumValues, source.enumValues);
    out.notRenames.push(...(source.notRenames ?? []));
    Object.assign(out.using, source.using);
    out.recreate.push(...(source.recreate ?? []));
  }
  return out;
}

function isStringMap(value: unknown): value is Record<string, string> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && Object.values(value).every((item) => typeof item === "string");
}

const HINTS_SHAPE = '{ "tables": { "old": "new" }, "columns": { "table.old": "new" }, "enumValues": { "enum.old": "new" }, "notRenames": ["table.column"] }';

/**
 * Read a hints file (JSON): `{ "tables": { "old": "new" }, "columns": { "table.old": "new" },
 * "enumValues": { "enum.old": "new" }, "notRenames": ["table.column"] }`, and for type changes
 * without a cast `"using": { "table.column": "<SQL>" }` / `"recreate": ["table.column"]`.
 */
export async function loadHints(path: string): Promise<RenameHints> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
    throw new RetortError("RETORT_CONFIG", missing ? `the rename hints file ${path} does not exist` : `cannot read the rename hints file ${path}: ${(error as Error).message}`, {
      cause: error,
      hint: `Check the path given to --hints (relative to ${process.cwd()}); the file holds ${HINTS_SHAPE}.`,
      details: { file: path },
    });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new RetortError("RETORT_CONFIG", `the rename hints file ${path} is not valid JSON: ${(error as Error).message}`, {
      cause: error,
      hint: `Fix the JSON in ${path}; it holds ${HINTS_SHAPE}.`,
      details: { file: path },
    });
  }
  const shape = HINTS_SHAPE;
  if (typeof data !== "object" || data === null || Array.isArray(data)) throw usage(`the rename hints file ${path} must hold a JSON object`, `Expected ${shape}.`);
  const record = data as Record<string, unknown>;
  const keys = ["tables", "columns", "enumValues", "notRenames", "using", "recreate"];
  const unknown = Object.keys(record).filter((key) => !keys.includes(key));
  if (unknown.length > 0) {
    const named = unknown.map((key) => `"${key}"${didYouMean(key, keys) ? ` (did you mean "${didYouMean(key, keys)}"?)` : ""}`);
    throw usage(`the rename hints file ${path} has unknown key(s) ${named.join(", ")}`, `Expected ${shape}.`);
  }
  const hints: RenameHints = {};
  for (const key of ["tables", "columns", "enumValues", "using"] as const) {
    if (record[key] === undefined) continue;
    if (!isStringMap(record[key])) throw usage(`the rename hints file ${path}: "${key}" must map old names to new names (strings)`, `Expected ${shape}.`);
    hints[key] = { ...(record[key] as Record<string, string>) };
  }
  for (const [old] of Object.entries(hints.columns ?? {})) {
    if (!old.includes(".")) throw usage(`the rename hints file ${path}: column "${old}" must be given as "table.column"`, `Expected ${shape}.`);
  }
  if (record.notRenames !== undefined) {
    if (!Array.isArray(record.notRenames) || !record.notRenames.every((item) => typeof item === "string")) {
      throw usage(`the rename hints file ${path}: "notRenames" must be a list of names`, `Expected ${shape}.`);
    }
    hints.notRenames = [...(record.notRenames as string[])];
  }
  if (record.recreate !== undefined) {
    if (!Array.isArray(record.recreate) || !record.recreate.every((item) => typeof item === "string" && item.includes("."))) {
      throw usage(`the rename hints file ${path}: "recreate" must be a list of "table.column"`, `Expected ${shape}.`);
    }
    hints.recreate = [...(record.recreate as string[])];
  }
  return hints;
}

// ---------------------------------------------------------------------------------------------
// resolution

class NotRenames {
  private readonly names = new Set<string>();
  private readonly pairs = new Set<string>();
  constructor(entries: readonly string[] = []) {
    for (const entry of entries) {
      const eq = entry.indexOf("=");
      if (eq < 0) this.names.add(entry.trim());
      else {
        const left = entry.slice(0, eq).trim();
        let right = entry.slice(eq + 1).trim();
        const dot = left.lastIndexOf(".");
        if (dot > 0 && !right.includes(".")) right = `${left.slice(0, dot)}.${right}`;
        this.pairs.add(`${left}=${right}`);
      }
    }
  }
  /** Whether the pair (old, new), each "name" or "owner.name", is declared not a rename. */
  excludes(from: string, to: string): boolean {
    return this.names.has(from) || this.names.has(to) || this.pairs.has(`${from}=${to}`);
  }
}

export interface RenamePair {
  from: string;
  to: string;
}

export interface ColumnRenamePair extends RenamePair {
  /** The table, by its name after table renames. */
  table: string;
}

export interface EnumValueRenamePair extends RenamePair {
  enum: string;
}

export interface ResolvedRenames<P> {
  renames: P[];
  decisions: RenameDecision[];
  notes: string[];
}

/** How many columns two tables share by name and type (the table "shape" test). */
function sharedColumns(a: TableSchema, aSchema: Schema, b: TableSchema, bSchema: Schema, rules: DialectRules): number {
  let shared = 0;
  for (const column of a.columns) {
    const other = b.columns.find((candidate) => candidate.name === column.name);
    if (other && typeKey(other.type, bSchema, rules) === typeKey(column.type, aSchema, rules)) shared++;
  }
  return shared;
}

/** Tables that could be renames: at least half of the larger table's columns match by name and type. */
function sameShape(a: TableSchema, aSchema: Schema, b: TableSchema, bSchema: Schema, rules: DialectRules): boolean {
  const shared = sharedColumns(a, aSchema, b, bSchema, rules);
  return shared > 0 && shared * 2 >= Math.max(a.columns.length, b.columns.length);
}

function renamedFromOf(item: { renamedFrom?: readonly string[] | string }): readonly string[] {
  const value = item.renamedFrom;
  return value === undefined ? [] : typeof value === "string" ? [value] : value;
}

export function resolveTableRenames(current: Schema, target: Schema, hints: RenameHints, rules: DialectRules): ResolvedRenames<RenamePair> {
  const currentNames = new Set(current.tables.map((table) => table.name));
  const targetNames = new Set(target.tables.map((table) => table.name));
  const dropped = current.tables.filter((table) => !targetNames.has(table.name));
  const added = target.tables.filter((table) => !currentNames.has(table.name));
  const result: ResolvedRenames<RenamePair> = { renames: [], decisions: [], notes: [] };
  const usedFrom = new Set<string>();
  const usedTo = new Set<string>();
  const decide = (from: string, to: string) => {
    result.renames.push({ from, to });
    usedFrom.add(from);
    usedTo.add(to);
  };

  // A decided rename needs the old name now and the new name new; the old name may also be
  // taken again by a new table (rename, then create).
  const applicable = (from: string, to: string) => currentNames.has(from) && !currentNames.has(to) && targetNames.has(to) && !usedFrom.has(from) && !usedTo.has(to);
  for (const [from, to] of Object.entries(hints.tables ?? {})) {
    if (applicable(from, to)) decide(from, to);
    else result.notes.push(`rename hint ${from} → ${to} ignored: ${!currentNames.has(from) ? `there is no table "${from}" to rename` : currentNames.has(to) ? `table "${to}" already exists` : !targetNames.has(to) ? `"${to}" is not a table of the target schema` : "another rename uses one of these names"}`);
  }
  for (const table of added) {
    if (usedTo.has(table.name)) continue;
    // Model hints stay in the model after the rename was applied: silently inapplicable then.
    const from = renamedFromOf(table).find((name) => applicable(name, table.name));
    if (from !== undefined) decide(from, table.name);
  }

  const not = new NotRenames(hints.notRenames);
  for (const old of dropped) {
    if (usedFrom.has(old.name)) continue;
    for (const fresh of added) {
      if (usedTo.has(fresh.name) || not.excludes(old.name, fresh.name)) continue;
      if (!sameShape(old, current, fresh, target, rules)) continue;
      const shared = sharedColumns(old, current, fresh, target, rules);
      result.decisions.push({
        kind: "table",
        from: old.name,
        to: fresh.name,
        reason: `table "${old.name}" is dropped and "${fresh.name}" added with ${shared} of ${Math.max(old.columns.length, fresh.columns.length)} columns alike`,
      });
    }
  }
  return result;
}

export function resolveColumnRenames(
  currentTable: TableSchema,
  current: Schema,
  targetTable: TableSchema,
  target: Schema,
  oldTableName: string,
  hints: RenameHints,
  rules: DialectRules,
): ResolvedRenames<ColumnRenamePair> {
  const table = targetTable.name;
  const currentNames = new Set(currentTable.columns.map((column) => column.name));
  const targetNames = new Set(targetTable.columns.map((column) => column.name));
  const dropped = currentTable.columns.filter((column) => !targetNames.has(column.name));
  const added = targetTable.columns.filter((column) => !currentNames.has(column.name));
  const result: ResolvedRenames<ColumnRenamePair> = { renames: [], decisions: [], notes: [] };
  const usedFrom = new Set<string>();
  const usedTo = new Set<string>();
  const decide = (from: string, to: string) => {
    result.renames.push({ table, from, to });
    usedFrom.add(from);
    usedTo.add(to);
  };
  const applicable = (from: string, to: string) => currentNames.has(from) && !currentNames.has(to) && targetNames.has(to) && !usedFrom.has(from) && !usedTo.has(to);

  for (const [key, to] of Object.entries(hints.columns ?? {})) {
    const dot = key.lastIndexOf(".");
    const owner = key.slice(0, dot);
    if (owner !== table && owner !== oldTableName) continue;
    const from = key.slice(dot + 1);
    if (applicable(from, to)) decide(from, to);
    else {
      result.notes.push(
        `rename hint ${key} → ${to} ignored: ${
          !currentNames.has(from) ? `"${table}" has no column "${from}"` : currentNames.has(to) ? `column "${table}"."${to}" already exists` : !targetNames.has(to) ? `"${table}" gets no column "${to}"` : "another rename uses one of these names"
        }`,
      );
    }
  }
  for (const column of added) {
    if (usedTo.has(column.name)) continue;
    const from = renamedFromOf(column).find((name) => applicable(name, column.name));
    if (from !== undefined) decide(from, column.name);
  }

  const not = new NotRenames(hints.notRenames);
  for (const old of dropped) {
    if (usedFrom.has(old.name)) continue;
    for (const fresh of added) {
      if (usedTo.has(fresh.name)) continue;
      if (not.excludes(`${table}.${old.name}`, `${table}.${fresh.name}`) || not.excludes(`${oldTableName}.${old.name}`, `${table}.${fresh.name}`)) continue;
      if (typeKey(old.type, current, rules) !== typeKey(fresh.type, target, rules)) continue;
      result.decisions.push({
        kind: "column",
        table,
        from: old.name,
        to: fresh.name,
        reason: `column "${table}"."${old.name}" is dropped and "${fresh.name}" added with the same type`,
      });
    }
  }
  return result;
}

export function resolveEnumValueRenames(current: Schema, target: Schema, hints: RenameHints): ResolvedRenames<EnumValueRenamePair> {
  const result: ResolvedRenames<EnumValueRenamePair> = { renames: [], decisions: [], notes: [] };
  const not = new NotRenames(hints.notRenames);
  const hinted = Object.entries(hints.enumValues ?? {});
  for (const currentEnum of current.enums) {
    const targetEnum = target.enums.find((candidate) => candidate.name === currentEnum.name);
    if (!targetEnum) continue;
    const removed = currentEnum.values.filter((value) => !targetEnum.values.includes(value));
    const added = targetEnum.values.filter((value) => !currentEnum.values.includes(value));
    const usedFrom = new Set<string>();
    const usedTo = new Set<string>();
    for (const [key, to] of hinted) {
      const dot = key.lastIndexOf(".");
      if (key.slice(0, dot) !== currentEnum.name) continue;
      const from = key.slice(dot + 1);
      if (currentEnum.values.includes(from) && added.includes(to) && !usedFrom.has(from) && !usedTo.has(to)) {
        result.renames.push({ enum: currentEnum.name, from, to });
        usedFrom.add(from);
        usedTo.add(to);
      } else result.notes.push(`rename hint ${key} → ${to} ignored: enum "${currentEnum.name}" has no value '${from}' or already has '${to}'`);
    }
    for (const from of removed) {
      if (usedFrom.has(from)) continue;
      for (const to of added) {
        if (usedTo.has(to) || not.excludes(`${currentEnum.name}.${from}`, `${currentEnum.name}.${to}`)) continue;
        result.decisions.push({
          kind: "enumValue",
          enum: currentEnum.name,
          from,
          to,
          reason: `enum "${currentEnum.name}" loses '${from}' and gains '${to}'`,
        });
      }
    }
  }
  for (const [key, to] of hinted) {
    const name = key.slice(0, key.lastIndexOf("."));
    if (!current.enums.some((candidate) => candidate.name === name)) result.notes.push(`rename hint ${key} → ${to} ignored: there is no enum "${name}"`);
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// holding undecided pairs: the target as if the pair were left alone

const mentions = (columns: readonly string[], name: string) => columns.includes(name);

function tableMentions(table: TableSchema, column: string) {
  return {
    uniques: table.uniques.filter((unique) => mentions(unique.columns, column)),
    indexes: table.indexes.filter(
      (index) =>
        index.elements.some((element) => ("column" in element ? element.column === column : mentionsColumn(element.expression, column))) ||
        (index.where !== undefined && mentionsColumn(index.where, column)),
    ),
    foreignKeys: table.foreignKeys.filter((fk) => mentions(fk.columns, column)),
    checks: table.checks.filter((check) => mentionsColumn(check.expression, column)),
  };
}

function objectNames(schema: Schema): Set<string> {
  const names = new Set<string>();
  for (const table of schema.tables) {
    if (table.primaryKey) names.add(table.primaryKey.name);
    for (const list of [table.uniques, table.indexes, table.foreignKeys, table.checks]) for (const item of list) names.add(item.name);
  }
  return names;
}

/**
 * `target` as if an undecided table pair were left alone: the added table is not created and the
 * dropped one is kept (with the foreign keys pointing at it). Idempotent, so a table in several
 * undecided pairs can be held once per pair.
 */
export function holdTable(target: Schema, current: Schema, dropped: string, added: string): Schema {
  const next: Schema = structuredClone(target);
  if (next.tables.some((table) => table.name === added)) {
    next.tables = next.tables.filter((table) => table.name !== added);
    for (const table of next.tables) table.foreignKeys = table.foreignKeys.filter((fk) => fk.refTable !== added);
  }
  const old = current.tables.find((table) => table.name === dropped);
  if (!old || next.tables.some((table) => table.name === dropped)) return next;
  const restored = structuredClone(old);
  const names = objectNames(next);
  const clash = (name: string) => names.has(name);
  restored.uniques = restored.uniques.filter((unique) => !clash(unique.name));
  restored.indexes = restored.indexes.filter((index) => !clash(index.name));
  restored.checks = restored.checks.filter((check) => !clash(check.name));
  restored.foreignKeys = restored.foreignKeys.filter((fk) => !clash(fk.name) && (fk.refTable === dropped || next.tables.some((table) => table.name === fk.refTable)));
  if (restored.primaryKey && clash(restored.primaryKey.name)) delete restored.primaryKey;
  next.tables.push(restored);
  restoreReferences(next, current, dropped, old.columns.map((column) => column.name));
  restoreEnums(next, current, old.columns);
  return next;
}

/**
 * `target` as if an undecided column pair were left alone: the added column is not added and the
 * dropped one is kept, with its indexes and constraints. Idempotent like holdTable.
 */
export function holdColumn(target: Schema, current: Schema, currentTableName: string, table: string, dropped: string, added: string): Schema {
  const next: Schema = structuredClone(target);
  const targetTable = next.tables.find((candidate) => candidate.name === table);
  const currentTable = current.tables.find((candidate) => candidate.name === currentTableName);
  if (!targetTable || !currentTable) return next;
  if (targetTable.columns.some((column) => column.name === added)) {
    const gone = tableMentions(targetTable, added);
    targetTable.columns = targetTable.columns.filter((column) => column.name !== added);
    targetTable.uniques = targetTable.uniques.filter((unique) => !gone.uniques.includes(unique));
    targetTable.indexes = targetTable.indexes.filter((index) => !gone.indexes.includes(index));
    targetTable.foreignKeys = targetTable.foreignKeys.filter((fk) => !gone.foreignKeys.includes(fk));
    targetTable.checks = targetTable.checks.filter((check) => !gone.checks.includes(check));
    if (targetTable.primaryKey && targetTable.primaryKey.columns.includes(added)) delete targetTable.primaryKey;
    for (const other of next.tables) other.foreignKeys = other.foreignKeys.filter((fk) => !(fk.refTable === table && fk.refColumns.includes(added)));
  }
  const old = currentTable.columns.find((column) => column.name === dropped);
  if (!old || targetTable.columns.some((column) => column.name === dropped)) return next;
  targetTable.columns.push(structuredClone(old));
  const names = objectNames(next);
  const back = tableMentions(currentTable, dropped);
  const columnsOf = new Set(targetTable.columns.map((column) => column.name));
  const fits = (columns: readonly string[]) => columns.every((name) => columnsOf.has(name));
  for (const unique of back.uniques) if (!names.has(unique.name) && fits(unique.columns)) targetTable.uniques.push(structuredClone(unique));
  for (const index of back.indexes) {
    const plain = index.elements.every((element) => !("column" in element) || columnsOf.has(element.column));
    if (!names.has(index.name) && plain) targetTable.indexes.push(structuredClone(index));
  }
  for (const check of back.checks) if (!names.has(check.name)) targetTable.checks.push(structuredClone(check));
  for (const fk of back.foreignKeys) {
    if (!names.has(fk.name) && fits(fk.columns) && next.tables.some((candidate) => candidate.name === fk.refTable)) targetTable.foreignKeys.push(structuredClone(fk));
  }
  if (!targetTable.primaryKey && currentTable.primaryKey?.columns.includes(dropped) && fits(currentTable.primaryKey.columns) && !names.has(currentTable.primaryKey.name)) {
    targetTable.primaryKey = structuredClone(currentTable.primaryKey);
  }
  restoreReferences(next, current, currentTableName, [dropped], table);
  restoreEnums(next, current, [old]);
  return next;
}

function restoreEnums(next: Schema, current: Schema, columns: readonly ColumnSchema[]): void {
  for (const column of columns) {
    if (column.type.kind !== "enum") continue;
    const name = column.type.name;
    if (next.enums.some((e) => e.name === name)) continue;
    const found = current.enums.find((e) => e.name === name);
    if (found) next.enums.push(structuredClone(found));
  }
}

/** Put back the current foreign keys that point at `columns` of `currentTable` (kept because a pair is on hold). */
function restoreReferences(next: Schema, current: Schema, currentTable: string, columns: readonly string[], targetTable = currentTable): void {
  const names = objectNames(next);
  for (const table of current.tables) {
    for (const fk of table.foreignKeys) {
      if (fk.refTable !== currentTable || !fk.refColumns.some((column) => columns.includes(column))) continue;
      const owner = next.tables.find((candidate) => candidate.name === (table.name === currentTable ? targetTable : table.name));
      const target = next.tables.find((candidate) => candidate.name === targetTable);
      if (!owner || !target || names.has(fk.name)) continue;
      if (!fk.columns.every((column) => owner.columns.some((c) => c.name === column))) continue;
      if (!fk.refColumns.every((column) => target.columns.some((c) => c.name === column))) continue;
      owner.foreignKeys.push({ ...structuredClone(fk), refTable: targetTable });
      names.add(fk.name);
    }
  }
}

/** `target` as if an undecided enum value pair were left alone: the old value kept, the new one not added. */
export function holdEnumValue(target: Schema, current: Schema, enumName: string, dropped: string, added: string): Schema {
  const next: Schema = structuredClone(target);
  const targetEnum = next.enums.find((candidate) => candidate.name === enumName);
  const currentValues = current.enums.find((candidate) => candidate.name === enumName)?.values;
  if (!targetEnum || !currentValues) return next;
  const values = targetEnum.values.filter((value) => value !== added);
  if (!values.includes(dropped)) {
    // Put the dropped value back after the value it followed, if that is still there.
    const before = currentValues.slice(0, currentValues.indexOf(dropped)).reverse().find((value) => values.includes(value));
    values.splice(before === undefined ? 0 : values.indexOf(before) + 1, 0, dropped);
  }
  if (values.length === 0) return next;
  targetEnum.values = values;
  return next;
}
