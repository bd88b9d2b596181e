/**
 * `retort baseline`: the first revision of a database that already exists. The live schema's
 * create operations become the upgrade (sequences, enums, tables with every name they have), the
 * downgrade drops all of it, and the database is stamped at the new revision without running
 * anything. Refused where a careful Alembic user would refuse: the folder already has a history
 * (a second "first" revision would make two bases), or the database is already at a Retort
 * revision.
 */
import { existsSync, rmSync } from "node:fs";
import { resolve as resolvePath } from "node:path";
import { compareSchemas, renderMigrationBodies } from "../autogenerate/index.js";
import type { Connection } from "../dialects/driver.js";
import { quoteIdent } from "../dialects/sql-text.js";
import { migrationsDirectory, type LoadedConfig } from "../env/config.js";
import { redactUrl } from "../env/url.js";
import { RetortError } from "../errors.js";
import type { Op } from "../operations/types.js";
import { isSerialSequence, type SequenceInfo } from "../dialects/postgres/sequences.js";
import { EMPTY_SCHEMA, extensionsOf, familyOf, type Dialect, type Schema, type SqlFamily } from "../schema/snapshot.js";
import { configOf, revision, revisionGraph, stamp, withDatabase, type CommandOptions } from "./api.js";
import { refuseUndeclarableEnums } from "../schema/declarable.js";
import { refuseReferencesOutside } from "../schema/table-filter.js";
import { introspectOptions, introspectLive } from "./head-schema.js";
import { VERSION_TABLE } from "./version-table.js";
import { makeDirectory } from "../env/make-directory.js";

export interface BaselineResult {
  /** The revision file written (relative to cwd). */
  path: string;
  revision: string;
  /** The database (password masked). */
  url: string;
  tables: number;
  enums: number;
  sequences: number;
  extensions: number;
}

/** Whether a table exists in the database (Postgres: in `schemaName`). */
export async function tableExists(conn: Connection, family: SqlFamily, name: string, schemaName = "public"): Promise<boolean> {
  const { rows } =
    family === "postgres"
      ? await conn.query("SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = $1 AND tablename = $2", [schemaName, name])
      : await conn.query("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?", [name]);
  return rows.length > 0;
}

async function recordedHeads(conn: Connection, family: SqlFamily): Promise<string[]> {
  if (!(await tableExists(conn, family, VERSION_TABLE))) return [];
  const { rows } = await conn.query<{ version_num: string }>(`SELECT version_num FROM ${VERSION_TABLE}`);
  return rows.map((row) => row.version_num);
}

/**
 * A sequence a serial column creates by itself: owned by a column the snapshot calls serial,
 * named <table>_<column>_seq, with the settings serial gives. Any other sequence such a column
 * uses is written as raw SQL, and the column keeps its nextval() default until OWNED BY (which the
 * fold reads back as serial).
 */
function madeBySerial(live: Schema, sequence: SequenceInfo): boolean {
  const owner = sequence.ownedBy;
  const column = owner && live.tables.find((t) => t.name === owner.table)?.columns.find((c) => c.name === owner.column);
  if (!owner || !column?.serial) return false;
  const standard = isSerialSequence(sequence, owner.table, owner.column, column.type.kind);
  if (!standard) {
    delete column.serial;
    column.default = { kind: "sql", sql: `nextval('${sequence.name.replace(/'/g, "''")}'::regclass)` };
  }
  return standard;
}

/** The operations that build the live schema from nothing, sequences included (Postgres). */
async function createOperations(loaded: LoadedConfig, conn: Connection, dialect: Dialect): Promise<{ ops: Op[]; tables: number; enums: number; sequences: number; extensions: number }> {
  const live = await introspectLive(loaded, conn, dialect);
  const { tables: keep, schemaName } = introspectOptions(loaded);
  refuseReferencesOutside(live, keep);
  refuseUndeclarableEnums(live);
  let sequences: Array<{ create: Op; own?: Op }> = [];
  if (familyOf(dialect) === "postgres") {
    const { readSequences, createSequenceSql, ownSequenceSql } = await import("../dialects/postgres/sequences.js");
    // There is no sequence operation: raw SQL for Postgres, which the fold reads with the parser.
    // (Read before comparing: a serial column whose sequence is not the one serial makes becomes a nextval() default.)
    sequences = (await readSequences(conn, schemaName))
      .filter((sequence) => !sequence.ownedBy || keep(sequence.ownedBy.table))
      .filter((sequence) => !madeBySerial(live, sequence))
      .map((sequence) => {
        const own = ownSequenceSql(sequence);
        const quoted = quoteIdent(sequence.name);
        return {
          create: { kind: "execute", sql: { postgres: createSequenceSql(sequence) }, reverseSql: { postgres: `DROP SEQUENCE ${quoted}` } },
          ...(own ? { own: { kind: "execute", sql: { postgres: own }, reverseSql: { postgres: `ALTER SEQUENCE ${quoted} OWNED BY NONE` } } } : {}),
        } satisfies { create: Op; own?: Op };
      });
  }
  const compared = compareSchemas(EMPTY_SCHEMA, live, { dialect });
  // Sequences first (column defaults call them), ownership last (it needs the tables); the
  // downgrade reverses the order: ownership released, tables dropped, then the sequences.
  // compare puts createExtension first among its operations (defaults and operator classes need them).
  const ops = [...sequences.map((s) => s.create), ...compared.ops, ...sequences.flatMap((s) => (s.own ? [s.own] : []))];
  return { ops, tables: live.tables.length, enums: live.enums.length, sequences: sequences.length, extensions: extensionsOf(live).length };
}

/**
 * Write the baseline revision from the live database and stamp the database at it. Nothing is
 * run; the other tools' tables and excluded tables are left out (and left alone).
 */
export async function baseline(spec: { message: string; revId?: string }, options: CommandOptions = {}): Promise<BaselineResult> {
  const loaded = await configOf(options);
  const dir = migrationsDirectory(loaded);
  const graph = existsSync(dir) ? await revisionGraph({ ...options, config: loaded }) : undefined;
  if (graph && graph.size > 0) {
    const heads = graph.heads.map((head) => head.revision).join(", ");
    throw new RetortError("RETORT_BASELINE_REFUSED", `${dir} already has ${graph.size} revision(s) (head ${heads}): a baseline is the first revision of a history, and a second base would split it`, {
      hint: "To capture what the live database has beyond your migrations, run `retort revision --autogenerate --url <db>`; to mark a database as being at an existing revision, `retort stamp <rev>`. To start over, point migrations.directory at an empty folder.",
      details: { directory: dir, revisions: graph.size },
    });
  }
  introspectOptions(loaded);
  const built = await withDatabase(loaded, options, async (conn, dialect) => {
    const heads = await recordedHeads(conn, familyOf(dialect));
    if (heads.length > 0) {
      throw new RetortError("RETORT_BASELINE_REFUSED", `the database is already at Retort revision ${heads.join(", ")} (table ${VERSION_TABLE}), but the migrations folder has none`, {
        hint: "Restore the migrations folder this database was migrated with, or `retort stamp base --purge` first if the recorded revision is really gone.",
        details: { heads },
      });
    }
    return { ...(await createOperations(loaded, conn, dialect)), dialect };
  });
  if (built.ops.length === 0) {
    throw new RetortError("RETORT_BASELINE_REFUSED", "the database has no tables, enums or sequences Retort would keep: there is nothing to baseline", {
      hint: "Check the URL and the config's tables/schemas selection; for a new database, start with `retort revision --autogenerate` from your models.",
    });
  }
  const bodies = renderMigrationBodies(built.ops, { from: EMPTY_SCHEMA, dialect: built.dialect });
  makeDirectory(dir);
  const written = await revision(
    { message: spec.message, upgradeBody: bodies.upgrade, downgradeBody: bodies.downgrade, imports: bodies.imports, ...(spec.revId ? { revId: spec.revId } : {}) },
    { ...options, config: loaded },
  );
  let url: string;
  try {
    url = (await stamp(written.revision, { ...options, config: loaded })).url;
  } catch (error) {
    // No half-adopted state: without the stamp, the file would later be run on a database that has it all.
    rmSync(resolvePath(options.cwd ?? process.cwd(), written.path), { force: true });
    throw error;
  }
  return { path: written.path, revision: written.revision, url: redactUrl(url), tables: built.tables, enums: built.enums, sequences: built.sequences, extensions: built.extensions };
}
