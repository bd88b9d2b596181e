/**
 * Test databases on a Postgres server: one template per fingerprint, cloned per call.
 *
 * - The template `retort_tpl_<fingerprint>` is built once: under an advisory lock keyed by the
 *   fingerprint (so workers asking at once build it once between them), into a `_build` database
 *   renamed when complete (a crashed build leaves no half-made template), then marked a template
 *   that accepts no connections (a clone needs it idle).
 * - Each call clones it (`CREATE DATABASE … TEMPLATE`), named `<stem>_r<host>_<pid>_<time>_<n>_test`.
 * - The first call of a process removes leftovers of dead processes; a new template removes the
 *   project's older ones, and any template or build unused for a week.
 * - Statements go through the server's maintenance database (`postgres`), on one connection pool
 *   per server kept while in use and closed when idle, so a test process can exit.
 */
import { createHash } from "node:crypto";
import type { Driver, HeldConnection } from "../dialects/driver.js";
import { openDriver } from "../dialects/open.js";
import { quoteIdent } from "../dialects/sql-text.js";
import { parseDatabaseUrl, redactUrl } from "../env/url.js";
import { EMPTY_SCHEMA } from "../schema/snapshot.js";
import { LEFTOVER_MAX_AGE_MS, isLeftover, ownedName, parseOwnedName } from "./owner.js";

/** A template nobody built from for this long (another project's, say) is removed. */
const TEMPLATE_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000;
const TEMPLATE_PREFIX = "retort_tpl_";
/** How long the maintenance pool stays open after its last use. */
const ADMIN_IDLE_MS = 250;

/** The comment on a template: which project it is for and when it was built. */
interface TemplateNote {
  retort: "template";
  project: string;
  created: number;
}

/** The same server URL on another database. */
export function databaseUrl(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

export function templateName(fingerprint: string): string {
  return `${TEMPLATE_PREFIX}${fingerprint.slice(0, 16)}`;
}

/** The advisory lock key of a template: its fingerprint's first 64 bits. */
function lockKey(template: string): string {
  const hex = template.slice(TEMPLATE_PREFIX.length, TEMPLATE_PREFIX.length + 16);
  return BigInt.asIntN(64, BigInt(`0x${hex}`)).toString();
}

interface Admin {
  driver: Driver;
  users: number;
  timer?: NodeJS.Timeout;
}

const admins = new Map<string, Promise<Admin>>();

/** Run fn on the server's maintenance database, through a pool shared by the process and closed when idle. */
async function withAdmin<T>(serverUrl: string, fn: (driver: Driver) => Promise<T>): Promise<T> {
  const url = databaseUrl(serverUrl, "postgres");
  let pending = admins.get(url);
  if (!pending) {
    pending = openDriver(parseDatabaseUrl(url), EMPTY_SCHEMA, { poolSize: 4 }).then((driver) => ({ driver, users: 0 }));
    admins.set(url, pending);
    pending.catch(() => admins.delete(url));
  }
  const admin = await pending;
  clearTimeout(admin.timer);
  admin.users++;
  try {
    return await fn(admin.driver);
  } finally {
    if (--admin.users === 0) {
      admin.timer = setTimeout(() => {
        if (admin.users > 0) return;
        admins.delete(url);
        void admin.driver.close();
      }, ADMIN_IDLE_MS);
    }
  }
}

async function withHeld<T>(driver: Driver, fn: (conn: HeldConnection) => Promise<T>): Promise<T> {
  const conn = await driver.acquire();
  try {
    return await fn(conn);
  } finally {
    conn.release();
  }
}

/** The project a template belongs to: the config's folder and the stem of the test URL. */
export function projectKey(root: string, stem: string): string {
  return createHash("sha256").update(`${root}\n${stem}`).digest("hex").slice(0, 16);
}

/** Templates known to exist, per server and name: a clone needs no look-up once one worked. */
const readyTemplates = new Set<string>();
/** Servers and stems whose leftovers this process has removed already. */
const sweptStems = new Set<string>();

export interface CloneRequest {
  /** The test URL: the server, and the stem of the names (its database need not exist). */
  serverUrl: string;
  stem: string;
  fingerprint: string;
  project: string;
  /** Bring the (empty) database at this URL to the template's content. */
  build: (url: string) => Promise<void>;
}

/** A new database cloned from the template (built first when missing); returns its name. */
export async function clonePostgres(request: CloneRequest): Promise<string> {
  return withAdmin(request.serverUrl, async (admin) => {
    const server = redactUrl(databaseUrl(request.serverUrl, "postgres"));
    const sweepKey = `${server}\n${request.stem}`;
    if (!sweptStems.has(sweepKey)) {
      sweptStems.add(sweepKey);
      await removeLeftovers(admin, request.stem);
    }
    const template = templateName(request.fingerprint);
    const readyKey = `${server}\n${template}`;
    if (!readyTemplates.has(readyKey)) {
      await ensureTemplate(admin, request, template);
      readyTemplates.add(readyKey);
    }
    const name = ownedName(request.stem);
    const create = `CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(template)}${await copyStrategy(admin, server)}`;
    try {
      await admin.query(create);
    } catch (error) {
      if (!isMissingDatabase(error)) throw error;
      // Removed by another run since we looked (its migrations changed): build it again.
      readyTemplates.delete(readyKey);
      await ensureTemplate(admin, request, template);
      readyTemplates.add(readyKey);
      await admin.query(create);
    }
    return name;
  });
}

const strategies = new Map<string, Promise<string>>();

/**
 * How CREATE DATABASE copies: on a server with fsync off (the throwaway cluster) a file copy,
 * whose checkpoints then cost nothing, is faster than Postgres 15's default of writing every
 * block to the WAL; elsewhere the default, which spares a shared server two checkpoints a clone.
 */
function copyStrategy(admin: Driver, server: string): Promise<string> {
  let strategy = strategies.get(server);
  if (!strategy) {
    strategy = admin
      .query<{ version: number; fsync: string }>("SELECT current_setting('server_version_num')::int AS version, current_setting('fsync') AS fsync")
      .then(({ rows }) => (rows[0]!.version >= 150000 && rows[0]!.fsync === "off" ? " STRATEGY FILE_COPY" : ""));
    strategies.set(server, strategy);
    strategy.catch(() => strategies.delete(server));
  }
  return strategy;
}

/** Build the template unless it is there; one builder at a time per fingerprint on the server. */
export async function ensureTemplate(admin: Driver, request: CloneRequest, template = templateName(request.fingerprint)): Promise<"built" | "found"> {
  if (await isTemplate(admin, template)) return "found";
  return withHeld(admin, async (conn) => {
    await conn.query("SELECT pg_advisory_lock($1::bigint)", [lockKey(template)]);
    try {
      if (await isTemplate(conn, template)) return "found";
      const build = `${template}_build`;
      // We hold the lock: a build database still there is a crashed builder's.
      await dropDatabase(conn, build);
      await conn.query(`CREATE DATABASE ${quoteIdent(build)}`);
      try {
        await request.build(databaseUrl(request.serverUrl, build));
      } catch (error) {
        await dropDatabase(conn, build).catch(() => {});
        throw error;
      }
      const note: TemplateNote = { retort: "template", project: request.project, created: Date.now() };
      await conn.query(`ALTER DATABASE ${quoteIdent(build)} RENAME TO ${quoteIdent(template)}`);
      await conn.query(`ALTER DATABASE ${quoteIdent(template)} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false`);
      await conn.query(`COMMENT ON DATABASE ${quoteIdent(template)} IS ${literal(JSON.stringify(note))}`);
      await removeOldTemplates(conn, request.project, template);
      return "built";
    } finally {
      await conn.query("SELECT pg_advisory_unlock($1::bigint)", [lockKey(template)]);
    }
  });
}

const literal = (text: string) => `'${text.replaceAll("'", "''")}'`;

async function isTemplate(conn: Pick<Driver, "query">, name: string): Promise<boolean> {
  const { rows } = await conn.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_database WHERE datname = $1 AND datistemplate", [name]);
  return rows[0]!.n > 0;
}

async function dropDatabase(conn: Pick<Driver, "query">, name: string, template = false): Promise<void> {
  if (template) await conn.query(`ALTER DATABASE ${quoteIdent(name)} WITH IS_TEMPLATE false`);
  await conn.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
}

/**
 * After a new template: the project's other templates are out of date; any template or build
 * older than a week is unused. Each goes only when its own lock is free (nobody is building it).
 */
async function removeOldTemplates(conn: HeldConnection, project: string, current: string): Promise<string[]> {
  const { rows } = await conn.query<{ name: string; note: string | null }>(
    "SELECT datname AS name, shobj_description(oid, 'pg_database') AS note FROM pg_database WHERE starts_with(datname, $1) AND datname <> $2",
    [TEMPLATE_PREFIX, current],
  );
  const removed: string[] = [];
  for (const { name, note } of rows) {
    const parsed = parseNote(note);
    const building = name.endsWith("_build");
    const stale = parsed === undefined ? building : parsed.project === project || Date.now() - parsed.created > TEMPLATE_MAX_AGE_MS;
    if (!stale) continue;
    const key = lockKey(name);
    const { rows: locked } = await conn.query<{ ok: boolean }>("SELECT pg_try_advisory_lock($1::bigint) AS ok", [key]);
    if (!locked[0]!.ok) continue;
    try {
      await dropDatabase(conn, name, !building);
      removed.push(name);
    } finally {
      await conn.query("SELECT pg_advisory_unlock($1::bigint)", [key]);
    }
  }
  return removed;
}

function parseNote(note: string | null): TemplateNote | undefined {
  try {
    const parsed = JSON.parse(note ?? "") as Partial<TemplateNote>;
    return parsed.retort === "template" && typeof parsed.project === "string" && typeof parsed.created === "number" ? (parsed as TemplateNote) : undefined;
  } catch {
    return undefined;
  }
}

/** Test databases of `stem` that dead processes left (or any older than a day), except kept ones younger than that. */
export async function removeLeftovers(admin: Pick<Driver, "query">, stem: string): Promise<string[]> {
  const { rows } = await admin.query<{ name: string; note: string | null }>(
    "SELECT datname AS name, shobj_description(oid, 'pg_database') AS note FROM pg_database WHERE starts_with(datname, $1) AND NOT datistemplate",
    [`${stem}_r`],
  );
  const removed: string[] = [];
  for (const { name, note } of rows) {
    const owned = parseOwnedName(name);
    if (!owned || owned.stem !== stem) continue;
    const leftover = note === KEPT_NOTE ? Date.now() - owned.owner.created > LEFTOVER_MAX_AGE_MS : isLeftover(owned.owner);
    if (!leftover) continue;
    await dropDatabase(admin, name);
    removed.push(name);
  }
  return removed;
}

/** The comment on a database kept after a failing test: removed by age only. */
export const KEPT_NOTE = "retort: kept after a failing test";

export async function dropClone(serverUrl: string, name: string): Promise<void> {
  await withAdmin(serverUrl, (admin) => dropDatabase(admin, name));
}

export async function keepClone(serverUrl: string, name: string): Promise<void> {
  await withAdmin(serverUrl, (admin) => admin.query(`COMMENT ON DATABASE ${quoteIdent(name)} IS ${literal(KEPT_NOTE)}`));
}

/** Remove the leftovers of `stem` on the server now (what the vitest globalSetup does first). */
export async function sweepPostgres(serverUrl: string, stem: string): Promise<string[]> {
  return withAdmin(serverUrl, (admin) => removeLeftovers(admin, stem));
}

/** Build the template now when missing (globalSetup), with the same lock as clonePostgres. */
export async function preparePostgresTemplate(request: CloneRequest): Promise<"built" | "found"> {
  return withAdmin(request.serverUrl, (admin) => ensureTemplate(admin, request));
}

function isMissingDatabase(error: unknown): boolean {
  for (let current = error as { code?: unknown; cause?: unknown } | undefined; current; current = current.cause as typeof current) {
    if (current.code === "3D000") return true;
  }
  return false;
}
