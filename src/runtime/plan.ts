/**
 * A migration plan compiled before anything runs: every revision's module is loaded, its
 * operations recorded and compiled for the dialect, so a broken file or an irreversible
 * operation fails before the database is touched.
 */
import type { Kysely } from "kysely";
import { POSTGRES_DURATION } from "../env/config.js";
import { compileAhead, importModule } from "../env/import-module.js";
import { RetortError } from "../errors.js";
import { applyOperation } from "../operations/apply.js";
import { createOpRecorder } from "../operations/api.js";
import { compileAndApply, type Step } from "../operations/compile.js";
import { sqlForDialect, type ExecuteOp, type Op } from "../operations/types.js";
import { EMPTY_SCHEMA, familyOf, type Dialect, type Schema } from "../schema/snapshot.js";
import type { ScriptHeader } from "../script/header.js";
import { isDefinedMigration, type DefinedMigration } from "../script/migration.js";

/** A revision file as the script directory lists it. */
export type RevisionFile = ScriptHeader;

/** One executable unit: SQL, or a data-migration function. */
export type PlannedStep = (Step & { run?: undefined }) | { description: string; run: (db: Kysely<any>) => Promise<void>; sql?: undefined; outsideTransaction?: undefined; foreignKeysOff?: undefined; checkForeignKeys?: undefined; params?: undefined; rebuild?: undefined; raw?: undefined; extension?: undefined };

export interface PlannedRevision {
  file: RevisionFile;
  direction: "up" | "down";
  steps: PlannedStep[];
  /** Said at run time once the revision is done (e.g. a downgrade re-adding a column cannot bring its data back). */
  warnings?: string[];
  /** Postgres: lock_timeout set at the start of each of the revision's transactions. */
  lockTimeout?: string;
  /** The expand revision this contract revision waits for (see runtime/release.ts). */
  contractOf?: string;
}

/** What a migration module says about how it runs, beyond its header. */
export async function migrationSettings(file: RevisionFile): Promise<Pick<PlannedRevision, "lockTimeout" | "contractOf">> {
  const migration = await loadMigration(file);
  const out: Pick<PlannedRevision, "lockTimeout" | "contractOf"> = {};
  if (migration.lockTimeout !== undefined) {
    if (typeof migration.lockTimeout !== "string" || !POSTGRES_DURATION.test(migration.lockTimeout)) {
      throw new RetortError("RETORT_BAD_MIGRATION_FILE", `${file.path}: lockTimeout ${JSON.stringify(migration.lockTimeout)} is not a duration`, { hint: 'Write it as Postgres takes it: lockTimeout: "5s" (or "500ms", "1min").' });
    }
    out.lockTimeout = migration.lockTimeout;
  }
  if (migration.contractOf !== undefined) out.contractOf = migration.contractOf;
  return out;
}

export async function loadMigration(file: RevisionFile): Promise<DefinedMigration> {
  let module: unknown;
  try {
    module = await importModule(file.path, { default: true });
  } catch (error) {
    throw new RetortError("RETORT_BAD_MIGRATION_FILE", `${file.path}: could not load the migration: ${(error as Error).message}`, {
      cause: error,
      hint: "Fix the error in that file; it must `export default defineMigration({ … })`.",
    });
  }
  if (!isDefinedMigration(module)) {
    throw new RetortError("RETORT_BAD_MIGRATION_FILE", `${file.path} does not export default defineMigration({ … })`, {
      hint: "Keep the file's `export default defineMigration({ … })` shape.",
    });
  }
  if (module.revision !== file.revision) {
    throw new RetortError("RETORT_BAD_MIGRATION_FILE", `${file.path}: the header says revision ${file.revision} but the module exports ${module.revision}`, { hint: "Make the revision in the header and the one the module exports the same (the file name does not matter)." });
  }
  return module;
}

/** The operations a migration records in one direction. */
export async function recordOperations(file: RevisionFile, direction: "up" | "down"): Promise<Op[]> {
  const migration = await loadMigration(file);
  const { op, ops } = createOpRecorder();
  try {
    await (direction === "up" ? migration.upgrade(op) : migration.downgrade(op));
  } catch (error) {
    if (error instanceof RetortError) throw error;
    throw new RetortError("RETORT_BAD_MIGRATION_FILE", `${file.path}: ${direction === "up" ? "upgrade" : "downgrade"}() failed while recording its operations: ${(error as Error).message}`, {
      cause: error,
      hint: "upgrade/downgrade should only call op.*; put data work in op.run(…).",
    });
  }
  return ops;
}

/** Compile one revision against the schema before it; returns its steps and the schema after. */
export function compileRevision(file: RevisionFile, direction: "up" | "down", ops: Op[], dialect: Dialect, before: Schema, foldSql?: RawSqlFolder): { planned: PlannedRevision; after: Schema } {
  const steps: PlannedStep[] = [];
  const warnings = direction === "down" ? ops.flatMap((op) => lostOnDowngrade(file, op)) : [];
  let schema = before;
  for (const op of ops) {
    try {
      if (op.kind === "run") {
        steps.push({ description: op.description, run: op.fn });
        continue;
      }
      const compiled = compileAndApply(op, dialect, schema);
      steps.push(...compiled.steps);
      // Raw SQL that creates or changes tables: later operations compile against its effects.
      schema = (op.kind === "execute" ? foldSql?.(schema, op) : undefined) ?? compiled.after;
    } catch (error) {
      if (error instanceof RetortError) {
        throw new RetortError(error.code, `${file.path} (revision ${file.revision}, ${op.kind}): ${error.message}`, { hint: error.hint, details: error.details, cause: error });
      }
      throw error;
    }
  }
  return { planned: { file, direction, steps, ...(warnings.length > 0 ? { warnings } : {}) }, after: schema };
}

/** A downgrade brings back the shape of what the upgrade dropped, never its data. */
function lostOnDowngrade(file: RevisionFile, op: Op): string[] {
  if (op.kind === "addColumn") {
    return [`downgrade of ${file.revision} re-added column ${op.table}.${op.column.name}: its data is not restored (every row has ${op.column.default === undefined ? "NULL" : "the column default"})`];
  }
  if (op.kind === "createTable") return [`downgrade of ${file.revision} re-created table ${op.table.name}: its rows are not restored`];
  return [];
}

/** How many revision modules load at once (bounded: each holds a file open while it loads). */
const PRELOAD_CONCURRENCY = 32;

/**
 * Load many revision modules at once, into the module cache: through import(), Node reads files
 * while it compiles others, about twice as fast as one after another (1,000 modules: ~0.5 s
 * instead of ~1 s). ES modules that go through require() (import-module.ts) load one by one
 * anyway, faster still. Failures are ignored here; loadMigration reports them, in revision
 * order, when it gets there.
 */
export async function preloadMigrations(files: readonly RevisionFile[]): Promise<void> {
  await compileAhead(files.map((file) => file.path));
  let next = 0;
  const worker = async () => {
    while (next < files.length) await importModule(files[next++]!.path, { default: true }).catch(() => undefined);
  };
  await Promise.all(Array.from({ length: Math.min(PRELOAD_CONCURRENCY, files.length) }, worker));
}

/**
 * Folds op.execute's raw SQL into a schema, where the Postgres parser can read it; undefined when
 * it cannot (then the schema goes on without that statement's effects, as before there was a parser).
 */
export type RawSqlFolder = (schema: Schema, op: ExecuteOp) => Schema | undefined;

/** The raw-SQL folder for `dialect`: Postgres and PGlite only, and the parser loads only when `needed`. */
export async function rawSqlFolder(dialect: Dialect, needed: boolean): Promise<RawSqlFolder | undefined> {
  if (!needed || familyOf(dialect) !== "postgres") return undefined;
  const [{ loadPostgresParser }, { foldPostgresSql }] = await Promise.all([import("../sql/parser.js"), import("../dialects/postgres/fold-sql.js")]);
  const parser = await loadPostgresParser();
  return (schema, op) => {
    let text: string;
    try {
      text = sqlForDialect(op.sql, dialect);
    } catch {
      return undefined; // no SQL for this dialect: the plan reports it
    }
    const result = foldPostgresSql(schema, text, parser);
    return "schema" in result ? result.schema : undefined;
  };
}

export const hasRawSql = (ops: readonly Op[]): boolean => ops.some((op) => op.kind === "execute");

/** Recorded operations (one list per revision) folded over an empty schema, raw SQL too where `foldSql` reads it. */
export function foldOperations(recorded: readonly (readonly Op[])[], foldSql?: RawSqlFolder): Schema {
  let schema = EMPTY_SCHEMA;
  for (const ops of recorded) {
    for (const op of ops) schema = (op.kind === "execute" ? foldSql?.(schema, op) : undefined) ?? applyOperation(schema, op);
  }
  return schema;
}
