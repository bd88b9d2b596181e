/**
 * `retort doctor`: what is wrong with this project's database and migrations, and the command that
 * fixes each thing. Read-only: it takes no lock and creates nothing. Every check that can run
 * does; a failure of one (no config, no connection) is itself a finding.
 */
import { checkEnvExample } from "../env/env-check.js";
import { resolveDatabaseUrl, type LoadedConfig } from "../env/config.js";
import { parseDatabaseUrl, redactUrl } from "../env/url.js";
import type { Connection } from "../dialects/driver.js";
import { isRetortError } from "../errors.js";
import { familyOf, type Dialect } from "../schema/snapshot.js";
import { upgradePlan, type RevisionGraph } from "../script/index.js";
import { configOf, scripts, withDatabase, type CommandOptions } from "./api.js";
import { ADVISORY_KEY, fileLockHolder } from "./lock.js";
import { ARCHIVE_FOLDER, replacedBy } from "./squash-archive.js";
import { readVersionState } from "./status.js";

export type Severity = "error" | "warning" | "info";

export interface DoctorFinding {
  /** Which check: config, env, migrations, connection, version-table, pending, modified, lock, invalid-index, long-transaction, extensions. */
  check: string;
  severity: Severity;
  message: string;
  /** A command or statement that fixes it. */
  fix?: string;
}

export interface DoctorOptions extends CommandOptions {
  /** A transaction open longer than this blocks DDL in practice (default 300 s). */
  longTransactionSeconds?: number;
}

export interface DoctorReport {
  url?: string;
  server?: string;
  findings: DoctorFinding[];
  /** No finding of severity "error". */
  ok: boolean;
}

function failure(check: string, error: unknown): DoctorFinding {
  if (!isRetortError(error)) throw error;
  return { check, severity: "error", message: `${error.code}: ${error.message}`, ...(error.hint ? { fix: error.hint } : {}) };
}

export async function doctor(options: DoctorOptions = {}): Promise<DoctorReport> {
  const findings: DoctorFinding[] = [];
  let loaded: LoadedConfig;
  try {
    loaded = await configOf(options);
  } catch (error) {
    findings.push(failure("config", error));
    return { findings, ok: false };
  }
  if (loaded.file) {
    for (const problem of checkEnvExample(loaded).findings) {
      findings.push({ check: "env", severity: "warning", message: problem.message, fix: "retort env check" });
    }
  }
  let graph: RevisionGraph | undefined;
  try {
    graph = scripts(loaded).graph;
  } catch (error) {
    findings.push(failure("migrations", error));
  }
  let url: string | undefined;
  let server: string | undefined;
  try {
    url = options.database ? undefined : resolveDatabaseUrl({ ...options, config: loaded });
    server = await withDatabase(loaded, options, async (conn, dialect) => {
      const version = await serverVersion(conn, dialect);
      findings.push(...(await databaseFindings(conn, dialect, graph, options)));
      return version;
    });
  } catch (error) {
    findings.push(failure("connection", error));
  }
  if (url !== undefined) {
    const holder = await fileLockHolder(parseDatabaseUrl(url));
    if (holder) findings.push({ check: "lock", severity: "warning", message: `a migration run holds the lock: ${holder}`, fix: "Let it finish; if that process is gone, the lock went with it." });
  }
  return { ...(url !== undefined ? { url: redactUrl(url) } : {}), ...(server ? { server } : {}), findings, ok: !findings.some((f) => f.severity === "error") };
}

async function serverVersion(conn: Connection, dialect: Dialect): Promise<string> {
  if (familyOf(dialect) === "sqlite") return `SQLite ${String((await conn.query<{ v: string }>("SELECT sqlite_version() AS v")).rows[0]!.v)}`;
  const { rows } = await conn.query<{ v: string }>("SELECT current_setting('server_version') AS v");
  return `${dialect === "pglite" ? "PGlite (Postgres" : "Postgres"} ${rows[0]!.v}${dialect === "pglite" ? ")" : ""}`;
}

async function databaseFindings(conn: Connection, dialect: Dialect, graph: RevisionGraph | undefined, options: DoctorOptions): Promise<DoctorFinding[]> {
  const findings: DoctorFinding[] = [];
  const family = familyOf(dialect);
  const state = await readVersionState(conn, family);
  if (graph) {
    const squashes = replacedBy(graph);
    for (const id of state.heads.filter((head) => squashes.has(head))) {
      findings.push({ check: "version-table", severity: "warning", message: `the database is at ${id}, inside the range squashed into ${squashes.get(id)!.revision}`, fix: `retort upgrade (runs the rest of the range from ${ARCHIVE_FOLDER}/, then the revisions after it)` });
    }
    const unknown = state.heads.filter((id) => !graph.has(id) && !squashes.has(id));
    for (const id of unknown) {
      findings.push({ check: "version-table", severity: "error", message: `the database is at ${id}, which no migration file here defines`, fix: "Restore its file, or downgrade it from the branch that has it; `retort upgrade` explains the choices." });
    }
    if (state.heads.length > 1) findings.push({ check: "version-table", severity: "info", message: `the database has ${state.heads.length} heads: ${state.heads.join(", ")}`, fix: "retort merge -m \"merge\" heads, then retort upgrade" });
    if (unknown.length === 0 && !state.heads.some((id) => squashes.has(id))) {
      const pending = upgradePlan(graph, state.heads, "heads");
      if (pending.length > 0) {
        findings.push({ check: "pending", severity: "warning", message: `${pending.length} migration(s) not applied: ${pending.slice(0, 5).map((r) => r.revision).join(", ")}${pending.length > 5 ? ", …" : ""}`, fix: "retort upgrade" });
      }
    }
    findings.push(...(await fileFindings(conn, graph, state.heads)));
  }
  for (const run of state.unfinished) {
    findings.push({
      check: "version-table",
      severity: "error",
      message: `the ${run.direction === "up" ? "upgrade" : "downgrade"} of ${run.revision} started ${run.startedAt} stopped after ${run.stepsDone} step(s) (${run.outcome === "running" ? "running now, or interrupted" : "failed"})`,
      fix: `retort ${run.direction === "up" ? "upgrade" : "downgrade"} (resumes after the steps done); retort current shows the state`,
    });
  }
  if (family === "postgres") findings.push(...(await postgresFindings(conn, options)));
  return findings;
}

/** Applied revisions whose file changed since it ran, or is gone (what `retort verify` lists). */
async function fileFindings(conn: Connection, graph: RevisionGraph, heads: readonly string[]): Promise<DoctorFinding[]> {
  const { appliedFileProblems, describeProblem } = await import("./verify.js");
  return (await appliedFileProblems(conn, graph, heads)).map((problem) => ({
    check: "modified",
    severity: "error",
    message: describeProblem(problem),
    fix:
      problem.problem === "missing"
        ? "Restore the file from version control (git log --all -- <migrations folder>)."
        : `Restore the file as applied and put the change in a new revision (retort revision -m …), or accept the edit: retort rehash ${problem.revision} --reason "…"`,
  }));
}

async function postgresFindings(conn: Connection, options: DoctorOptions): Promise<DoctorFinding[]> {
  const findings: DoctorFinding[] = [];
  const lock = await conn.query<{ pid: number; application_name: string | null; since: string | null; state: string | null }>(
    `SELECT l.pid, a.application_name, a.backend_start::text AS since, a.state FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
     WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
       AND ((l.classid::bigint << 32) | l.objid::bigint) = ${ADVISORY_KEY}`,
  );
  for (const row of lock.rows) {
    findings.push({
      check: "lock",
      severity: "warning",
      message: `the migration lock is held by server backend pid ${row.pid}${row.application_name ? ` (${row.application_name})` : ""}, connected since ${row.since ?? "?"}, ${row.state ?? "state unknown"}`,
      fix: `Let that run finish. If it is stuck: SELECT pg_terminate_backend(${row.pid}); (its session ends and the lock with it)`,
    });
  }
  const invalid = await conn.query<{ name: string; table: string; definition: string }>(
    `SELECT c.relname AS name, t.relname AS table, pg_get_indexdef(i.indexrelid) AS definition FROM pg_index i
       JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE NOT i.indisvalid AND n.nspname = ANY (current_schemas(false)) ORDER BY 1`,
  );
  for (const row of invalid.rows) {
    findings.push({
      check: "invalid-index",
      severity: "error",
      message: `index ${row.name} on ${row.table} is INVALID (a CREATE INDEX CONCURRENTLY that failed or was killed); it slows writes and serves no query`,
      fix: `DROP INDEX CONCURRENTLY "${row.name.replace(/"/g, '""')}"; then retort upgrade (it builds it again), or rebuild by hand: ${row.definition.replace(/^CREATE (UNIQUE )?INDEX /, "CREATE $1INDEX CONCURRENTLY ")};`,
    });
  }
  const seconds = options.longTransactionSeconds ?? 300;
  const long = await conn.query<{ pid: number; application_name: string | null; age: number; state: string; query: string }>(
    `SELECT pid, application_name, extract(epoch FROM now() - xact_start)::int AS age, state, left(query, 120) AS query FROM pg_stat_activity
     WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start < now() - make_interval(secs => $1) ORDER BY xact_start`,
    [seconds],
  );
  for (const row of long.rows) {
    findings.push({
      check: "long-transaction",
      severity: "warning",
      message: `pid ${row.pid}${row.application_name ? ` (${row.application_name})` : ""} has had a transaction open for ${row.age} s (${row.state}: ${row.query}); DDL on the tables it touched waits for it, and everything else queues behind that DDL`,
      fix: `SELECT pg_cancel_backend(${row.pid}); or pg_terminate_backend(${row.pid}) if it is idle in transaction`,
    });
  }
  const extensions = await conn.query<{ name: string; version: string }>("SELECT extname AS name, extversion AS version FROM pg_extension WHERE extname <> 'plpgsql' ORDER BY 1");
  if (extensions.rows.length > 0) {
    findings.push({ check: "extensions", severity: "info", message: `extensions: ${extensions.rows.map((e) => `${e.name} ${e.version}`).join(", ")} (a new environment needs them installed)` });
  }
  return findings;
}
