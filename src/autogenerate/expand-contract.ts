/**
 * Expand/contract pairs (Postgres, PGlite): a column rename or type change, or a split or merge of
 * columns (column-split.ts), on a table the running app uses is written as two revisions, so the
 * old and the new version of the app both work while both are deployed.
 *
 * - expand: add the new column(s) (nullable, no default yet); a trigger that keeps the old and the
 *   new columns in step both ways (on INSERT it fills whichever side is missing; on UPDATE it
 *   computes the side that did not change); a backfill in batches by primary key, each batch
 *   committed (a DO block run outside any transaction, so a rerun after a kill skips the rows
 *   already done); then NOT NULL through a validated check when every column the new one is
 *   computed from was NOT NULL. The other changes of the diff go here too, in their safe form.
 * - contract (after `retort release <expand>`): the old columns stop being required, the trigger
 *   and its function go, the new columns get their defaults, the old columns are dropped; for a
 *   type change under the same name, the new column takes the name. Drops of the diff go here.
 *   See column-sync.ts for the SQL and the four bodies.
 *
 * For a type change under the same name, the new column is `<name>_new` between expand and
 * contract (the app's new code reads it there), and takes `<name>` in the contract.
 *
 * A table rename: the expand renames the table and puts a view under the old name (a one-table
 * `SELECT *` view, which Postgres updates through: the old app reads and writes it as before,
 * with the table's defaults); the contract drops the view.
 */
import { columnType } from "../dialects/postgres/ddl.js";
import { RetortError } from "../errors.js";
import { applyOperation } from "../operations/apply.js";
import type { AlterColumnOp, DropConstraintOp, DropIndexOp, Op } from "../operations/types.js";
import { limitIdentifier } from "../schema/naming.js";
import type { ColumnSchema, ColumnType, Schema, TableSchema } from "../schema/snapshot.js";
import { contractItems, contractUndo, describeSync, expandItems, expandUndo, q, type ColumnSync } from "./column-sync.js";
import { columnSplits } from "./column-split.js";
import { Renderer, renderMigrationBodies, type MigrationBodies, type RenderItem } from "./render.js";
import { safeRewrite, type SafeSettings } from "./safe.js";
import { castExists, castsImplicitly } from "./safety.js";

export { BACKFILL_BATCH } from "./column-sync.js";

export interface RevisionBodies {
  upgradeBody: string;
  downgradeBody: string;
  imports: string[];
  transactional?: boolean;
  lockTimeout?: string;
}

export interface ExpandContractPair {
  expand: RevisionBodies;
  contract: RevisionBodies;
  destructive: string[];
  warnings: string[];
}

/** A table renamed under a running app: `from` stays readable and writable as a view. */
interface TableRename {
  from: string;
  to: string;
  /** Its key and indexes whose conventional names follow the table's: renamed in place, not rebuilt. */
  names?: Array<{ kind: "index" | "constraint"; from: string; to: string }>;
}

/**
 * Autogenerate writes a conventional name that follows a table rename (pk_users → pk_members) as a
 * drop and a re-create; on a table in use that rebuilds the index under an exclusive lock. Such
 * pairs with the same definition are taken out of `rest` and renamed instead (catalog only).
 */
function followingNames(rename: TableRename, rest: Op[]): NonNullable<TableRename["names"]> {
  const names: NonNullable<TableRename["names"]> = [];
  const unnamed = (value: object) => JSON.stringify({ ...value, name: undefined });
  const drops = rest.filter((op): op is DropIndexOp | DropConstraintOp => (op.kind === "dropIndex" || op.kind === "dropConstraint") && op.table === rename.to);
  for (const drop of drops) {
    const at = rest.findIndex((op) => {
      if (drop.kind === "dropIndex" && op.kind === "createIndex" && drop.previous) return op.table === rename.to && unnamed(op.index) === unnamed(drop.previous);
      const key = drop.kind === "dropConstraint" && drop.previous && "primaryKey" in drop.previous ? drop.previous.primaryKey : undefined;
      return key !== undefined && op.kind === "addPrimaryKey" && op.table === rename.to && unnamed(op.primaryKey) === unnamed(key);
    });
    if (at < 0) continue;
    const created = rest[at]!;
    const to = created.kind === "createIndex" ? created.index.name : created.kind === "addPrimaryKey" ? created.primaryKey.name : undefined;
    if (to === undefined) continue;
    names.push({ kind: drop.kind === "dropIndex" ? "index" : "constraint", from: drop.name, to });
    rest.splice(at, 1);
    rest.splice(rest.indexOf(drop), 1);
  }
  return names;
}

/**
 * The pair for `ops` (from the schema `from`). `settings.backfills` gives the SQL of split and
 * merged columns (column-split.ts), and fills NOT NULL columns added beside (safe.ts).
 */
export async function expandContract(ops: readonly Op[], from: Schema, settings: SafeSettings): Promise<ExpandContractPair> {
  const { changes: renamed, renames, rest: others } = splitChanges(ops, from);
  const splits = await columnSplits(others, from, settings.backfills ?? {});
  const changes = [...renamed, ...splits.syncs];
  const rest = splits.rest;
  if (changes.length === 0 && renames.length === 0) {
    throw new RetortError("RETORT_USAGE", "--expand-contract found no table rename, column rename or type change on an existing table in this migration", {
      hint: "Leave out --expand-contract for this change; for a rename, say so with --rename-column table.old=new (or .renamedFrom() in the model); for a split or merge of columns, give each new and old column its SQL with --backfill.",
      details: { operations: ops.map((op) => op.kind) },
    });
  }
  // Drops break the old app: they wait for the contract. New types and tables come before the
  // new columns (which may use them); the other additions after (an index on a new column…).
  const isDrop = (op: Op) => op.kind === "dropColumn" || op.kind === "dropTable" || op.kind === "dropIndex" || op.kind === "dropConstraint" || op.kind === "dropExtension";
  const isCreation = (op: Op) => op.kind === "createExtension" || op.kind === "createEnum" || op.kind === "addEnumValue" || op.kind === "createTable";
  const drops = rest.filter(isDrop);
  const before = rest.filter(isCreation);
  const after = rest.filter((op) => !isDrop(op) && !isCreation(op));

  const renderer = new Renderer("  ");
  const expandUp = [...renames.flatMap(renameExpandItems), ...changes.flatMap(expandItems)];
  const withCreations = fold(from, before);
  const withNewColumns = fold(withCreations, expandUp.map((item) => item.op).filter((op) => op.kind === "addColumn"));
  // --backfill names columns added to existing tables: those are among the later additions.
  const { backfills: _backfills, ...noBackfills } = settings;
  const first = part(before, from, noBackfills);
  const last = part(after, withNewColumns, { ...settings, backfills: splits.backfills });
  const expand: RevisionBodies = {
    upgradeBody: join(first?.upgrade, renderer.items(expandUp), last?.upgrade),
    downgradeBody: join(last?.downgrade, renderer.items([...[...changes].reverse().flatMap(expandUndo), ...[...renames].reverse().flatMap(renameExpandUndo)]), first?.downgrade),
    imports: [...new Set([...(first?.imports ?? []), ...(last?.imports ?? [])])],
    transactional: false,
    lockTimeout: settings.lockTimeout,
  };

  // contract: the diff's drops first (an index on an old column goes before the column takes it
  // along), then the old halves.
  const contractRenderer = new Renderer("  ");
  const dropped = part(drops, fold(withNewColumns, after), noBackfills);
  const contract: RevisionBodies = {
    upgradeBody: join(dropped?.upgrade, contractRenderer.items([...changes.flatMap(contractItems), ...renames.map(dropViewItem)])),
    downgradeBody: join(contractRenderer.items([...renames.map(createViewItem), ...[...changes].reverse().flatMap(contractUndo)]), dropped?.downgrade),
    imports: dropped?.imports ?? [],
    transactional: false,
    lockTimeout: settings.lockTimeout,
  };
  expand.imports = [...new Set([...renderer.importList(), ...expand.imports])].sort();
  contract.imports = [...new Set([...contractRenderer.importList(), ...contract.imports])].sort();
  expand.upgradeBody = `${expandComment(changes, renames)}\n${expand.upgradeBody}`;
  contract.upgradeBody = `${contractComment(changes, renames)}\n${contract.upgradeBody}`;
  return {
    expand,
    contract,
    destructive: [
      ...changes.flatMap((change) => change.olds.map((old) => `dropColumn ${change.table.name}.${old.name} (in the contract revision, after release)`)),
      ...renames.map((rename) => `the view ${rename.from} (in the contract revision, after release)`),
      ...(dropped?.destructive ?? []),
    ],
    warnings: [...(first?.stubs ?? []), ...(last?.stubs ?? [])].map((column) => `${column} needs a backfill: fill in the op.run stub in the expand revision`),
  };
}

/** `ops` in their safe form, rendered as bodies from `schema` (undefined when there are none). */
function part(ops: readonly Op[], schema: Schema, settings: SafeSettings): (MigrationBodies & { stubs: string[] }) | undefined {
  if (ops.length === 0) return undefined;
  const safe = safeRewrite(ops, schema, settings);
  return { ...renderMigrationBodies(ops, { from: schema, dialect: "postgres", rewrite: safe.rewrite }), stubs: safe.report.stubs };
}

/** `schema` after `ops`. */
function fold(schema: Schema, ops: readonly Op[]): Schema {
  return ops.reduce((current, op) => applyOperation(current, op), schema);
}

/** Table renames, column renames and type changes on existing tables, and everything else. */
function splitChanges(ops: readonly Op[], from: Schema): { changes: ColumnSync[]; renames: TableRename[]; rest: Op[] } {
  const changes: ColumnSync[] = [];
  const renames: TableRename[] = [];
  const rest: Op[] = [];
  const pending = [...ops];
  const tableOf = (name: string) => from.tables.find((table) => table.name === name);
  while (pending.length > 0) {
    const op = pending.shift()!;
    const table = "table" in op && typeof op.table === "string" ? tableOf(op.table) : undefined;
    if (op.kind === "renameTable" && tableOf(op.from)) {
      renames.push({ from: op.from, to: op.to });
    } else if (op.kind === "renameColumn" && table) {
      const old = table.columns.find((column) => column.name === op.from)!;
      // A type change of the renamed column comes as an alterColumn on its new name.
      const alterAt = pending.findIndex((next) => next.kind === "alterColumn" && next.table === op.table && next.name === op.to);
      const alter = alterAt >= 0 ? (pending.splice(alterAt, 1)[0] as AlterColumnOp) : undefined;
      changes.push(change(table, old, { ...old, name: op.to }, op.to, alter));
    } else if (op.kind === "alterColumn" && table && op.type !== undefined) {
      const old = table.columns.find((column) => column.name === op.name)!;
      changes.push(change(table, old, old, limitIdentifier(`${op.name}_new`), op));
    } else {
      rest.push(op);
    }
  }
  // The view shows the table as the rename found it: other changes to it wait for a pair of their own.
  for (const rename of renames) {
    rename.names = followingNames(rename, rest);
    const touching = [...rest.filter((op) => "table" in op && (op.table === rename.to || op.table === rename.from)), ...changes.filter((c) => c.table.name === rename.from)];
    if (touching.length > 0) {
      throw new RetortError("RETORT_UNSUPPORTED", `--expand-contract: ${rename.from} is renamed to ${rename.to} and changed in the same migration`, {
        hint: "Generate the table rename as its own expand/contract pair first (only the rename in the models), then the other changes.",
        details: { table: rename.from, operations: touching.map((op) => ("kind" in op ? op.kind : `columns ${describeSync(op)}`)) },
      });
    }
  }
  return { changes, renames, rest };
}

/** One column moved from `old` to `target` (a new name, a new type, or both): converted by casts. */
function change(table: TableSchema, old: ColumnSchema, renamed: ColumnSchema, target: string, alter: AlterColumnOp | undefined): ColumnSync {
  const final: ColumnSchema = { ...renamed };
  if (alter?.type !== undefined) final.type = alter.type;
  if (alter?.nullable !== undefined) final.nullable = alter.nullable;
  if (alter?.default !== undefined) {
    if (alter.default === null) delete final.default;
    else final.default = alter.default;
  }
  const key = `${table.name}.${old.name}`;
  if (!castExists(old.type, final.type, "postgres") || !castExists(final.type, old.type, "postgres")) {
    throw new RetortError("RETORT_UNSUPPORTED", `--expand-contract: ${key} changes from ${columnType(old.type)} to ${columnType(final.type)}, and the sync trigger needs a cast both ways`, {
      hint: "Write this change by hand (op.addColumn, op.execute for the trigger and backfill), or as a plain migration.",
      details: { column: key },
    });
  }
  if (table.primaryKey?.columns.includes(old.name)) {
    throw new RetortError("RETORT_UNSUPPORTED", `--expand-contract: ${key} is part of the primary key`, { hint: "Change a primary key column with a hand-written migration." });
  }
  const forward = convert(q(old.name), old.type, final.type);
  const backward = convert(q(target), final.type, old.type);
  return {
    table,
    olds: [{ column: old, name: old.name, value: backward, reads: [target] }],
    news: [{ column: final, name: target, value: forward, reads: [old.name] }],
    // A plain assignment: PL/pgSQL evaluates it without a query.
    forward: `NEW.${q(target)} := ${convert(`NEW.${q(old.name)}`, old.type, final.type)};`,
    backward: `NEW.${q(old.name)} := ${convert(`NEW.${q(target)}`, final.type, old.type)};`,
    name: limitIdentifier(`retort_sync_${table.name}_${target}`),
  };
}

/** `value` (of type `from`) as type `to`. */
function convert(value: string, from: ColumnType, to: ColumnType): string {
  if (castsImplicitly(from, to) && from.kind === to.kind) return value;
  const type = to.kind === "enum" ? q(to.name) : columnType(to);
  return from.kind === "enum" && to.kind === "enum" ? `${value}::text::${type}` : `(${value})::${type}`;
}

const createViewSql = (rename: TableRename) => `CREATE VIEW ${q(rename.from)} AS SELECT * FROM ${q(rename.to)}`;
const dropViewSql = (rename: TableRename) => `DROP VIEW ${q(rename.from)}`;

function renameExpandItems(rename: TableRename): RenderItem[] {
  return [
    {
      op: { kind: "renameTable", from: rename.from, to: rename.to },
      // The view under the old name is what makes this rename safe for the running app.
      comments: [`retort-lint-disable renaming-table: the view ${rename.from} keeps the running app working until the contract`],
    },
    ...(rename.names ?? []).map((name, i): RenderItem => ({
      op: { kind: "execute", sql: renameNameSql(rename.to, name), reverseSql: renameNameSql(rename.to, name, true) },
      ...(i === 0 ? { comments: ["Names that follow the table's, renamed in the catalog (no rebuild)."] } : {}),
    })),
    {
      op: { kind: "execute", sql: createViewSql(rename), reverseSql: dropViewSql(rename) },
      comments: [`The old app keeps reading and writing ${rename.from}: a one-table view Postgres updates through.`],
    },
  ];
}

function renameNameSql(table: string, name: { kind: "index" | "constraint"; from: string; to: string }, back = false): string {
  const [from, to] = back ? [name.to, name.from] : [name.from, name.to];
  return name.kind === "index" ? `ALTER INDEX ${q(from)} RENAME TO ${q(to)}` : `ALTER TABLE ${q(table)} RENAME CONSTRAINT ${q(from)} TO ${q(to)}`;
}

function renameExpandUndo(rename: TableRename): RenderItem[] {
  return [
    { op: { kind: "execute", sql: dropViewSql(rename) } },
    ...(rename.names ?? []).map((name): RenderItem => ({ op: { kind: "execute", sql: renameNameSql(rename.to, name, true) } })),
    { op: { kind: "renameTable", from: rename.to, to: rename.from } },
  ];
}

function dropViewItem(rename: TableRename): RenderItem {
  return { op: { kind: "execute", sql: dropViewSql(rename) }, comments: [`${rename.from} is no longer used by the app (released): its view goes.`] };
}

function createViewItem(rename: TableRename): RenderItem {
  return { op: { kind: "execute", sql: createViewSql(rename) } };
}

function expandComment(changes: readonly ColumnSync[], renames: readonly TableRename[]): string {
  const moves = [...renames.map((rename) => `${rename.from} → ${rename.to} (a view keeps ${rename.from})`), ...changes.map(describeSync)].join("; ");
  return [
    `// Expand: ${moves}.`,
    "// The old and the new app both work once this runs: deploy the new app, then `retort release <this revision>`",
    "// lets `retort upgrade` run the contract revision.",
  ].join("\n");
}

function contractComment(changes: readonly ColumnSync[], renames: readonly TableRename[]): string {
  const renamed = changes.flatMap((change) => change.news.filter((entry) => entry.name !== entry.column.name).map((entry) => ({ table: change.table.name, from: entry.name, to: entry.column.name })));
  return [
    "// Contract: runs only after `retort release` of the expand revision (the old app is gone).",
    ...(renames.length ? [`// The views under the old table names go: ${renames.map((rename) => rename.from).join(", ")}.`] : []),
    ...(renamed.length ? [`// ${renamed.map((entry) => `${entry.table}.${entry.from} becomes ${entry.table}.${entry.to}`).join(", ")} here: the app reads the new name from now on.`] : []),
  ].join("\n");
}

function join(...parts: (string | undefined)[]): string {
  return parts.filter((part) => part !== undefined && part !== "" && !/^\/\/ (no changes|nothing to undo)$/.test(part)).join("\n\n") || "// nothing to undo";
}
