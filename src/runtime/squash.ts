/**
 * `retort squash <from>:<to> -m "…"`: replace a linear range of revisions with one revision
 * generated from the schema difference, after proving it equivalent.
 *
 * - The range must be one line (each revision's only child is the next; nothing outside depends
 *   on a revision inside but the last) and hold only operations the fold can represent: raw SQL
 *   (`op.execute`), code (`op.run`) and data (`bulkInsert`) are refused with the list, because a
 *   schema difference cannot carry them (split the range around them instead).
 * - The squash's operations are what autogenerate would write from the schema before the range to
 *   the schema at its end (renames inside the range are passed on as rename decisions, so data in
 *   renamed tables and columns is kept).
 * - Proof: the old history up to `to` and the new one (the revisions before the range, then the
 *   squash) are run on two scratch databases (in-memory PGlite or SQLite by dialect, or two
 *   databases created on the `--url` Postgres server) and their catalogs compared: tables,
 *   columns, constraints, indexes, enums, and on Postgres sequences, triggers, views and grants too
 *   (SQLite: triggers and views). Any difference refuses the squash; nothing is written.
 * - Then the squash is written with the id of the range's last revision (a database at the end of
 *   the range is therefore already at the squash: it is never re-run, and children of the range
 *   keep their `parents`), `replaces` listing the range; the old files move to `squashed/` in the
 *   migrations folder, where a database in the middle of the range finds the rest of it (see
 *   squash-archive.ts and `upgrade`).
 */
import { copyFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import { compareSchemas, renderMigrationBodies, type RenameHints } from "../autogenerate/index.js";
import { connect, type Database } from "../db/database.js";
import { resolveDatabaseUrl, type LoadedConfig } from "../env/config.js";
import { parseDatabaseUrl, redactUrl } from "../env/url.js";
import { RetortError, isRetortError } from "../errors.js";
import { Op as OpHelpers, type Op } from "../operations/types.js";
import { familyOf, type Dialect } from "../schema/snapshot.js";
import { migrationFileName, renderMigration, resolveRevision, upgradePlan, type Revision, type RevisionGraph } from "../script/index.js";
import { configOf, scripts, upgrade, type CommandOptions } from "./api.js";
import { loadIntrospector, schemaAt } from "./head-schema.js";
import { preloadMigrations, recordOperations } from "./plan.js";
import { archiveDirectory } from "./squash-archive.js";
import { RETORT_TABLES } from "./version-table.js";
import { makeDirectory } from "../env/make-directory.js";

export interface SquashOptions extends CommandOptions {
  /** SQL flavour to generate and prove for (default: the database URL's). */
  dialect?: Dialect;
  /** Prove and report, write nothing. */
  dryRun?: boolean;
}

export interface SquashResult {
  revision: string;
  /** The new file (relative to cwd). */
  path?: string;
  replaces: string[];
  /** Where the old files went. */
  archive?: string;
  parents: string[];
  /** One line per operation of the squash's upgrade. */
  operations: string[];
  /** How the proof was made. */
  proof: { databases: string; objects: number };
  written: boolean;
}

function refuse(message: string, hint: string, details: Record<string, unknown> = {}): RetortError {
  return new RetortError("RETORT_SQUASH_REFUSED", message, { hint, details });
}

/** The revisions from `from` to `to`, in order, when they form one line; refused otherwise. */
export function linearRange(graph: RevisionGraph, range: string): Revision[] {
  const parts = range.split(":");
  if (parts.length !== 2 || !parts[0] || !parts[1]) throw new RetortError("RETORT_USAGE", `squash takes a range <from>:<to>, got ${JSON.stringify(range)}`, { hint: "e.g. retort squash 3b1f:9c2e -m \"initial schema\"" });
  const from = resolveRevision(graph, parts[0]);
  const to = resolveRevision(graph, parts[1]);
  if (!from || !to) throw new RetortError("RETORT_USAGE", "a squash range names revisions, not base", { hint: "Name the first and the last revision to squash (both included)." });
  const chain: Revision[] = [to];
  let at = to;
  while (at.revision !== from.revision) {
    if (at.parents.length === 0) {
      throw refuse(`${from.revision} is not below ${to.revision} (following parents down from ${to.revision} reaches base at ${at.revision})`, "Give the older revision first: <from>:<to>, from a revision up to one of its descendants.", { from: from.revision, to: to.revision });
    }
    if (at.parents.length > 1) {
      throw refuse(`${at.revision} (${at.message}) is a merge, so the range ${from.revision}:${to.revision} is not one line`, "Squash a range of a single branch, with no merge in between (squash each side, or only above the merge).", { revision: at.revision });
    }
    at = graph.require(at.parents[0]!);
    chain.push(at);
  }
  chain.reverse();
  if (chain.length < 2) throw refuse(`the range ${range} holds one revision: nothing to squash`, "Name a range of two or more revisions.");
  const inRange = new Set(chain.map((r) => r.revision));
  for (const [i, revision] of chain.entries()) {
    if (revision.replaces?.length) throw refuse(`${revision.revision} is itself a squash`, "Squash a range that does not contain an earlier squash.", { revision: revision.revision });
    if (i === chain.length - 1) break;
    const outside = [...revision.children.filter((c) => c !== chain[i + 1]!.revision), ...revision.dependents.filter((d) => !inRange.has(d))];
    if (outside.length > 0) {
      throw refuse(`${revision.revision} (${revision.message}), inside the range, has ${outside.join(", ")} building on it outside the range: the range is not linear`, "Squash up to the branch point at most, or merge and squash after it.", { revision: revision.revision, outside });
    }
  }
  return chain;
}

/** Steps whose effect a schema difference cannot carry. */
function opaqueSteps(revision: Revision, ops: readonly Op[]): string[] {
  return ops.filter((op) => op.kind === "execute" || op.kind === "run" || op.kind === "bulkInsert").map((op) => `${revision.revision} (${revision.path}): ${OpHelpers.describe(op)}`);
}

/** Renames done inside the range, composed (a→b→c is a→c), as autogenerate's rename decisions. */
function renamesOf(recorded: readonly Op[][]): RenameHints {
  const tableOrigin = new Map<string, string>();
  const columnOrigin = new Map<string, Map<string, string>>();
  for (const ops of recorded) {
    for (const op of ops) {
      if (op.kind === "renameTable") {
        tableOrigin.set(op.to, tableOrigin.get(op.from) ?? op.from);
        tableOrigin.delete(op.from);
        const columns = columnOrigin.get(op.from);
        columnOrigin.delete(op.from);
        if (columns) columnOrigin.set(op.to, columns);
      } else if (op.kind === "renameColumn") {
        const columns = columnOrigin.get(op.table) ?? new Map<string, string>();
        columns.set(op.to, columns.get(op.from) ?? op.from);
        columns.delete(op.from);
        columnOrigin.set(op.table, columns);
      } else if (op.kind === "createTable") {
        tableOrigin.delete(op.table.name);
        columnOrigin.delete(op.table.name);
      }
    }
  }
  const tables: Record<string, string> = {};
  for (const [now, origin] of tableOrigin) if (now !== origin) tables[origin] = now;
  const columns: Record<string, string> = {};
  for (const [table, map] of columnOrigin) for (const [now, origin] of map) if (now !== origin) columns[`${table}.${origin}`] = now;
  return { tables, columns };
}

/** Two scratch databases of the dialect: in memory, or created on the --url Postgres server. */
async function scratchPair(dialect: Dialect, url: string | undefined): Promise<{ urls: [string, string]; describe: string; drop: () => Promise<void> }> {
  if (!url) {
    const memory = familyOf(dialect) === "postgres" ? "pglite:memory" : "sqlite::memory:";
    return { urls: [memory, memory], describe: familyOf(dialect) === "postgres" ? "two in-memory PGlite databases" : "two in-memory SQLite databases", drop: async () => {} };
  }
  const target = parseDatabaseUrl(url);
  if (target.dialect !== "postgres") {
    throw new RetortError("RETORT_USAGE", `squash --url proves on a Postgres server; ${redactUrl(url)} is ${target.dialect}`, { hint: "Leave out --url: the proof then runs on in-memory databases of the project's dialect." });
  }
  const suffix = `${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const names = [`retort_squash_${suffix}_old`, `retort_squash_${suffix}_new`];
  const admin = await connect(url, { schema: {} });
  const urls = names.map((name) => {
    const parsed = new URL(url);
    parsed.pathname = `/${name}`;
    return parsed.toString();
  }) as [string, string];
  try {
    for (const name of names) await admin.query(`CREATE DATABASE "${name}" TEMPLATE template0`);
  } catch (error) {
    await admin.close();
    throw error;
  }
  return {
    urls,
    describe: `two scratch databases on ${redactUrl(url)}`,
    drop: async () => {
      try {
        for (const name of names) await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await admin.close();
      }
    },
  };
}

/** Catalog lines the introspected schema does not cover, per backend (sorted; compared as text). */
async function extraCatalog(db: Database<any>): Promise<string[]> {
  const skip = RETORT_TABLES.map((t) => `'${t}'`).join(", ");
  const rows = async (sql: string) => (await db.query(sql)).rows.map((row) => Object.values(row).map(String).join(" "));
  if (familyOf(db.dialect) === "sqlite") {
    return (await rows(`SELECT type, name, tbl_name, replace(replace(sql, char(10), ' '), '  ', ' ') FROM sqlite_master WHERE type IN ('trigger', 'view') ORDER BY type, name`)).map((line) => `sqlite ${line}`);
  }
  const schema = "n.nspname = current_schema()";
  // NOT NULL is compared through the introspected columns: Postgres 18 also catalogues it as a
  // constraint whose generated name follows the table's name at creation (a rename keeps the old one).
  const lines = [
    ...(await rows(`SELECT 'constraint', c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE ${schema} AND c.conrelid <> 0 AND c.contype <> 'n' AND c.conrelid::regclass::text NOT IN (${skip}) ORDER BY 2, 3`)),
    ...(await rows(`SELECT 'index', indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename NOT IN (${skip}) ORDER BY 2`)),
    ...(await rows(`SELECT 'enum', t.typname, string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace WHERE ${schema} GROUP BY t.typname ORDER BY 2`)),
    ...(await rows(`SELECT 'sequence', sequencename, data_type::text, start_value, increment_by, min_value, max_value, cycle FROM pg_sequences WHERE schemaname = current_schema() ORDER BY 2`)),
    ...(await rows(`SELECT 'trigger', c.relname, t.tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ${schema} AND NOT t.tgisinternal ORDER BY 2, 3`)),
    ...(await rows(`SELECT 'view', viewname, definition FROM pg_views WHERE schemaname = current_schema() ORDER BY 2`)),
    ...(await rows(`SELECT 'grant', table_name, grantee, privilege_type FROM information_schema.role_table_grants WHERE table_schema = current_schema() AND table_name NOT IN (${skip}) ORDER BY 2, 3, 4`)),
  ];
  return lines;
}

/** Differences between two databases' catalogs: schema operations (autogenerate's words), then catalog lines only one side has. */
export async function catalogDifferences(old: Database<any>, fresh: Database<any>, dialect: Dialect): Promise<{ differences: string[]; objects: number }> {
  const introspect = await loadIntrospector(familyOf(dialect));
  const [a, b] = await Promise.all([old.withConnection((conn) => introspect(conn)), fresh.withConnection((conn) => introspect(conn))]);
  const compared = compareSchemas(a, b, { dialect });
  const differences = [...compared.ops.map((op) => `schema: ${OpHelpers.describe(op)}`), ...compared.decisions.map((d) => `schema: ${d.kind} ${d.from} -> ${d.to}`)];
  const [x, y] = [await extraCatalog(old), await extraCatalog(fresh)];
  const inY = new Set(y);
  const inX = new Set(x);
  for (const line of x) if (!inY.has(line)) differences.push(`only in the old history: ${line}`);
  for (const line of y) if (!inX.has(line)) differences.push(`only with the squash: ${line}`);
  return { differences, objects: a.tables.length + x.length };
}

export async function squash(range: string, spec: { message: string }, options: SquashOptions = {}): Promise<SquashResult> {
  const loaded = await configOf(options, "squash");
  const { graph, dir } = scripts(loaded);
  const chain = linearRange(graph, range);
  const first = chain[0]!;
  const last = chain.at(-1)!;
  const parents = [...first.parents];
  let dialect: Dialect = options.dialect ?? "postgres";
  if (!options.dialect) {
    try {
      dialect = parseDatabaseUrl(options.url ?? resolveDatabaseUrl({ ...options, config: loaded })).dialect;
    } catch (error) {
      if (!isRetortError(error)) throw error;
    }
  }

  await preloadMigrations(chain);
  const recorded: Op[][] = [];
  for (const revision of chain) recorded.push(await recordOperations(revision, "up"));
  const opaque = chain.flatMap((revision, i) => opaqueSteps(revision, recorded[i]!));
  if (opaque.length > 0) {
    throw refuse(`the range holds ${opaque.length} step(s) a schema difference cannot carry:\n${opaque.map((line) => `  ${line}`).join("\n")}`, "Squash the ranges before and after these revisions separately (raw SQL, op.run and bulkInsert stay as they are), or move them to a revision outside the range.", { steps: opaque });
  }

  const before = (await schemaAt(loaded, graph, parents, dialect)).schema;
  const after = (await schemaAt(loaded, graph, [last.revision], dialect)).schema;
  const compared = compareSchemas(before, after, { dialect, renames: renamesOf(recorded) });
  if (compared.decisions.length > 0) {
    throw refuse(`the squash needs decisions autogenerate cannot take from the range: ${compared.decisions.map((d) => `${d.kind} ${d.from} -> ${d.to}`).join(", ")}`, "Split the range around that change.", { decisions: compared.decisions });
  }
  const bodies = renderMigrationBodies(compared.ops, { from: before, dialect });
  const importFrom = loaded.config.migrations?.importFrom ?? "retort-db";
  const fileName = migrationFileName(new Date(last.createdAt), spec.message);
  const replaces = chain.map((r) => r.revision);
  const text = renderMigration({
    revision: last.revision,
    parents,
    message: spec.message,
    createdAt: last.createdAt,
    ...(chain.some((r) => r.branchLabels.length) ? { branchLabels: [...new Set(chain.flatMap((r) => r.branchLabels))] } : {}),
    ...(chain.some((r) => r.dependsOn.length) ? { dependsOn: [...new Set(chain.flatMap((r) => r.dependsOn))].filter((id) => !replaces.includes(id)) } : {}),
    replaces,
    upgradeBody: bodies.upgrade,
    downgradeBody: bodies.downgrade,
    moduleSpecifier: importFrom,
    ...(bodies.imports.length ? { imports: [`import { ${bodies.imports.join(", ")} } from ${JSON.stringify(importFrom)};`] } : {}),
  });

  const proof = await prove(loaded, graph, dir, chain, fileName, text, dialect, options.url);
  const result: SquashResult = {
    revision: last.revision,
    replaces,
    parents,
    operations: compared.ops.map((op) => OpHelpers.describe(op)),
    proof,
    written: false,
  };
  if (options.dryRun) return result;

  const archive = archiveDirectory(dir);
  makeDirectory(archive);
  for (const revision of chain) renameSync(revision.path, join(archive, basename(revision.path)));
  const path = join(dir, fileName);
  writeFileSync(path, text, { flag: "wx" });
  const cwd = options.cwd ?? process.cwd();
  return { ...result, path: relative(cwd, path), archive: relative(cwd, archive), written: true };
}

/**
 * Run the old history to the range's end and the new one (the revisions below the range, then the
 * squash, from a scratch folder beside the migrations folder so relative imports resolve the same)
 * on two scratch databases and compare their catalogs. Refuses with the differences.
 */
async function prove(loaded: LoadedConfig, graph: RevisionGraph, dir: string, chain: Revision[], fileName: string, text: string, dialect: Dialect, url: string | undefined): Promise<{ databases: string; objects: number }> {
  const last = chain.at(-1)!;
  const scratchDir = mkdtempSync(join(dirname(dir), ".retort-squash-"));
  try {
    for (const revision of upgradePlan(graph, [], [...chain[0]!.parents])) copyFileSync(revision.path, join(scratchDir, basename(revision.path)));
    writeFileSync(join(scratchDir, fileName), text);
    const scratchConfig: LoadedConfig = { ...loaded, config: { ...loaded.config, migrations: { ...loaded.config.migrations, directory: relative(loaded.root, scratchDir), linear: false } } };
    const pair = await scratchPair(dialect, url && parseDatabaseUrl(url).dialect === "postgres" ? url : undefined);
    try {
      const [old, fresh] = [await connect(pair.urls[0], { schema: {} }), await connect(pair.urls[1], { schema: {} })];
      try {
        await upgrade(last.revision, { config: { ...loaded, config: { ...loaded.config, migrations: { ...loaded.config.migrations, linear: false } } }, database: old });
        await upgrade(last.revision, { config: scratchConfig, database: fresh });
        const { differences, objects } = await catalogDifferences(old, fresh, dialect);
        if (differences.length > 0) {
          throw refuse(`the squash would not give the same database as ${chain[0]!.revision}..${last.revision} (proved on ${pair.describe}):\n${differences.map((line) => `  ${line}`).join("\n")}`, "Nothing was written. Split the range around the revisions that make the difference, or report it if the range is plain operations.", { differences });
        }
        return { databases: pair.describe, objects };
      } finally {
        await old.close();
        await fresh.close();
      }
    } finally {
      await pair.drop();
    }
  } finally {
    rmSync(scratchDir, { recursive: true, force: true });
  }
}
