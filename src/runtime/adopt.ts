/**
 * Where another migration tool left a database, read from its own version table (and, when its
 * migrations folder is given, checked against its files), so `retort adopt` takes over only a
 * database that tool considers at its head.
 *
 * - Alembic: `alembic_version`, one row per head; the files' `revision` / `down_revision`.
 * - Prisma: `_prisma_migrations`, one row per attempt (finished_at, rolled_back_at); the folder
 *   has one subfolder with a migration.sql per migration.
 * - Drizzle: `drizzle.__drizzle_migrations` on Postgres (`__drizzle_migrations` in the main
 *   schema on SQLite and older setups), hash and created_at (the journal's `when`);
 *   meta/_journal.json lists the migrations.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve as resolvePath } from "node:path";
import type { Connection } from "../dialects/driver.js";
import { RetortError } from "../errors.js";
import { familyOf, type SqlFamily } from "../schema/snapshot.js";
import { configOf, withDatabase, type CommandOptions } from "./api.js";
import { baseline, tableExists, type BaselineResult } from "./baseline.js";

export type OtherTool = "alembic" | "prisma" | "drizzle";
export const OTHER_TOOLS: readonly OtherTool[] = ["alembic", "prisma", "drizzle"];

export interface OtherToolState {
  tool: OtherTool;
  /** The tool's version table, as it exists in the database. */
  table: string;
  /** The revision / migration the database is at, in the tool's own terms. */
  at: string;
  /** Whether the tool's migrations folder was read and the database is at its head. */
  checkedAgainstFiles: boolean;
}

function refuse(tool: OtherTool, message: string, hint: string, details: Record<string, unknown> = {}): RetortError {
  return new RetortError("RETORT_ADOPT_REFUSED", `adopt --from ${tool}: ${message}`, { hint, details: { tool, ...details } });
}

function readDir(tool: OtherTool, dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw refuse(tool, `the migrations folder ${dir} does not exist`, "Give --migrations-dir the folder of the old tool's migrations, or leave it out to trust the database alone.");
  }
  return readdirSync(dir);
}

// -- Alembic --------------------------------------------------------------------------------

/** revision → parents, from Alembic's Python revision files (the module-level assignments). */
function alembicFiles(dir: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const name of readDir("alembic", dir).filter((file) => file.endsWith(".py"))) {
    const text = readFileSync(join(dir, name), "utf8");
    const revision = /^revision(?:\s*:\s*[\w[\], |]+)?\s*=\s*['"]([^'"]+)['"]/m.exec(text)?.[1];
    if (!revision) continue;
    const down = /^down_revision(?:\s*:\s*[\w[\], |.]+)?\s*=\s*(.+)$/m.exec(text)?.[1] ?? "None";
    graph.set(revision, [...down.matchAll(/['"]([^'"]+)['"]/g)].map((m) => m[1]!));
  }
  return graph;
}

async function alembic(conn: Connection, migrationsDir?: string): Promise<OtherToolState> {
  const { rows } = await conn.query<{ version_num: string }>("SELECT version_num FROM alembic_version");
  if (rows.length === 0) throw refuse("alembic", "alembic_version is empty: Alembic has this database at base (nothing applied)", "Run `alembic upgrade head` first, or baseline without --from (`retort baseline`).");
  if (rows.length > 1) {
    const heads = rows.map((row) => row.version_num).sort();
    throw refuse("alembic", `alembic_version records ${rows.length} heads (${heads.join(", ")})`, "Merge them in Alembic (`alembic merge heads`, then `alembic upgrade head`) so the database is at one revision, then adopt.", { heads });
  }
  const at = rows[0]!.version_num;
  if (!migrationsDir) return { tool: "alembic", table: "alembic_version", at, checkedAgainstFiles: false };
  const graph = alembicFiles(migrationsDir);
  if (!graph.has(at)) throw refuse("alembic", `the database is at ${at}, which no file in ${migrationsDir} defines`, "Point --migrations-dir at the Alembic versions folder this database was migrated with.", { at });
  const parents = new Set([...graph.values()].flat());
  const heads = [...graph.keys()].filter((revision) => !parents.has(revision)).sort();
  if (heads.length !== 1 || heads[0] !== at) {
    throw refuse("alembic", `the database is at ${at} but the Alembic head in ${migrationsDir} is ${heads.join(", ")}`, "Run `alembic upgrade head` first, so the baseline captures the schema your last Alembic migration makes.", { at, heads });
  }
  return { tool: "alembic", table: "alembic_version", at, checkedAgainstFiles: true };
}

// -- Prisma ---------------------------------------------------------------------------------

interface PrismaRow {
  migration_name: string;
  finished_at: unknown;
  rolled_back_at: unknown;
}

async function prisma(conn: Connection, migrationsDir?: string): Promise<OtherToolState> {
  const { rows } = await conn.query<PrismaRow>("SELECT migration_name, finished_at, rolled_back_at FROM _prisma_migrations");
  const failed = rows.filter((row) => row.finished_at === null && row.rolled_back_at === null).map((row) => row.migration_name).sort();
  if (failed.length > 0) {
    throw refuse("prisma", `migration ${failed.join(", ")} failed or never finished (finished_at and rolled_back_at are empty)`, "Resolve it with Prisma first (`prisma migrate resolve --applied` or `--rolled-back`, then `prisma migrate deploy`).", { failed });
  }
  const applied = [...new Set(rows.filter((row) => row.finished_at !== null && row.rolled_back_at === null).map((row) => row.migration_name))].sort();
  if (applied.length === 0) throw refuse("prisma", "_prisma_migrations records no applied migration", "Run `prisma migrate deploy` first, or baseline without --from (`retort baseline`).");
  // Prisma's folder names start with a timestamp: the last in order is the latest.
  const at = applied[applied.length - 1]!;
  if (!migrationsDir) return { tool: "prisma", table: "_prisma_migrations", at, checkedAgainstFiles: false };
  const folders = readDir("prisma", migrationsDir).filter((name) => existsSync(join(migrationsDir, name, "migration.sql"))).sort();
  const pending = folders.filter((name) => !applied.includes(name));
  if (pending.length > 0) {
    throw refuse("prisma", `${pending.length} migration(s) in ${migrationsDir} are not applied: ${pending.join(", ")}`, "Run `prisma migrate deploy` first, so the baseline captures the schema of your last Prisma migration.", { pending });
  }
  return { tool: "prisma", table: "_prisma_migrations", at, checkedAgainstFiles: true };
}

// -- Drizzle --------------------------------------------------------------------------------

async function drizzle(conn: Connection, family: SqlFamily, migrationsDir?: string): Promise<OtherToolState> {
  const table = family === "postgres" && (await tableExists(conn, family, "__drizzle_migrations", "drizzle")) ? "drizzle.__drizzle_migrations" : "__drizzle_migrations";
  const { rows } = await conn.query<{ hash: string; created_at: unknown }>(`SELECT hash, created_at FROM ${table}`);
  if (rows.length === 0) throw refuse("drizzle", `${table} records no applied migration`, "Run Drizzle's migrate first, or baseline without --from (`retort baseline`).");
  const latest = rows.reduce((a, b) => (Number(b.created_at) > Number(a.created_at) ? b : a));
  const when = Number(latest.created_at);
  let at = `${latest.hash.slice(0, 12)} (created_at ${when})`;
  if (!migrationsDir) return { tool: "drizzle", table, at, checkedAgainstFiles: false };
  const journalFile = join(migrationsDir, "meta", "_journal.json");
  if (!existsSync(journalFile)) throw refuse("drizzle", `${journalFile} does not exist`, "Give --migrations-dir Drizzle's out folder (the one holding meta/_journal.json).");
  const journal = JSON.parse(readFileSync(journalFile, "utf8")) as { entries?: Array<{ when: number; tag: string }> };
  const entries = journal.entries ?? [];
  // Drizzle applies each journal entry whose `when` is later than the last recorded created_at.
  const pending = entries.filter((entry) => entry.when > when).map((entry) => entry.tag);
  if (pending.length > 0) {
    throw refuse("drizzle", `${pending.length} migration(s) in ${migrationsDir} are not applied: ${pending.join(", ")}`, "Run Drizzle's migrate first, so the baseline captures the schema of your last Drizzle migration.", { pending });
  }
  const tag = entries.find((entry) => entry.when === when)?.tag;
  if (tag) at = tag;
  return { tool: "drizzle", table, at, checkedAgainstFiles: true };
}

/** Read `tool`'s state from the database; RETORT_ADOPT_REFUSED unless it is at that tool's head. */
export async function readOtherTool(conn: Connection, family: SqlFamily, tool: OtherTool, migrationsDir?: string): Promise<OtherToolState> {
  if (!OTHER_TOOLS.includes(tool)) {
    throw new RetortError("RETORT_ADOPT_REFUSED", `adopt --from ${String(tool)}: unknown tool`, { hint: `One of: ${OTHER_TOOLS.join(", ")}.` });
  }
  const table = { alembic: "alembic_version", prisma: "_prisma_migrations", drizzle: "__drizzle_migrations" }[tool];
  const present = (await tableExists(conn, family, table)) || (tool === "drizzle" && family === "postgres" && (await tableExists(conn, family, table, "drizzle")));
  if (!present) {
    throw refuse(tool, `the database has no ${table} table: it was not migrated with ${tool} (or with another schema/URL)`, "Check --url; for a database no tool migrated, use `retort baseline`.");
  }
  if (tool === "alembic") return alembic(conn, migrationsDir);
  if (tool === "prisma") return prisma(conn, migrationsDir);
  return drizzle(conn, family, migrationsDir);
}

export interface AdoptResult extends BaselineResult {
  from: OtherToolState;
}

/**
 * `retort adopt --from <tool>`: check the database is at the other tool's head, then baseline it
 * and stamp it. The other tool's table stays where it is (so the team can go back); Retort
 * leaves it out of every diff from then on.
 */
export async function adopt(spec: { from: OtherTool; migrationsDir?: string; message?: string; revId?: string }, options: CommandOptions = {}): Promise<AdoptResult> {
  const loaded = await configOf(options);
  const migrationsDir = spec.migrationsDir && resolvePath(options.cwd ?? process.cwd(), spec.migrationsDir);
  const state = await withDatabase(loaded, options, (conn, dialect) => readOtherTool(conn, familyOf(dialect), spec.from, migrationsDir));
  const result = await baseline({ message: spec.message ?? `baseline: adopted from ${spec.from} at ${state.at}`, ...(spec.revId ? { revId: spec.revId } : {}) }, { ...options, config: loaded });
  return { ...result, from: state };
}
