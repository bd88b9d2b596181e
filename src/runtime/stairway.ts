/**
 * `retort test-migrations`, the stairway test: for each revision in order, upgrade to it, read the
 * schema back, downgrade it, check the schema is the one before, upgrade again and check it is the
 * one after; after each upgrade, the live schema is also compared with the fold of the migrations
 * (what autogenerate and check believe). The first revision whose downgrade does not restore the
 * schema (or whose re-upgrade differs, or whose schema differs from the fold) stops the run and is
 * reported with the difference, in the words autogenerate uses. It ends by comparing the models
 * with the schema at head.
 *
 * By default it runs on a throwaway database of the project's dialect (in-memory PGlite for
 * Postgres and PGlite projects, a SQLite file in a temp folder for SQLite); `url` points it at a
 * real one, which must be empty (or `force`).
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { compareSchemas } from "../autogenerate/index.js";
import { connect, type Database } from "../db/database.js";
import { resolveDatabaseUrl, type LoadedConfig } from "../env/config.js";
import { parseDatabaseUrl, redactUrl } from "../env/url.js";
import { RetortError, isRetortError } from "../errors.js";
import { applyOperation } from "../operations/apply.js";
import { Op as OpHelpers, type Op } from "../operations/types.js";
import { filterSchema } from "../schema/table-filter.js";
import { EMPTY_SCHEMA, familyOf, type Dialect, type Schema } from "../schema/snapshot.js";
import { applyStep, type Revision } from "../script/index.js";
import { configOf, scripts, withMigrationContext, type CommandOptions } from "./api.js";
import { introspectLive, introspectOptions } from "./head-schema.js";
import { compileRevision, hasRawSql, preloadMigrations, rawSqlFolder, recordOperations, type PlannedRevision, type RawSqlFolder } from "./plan.js";
import { readVersionState } from "./status.js";

export interface StairwayOptions extends CommandOptions {
  /** Run on a database that is not empty (its other tables must not collide with the migrations'). */
  force?: boolean;
  /** Called after each revision's stairway, for progress output. */
  onRevision?: (event: { index: number; total: number; revision: string; message: string }) => void;
}

/** What went wrong at one revision. */
export interface StairwayFailure {
  revision: string;
  message: string;
  file: string;
  /** upgrade: the upgrade fails; downgrade: the downgrade fails or does not restore the schema before; reupgrade: upgrading again fails or gives another schema; expected: the live schema differs from the fold of the migrations. */
  phase: "upgrade" | "downgrade" | "reupgrade" | "expected";
  /** What differs, one line per operation that would close the gap (autogenerate's words). */
  differences: string[];
}

export interface StairwayReport {
  /** The database used (the throwaway one is described, not kept). */
  database: string;
  dialect: Dialect;
  /** Revisions that passed, in order. */
  passed: string[];
  total: number;
  failure?: StairwayFailure;
  /** Revisions from which the fold could not follow (raw SQL it cannot read, op.run): the comparison with the fold stops there. */
  unfolded: string[];
  /** undefined when the config names no models (or the module is not there yet), or a failure stopped the run early. */
  models?: { match: boolean; differences: string[] };
  ok: boolean;
  ms: number;
}

/** Differences between two schemas as autogenerate would close them, leaving out `ignored` tables: empty when equal. */
function differences(from: Schema, to: Schema, dialect: Dialect, loaded: LoadedConfig, ignored: ReadonlySet<string>): string[] {
  const selected = introspectOptions(loaded).tables;
  const keep = (name: string) => !ignored.has(name) && selected(name);
  const result = compareSchemas(filterSchema(from, keep), filterSchema(to, keep), { dialect });
  return [
    ...result.ops.map((op) => OpHelpers.describe(op)),
    ...result.decisions.map((d) => (d.kind === "cast" ? `type of ${d.table}.${d.from}: ${d.reason}` : `${d.kind} ${d.from} -> ${d.to} (dropped and added)`)),
  ];
}

/** A user error as one line for the report (anything else is a bug and propagates). */
function failureText(error: unknown): string {
  if (!isRetortError(error)) throw error;
  return `${error.code}: ${error.message}`;
}

/** The database to run on: a throwaway one of the project's dialect, or the given URL (which must be empty). */
async function openTarget(loaded: LoadedConfig, options: StairwayOptions): Promise<{ db: Database<any>; description: string; cleanup: () => Promise<void> }> {
  if (options.database) return { db: options.database, description: `open ${options.database.dialect} database`, cleanup: async () => {} };
  if (options.url) {
    const db = await connect(options.url, { schema: {} });
    return { db, description: redactUrl(options.url), cleanup: () => db.close() };
  }
  let dialect: Dialect = "postgres";
  try {
    dialect = parseDatabaseUrl(resolveDatabaseUrl({ ...options, config: loaded })).dialect;
  } catch (error) {
    if (!isRetortError(error)) throw error; // no URL anywhere: Postgres is the default dialect
  }
  if (familyOf(dialect) === "postgres") {
    const db = await connect("pglite:memory", { schema: {} });
    return { db, description: "throwaway PGlite (in memory)", cleanup: () => db.close() };
  }
  const folder = mkdtempSync(join(tmpdir(), "retort-stairway-"));
  const db = await connect(`sqlite:${join(folder, "stairway.db")}`, { schema: {} });
  // A throwaway file: commits need not wait for the disk.
  await db.query("PRAGMA synchronous = OFF");
  return {
    db,
    description: "throwaway SQLite file",
    cleanup: async () => {
      await db.close();
      rmSync(folder, { recursive: true, force: true });
    },
  };
}

/** A database that holds tables or a migration history is refused unless forced: the stairway drops what it creates. */
async function refuseNonEmpty(loaded: LoadedConfig, db: Database<any>, description: string, force: boolean): Promise<Set<string>> {
  const found = await db.withConnection(async (conn) => {
    const state = await readVersionState(conn, familyOf(db.dialect));
    const schema = await introspectLive(loaded, conn, db.dialect);
    return [...(state.initialized ? ["the version tables"] : []), ...schema.tables.map((t) => t.name)];
  });
  if (found.length === 0 || force) return new Set(found);
  throw new RetortError("RETORT_DATABASE_NOT_EMPTY", `${description} is not empty (${found.slice(0, 5).join(", ")}${found.length > 5 ? ", …" : ""}): the stairway upgrades and downgrades every revision from base`, {
    hint: "Point --url at an empty scratch database, leave --url out for a throwaway one, or pass --force if those objects do not collide with the migrations.",
    details: { found },
  });
}

/** The fold of the migrations, one revision at a time, until a revision does something the fold cannot see. */
class ExpectedSchema {
  schema: Schema = EMPTY_SCHEMA;
  blindFrom: string | undefined;
  constructor(private readonly foldSql: RawSqlFolder | undefined) {}

  add(revision: Revision, ops: readonly Op[]): void {
    if (this.blindFrom) return;
    let schema = this.schema;
    for (const op of ops) {
      if (op.kind === "run" || op.kind === "execute") {
        const after = op.kind === "execute" ? this.foldSql?.(schema, op) : undefined;
        if (!after) {
          this.blindFrom = revision.revision;
          return;
        }
        schema = after;
        continue;
      }
      schema = applyOperation(schema, op);
    }
    this.schema = schema;
  }
}

export async function testMigrations(options: StairwayOptions = {}): Promise<StairwayReport> {
  const started = performance.now();
  const loaded = await configOf(options);
  const { graph } = scripts(loaded);
  const revisions = graph.revisions;
  const target = await openTarget(loaded, options);
  try {
    const { db } = target;
    // Tables there before (allowed with force) are left out of every comparison.
    const preexisting = options.url || options.database ? await refuseNonEmpty(loaded, db, target.description, options.force ?? false) : new Set<string>();
    const dialect = db.dialect;

    await preloadMigrations(revisions);
    const recorded = new Map<string, Op[]>();
    for (const revision of revisions) recorded.set(revision.revision, await recordOperations(revision, "up"));
    const foldSql = await rawSqlFolder(dialect, [...recorded.values()].some(hasRawSql));
    const expected = new ExpectedSchema(foldSql);

    const passed: string[] = [];
    const unfolded: string[] = [];
    const report = (failure?: StairwayFailure, models?: StairwayReport["models"]): StairwayReport => ({
      database: target.description,
      dialect,
      passed,
      total: revisions.length,
      ...(failure ? { failure } : {}),
      unfolded,
      ...(models ? { models } : {}),
      ok: !failure && (models?.match ?? true),
      ms: Math.round(performance.now() - started),
    });
    const fail = (revision: Revision, phase: StairwayFailure["phase"], diff: string[]) =>
      report({ revision: revision.revision, message: revision.message, file: revision.path, phase, differences: diff });

    // One migration lock and one executor for the whole run, and each revision compiled once per
    // direction against the schema of what is applied (kept as it goes): the same executor and
    // compiler `upgrade` and `downgrade` use, without re-reading the folder and re-folding the
    // history for each of the 3 x N runs.
    const transaction = loaded.config.migrations?.transaction ?? "each";
    const stairs = await withMigrationContext(loaded, { config: loaded, database: db }, async ({ executor, conn }) => {
      const introspect = () => introspectLive(loaded, conn, dialect);
      let heads = new Set<string>(await executor.currentHeads());
      if (heads.size > 0) {
        throw new RetortError("RETORT_DATABASE_NOT_EMPTY", `${target.description} is at ${[...heads].join(", ")}: the stairway starts from base`, { hint: "Use an empty database, or leave --url out for a throwaway one." });
      }
      const step = (current: Set<string>, planned: PlannedRevision) => {
        const next = new Set(current);
        applyStep(next, planned.file, planned.direction, graph);
        return next;
      };
      /** Run one compiled revision; a user error becomes this revision's failure text. */
      const runOne = async (planned: PlannedRevision): Promise<string | undefined> => {
        try {
          heads = new Set(await executor.run([planned], [...heads], step, { transaction }));
          return undefined;
        } catch (error) {
          return failureText(error);
        }
      };
      let compiledBefore: Schema = EMPTY_SCHEMA;
      let before = await introspect();
      for (const [i, revision] of revisions.entries()) {
        const upOps = recorded.get(revision.revision)!;
        const up = compileRevision(revision, "up", upOps, dialect, compiledBefore, foldSql);
        const upError = await runOne(up.planned);
        if (upError) return fail(revision, "upgrade", [upError]);
        const after = await introspect();
        expected.add(revision, upOps);
        if (expected.blindFrom) {
          if (unfolded.length === 0) unfolded.push(expected.blindFrom);
        } else {
          const diff = differences(expected.schema, after, dialect, loaded, preexisting);
          if (diff.length > 0) return fail(revision, "expected", diff);
        }
        // Only this revision goes down (nothing applied stands on it yet). A downgrade that cannot
        // be compiled or run (irreversible, failing SQL) is this revision's failure too.
        let downError: string | undefined;
        try {
          downError = await runOne(compileRevision(revision, "down", await recordOperations(revision, "down"), dialect, up.after, foldSql).planned);
        } catch (error) {
          downError = failureText(error);
        }
        if (downError) return fail(revision, "downgrade", [downError]);
        const down = await introspect();
        const notRestored = differences(down, before, dialect, loaded, preexisting);
        if (notRestored.length > 0) return fail(revision, "downgrade", notRestored);
        const againError = await runOne(up.planned);
        if (againError) return fail(revision, "reupgrade", [againError]);
        const again = await introspect();
        const changed = differences(after, again, dialect, loaded, preexisting);
        if (changed.length > 0) return fail(revision, "reupgrade", changed);
        before = again;
        compiledBefore = up.after;
        passed.push(revision.revision);
        options.onRevision?.({ index: i + 1, total: revisions.length, revision: revision.revision, message: revision.message });
      }
      return before;
    });
    if (!("tables" in stairs)) return stairs; // a failure report
    const before = stairs;

    // A config that names no models module, or one not written yet (right after `retort init`): nothing to compare.
    if (!loaded.config.models || !existsSync(resolve(loaded.root, loaded.config.models))) return report();
    const { modelsSchema } = await import("./schema-commands.js");
    const models = await modelsSchema(loaded);
    const diff = differences(before, models, dialect, loaded, preexisting);
    return report(undefined, { match: diff.length === 0, differences: diff });
  } finally {
    await target.cleanup();
  }
}
