/**
 * The commands that compare schemas: `check` (models vs migrations head: the CI gate),
 * `revision --autogenerate` (write the migration that closes the gap) and `drift` (a live
 * database vs the schema its recorded revision implies). None needs a running server to author:
 * the head schema comes from folding the migrations' operations (see head-schema.ts).
 */
import { compareSchemas, renderMigrationBodies, type RenameDecision, type RenameHints } from "../autogenerate/index.js";
import { DEFAULT_LOCK_TIMEOUT, safeRewrite } from "../autogenerate/safe.js";
import { loadModels } from "../schema/load-models.js";
import { checkMessage, checkRevisionId, upgradePlan } from "../script/index.js";
import type { LoadedConfig } from "../env/config.js";
import { resolveDatabaseUrl } from "../env/config.js";
import { parseDatabaseUrl, redactUrl } from "../env/url.js";
import { RetortError } from "../errors.js";
import { Op as OpHelpers, type Op } from "../operations/types.js";
import { schemaFromModels } from "../schema/from-models.js";
import { familyOf, type Dialect, type Schema } from "../schema/snapshot.js";
import { resolve } from "node:path";
import { configOf, current, revision, revisionGraph, withDatabase, type CommandOptions } from "./api.js";
import { filterSchema, referencesOutside, refuseReferencesOutside } from "../schema/table-filter.js";
import { isTableModel } from "../model/table.js";
import { introspectLive, introspectOptions, schemaAt } from "./head-schema.js";

export interface SchemaCommandOptions extends CommandOptions {
  /** SQL flavour to compare for (default: the database URL's). */
  dialect?: Dialect;
  /** Rename decisions (flags, hints file). */
  renames?: RenameHints;
  /** Always also run the migrations on an ephemeral database and fail if it disagrees with the fold. */
  verify?: boolean;
  /** Compare against this live database instead of the migrations head (Alembic's behaviour). */
  against?: "head" | "database";
  /** With `against: "database"`: an applied migration whose file changed is an error, not a warning. */
  strict?: boolean;
}

export interface SchemaDiff {
  ok: boolean;
  ops: Op[];
  /** One line per operation, for people. */
  changes: string[];
  /** Possible renames that need a decision before anything can be generated. */
  decisions: RenameDecision[];
  /** How the head schema was obtained. */
  source: string;
}

function dialectOf(loaded: LoadedConfig, options: SchemaCommandOptions): Dialect {
  if (options.dialect) return options.dialect;
  if (options.database) return options.database.dialect;
  return parseDatabaseUrl(resolveDatabaseUrl({ ...options, config: loaded })).dialect;
}

export async function modelsSchema(loaded: LoadedConfig): Promise<Schema> {
  if (!loaded.config.models) {
    throw new RetortError("RETORT_CONFIG", "the config names no models module", {
      hint: 'Add models: "./src/schema.ts" (the module exporting your table() models) to retort.config.ts.',
    });
  }
  return schemaFromModels(await loadModels(resolve(loaded.root, loaded.config.models)));
}

/** The schema the migrations head implies (fold, or an ephemeral database when migrations run raw SQL). */
async function headSchema(loaded: LoadedConfig, dialect: Dialect, options: SchemaCommandOptions): Promise<{ schema: Schema; source: string }> {
  const graph = await revisionGraph({ ...options, config: loaded });
  const result = await schemaAt(loaded, graph, graph.heads.map((h) => h.revision), dialect, options.verify ? { verify: true } : {});
  if (options.verify && result.introspected) {
    const disagreement = compareSchemas(result.folded, result.introspected, { dialect });
    if (disagreement.ops.length > 0) {
      throw new RetortError("RETORT_SCHEMA_MISMATCH", `--verify: the in-memory fold of the migrations and an ephemeral ${dialect} database disagree:\n${disagreement.ops.map((op) => `  ${OpHelpers.describe(op)}`).join("\n")}`, {
        hint: result.opaque.length ? `These revisions run raw SQL or code the fold cannot see: ${result.opaque.join(", ")}.` : "Please report this: the fold should match the database.",
      });
    }
  }
  return { schema: result.schema, source: result.source + (result.opaque.length ? ` (raw SQL in ${result.opaque.join(", ")})` : "") };
}

/**
 * The models may not reference a table the config leaves out (unless the head has the same key
 * already): the differ would have to create a key to a table it does not see.
 */
async function refuseModelReferencesOutside(loaded: LoadedConfig, models: Schema, from: Schema): Promise<void> {
  const keep = introspectOptions(loaded).tables;
  const [kept, known] = [filterSchema(models, keep), filterSchema(from, keep)];
  if (referencesOutside(kept, keep, known).length === 0) return;
  // Only now are the export names worth finding (the module is loaded already: a cached import).
  const exported = Object.entries(await loadModels(resolve(loaded.root, loaded.config.models!)));
  const names = new Map(exported.flatMap(([name, value]) => (isTableModel(value) ? [[value.$.name, name] as const] : [])));
  refuseReferencesOutside(kept, keep, known, { names, file: loaded.config.models! });
}

/** Both sides through the config's table selection, so an excluded table is never a change. */
function diff(loaded: LoadedConfig, from: Schema, to: Schema, dialect: Dialect, options: SchemaCommandOptions, source: string): SchemaDiff {
  const keep = introspectOptions(loaded).tables;
  const result = compareSchemas(filterSchema(from, keep), filterSchema(to, keep), { dialect, ...(options.renames ? { renames: options.renames } : {}) });
  return {
    ok: result.ops.length === 0 && result.decisions.length === 0,
    ops: result.ops,
    changes: result.ops.map((op) => OpHelpers.describe(op)),
    decisions: result.decisions,
    source,
  };
}

/**
 * `retort check`: do the models match the migrations head (the CI gate)? With `against:
 * "database"`, do they match that live database instead (which must be at migrations head)?
 */
export async function check(options: SchemaCommandOptions = {}): Promise<SchemaDiff> {
  const loaded = await configOf(options, "check");
  if (options.against === "database") {
    const models = await modelsSchema(loaded);
    const live = await liveSchema(loaded, options, "check");
    await refuseModelReferencesOutside(loaded, models, live.schema);
    return diff(loaded, live.schema, models, live.dialect, options, live.source);
  }
  const dialect = dialectOf(loaded, options);
  const [models, head] = await Promise.all([modelsSchema(loaded), headSchema(loaded, dialect, options)]);
  await refuseModelReferencesOutside(loaded, models, head.schema);
  return diff(loaded, head.schema, models, dialect, options, head.source);
}

/**
 * The schema of the live database, once it is known to be at migrations head: compared with a
 * database behind head, the models would repeat what the pending migrations do (autogenerate would
 * write a duplicate of them), so this is refused, as Alembic does.
 */
async function liveSchema(loaded: LoadedConfig, options: SchemaCommandOptions, command: string): Promise<{ schema: Schema; dialect: Dialect; source: string }> {
  const graph = await revisionGraph({ ...options, config: loaded });
  const at = (await current({ ...options, config: loaded })).heads.map((h) => h.revision).sort();
  const heads = graph.heads.map((h) => h.revision).sort();
  if (at.join() !== heads.join()) {
    const unknown = at.filter((id) => !graph.has(id));
    const pending = unknown.length ? undefined : upgradePlan(graph, at, heads).length;
    throw new RetortError(
      "RETORT_NOT_UP_TO_DATE",
      `The database is not up to date: it is at ${at.join(", ") || "base"}${unknown.length ? ` (${unknown.join(", ")}: no migration file)` : ""}, the migrations head is ${heads.join(", ") || "base (no revisions)"}${pending ? ` (${pending} revision${pending === 1 ? "" : "s"} not applied)` : ""}.`,
      {
        hint: `Upgrade it first (\`retort upgrade ${heads.length > 1 ? "heads" : "head"}\` with the same --url), then run \`retort ${command}\` again; or leave out --url to compare the models with the migrations head.`,
        details: { current: at, heads },
      },
    );
  }
  const url = options.database ? undefined : resolveDatabaseUrl({ ...options, config: loaded });
  return withDatabase(loaded, options, async (conn, dialect) => ({
    schema: await introspectLive(loaded, conn, dialect),
    dialect,
    source: url ? `database ${redactUrl(url)}` : "database",
  }));
}

/** `retort drift`: does a live database match the schema its recorded revision implies? */
export async function drift(options: SchemaCommandOptions = {}): Promise<SchemaDiff & { heads: string[]; url: string }> {
  const loaded = await configOf(options);
  introspectOptions(loaded); // a bad table selection fails before anything is read
  const graph = await revisionGraph({ ...options, config: loaded });
  const state = await current({ ...options, config: loaded });
  const heads = state.heads.map((h) => h.revision);
  return withDatabase(loaded, options, async (conn, dialect) => {
    const expected = await schemaAt(loaded, graph, heads, dialect);
    const live = await introspectLive(loaded, conn, dialect);
    // A key the migrations made to a table since left out compares fine; any other could not be reported.
    const keep = introspectOptions(loaded).tables;
    refuseReferencesOutside(live, keep, filterSchema(expected.schema, keep));
    return { ...diff(loaded, expected.schema, live, dialect, options, expected.source), heads, url: state.url };
  });
}

export interface AutogenerateResult extends SchemaDiff {
  /** The file written, when there was something to write. */
  path?: string;
  revision?: string;
  /** Destructive operations, for the console. */
  destructive: string[];
  /** What the user must do before the migration can run (a backfill to write…), for the console. */
  warnings: string[];
  /** With expandContract: the contract revision written after the expand one (`path`/`revision`). */
  contract?: { path: string; revision: string };
}

export interface AutogenerateSpec {
  message: string;
  empty?: boolean;
  revId?: string;
  head?: string;
  branchLabel?: string;
  /** Backfills for NOT NULL columns added to existing tables: "table.column" → SQL ("" when one column needs it). */
  backfill?: Record<string, string>;
  /** Renames and type changes as two revisions, expand and contract (Postgres). */
  expandContract?: boolean;
}

/**
 * `retort revision --autogenerate -m …`: compare the models with the migrations head (or a live
 * database with `against: "database"`) and write a migration with upgrade and downgrade. Possible
 * renames must be decided first (RETORT_DECISIONS_NEEDED lists them). With no changes, nothing is
 * written unless `empty` is set.
 */
export async function autogenerate(spec: AutogenerateSpec, options: SchemaCommandOptions = {}): Promise<AutogenerateResult> {
  // Before the comparison, which may take a while.
  checkMessage(spec.message, "revision --autogenerate");
  if (spec.revId !== undefined) checkRevisionId(spec.revId);
  const loaded = await configOf(options, "revision --autogenerate");
  const dialect = dialectOf(loaded, options);
  const models = await modelsSchema(loaded);
  const from = options.against === "database" ? await liveSchema(loaded, options, "revision --autogenerate") : await headSchema(loaded, dialect, options);
  await refuseModelReferencesOutside(loaded, models, from.schema);
  // With --expand-contract, a column given its SQL is computed from others (a split or merge), not renamed.
  const computed = spec.expandContract ? Object.keys(spec.backfill ?? {}).filter((key) => key !== "") : [];
  const renames = computed.length ? { ...options.renames, notRenames: [...(options.renames?.notRenames ?? []), ...computed] } : options.renames;
  const result = diff(loaded, from.schema, models, dialect, { ...options, ...(renames ? { renames } : {}) }, from.source);
  if (result.decisions.length > 0) {
    const flag = (d: RenameDecision) =>
      d.kind === "table" ? `--rename-table ${d.from}=${d.to}` : d.kind === "column" ? `--rename-column ${d.table}.${d.from}=${d.to}` : `--rename-enum-value ${d.enum}.${d.from}=${d.to}`;
    const line = (d: RenameDecision) =>
      d.kind === "cast"
        ? `  type of ${d.table}.${d.from}: ${d.reason}  --using "${d.table}.${d.from}=<SQL>" or --recreate ${d.table}.${d.from} (drops its values)`
        : `  ${d.kind} ${d.kind === "column" ? `${d.table}.` : d.kind === "enumValue" ? `${d.enum}.` : ""}${d.from} -> ${d.to}? (${d.reason})  ${flag(d)}`;
    const lines = result.decisions.map(line);
    const casts = result.decisions.some((d) => d.kind === "cast");
    throw new RetortError("RETORT_DECISIONS_NEEDED", `Autogenerate needs ${result.decisions.length} decision(s) before it can write a migration:\n${lines.join("\n")}`, {
      hint:
        "Pass the flags shown for real renames (or a hints file with --hints, or .renamedFrom() in the model); for a drop and an add, pass --not-rename <old>=<new> (e.g. members.nick=nickname)." +
        (casts ? ' For a type change without a cast: --using "table.column=<SQL that gives the new type>", or --recreate table.column (the column is dropped and added again).' : "") +
        (spec.expandContract ? ' For a split or merge of columns, give each added and dropped column its SQL with --backfill "table.column=<SQL>" (those columns are then not renames).' : ""),
      details: { decisions: result.decisions },
    });
  }
  if (result.ops.length === 0 && !spec.empty) return { ...result, destructive: [], warnings: [] };
  const safe = familyOf(dialect) === "postgres" && loaded.config.autogenerate?.safe !== false;
  const lockTimeout = loaded.config.autogenerate?.lockTimeout ?? DEFAULT_LOCK_TIMEOUT;
  if ((spec.backfill && Object.keys(spec.backfill).length > 0) || spec.expandContract) {
    const flag = spec.expandContract ? "--expand-contract" : "--backfill";
    if (!safe) {
      throw new RetortError("RETORT_USAGE", `${flag} is for Postgres and PGlite with safe autogenerate, but ${familyOf(dialect) === "postgres" ? "autogenerate.safe is false in the config" : `this project generates for ${dialect}`}`, {
        hint: familyOf(dialect) === "postgres" ? "Remove autogenerate: { safe: false } from the config, or leave out the flag." : "Leave out the flag: SQLite rebuilds tables in one transaction anyway.",
      });
    }
  }
  const parent = { ...(spec.head ? { head: spec.head } : {}), ...(spec.branchLabel ? { branchLabel: spec.branchLabel } : {}) };
  if (spec.expandContract) {
    const { expandContract } = await import("../autogenerate/expand-contract.js");
    const pair = await expandContract(result.ops, from.schema, { lockTimeout, ...(spec.backfill ? { backfills: spec.backfill } : {}) });
    const expand = await revision(
      { message: `${spec.message} (expand)`, ...pair.expand, ...(spec.revId !== undefined ? { revId: spec.revId } : {}), ...parent },
      { ...options, config: loaded },
    );
    const contract = await revision({ message: `${spec.message} (contract)`, ...pair.contract, head: expand.revision, contractOf: expand.revision }, { ...options, config: loaded });
    return { ...result, path: expand.path, revision: expand.revision, contract: { path: contract.path, revision: contract.revision }, destructive: pair.destructive, warnings: pair.warnings };
  }
  const plan = safe ? safeRewrite(result.ops, from.schema, { lockTimeout, ...(spec.backfill ? { backfills: spec.backfill } : {}) }) : undefined;
  const bodies = renderMigrationBodies(result.ops, { from: from.schema, dialect, ...(plan ? { rewrite: plan.rewrite } : {}) });
  const report = plan?.report;
  const written = await revision(
    {
      message: spec.message,
      upgradeBody: report?.locksExisting ? `${lockTimeoutComment(lockTimeout, report.separateTransactions)}\n${bodies.upgrade}` : bodies.upgrade,
      downgradeBody: bodies.downgrade,
      imports: bodies.imports,
      ...(report?.separateTransactions ? { transactional: false } : {}),
      ...(report?.locksExisting ? { lockTimeout } : {}),
      ...(spec.revId !== undefined ? { revId: spec.revId } : {}),
      ...parent,
    },
    { ...options, config: loaded },
  );
  return { ...result, path: written.path, revision: written.revision, destructive: bodies.destructive, warnings: (report?.stubs ?? []).map(backfillWarning) };
}

/** Why a generated migration sets lock_timeout, and what to do when it fires. */
export function lockTimeoutComment(lockTimeout: string, separateTransactions: boolean): string {
  return [
    `// lockTimeout ${lockTimeout}: a step that waits longer than that for a table lock fails instead of holding up the`,
    "// app's queries queued behind it (a long transaction on the table is usually the cause). The failed step is rolled",
    separateTransactions
      ? "// back; the steps before it stay committed, so run `retort upgrade` again (at a quieter time) and it resumes there."
      : "// back with the rest of the revision, so run `retort upgrade` again (at a quieter time).",
  ].join("\n");
}

/** The console line for a generated backfill stub. */
export function backfillWarning(column: string): string {
  return `${column} is NOT NULL without a server default on an existing table: the migration has an op.run stub that fails ("fill in the backfill for ${column}") until you write it, or generate again with --backfill '${column}=<SQL>'`;
}
