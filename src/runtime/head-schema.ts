/**
 * "The schema at migrations head" without a running server. Operations are data, so folding every
 * migration's operations over an empty snapshot gives it in milliseconds. Raw Postgres SQL
 * (op.execute) is read by the real parser and folded too (dialects/postgres/fold-sql.ts). A
 * migration whose raw SQL the fold cannot read, or that runs code (op.run), has effects the fold
 * cannot know: then the migrations are
 * run on an ephemeral database of the target dialect (in-memory PGlite for Postgres, in-memory
 * SQLite for SQLite) and that database is introspected; the result is cached on disk by a hash
 * of the migration files.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect } from "../db/database.js";
import type { Connection } from "../dialects/driver.js";
import type { IntrospectOptions, Introspector } from "../dialects/introspect.js";
import { RetortError } from "../errors.js";
import { tableFilter } from "../schema/table-filter.js";
import { cacheDirectory, type LoadedConfig } from "../env/config.js";
import { applyOperation } from "../operations/apply.js";
import type { Op } from "../operations/types.js";
import { EMPTY_SCHEMA, familyOf, type Dialect, type Schema, type SqlFamily } from "../schema/snapshot.js";
import { upgradePlan, type Revision, type RevisionGraph } from "../script/index.js";
import { hasRawSql, preloadMigrations, rawSqlFolder, recordOperations } from "./plan.js";
import { makeDirectory } from "../env/make-directory.js";

export interface HeadSchema {
  schema: Schema;
  /** How it was obtained. */
  source: "fold" | "ephemeral" | "cache";
  /** Revisions whose raw SQL or code the fold cannot see. */
  opaque: string[];
}

/** Each revision's upgrade operations, in the order given. */
async function recordAll(revisions: readonly Revision[]): Promise<Array<{ revision: Revision; ops: Op[] }>> {
  await preloadMigrations(revisions);
  const out: Array<{ revision: Revision; ops: Op[] }> = [];
  for (const revision of revisions) out.push({ revision, ops: await recordOperations(revision, "up") });
  return out;
}

export async function loadIntrospector(family: SqlFamily): Promise<Introspector> {
  return family === "postgres"
    ? (await import("../dialects/postgres/introspect.js")).introspectPostgres
    : (await import("../dialects/sqlite/introspect.js")).introspectSqlite;
}

/** The config's table selection and schema, as introspection options. */
export function introspectOptions(loaded: LoadedConfig): IntrospectOptions & { tables: NonNullable<IntrospectOptions["tables"]> } {
  const schemas = loaded.config.schemas ?? [];
  if (schemas.length > 1) {
    throw new RetortError("RETORT_CONFIG", `schemas: ${JSON.stringify(schemas)} names ${schemas.length} Postgres schemas; Retort reads one schema per project today`, {
      hint: "Keep one schema in `schemas` (the one your models live in); exclude the rest by leaving them out.",
    });
  }
  return { tables: tableFilter(loaded.config.tables), ...(schemas[0] ? { schemaName: schemas[0] } : {}) };
}

/**
 * A live database's schema, as the config selects it (tables include/exclude, schema).
 * `schemaName` overrides the config's schema (pull's --schema).
 */
export async function introspectLive(loaded: LoadedConfig, conn: Connection, dialect: Dialect, override: { schemaName?: string } = {}): Promise<Schema> {
  return (await loadIntrospector(familyOf(dialect)))(conn, { ...introspectOptions(loaded), ...override });
}

function cacheKey(revisions: readonly Revision[], family: SqlFamily): string {
  const hash = createHash("sha256").update(`retort-head-schema-v1 ${family}\n`);
  for (const revision of revisions) hash.update(`${revision.revision} ${revision.checksum}\n`);
  return hash.digest("hex").slice(0, 24);
}

/**
 * The schema a database at `heads` has, for `dialect` ([] = base). `verify` always takes the
 * ephemeral-database path too and returns both results.
 */
export async function schemaAt(
  loaded: LoadedConfig,
  graph: RevisionGraph,
  heads: readonly string[],
  dialect: Dialect,
  options: { verify?: boolean } = {},
): Promise<HeadSchema & { folded: Schema; introspected?: Schema }> {
  const revisions = heads.length === 0 ? [] : upgradePlan(graph, [], [...heads]);
  const recorded = await recordAll(revisions);
  const family = familyOf(dialect);
  const { folded, opaque } = await foldRecorded(recorded, dialect);
  if (opaque.length === 0 && !options.verify) return { schema: folded, folded, source: "fold", opaque };

  const cacheDir = cacheDirectory(loaded);
  const cacheFile = join(cacheDir, `head-${cacheKey(revisions, family)}.json`);
  if (!options.verify && existsSync(cacheFile)) {
    return { schema: JSON.parse(readFileSync(cacheFile, "utf8")) as Schema, folded, source: "cache", opaque };
  }
  const introspected = await ephemeralSchema(loaded, heads, family);
  makeDirectory(cacheDir);
  writeFileSync(cacheFile, JSON.stringify(introspected));
  return { schema: opaque.length > 0 ? introspected : folded, folded, introspected, source: "ephemeral", opaque };
}

/**
 * Fold the recorded operations over an empty schema. Raw SQL for Postgres is read with the real
 * parser (loaded only when there is some) and folded where it can be; a revision with raw SQL
 * the fold cannot read, or with op.run code, is "opaque": its effects need a real database.
 */
async function foldRecorded(recorded: ReadonlyArray<{ revision: Revision; ops: Op[] }>, dialect: Dialect): Promise<{ folded: Schema; opaque: string[] }> {
  const foldSql = await rawSqlFolder(dialect, recorded.some(({ ops }) => hasRawSql(ops)));
  let schema = EMPTY_SCHEMA;
  const opaque: string[] = [];
  for (const { revision, ops } of recorded) {
    let seen = true;
    for (const op of ops) {
      if (op.kind === "execute" || op.kind === "run") {
        const after = op.kind === "execute" ? foldSql?.(schema, op) : undefined;
        if (after) schema = after;
        else seen = false;
        continue;
      }
      try {
        schema = applyOperation(schema, op);
      } catch (error) {
        // An operation on something unread raw SQL made: only a real database can say.
        if (opaque.length === 0 && seen) throw error;
      }
    }
    if (!seen) opaque.push(revision.revision);
  }
  return { folded: schema, opaque };
}

/** Run the migrations up to `heads` on a throwaway in-memory database of the family and introspect it. */
async function ephemeralSchema(loaded: LoadedConfig, heads: readonly string[], family: SqlFamily): Promise<Schema> {
  const { upgrade } = await import("./api.js");
  const db = await connect(family === "postgres" ? "pglite:memory" : "sqlite::memory:", { schema: {} });
  try {
    for (const head of heads) await upgrade(head, { config: loaded, database: db });
    const introspect = await loadIntrospector(family);
    return await db.withConnection((conn) => introspect(conn));
  } finally {
    await db.close();
  }
}
