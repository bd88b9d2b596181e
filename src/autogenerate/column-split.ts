/**
 * Splits and merges of columns under `--expand-contract` (full_name → first_name + last_name, or
 * the reverse; generally n old columns → m new ones on one table). The models cannot say how the
 * values move, so the user does, with `--backfill`, in both directions:
 *
 * - a column the diff adds: its SQL over the old columns (forward): the backfill of existing rows,
 *   and the trigger for rows the old app writes;
 * - a column the diff drops: its SQL over the new columns (backward): the trigger for rows the new
 *   app writes (so the old app keeps reading them), and the contract's downgrade.
 *
 * A table is a split or merge when a dropped column has a backward expression, or a forward
 * expression reads a dropped column. Its added columns with a forward expression and its dropped
 * columns with a backward one become one ColumnSync (column-sync.ts); the rest of the diff stays
 * as it is.
 */
import { RetortError } from "../errors.js";
import type { AddColumnOp, DropColumnOp, Op } from "../operations/types.js";
import { limitIdentifier } from "../schema/naming.js";
import type { ColumnSchema, Schema, TableSchema } from "../schema/snapshot.js";
import type { PgNode, PostgresParser } from "../sql/parser.js";
import { selectInto, type ColumnSync, type ComputedColumn } from "./column-sync.js";
import { isBackfillStatement } from "./safe.js";

export interface ColumnSplits {
  syncs: ColumnSync[];
  /** The operations left once the split and merged columns are taken out. */
  rest: Op[];
  /** The --backfill values that are not part of a split or merge (safe.ts fills NOT NULL columns with them). */
  backfills: Record<string, string>;
}

/** One --backfill expression, checked. */
interface Expression {
  key: string;
  sql: string;
  reads: string[];
}

/** A column that existing rows cannot fill by themselves (no default, not generated). */
function required(column: ColumnSchema): boolean {
  return !column.nullable && column.default === undefined && column.identity === undefined && column.serial !== true;
}

const usage = (message: string, hint: string, details: Record<string, unknown>) => new RetortError("RETORT_USAGE", message, { hint, details });

export async function columnSplits(ops: readonly Op[], from: Schema, backfills: Readonly<Record<string, string>>): Promise<ColumnSplits> {
  const tableOf = (name: string) => from.tables.find((table) => table.name === name);
  const drops = ops.filter((op): op is DropColumnOp => op.kind === "dropColumn" && tableOf(op.table) !== undefined);
  const adds = ops.filter((op): op is AddColumnOp => op.kind === "addColumn" && tableOf(op.table) !== undefined);
  const dropped = (key: string) => drops.find((op) => `${op.table}.${op.name}` === key);
  const added = (key: string) => adds.find((op) => `${op.table}.${op.column.name}` === key);

  const named = Object.keys(backfills).filter((key) => key !== "");
  for (const key of named) {
    if (dropped(key) || added(key)) continue;
    const candidates = [...adds.map((op) => `${op.table}.${op.column.name} (added)`), ...drops.map((op) => `${op.table}.${op.name} (dropped)`)];
    throw usage(
      `--backfill names ${key}, which this migration neither adds nor drops`,
      `With --expand-contract, --backfill gives an added column's SQL over the old columns, or a dropped column's SQL over the new ones (a split or merge). ${candidates.length ? `Columns added or dropped here: ${candidates.join(", ")}.` : "This migration adds and drops no column of an existing table."}`,
      { column: key },
    );
  }

  const parser = named.length > 0 ? await (await import("../sql/parser.js")).loadPostgresParser() : undefined;
  const syncs: ColumnSync[] = [];
  const taken = new Set<Op>();
  const left: Record<string, string> = Object.fromEntries(Object.entries(backfills).filter(([key]) => key === ""));
  const tables = [...new Set(named.map((key) => (dropped(key) ?? added(key))!.table))];
  for (const name of tables) {
    const table = tableOf(name)!;
    const tableDrops = drops.filter((op) => op.table === name);
    const tableAdds = adds.filter((op) => op.table === name);
    const before = table.columns.map((column) => column.name);
    const dropNames = new Set(tableDrops.map((op) => op.name));
    const after = [...before.filter((column) => !dropNames.has(column)), ...tableAdds.map((op) => op.column.name)];
    const given = (ops: ReadonlyArray<AddColumnOp | DropColumnOp>) => ops.map(keyOf).filter((key) => backfills[key] !== undefined);
    const backward = given(tableDrops).map((key) => expression(parser!, key, backfills[key]!, table, after, "new"));
    // Without a backward expression, a whole statement is the ordinary --backfill of safe autogenerate (see safe.ts).
    const statements = backward.length === 0 ? given(tableAdds).filter((key) => isBackfillStatement(backfills[key]!)) : [];
    for (const key of statements) left[key] = backfills[key]!;
    const forward = given(tableAdds)
      .filter((key) => !statements.includes(key))
      .map((key) => expression(parser!, key, backfills[key]!, table, before, "old"));
    if (backward.length > 0 && tableAdds.length === 0) {
      throw usage(
        `--backfill gives ${backward[0]!.key} (dropped) its SQL over the new columns, but this migration adds no column to ${name}`,
        `A dropped column's SQL is for a split or merge, where the new columns replace it. To drop ${backward[0]!.key} safely, make it nullable in a migration of its own first; drop it once the app no longer writes it.`,
        { column: backward[0]!.key },
      );
    }
    const split = backward.length > 0 || forward.some((entry) => entry.reads.some((column) => dropNames.has(column)));
    if (!split) {
      // New columns filled from the columns that stay: the ordinary --backfill of safe autogenerate.
      for (const entry of forward) left[entry.key] = backfills[entry.key]!;
      continue;
    }
    syncs.push(splitSync(table, tableAdds, tableDrops, forward, backward));
    const computed = new Set([...forward, ...backward].map((entry) => entry.key));
    for (const op of [...tableAdds, ...tableDrops]) if (computed.has(keyOf(op))) taken.add(op);
  }
  requireBackwardValues(drops, from, syncs);
  return { syncs, rest: ops.filter((op) => !taken.has(op)), backfills: left };
}

const keyOf = (op: AddColumnOp | DropColumnOp) => `${op.table}.${op.kind === "addColumn" ? op.column.name : op.name}`;

/** The split or merge of `table`, checked for columns left out. */
function splitSync(table: TableSchema, adds: readonly AddColumnOp[], drops: readonly DropColumnOp[], forward: readonly Expression[], backward: readonly Expression[]): ColumnSync {
  const name = table.name;
  const list = (columns: readonly string[]) => columns.join(", ");
  const oldNames = backward.map((entry) => entry.key.slice(name.length + 1));
  const newNames = forward.map((entry) => entry.key.slice(name.length + 1));
  const kind = drops.length > 1 && adds.length === 1 ? "merge" : drops.length === 1 && adds.length > 1 ? "split" : "split/merge";
  const description = `the ${kind} of ${name} (${list(drops.map((op) => op.name))} → ${list(adds.map((op) => op.column.name))})`;
  for (const op of adds) {
    const column = op.column.name;
    if (newNames.includes(column)) continue;
    const readers = backward.filter((entry) => entry.reads.includes(column));
    if (readers.length === 0 && !required(op.column)) continue; // an ordinary new column beside the split
    throw usage(
      `--expand-contract: ${name}.${column} is added in ${description} but has no --backfill expression${readers.length ? ` (${list(readers.map((entry) => entry.key))} ${readers.length > 1 ? "are" : "is"} computed from it)` : ""}`,
      `Give its SQL over the old columns: --backfill "${name}.${column}=<SQL over ${list(drops.map((drop) => drop.name))}>" (it fills the existing rows and the rows the old app writes).`,
      { column: `${name}.${column}` },
    );
  }
  for (const op of drops) {
    const column = op.name;
    if (oldNames.includes(column)) continue;
    const readers = forward.filter((entry) => entry.reads.includes(column));
    if (readers.length === 0) continue; // a plain drop beside the split (NOT NULL ones are checked for every table)
    throw usage(
      `--expand-contract: ${name}.${column} is dropped in ${description} (${list(readers.map((entry) => entry.key))} ${readers.length > 1 ? "are" : "is"} computed from it) but has no --backfill expression`,
      `Give its SQL over the new columns: --backfill "${name}.${column}=<SQL over ${list(adds.map((add) => add.column.name))}>". Without it the old app reads stale values in rows the new app writes, and the contract's downgrade cannot restore it.`,
      { column: `${name}.${column}` },
    );
  }
  if (forward.length === 0) {
    throw usage(
      `--expand-contract: ${description} gives no added column an expression: ${list(backward.map((entry) => entry.key))} would be computed from columns nothing fills`,
      `Give each added column its SQL over the old columns: --backfill "${name}.${adds[0]!.column.name}=<SQL over ${list(drops.map((drop) => drop.name))}>".`,
      { table: name },
    );
  }
  for (const column of oldNames) {
    if (table.primaryKey?.columns.includes(column)) throw new RetortError("RETORT_UNSUPPORTED", `--expand-contract: ${name}.${column} is part of the primary key`, { hint: "Change a primary key column with a hand-written migration." });
  }
  const olds: ComputedColumn[] = backward.map((entry) => {
    const column = table.columns.find((candidate) => candidate.name === entry.key.slice(name.length + 1))!;
    return { column, name: column.name, value: entry.sql, reads: entry.reads };
  });
  const news: ComputedColumn[] = forward.map((entry) => {
    const column = adds.find((op) => op.column.name === entry.key.slice(name.length + 1))!.column;
    return { column, name: column.name, value: entry.sql, reads: entry.reads };
  });
  return { table, olds, news, forward: selectInto(name, news), backward: selectInto(name, olds), name: limitIdentifier(`retort_sync_${name}_${newNames.join("_")}`) };
}

/**
 * A dropped NOT NULL column without a default that nothing computes: between expand and contract
 * the new app's inserts leave it out and fail.
 */
function requireBackwardValues(drops: readonly DropColumnOp[], from: Schema, syncs: readonly ColumnSync[]): void {
  for (const op of drops) {
    const column = from.tables.find((table) => table.name === op.table)?.columns.find((candidate) => candidate.name === op.name);
    if (!column || !required(column)) continue;
    if (syncs.some((sync) => sync.table.name === op.table && sync.olds.some((old) => old.name === op.name))) continue;
    const key = `${op.table}.${op.name}`;
    throw usage(
      `--expand-contract: ${key} is dropped, but it is NOT NULL without a default: between expand and contract the new app's inserts leave it out and fail`,
      `For a split or merge, give its SQL over the new columns: --backfill "${key}=<SQL>" (the sync trigger fills it for the old app). Otherwise make it nullable in a migration of its own first, and drop it once the app no longer writes it.`,
      { column: key },
    );
  }
}

/**
 * `sql` checked as one SQL expression over `columns` of `table` (unqualified, or qualified with
 * the table's name: the trigger evaluates it over the row under that name). `side` says which
 * columns these are, for the messages.
 */
function expression(parser: PostgresParser, key: string, given: string, table: TableSchema, columns: readonly string[], side: "old" | "new"): Expression {
  const flag = `--backfill "${key}=${given}"`;
  const hint = `Give one SQL expression over the ${side} columns of ${table.name} (${columns.join(", ")}), e.g. ${side === "old" ? "split_part(full_name, ' ', 1)" : "first_name || ' ' || last_name"}.`;
  const sql = parser.withoutComments(given);
  if (sql.includes("$retort$")) throw usage(`${flag}: the expression contains $retort$, which ends the trigger's body`, hint, { column: key });
  let statements: PgNode[];
  try {
    statements = parser.parse(`SELECT ${sql}`);
  } catch (error) {
    throw usage(`${flag}: the Postgres parser rejects it: ${(error as Error).message.replace(/^the Postgres parser rejects this SQL: /, "")}`, hint, { column: key });
  }
  const select = statements.length === 1 ? statements[0]!.SelectStmt : undefined;
  const extra = select ? Object.keys(select).filter((field) => !["targetList", "limitOption", "op"].includes(field)) : [];
  if (!select || select.op !== "SETOP_NONE" || extra.length > 0 || select.targetList?.length !== 1 || select.targetList[0].ResTarget?.name !== undefined) {
    throw usage(`${flag}: expected one SQL expression (the column's value), not a statement or a list`, hint, { column: key });
  }
  const reads: string[] = [];
  for (const fields of columnRefs(select.targetList[0].ResTarget.val)) {
    const names = fields.map((field) => field.String?.sval as string | undefined);
    const column = names.length === 1 ? names[0] : names.length === 2 && names[0] === table.name ? names[1] : undefined;
    if (column === undefined || !columns.includes(column)) {
      const shown = names.map((part) => part ?? "*").join(".");
      throw usage(`${flag}: it reads ${shown}, which is not ${side === "old" ? "a column of" : "a column of the new"} ${table.name}${side === "old" ? " before this migration" : ""}`, hint, { column: key, reads: shown });
    }
    if (!reads.includes(column)) reads.push(column);
  }
  return { key, sql, reads };
}

/** The fields of each column reference in `node`, outside subqueries (their names are the subquery's business). */
function columnRefs(node: unknown): PgNode[][] {
  if (Array.isArray(node)) return node.flatMap(columnRefs);
  if (node === null || typeof node !== "object") return [];
  const record = node as PgNode;
  if (record.ColumnRef) return [record.ColumnRef.fields as PgNode[]];
  if (record.SubLink) return columnRefs(record.SubLink.testexpr);
  return Object.values(record).flatMap(columnRefs);
}
