/**
 * The heart of an expand/contract pair on one table: old columns (what the running app uses) and
 * new columns (what the models want), kept in step by one trigger while both versions of the app
 * run. A rename or a type change is one old column and one new; a split or a merge is n old and
 * m new, each computed by an SQL expression the user gives (column-split.ts).
 *
 * This file writes the SQL (the trigger, the batched backfill) and the four bodies: the expand
 * and its undo, the contract and its undo.
 */
import { columnType } from "../dialects/postgres/ddl.js";
import { limitIdentifier } from "../schema/naming.js";
import type { ColumnSchema, TableSchema } from "../schema/snapshot.js";
import { printIdentifier } from "./normalize.js";
import type { RenderItem } from "./render.js";

/** Rows per committed batch of the generated backfill. */
export const BACKFILL_BATCH = 1000;

/** Marks the backfill's own updates, so the sync trigger does not copy them back (a lossy cast would alter the old values). */
const BACKFILL_SETTING = "retort.backfill";

export const q = printIdentifier;

/** A column computed from the columns on the other side. */
export interface ComputedColumn {
  /** The column as it is on its own side: before the migration (old), as the models want it (new). */
  column: ColumnSchema;
  /** Its name between expand and contract (new columns of a type change: `<name>_new`). */
  name: string;
  /** SQL computing it from the other side's columns, by their names between expand and contract. */
  value: string;
  /** The columns that SQL reads. */
  reads: readonly string[];
}

export interface ColumnSync {
  /** The table as it is before the migration. */
  table: TableSchema;
  /** The columns the old app uses: dropped by the contract. */
  olds: readonly ComputedColumn[];
  /** The columns the new app uses: added by the expand. */
  news: readonly ComputedColumn[];
  /** Trigger statements (PL/pgSQL) setting the new columns of NEW from the old ones, and the reverse. */
  forward: string;
  backward: string;
  /** The trigger and its function. */
  name: string;
}

const keys = (sync: ColumnSync, side: readonly ComputedColumn[]) => side.map((entry) => `${sync.table.name}.${entry.name}`).join(", ");

/** "users.full_name → users.first_name, users.last_name". */
export function describeSync(sync: ColumnSync): string {
  return `${keys(sync, sync.olds)} → ${keys(sync, sync.news)}`;
}

/**
 * The trigger statement for expressions over unqualified column names: they are evaluated over a
 * one-row derived table made of NEW and named like the table, so `full_name` and
 * `users.full_name` both read the row being written.
 */
export function selectInto(table: string, targets: ReadonlyArray<{ name: string; value: string }>): string {
  return `SELECT ${targets.map((target) => target.value).join(", ")} INTO ${targets.map((target) => `NEW.${q(target.name)}`).join(", ")} FROM (SELECT NEW.*) AS ${q(table)};`;
}

// ---------------------------------------------------------------------------------------------
// SQL

function createFunctionSql(sync: ColumnSync): string {
  const changed = (side: readonly ComputedColumn[]) => side.map((entry) => `NEW.${q(entry.name)} IS DISTINCT FROM OLD.${q(entry.name)}`).join(" OR ");
  const noneGiven = sync.news.map((entry) => `NEW.${q(entry.name)} IS NULL`).join(" AND ");
  return [
    `CREATE FUNCTION ${q(sync.name)}() RETURNS trigger LANGUAGE plpgsql AS $retort$`,
    "BEGIN",
    `  -- Keeps ${describeSync(sync).replace(" → ", " and ")} in step while the old and the new app both run.`,
    `  IF current_setting('${BACKFILL_SETTING}', true) = 'on' THEN RETURN NEW; END IF;`,
    "  IF TG_OP = 'INSERT' THEN",
    // The old app's inserts leave the new columns out (they have no default until the contract).
    `    IF ${noneGiven} THEN`,
    `      ${sync.forward}`,
    "    ELSE",
    `      ${sync.backward}`,
    "    END IF;",
    `  ELSIF ${changed(sync.news)} THEN`,
    `    ${sync.backward}`,
    `  ELSIF ${changed(sync.olds)} THEN`,
    `    ${sync.forward}`,
    "  END IF;",
    "  RETURN NEW;",
    "END",
    "$retort$",
  ].join("\n");
}

function createTriggerSql(sync: ColumnSync): string {
  const name = q(sync.name);
  return `CREATE TRIGGER ${name} BEFORE INSERT OR UPDATE ON ${q(sync.table.name)} FOR EACH ROW EXECUTE FUNCTION ${name}()`;
}

const dropTriggerSql = (sync: ColumnSync) => `DROP TRIGGER ${q(sync.name)} ON ${q(sync.table.name)}`;
const dropFunctionSql = (sync: ColumnSync) => `DROP FUNCTION ${q(sync.name)}()`;

/**
 * Fill `targets` with their values in batches of BACKFILL_BATCH rows by primary key, each
 * committed: a DO block outside any transaction (the revision has none). Rows where every target
 * is still NULL are the ones to fill (the others were written by the new app, or by an earlier
 * run), so a rerun after an interruption goes on where it stopped.
 */
function backfillSql(table: TableSchema, targets: ReadonlyArray<{ name: string; value: string }>): string {
  const pk = table.primaryKey?.columns;
  const set = `UPDATE ${q(table.name)} SET ${targets.map((target) => `${q(target.name)} = ${target.value}`).join(", ")}`;
  const unfilled = targets.map((target) => `${q(target.name)} IS NULL`).join(" AND ");
  const mark = `PERFORM set_config('${BACKFILL_SETTING}', 'on', true);`;
  if (!pk || pk.length !== 1) {
    // No single-column key to walk: one statement (still skipping rows already filled).
    return ["DO $retort$", "BEGIN", `  ${mark}`, `  ${set} WHERE ${unfilled};`, "END", "$retort$"].join("\n");
  }
  const key = q(pk[0]!);
  const keyType = columnType(table.columns.find((column) => column.name === pk[0])!.type);
  return [
    "DO $retort$",
    // Prefixed: PL/pgSQL reads a bare name that is both a variable and a column as ambiguous, and the user's SQL names columns.
    "DECLARE",
    `  retort_last_key ${keyType};`,
    `  retort_batch_end ${keyType};`,
    "BEGIN",
    "  LOOP",
    `    ${mark}`,
    `    SELECT max(k) INTO retort_batch_end FROM (SELECT ${key} AS k FROM ${q(table.name)} WHERE retort_last_key IS NULL OR ${key} > retort_last_key ORDER BY ${key} LIMIT ${BACKFILL_BATCH}) AS batch;`,
    "    EXIT WHEN retort_batch_end IS NULL;",
    `    ${set} WHERE (retort_last_key IS NULL OR ${key} > retort_last_key) AND ${key} <= retort_batch_end AND ${unfilled};`,
    "    retort_last_key := retort_batch_end;",
    "    COMMIT;",
    "  END LOOP;",
    "END",
    "$retort$",
  ].join("\n");
}

export function notNullItems(table: string, column: string): RenderItem[] {
  // The same sequence safe autogenerate writes: a validated check lets SET NOT NULL skip its scan.
  const check = { name: limitIdentifier(`ck_${table}_${column}_not_null`), expression: `${q(column)} IS NOT NULL` };
  return [
    { op: { kind: "addCheck", table, check, notValid: true } },
    { op: { kind: "validateConstraint", table, name: check.name } },
    { op: { kind: "alterColumn", table, name: column, nullable: false, previous: { nullable: true } } },
    { op: { kind: "dropConstraint", table, name: check.name, previous: { check } } },
  ];
}

/**
 * NOT NULL on a new column waits for the contract unless every column its value reads is NOT NULL
 * already: the old app may still write NULL there, and its inserts must not fail.
 */
function notNullInExpand(sync: ColumnSync, entry: ComputedColumn): boolean {
  return !entry.column.nullable && entry.reads.every((name) => sync.table.columns.find((column) => column.name === name)?.nullable === false);
}

const notNullInContract = (sync: ColumnSync, entry: ComputedColumn) => !entry.column.nullable && !notNullInExpand(sync, entry);

// ---------------------------------------------------------------------------------------------
// the four bodies

export function expandItems(sync: ColumnSync): RenderItem[] {
  const table = sync.table.name;
  const items: RenderItem[] = sync.news.map((entry, i) => {
    const { default: _default, ...bare } = entry.column;
    return {
      op: { kind: "addColumn", table, column: { ...bare, name: entry.name, nullable: true } },
      ...(i === 0 ? { comments: [`${describeSync(sync)}: the new column${sync.news.length > 1 ? "s" : ""}, nullable and without a default until the contract.`] } : {}),
    };
  });
  items.push(
    { op: { kind: "execute", sql: createFunctionSql(sync), reverseSql: dropFunctionSql(sync) }, comments: ["The trigger that keeps both sides in step (both ways) while both app versions run."] },
    { op: { kind: "execute", sql: createTriggerSql(sync), reverseSql: dropTriggerSql(sync) } },
    {
      op: { kind: "execute", sql: backfillSql(sync.table, sync.news) },
      comments: [`Copies the existing rows in batches of ${BACKFILL_BATCH} by primary key, each committed; a rerun skips the rows already done.`],
    },
  );
  for (const entry of sync.news) if (notNullInExpand(sync, entry)) items.push(...notNullItems(table, entry.name));
  return items;
}

export function expandUndo(sync: ColumnSync): RenderItem[] {
  const table = sync.table.name;
  return [
    { op: { kind: "execute", sql: dropTriggerSql(sync) } },
    { op: { kind: "execute", sql: dropFunctionSql(sync) } },
    ...[...sync.news].reverse().map((entry): RenderItem => ({ op: { kind: "dropColumn", table, name: entry.name } })),
  ];
}

/** Why the contract may drop what it drops: the lint rules it answers are right anywhere else. */
const RELEASED = "the contract runs only once the expand is released (`retort release`): the app no longer uses it";

export function contractItems(sync: ColumnSync): RenderItem[] {
  const table = sync.table.name;
  const items: RenderItem[] = [];
  for (const old of sync.olds) {
    // The new app does not write the old column: once the trigger is gone it must accept NULL.
    if (!old.column.nullable) items.push({ op: { kind: "alterColumn", table, name: old.name, nullable: true, previous: { nullable: false } }, comments: [`retort-lint-disable ban-drop-not-null: ${RELEASED}`] });
  }
  items.push({ op: { kind: "execute", sql: dropTriggerSql(sync) } }, { op: { kind: "execute", sql: dropFunctionSql(sync) } });
  for (const entry of sync.news) {
    if (entry.column.default !== undefined) items.push({ op: { kind: "alterColumn", table, name: entry.name, default: entry.column.default, previous: { default: null } } });
    if (notNullInContract(sync, entry)) items.push(...notNullItems(table, entry.name));
  }
  for (const old of sync.olds) items.push({ op: { kind: "dropColumn", table, name: old.name, previous: old.column }, comments: [`retort-lint-disable ban-drop-column: ${RELEASED}`] });
  for (const entry of sync.news) if (entry.name !== entry.column.name) items.push({ op: { kind: "renameColumn", table, from: entry.name, to: entry.column.name } });
  items[0] = { ...items[0]!, comments: [`${keys(sync, sync.olds)} ${sync.olds.length > 1 ? "are" : "is"} no longer used by the app (released): the old column${sync.olds.length > 1 ? "s" : ""} and the trigger go.`, ...(items[0]!.comments ?? [])] };
  return items;
}

export function contractUndo(sync: ColumnSync): RenderItem[] {
  const table = sync.table.name;
  const items: RenderItem[] = [];
  for (const entry of sync.news) if (entry.name !== entry.column.name) items.push({ op: { kind: "renameColumn", table, from: entry.column.name, to: entry.name } });
  sync.olds.forEach((old, i) => {
    const { default: _default, ...bare } = old.column;
    items.push({ op: { kind: "addColumn", table, column: { ...bare, nullable: true } }, ...(i === 0 ? { comments: [`Restores ${keys(sync, sync.olds)} from ${keys(sync, sync.news)}, and the trigger.`] } : {}) });
  });
  items.push({ op: { kind: "execute", sql: createFunctionSql(sync) } }, { op: { kind: "execute", sql: createTriggerSql(sync) } }, { op: { kind: "execute", sql: backfillSql(sync.table, sync.olds) } });
  for (const entry of sync.news) {
    // Back to the expand's state: the old app may write again, leaving the new columns to the trigger.
    if (entry.column.default !== undefined) items.push({ op: { kind: "alterColumn", table, name: entry.name, default: null, previous: { default: entry.column.default } } });
    if (notNullInContract(sync, entry)) items.push({ op: { kind: "alterColumn", table, name: entry.name, nullable: true, previous: { nullable: false } } });
  }
  for (const old of sync.olds) if (old.column.default !== undefined) items.push({ op: { kind: "alterColumn", table, name: old.name, default: old.column.default, previous: { default: null } } });
  for (const old of sync.olds) if (!old.column.nullable) items.push(...notNullItems(table, old.name));
  return items;
}
