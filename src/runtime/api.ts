/**
 * The migration commands as library functions: `upgrade(config, "head")` and friends. The CLI is
 * a thin layer over these. Each returns data (for --json) and never prints.
 */
import { hash } from "node:crypto";
import { writeFileSync, existsSync, readFileSync } from "node:fs";
import { join, relative, resolve as resolvePath } from "node:path";
import type { Database } from "../db/database.js";
import type { ConnectionTarget } from "../env/url.js";
import { describeTarget, parseDatabaseUrl, redactUrl } from "../env/url.js";
import type { Connection, Driver, HeldConnection } from "../dialects/driver.js";
import { openDriver } from "../dialects/open.js";
import { fileDatabaseContents, fileDatabasePath } from "../dialects/file-database.js";
import { CONFIG_NAMES, cacheDirectory, loadConfig, migrationsDirectory, productionUrls, requireConfigFile, resolveDatabaseUrl, type LoadedConfig } from "../env/config.js";
import { branchesMentioning } from "../env/branch.js";
import { environmentName } from "../env/environment.js";
import { RetortError } from "../errors.js";
import { EMPTY_SCHEMA, familyOf, type Dialect } from "../schema/snapshot.js";
import {
  RevisionGraph,
  appliedRevisions,
  assertLinear,
  applyStep,
  checkBranchLabel,
  checkRevisionId,
  checkMessage,
  checksumListDigest,
  downgradePlan,
  openFolderGraph,
  type FolderGraph,
  type GraphSummary,
  migrationFileName,
  newRevisionId,
  renderMigration,
  resolveRange,
  resolveRevision,
  resolveTarget,
  stampHeads,
  upgradePlan,
  quoteTarget,
  type Revision,
} from "../script/index.js";
import { acquireMigrationLock, migrationLockHolder } from "./lock.js";
import { ARCHIVE_FOLDER, replacedBy, squashAccepts, squashBridge } from "./squash-archive.js";
import { readAppliedChecksumDigest, readAppliedChecksumList, readVersionState, type UnfinishedRevision } from "./status.js";
import { MigrationExecutor, type ProgressEvent } from "./executor.js";
import { openDigestMemo, type DigestMemo } from "./digest-memo.js";
import type { PlannedRevision } from "./plan.js";
import { makeDirectory } from "../env/make-directory.js";
import { refuseOverUnfinished, settleUnfinished } from "./unfinished.js";

export interface CommandOptions {
  /** A loaded config, or where to find one (default: retort.config.* in cwd). */
  config?: LoadedConfig | string;
  cwd?: string;
  url?: string;
  env?: string;
  /**
   * Migrate through this open database (its connection, not a new one): what an app does at
   * startup, and the only way to reach an in-memory database. It is not closed.
   */
  database?: Database<any>;
  onProgress?: (event: ProgressEvent) => void;
  /** Called with non-fatal warnings (e.g. a modified migration when configured to warn). */
  onWarning?: (message: string) => void;
}

/**
 * The command's config: the one given, else loaded once from options.config or the folder.
 * `command` names a command that cannot run on defaults (it writes files or reads the models).
 */
export async function configOf(options: CommandOptions, command?: string): Promise<LoadedConfig> {
  if (typeof options.config === "object") return options.config;
  const loaded = await loadConfig(options.config, options.cwd);
  if (command) requireConfigFile(loaded, command);
  return loaded;
}

export function scripts(loaded: LoadedConfig): { graph: RevisionGraph; dir: string } {
  const folder = scriptFolder(loaded);
  return { graph: folder.graph(), dir: folder.dir };
}

/**
 * The migrations folder, its graph built only on demand (see script/folder-graph.ts).
 * `background`: stat the files between the command's waits on its server (it awaits `summary()`).
 */
function scriptFolder(loaded: LoadedConfig, options: { background?: boolean } = {}): FolderGraph {
  const dir = migrationsDirectory(loaded);
  if (!loaded.file && !existsSync(dir)) {
    // Without a config, the default folder must be there: otherwise this is not a Retort project (yet).
    throw new RetortError("RETORT_CONFIG", `No config file (${CONFIG_NAMES.join(", ")}) and no migrations folder ${dir} in ${loaded.root}.`, {
      hint: "Run `retort init` to create both, run the command from your project's folder, or pass --config <file>.",
      details: { folder: loaded.root },
    });
  }
  const cacheFile = join(cacheDirectory(loaded), `headers-${hash("sha256", dir, "hex").slice(0, 16)}.json`);
  return openFolderGraph(dir, { cacheFile, ...options });
}

/** The project's memo of history digests (see digest-memo.ts). */
function digestMemo(loaded: LoadedConfig): DigestMemo {
  return openDigestMemo(join(cacheDirectory(loaded), "history-digests.json"));
}

/** The command talks to a Postgres server: its waits on the network can be used for other work. */
function onServer(loaded: LoadedConfig, options: CommandOptions): boolean {
  return (options.database?.target.dialect ?? parseDatabaseUrl(resolveDatabaseUrl({ ...options, config: loaded })).dialect) === "postgres";
}

/**
 * Whether a database whose heads are the summary's (see sameHeads) is settled by it: every
 * revision ran with the checksum its file has now, or its checksums are a list the full path
 * already found in agreement (see acceptAgreeingDatabase).
 */
function knownDigest(summary: GraphSummary, checksumDigest: string): boolean {
  return checksumDigest === summary.appliedDigest || summary.consistentDigests?.includes(checksumDigest) === true;
}

/**
 * After the graph was built and the database found at its heads, with nothing unfinished and no
 * applied file changed: remember the database's checksum list as agreeing with these files, so
 * the next no-op settles from the summary even when that list is not every file's (a stamped or
 * adopted database recorded no checksum for what it never ran).
 */
function acceptAgreeingDatabase(folder: FolderGraph, graph: RevisionGraph, heads: readonly string[], list: string): void {
  if (exactly(heads, graph.heads.map((head) => head.revision))) folder.acceptDigest(checksumListDigest(list));
}

/** The summary's heads are exactly these: what is worth asking the database for a digest. */
function sameHeads(summary: GraphSummary | undefined, heads: readonly string[]): summary is GraphSummary {
  return summary !== undefined && exactly(heads, summary.heads.map((head) => head.revision));
}

/** The same revisions, in any order (neither list repeats one). */
function exactly(heads: readonly string[], expected: readonly string[]): boolean {
  const wanted = new Set(expected);
  return heads.length === wanted.size && heads.every((id) => wanted.has(id));
}

const DEFAULT_LOCK_TIMEOUT_MS = 60_000;
/** How long a read-only command waits for a PGlite directory another process has open. */
const READ_BUSY_TIMEOUT_MS = 3_000;

function lockTimeoutOf(loaded: LoadedConfig): number {
  return loaded.config.migrations?.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
}

/** How a command opens the database. */
export interface OpenMode {
  /** Read-only commands must not create the database. */
  mustExist?: boolean;
  /** How long to wait for a PGlite directory another process has open. */
  busyTimeoutMs?: number;
}

/**
 * Whether opening the configured database creates it: a SQLite file or PGlite folder that is not
 * there yet (or is empty). Such a database is at base, so a command can check all it will do
 * against base first, and fail before anything exists on disk. Deleting the file after a failure
 * instead is unsafe: another process may have opened the same new file meanwhile.
 */
function createsDatabase(loaded: LoadedConfig, options: CommandOptions): { dialect: Dialect; contents: "nothing" | "empty" } | undefined {
  if (options.database) return undefined;
  const target = parseDatabaseUrl(resolveDatabaseUrl({ ...options, config: loaded }));
  const file = fileDatabasePath(target);
  if (!file) return undefined;
  const contents = fileDatabaseContents(file.dialect, file.path);
  return contents === "nothing" || contents === "empty" ? { dialect: target.dialect, contents } : undefined;
}

/** The configured database's driver (or the given open database's) for fn; closed after unless given. */
async function withDriver<T>(loaded: LoadedConfig, options: CommandOptions, fn: (driver: Driver, target: ConnectionTarget, url: string) => Promise<T>, mode: OpenMode = {}): Promise<T> {
  const url = options.database ? describeTarget(options.database.target) : resolveDatabaseUrl({ ...options, config: loaded });
  const target = options.database?.target ?? parseDatabaseUrl(url);
  const driver = options.database?.driver ?? (await openDriver(target, EMPTY_SCHEMA, { ...mode, ...(loaded.config.pooler ? { pooler: loaded.config.pooler } : {}) }));
  try {
    return await fn(driver, target, url);
  } finally {
    if (!options.database) await driver.close();
  }
}

async function withConnection<T>(driver: Driver, fn: (conn: HeldConnection) => Promise<T>): Promise<T> {
  const conn = await driver.acquire();
  try {
    return await fn(conn);
  } finally {
    conn.release();
  }
}

/**
 * Take the migration lock, then ensure the version tables and run fn on one connection.
 * `probe`, when given, runs first with an executor on the lock's own server session (read-only
 * work, and the version tables, which may not exist yet: it must not run migrations there) and
 * answers instead of fn when it returns a value: a no-op upgrade then opens no second session.
 */
export async function withMigrationContext<T>(
  loaded: LoadedConfig,
  options: CommandOptions,
  fn: (ctx: { executor: MigrationExecutor; conn: HeldConnection; dialect: Dialect; target: ConnectionTarget; url: string }) => Promise<T>,
  mode: OpenMode = {},
  probe?: (executor: MigrationExecutor, url: string) => Promise<T | undefined>,
): Promise<T> {
  return withDriver(loaded, options, async (driver, target, url) => {
    refuseTransactionPooler(loaded, target, url);
    // On a server the lock has a session of its own (a migration's `DISCARD ALL` cannot drop it):
    // the run's connection is opened meanwhile, so the two backend start-ups overlap.
    const opening = target.dialect === "postgres" && !probe ? driver.acquire() : undefined;
    opening?.catch(() => undefined);
    let lock: Awaited<ReturnType<typeof acquireMigrationLock>>;
    try {
      lock = await acquireMigrationLock(target, driver, lockTimeoutOf(loaded));
    } catch (error) {
      (await opening?.catch(() => undefined))?.release();
      throw error;
    }
    try {
      const family = familyOf(driver.dialect);
      let schemaChecked = false;
      const checkSchema = async (conn: Connection) => {
        if (!schemaChecked && family === "postgres") await refuseOtherSchema(loaded, conn, url);
        schemaChecked = true;
      };
      if (probe && lock.session) {
        await checkSchema(lock.session);
        const answer = await probe(new MigrationExecutor(driver, lock.session, family), url);
        if (answer !== undefined) return answer;
      }
      const conn = await (opening ?? driver.acquire());
      try {
        await checkSchema(conn);
        const executor = new MigrationExecutor(driver, conn, family);
        await executor.ensureTables();
        if (probe && !lock.session) {
          const answer = await probe(executor, url);
          if (answer !== undefined) return answer;
        }
        return await fn({ executor, conn, dialect: driver.dialect, target, url });
      } finally {
        conn.release();
      }
    } finally {
      await lock.release();
    }
  }, { busyTimeoutMs: lockTimeoutOf(loaded), ...mode });
}

/**
 * Migrations name their tables without a schema, so they change the tables of the connection's
 * current schema (the first of its search_path that exists), while introspection, drift and
 * autogenerate read the config's `schemas`: with the two apart, a migration written from one
 * schema's tables would drop or change the same-named tables of the other.
 */
async function refuseOtherSchema(loaded: LoadedConfig, conn: Connection, url: string): Promise<void> {
  const configured = loaded.config.schemas?.[0];
  if (configured === undefined) return;
  const { rows } = await conn.query<{ schema: string | null }>("SELECT current_schema() AS schema");
  const current = rows[0]?.schema ?? null;
  if (current === configured) return;
  const searchPath = configured === "public" ? configured : `${configured},public`;
  throw new RetortError("RETORT_SCHEMA_MISMATCH", `The config reads schema "${configured}", but on ${redactUrl(url)} unqualified names resolve to ${current === null ? "no schema (none on the search_path exists)" : `schema "${current}"`}: migrations would change the tables there, not those Retort compared.`, {
    hint: `Put the schema first on the connection's search_path: add ?options=-c%20search_path%3D${encodeURIComponent(searchPath)} to the URL, or run ALTER ROLE <role> SET search_path = ${searchPath}; (create the schema first if it does not exist).`,
    details: { configured, current },
  });
}

/**
 * The migration lock is a session advisory lock: behind a pooler in transaction mode it would be
 * taken on one server connection and released (or not) on another, and stay held.
 */
function refuseTransactionPooler(loaded: LoadedConfig, target: ConnectionTarget, url: string): void {
  if (target.dialect !== "postgres" || (loaded.config.pooler ?? target.connection.pooler) !== "transaction") return;
  throw new RetortError("RETORT_TRANSACTION_POOLER", `Migrations cannot run through a connection pooler in transaction mode (${redactUrl(url)}): the migration lock needs one server session from start to end`, {
    hint: "Point migration commands at the server directly (--url, or the environment's variable for migrations), e.g. the provider's direct or session-mode URL instead of the pooled one.",
    details: { url: redactUrl(url) },
  });
}

/** Read fn on one connection of the configured database (or the given open one); no lock, no version tables, and a missing database is an error, not created. */
export async function withDatabase<T>(loaded: LoadedConfig, options: CommandOptions, fn: (conn: Connection, dialect: Dialect) => Promise<T>): Promise<T> {
  return withDriver(loaded, options, (driver) => withConnection(driver, (conn) => fn(conn, driver.dialect)), { mustExist: true, busyTimeoutMs: READ_BUSY_TIMEOUT_MS });
}

/**
 * The database holds revisions this folder does not define: typically applied on another git
 * branch with newer migrations. Say so plainly, where they are, and the two ways out.
 */
function refuseUnknownRevisions(graph: RevisionGraph, current: readonly string[], loaded: LoadedConfig, everApplied: readonly string[]): void {
  const unknown = current.filter((id) => !graph.has(id));
  if (unknown.length === 0) return;
  const squashes = replacedBy(graph);
  const squashed = unknown.filter((id) => squashes.has(id));
  if (squashed.length > 0) {
    const into = squashes.get(squashed[0]!)!;
    throw new RetortError("RETORT_UNKNOWN_REVISION", `The database is at ${squashed.join(", ")}, in the middle of the range squashed into ${into.revision} (${into.path}).`, {
      hint: `\`retort upgrade\` brings it to ${into.revision} first, running the rest of the range from the archived files in ${ARCHIVE_FOLDER}/ (they must still be there); downgrade from there.`,
      details: { unknown: squashed, squash: into.revision },
    });
  }
  const dir = migrationsDirectory(loaded);
  const where = unknown.map((id) => {
    const branches = branchesMentioning(loaded.root, dir, id);
    return `${id}${branches.length ? ` (its file is on branch ${branches.join(", ")})` : " (no file for it on any local branch)"}`;
  });
  const known = appliedKnown(graph, current, everApplied);
  throw new RetortError("RETORT_UNKNOWN_REVISION", `The database is at ${where.join(", ")}, which this checkout's migrations do not define: it was probably upgraded from another branch.`, {
    hint:
      `Either take those revisions off: check out the branch that has them and run \`retort downgrade ${known ?? "<a revision both branches have>"}\` there, then come back; ` +
      "or re-create this database: `retort wipe && retort upgrade` (in development a branch's database is copied again from its parent branch's). " +
      "If the file was deleted or renamed by mistake, restore it instead.",
    details: { unknown, ...(known ? { downgradeTo: known } : {}) },
  });
}

/** What `current` says of a revision without a file here: where it is, when git knows. */
function unknownNote(loaded: LoadedConfig, id: string): string {
  const branches = branchesMentioning(loaded.root, migrationsDirectory(loaded), id);
  return branches.length ? `(no file in this checkout: it is on branch ${branches.join(", ")}; downgrade it there, or re-create this database)` : "(no file for this revision)";
}

/** The newest revision of this folder the database ever had applied: where to downgrade to on the other branch. */
function appliedKnown(graph: RevisionGraph, current: readonly string[], everApplied: readonly string[]): string | undefined {
  const known = [...new Set([...current, ...everApplied])].filter((id) => graph.has(id));
  return known.length ? graph.sortTopologically(known).at(-1)?.revision : undefined;
}

/** Commands that destroy data (downgrade base, stamp --purge) refuse production (see env/guard.ts). */
async function guardDestructive(action: string, loaded: LoadedConfig, options: CommandOptions): Promise<void> {
  const { guardProduction } = await import("../env/guard.js");
  const resolve = { ...options, config: loaded };
  const url = options.database ? describeTarget(options.database.target) : resolveDatabaseUrl(resolve);
  await guardProduction({ action, environment: environmentName(options.env), url, productionUrls: productionUrls(resolve) });
}

async function compilePlan(revisions: readonly Revision[], direction: "up" | "down", dialect: Dialect, graph: RevisionGraph, startHeads: string[]): Promise<PlannedRevision[]> {
  // Nothing to run: do not load a single module (a no-op upgrade must stay fast at any history size).
  if (revisions.length === 0) return [];
  const { compileRevision, foldOperations, hasRawSql, migrationSettings, preloadMigrations, rawSqlFolder, recordOperations } = await import("./plan.js");
  const applied = startHeads.length === 0 ? [] : upgradePlan(graph, [], startHeads);
  await preloadMigrations([...applied, ...revisions]);
  const appliedOps = [];
  for (const file of applied) appliedOps.push(await recordOperations(file, "up"));
  const recorded = [];
  for (const file of revisions) recorded.push(await recordOperations(file, direction));
  // Raw SQL the parser can read is folded too, so operations after it compile against its effects.
  const foldSql = await rawSqlFolder(dialect, [...appliedOps, ...recorded].some(hasRawSql));
  // The schema before the plan: the fold of what is applied, which SQLite rebuilds compile against.
  let schema = foldOperations(appliedOps, foldSql);
  const planned: PlannedRevision[] = [];
  for (const [i, file] of revisions.entries()) {
    const compiled = compileRevision(file, direction, recorded[i]!, dialect, schema, foldSql);
    planned.push({ ...compiled.planned, ...(await migrationSettings(file)) });
    schema = compiled.after;
  }
  return planned;
}

/** The compiled plan of an upgrade or downgrade to `target` from base. */
async function planFromBase(direction: "up" | "down", target: string, graph: RevisionGraph, dialect: Dialect): Promise<PlannedRevision[]> {
  const revisions = direction === "up" ? upgradePlan(graph, [], target) : downgradePlan(graph, [], target);
  return compilePlan(revisions, direction, dialect, graph, []);
}

function stepper(graph: RevisionGraph) {
  return (heads: Set<string>, revision: PlannedRevision) => {
    const next = new Set(heads);
    applyStep(next, revision.file, revision.direction, graph);
    return next;
  };
}

/** Revisions applied now (below the current heads) whose file differs from what ran, in topological order. */
function modifiedRevisions(graph: RevisionGraph, currentHeads: readonly string[], recorded: Map<string, string>): Revision[] {
  const applied = appliedRevisions(graph, currentHeads.filter((id) => graph.has(id)));
  return graph.sortTopologically(
    [...applied].filter((id) => {
      const checksum = recorded.get(id);
      return checksum !== undefined && checksum !== graph.require(id).checksum && !squashAccepts(graph.require(id), checksum);
    }),
  );
}

function modifiedMessage(modified: readonly Revision[]): string {
  const files = modified.map((revision) => `  ${revision.path} (${revision.revision})`).join("\n");
  return `${modified.length} applied migration file(s) changed since they ran:\n${files}`;
}

function modifiedError(modified: readonly Revision[]): RetortError {
  return new RetortError("RETORT_MODIFIED_MIGRATION", modifiedMessage(modified), {
    hint: `Restore the file as it was applied and put the change in a new revision (retort revision -m …). To accept a deliberate edit: retort rehash ${modified[0]!.revision} --reason "…" (recorded in the history); to allow edits in general, set migrations.modifiedMigrations to "warn".`,
    details: { revisions: modified.map((r) => ({ revision: r.revision, file: r.path })) },
  });
}

/** Before a run: an edited applied migration stops it (or warns, when configured to). */
function checkModified(graph: RevisionGraph, currentHeads: string[], recorded: Map<string, string>, loaded: LoadedConfig, options: CommandOptions): Revision[] {
  const modified = modifiedRevisions(graph, currentHeads, recorded);
  if (modified.length === 0) return modified;
  if (loaded.config.migrations?.modifiedMigrations !== "warn") throw modifiedError(modified);
  options.onWarning?.(modifiedMessage(modified));
  return modified;
}

export interface RunResult {
  url: string;
  direction: "up" | "down";
  from: string[];
  to: string[];
  revisions: Array<{ revision: string; message: string }>;
}

/** Upgrade to `target` (default "head"). */
export async function upgrade(target = "head", options: CommandOptions = {}): Promise<RunResult> {
  return run("up", target, options);
}

/** Downgrade to `target` (a revision, "-1", "base"…). */
export async function downgrade(target: string, options: CommandOptions = {}): Promise<RunResult> {
  return run("down", target, options);
}

async function run(direction: "up" | "down", target: string, options: CommandOptions): Promise<RunResult> {
  const loaded = await configOf(options);
  const server = onServer(loaded, options);
  const folder = scriptFolder(loaded, { background: server });
  const linear = loaded.config.migrations?.linear === true;
  /** The graph, checked for the run: built before anything is created or changed in the database. */
  const checkedGraph = () => {
    const graph = folder.graph();
    if (direction === "up" && linear) assertLinear(graph, "upgrade");
    return graph;
  };
  // Up to the heads of an unchanged folder: most likely nothing to do, which the cached summary
  // can tell without building the graph (one head when the target or the linear policy needs it).
  // A file database is created by opening it, so there the summary is checked first; on a server
  // the files are stat'ed while it connects, and checked before the version tables are made.
  const claimed = folder.cachedSummary;
  const wanted = target.trim();
  // A database this run would create is at base: the whole plan from base (the target, every
  // module it loads) is compiled before opening it, so a bad target or file creates nothing.
  // A missing one is not created by a downgrade (it must exist), which says so itself.
  const creating = createsDatabase(loaded, options);
  const fromBase = creating && (direction === "up" || creating.contents === "empty") ? await planFromBase(direction, target, checkedGraph(), creating.dialect) : undefined;
  let maybeNoop = !creating && direction === "up" && claimed !== undefined && (wanted === "head" || wanted === "heads") && (claimed.heads.length === 1 || (wanted === "heads" && !linear));
  if (maybeNoop && !server && !(await folder.summary())) maybeNoop = false;
  if (!maybeNoop) checkedGraph();
  if (direction === "down" && wanted === "base") await guardDestructive("retort downgrade base", loaded, options);
  // Nothing to do when the database is at the summary's heads with every checksum as recorded.
  const noop = async (executor: MigrationExecutor, url: string): Promise<RunResult | undefined> => {
    const summary = await folder.summary();
    if (!summary) {
      checkedGraph();
      return undefined;
    }
    await executor.ensureTables();
    const from = await executor.currentHeads();
    // The digest is only asked for when the heads already agree.
    const settled = sameHeads(summary, from) && knownDigest(summary, await executor.appliedChecksumDigest(digestMemo(loaded))) && (await executor.unfinished()).size === 0;
    return settled ? { url: redactUrl(url), direction, from, to: from, revisions: [] } : undefined;
  };
  return withMigrationContext(loaded, options, async ({ executor, conn, dialect, url }) => {
    const from = await executor.currentHeads();
    const graph = checkedGraph();
    const runOptions = {
      transaction: loaded.config.migrations?.transaction ?? "each",
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(options.onWarning ? { onWarning: options.onWarning } : {}),
    };
    // A database in the middle of a squashed range first runs the rest of that range from the
    // archived files, which brings it to the squash's own id.
    let start = from;
    const bridge = direction === "up" ? squashBridge(graph, from) : undefined;
    const bridged: Revision[] = [];
    if (bridge) {
      checkModified(bridge.graph, from, await executor.appliedChecksums(), loaded, options);
      bridged.push(...upgradePlan(bridge.graph, from, bridge.targets));
      const plan = await compilePlan(bridged, "up", dialect, bridge.graph, from);
      start = await executor.run(plan, from, stepper(bridge.graph), { ...runOptions, resume: await executor.unfinished() });
    }
    const { checksums: applied, list } = await executor.appliedChecksumList();
    refuseUnknownRevisions(graph, start, loaded, [...applied.keys()]);
    const modified = checkModified(graph, start, applied, loaded, options);
    const revisions = direction === "up" ? upgradePlan(graph, start, target) : downgradePlan(graph, start, target);
    // Still at base (no other process got there first): the plan compiled before opening is this one.
    const compiled = fromBase && start.length === 0 ? fromBase : await compilePlan(revisions, direction, dialect, graph, start);
    // A contract revision waits for the release of its expand (runtime/release.ts): the run stops before it.
    const { plan, held } = direction === "up" ? await (await import("./release.js")).gateContracts(compiled, { loaded, conn, family: familyOf(dialect), startHeads: from }) : { plan: compiled, held: undefined };
    const resume = await executor.unfinished();
    // Only the run a revision stopped part-way in may continue: nothing else over its half-made schema.
    await refuseOverUnfinished(conn, familyOf(dialect), resume, compiled, graph, { direction, target });
    if (bridged.length === 0 && revisions.length === 0 && resume.size === 0 && modified.length === 0) acceptAgreeingDatabase(folder, graph, start, list);
    const to = await executor.run(plan, start, stepper(graph), { ...runOptions, resume });
    if (held) throw new RetortError(held.code, held.message, { ...(held.hint ? { hint: held.hint } : {}), details: { ...held.details, currentHeads: to } });
    return { url: redactUrl(url), direction, from, to, revisions: [...bridged, ...revisions].map((r) => ({ revision: r.revision, message: r.message })) };
  }, { mustExist: direction === "down" }, maybeNoop ? noop : undefined);
}

/**
 * `retort release <rev>`: record that the expand revision `rev` is deployed, so `upgrade` may run
 * its contract (see release.ts). Taken under the migration lock, so it never races an upgrade.
 */
export async function release(target: string, options: CommandOptions = {}): Promise<import("./release.js").ReleaseResult & { url: string }> {
  const loaded = await configOf(options);
  const { graph } = scripts(loaded);
  const { recordRelease } = await import("./release.js");
  return withMigrationContext(loaded, options, async ({ executor, conn, dialect, url }) => {
    const heads = await executor.currentHeads();
    return { ...(await recordRelease(target, { loaded, conn, family: familyOf(dialect), graph, heads })), url: redactUrl(url) };
  }, { mustExist: true });
}

/**
 * Offline SQL for an upgrade or downgrade, without connecting. `range` is "target" (from base,
 * or from the given start) or "start:end".
 */
export async function migrationSql(direction: "up" | "down", range: string, options: CommandOptions & { dialect?: Dialect } = {}): Promise<string> {
  const loaded = await configOf(options);
  const { graph } = scripts(loaded);
  const dialect = options.dialect ?? parseDatabaseUrl(resolveDatabaseUrl({ ...options, config: loaded })).dialect;
  // "b" alone means from base (upgrade); a downgrade needs "start:end" since there is no database to ask.
  if (!range.includes(":") && direction === "down") {
    throw new RetortError("RETORT_UNKNOWN_REVISION", `offline downgrade needs a range <from>:<to>, got ${quoteTarget(range)}`, { hint: "e.g. retort downgrade head:base --sql" });
  }
  const { start, end } = range.includes(":") ? resolveRange(graph, range, []) : { start: [] as string[], end: resolveTarget(graph, range, []).map((r) => r.revision) };
  const revisions = direction === "up" ? upgradePlan(graph, start, end) : downgradePlan(graph, start, end.length === 0 ? "base" : end);
  const plan = await compilePlan(revisions, direction, dialect, graph, start);
  const { renderPlanSql } = await import("./offline.js");
  return renderPlanSql(plan, dialect, start, stepper(graph), loaded.config.migrations?.transaction ?? "each");
}

export type CurrentResult = {
  url: string;
  heads: Array<{ revision: string; message: string; isHead: boolean }>;
  /** Revisions whose last run did not finish: running now, stopped by a crash, or failed part-way. */
  inProgress: Array<UnfinishedRevision & { message: string }>;
  /** Who holds the migration lock now (a run in progress), when someone does. */
  migrationRunning?: string;
  /** Applied revisions whose file changed since they ran (upgrade and downgrade refuse to run over them). */
  modified: Array<{ revision: string; file: string }>;
};

/**
 * The database's current revision(s). Read-only: it takes no migration lock (it answers while an
 * upgrade runs, and shows that run) and creates nothing. A PGlite directory open in another
 * process cannot be read at all: it waits a moment, then names that process. An applied migration
 * whose file changed is reported through onWarning (and in `modified`); with `strict`, it is
 * RETORT_MODIFIED_MIGRATION instead.
 */
export async function current(options: CommandOptions & { strict?: boolean } = {}): Promise<CurrentResult> {
  const loaded = await configOf(options);
  // On a server the files are stat'ed while it answers (nothing is created here either way).
  const folder = scriptFolder(loaded, { background: onServer(loaded, options) });
  // Without a summary the graph is built now, so a broken folder is reported before connecting.
  if (!folder.cachedSummary) folder.graph();
  return withDriver(loaded, options, async (driver, target, url) => {
    const family = familyOf(driver.dialect);
    const state = await withConnection(driver, (conn) => readVersionState(conn, family));
    const running = await migrationLockHolder(target, driver);
    const digest = state.initialized && state.unfinished.length === 0 && sameHeads(folder.cachedSummary, state.heads) ? await withConnection(driver, (conn) => readAppliedChecksumDigest(conn, family, digestMemo(loaded))) : undefined;
    const summary = digest === undefined ? undefined : await folder.summary();
    const result = (heads: CurrentResult["heads"], inProgress: CurrentResult["inProgress"], modified: CurrentResult["modified"]): CurrentResult => ({
      url: redactUrl(url),
      heads,
      inProgress,
      ...(running ? { migrationRunning: running } : {}),
      modified,
    });
    // digest is only read with the heads agreeing, and summary() is the cached summary once checked.
    if (summary && digest !== undefined && knownDigest(summary, digest)) {
      const messages = new Map(summary.heads.map((head) => [head.revision, head.message]));
      return result(state.heads.map((id) => ({ revision: id, message: messages.get(id)!, isHead: true })), [], []);
    }
    const graph = folder.graph();
    const fileHeads = new Set(graph.heads.map((r) => r.revision));
    const applied = state.initialized ? await withConnection(driver, (conn) => readAppliedChecksumList(conn, family)) : undefined;
    const modified = applied ? modifiedRevisions(graph, state.heads, applied.checksums) : [];
    if (applied && state.unfinished.length === 0 && modified.length === 0) acceptAgreeingDatabase(folder, graph, state.heads, applied.list);
    if (modified.length > 0) {
      if (options.strict) throw modifiedError(modified);
      options.onWarning?.(`${modifiedMessage(modified)}\nupgrade and downgrade refuse to run until they are restored (see \`retort upgrade\`'s error for what to do).`);
    }
    const squashes = state.heads.every((id) => graph.has(id)) ? new Map<string, Revision>() : replacedBy(graph);
    const messageOf = (id: string) =>
      graph.get(id)?.message ?? (squashes.has(id) ? `(squashed into ${squashes.get(id)!.revision}: \`retort upgrade\` runs the rest of the range from ${ARCHIVE_FOLDER}/)` : unknownNote(loaded, id));
    return result(
      state.heads.map((id) => ({ revision: id, message: messageOf(id), isHead: fileHeads.has(id) })),
      state.unfinished.map((row) => ({ ...row, message: messageOf(row.revision) })),
      modified.map((r) => ({ revision: r.revision, file: r.path })),
    );
  }, { mustExist: true, busyTimeoutMs: READ_BUSY_TIMEOUT_MS });
}

export interface StampResult extends RunResult {
  /** Runs that had stopped part-way and no longer resume: the stamp says the database was repaired by hand. */
  settled: Array<{ revision: string; direction: "up" | "down"; stepsDone: number; totalSteps: number | undefined }>;
}

/**
 * Set the version table to `target` without running migrations: the target replaces the row of
 * its branch, or adds one for a branch without a row (`purge` clears the table first).
 */
export async function stamp(target: string, options: CommandOptions & { purge?: boolean } = {}): Promise<StampResult> {
  const loaded = await configOf(options);
  const { graph } = scripts(loaded);
  // A database this would create is at base: a target that does not stamp from there creates nothing.
  if (createsDatabase(loaded, options)) stampHeads(graph, [], target, options.purge ? { purge: true } : {});
  if (options.purge) await guardDestructive("retort stamp --purge", loaded, options);
  return withMigrationContext(loaded, options, async ({ executor, conn, dialect, url }) => {
    const from = await executor.currentHeads();
    const to = stampHeads(graph, from, target, options.purge ? { purge: true } : {});
    await executor.setHeads(new Set(from), new Set(to));
    // A stamp says where the database is: a run left part-way, repaired by hand, no longer resumes.
    const settled = await settleUnfinished(conn, familyOf(dialect), target);
    return { url: redactUrl(url), direction: "up", from, to: [...to].sort(), revisions: [], settled: settled.map(({ revision, direction, stepsDone, totalSteps }) => ({ revision, direction, stepsDone, totalSteps })) };
  });
}

/** Resolve a target (id, prefix, head, label@head…) against the migrations folder. */
export async function resolve(target: string, options: CommandOptions = {}): Promise<Revision[]> {
  return resolveTarget(await revisionGraph(options), target, []);
}

/** The revision graph of the migrations folder (heads, bases, branches, history…), no database needed. */
export async function revisionGraph(options: CommandOptions = {}): Promise<RevisionGraph> {
  return scripts(await configOf(options)).graph;
}

export interface NewRevision {
  message: string;
  revId?: string;
  /** Parent: "head" (default), a revision, or "<label>@head". */
  head?: string;
  /** Allow a parent that is not a head (start a branch). */
  splice?: boolean;
  branchLabel?: string;
  dependsOn?: string[];
  /** Parents for a merge revision. */
  parents?: string[];
  upgradeBody?: string;
  downgradeBody?: string;
  /** Names the bodies use, imported from the configured module (e.g. ["t", "sql"]). */
  imports?: string[];
  /** false: the revision runs without one transaction around it. */
  transactional?: boolean;
  /** Postgres lock_timeout for every step of the revision. */
  lockTimeout?: string;
  /** The expand revision this one is the contract of. */
  contractOf?: string;
}

/** Write a new revision file; returns its path and header. */
export async function revision(spec: NewRevision, options: CommandOptions = {}): Promise<{ path: string; revision: string; parents: string[] }> {
  checkMessage(spec.message, spec.parents ? "merge" : "revision");
  const loaded = await configOf(options, spec.parents ? "merge" : "revision");
  const dir = migrationsDirectory(loaded);
  if (!existsSync(dir)) {
    throw new RetortError("RETORT_BAD_MIGRATION_FILE", `migrations folder ${dir} does not exist`, { hint: "Run `retort init` first." });
  }
  if (spec.revId !== undefined) checkRevisionId(spec.revId);
  const { graph } = scripts(loaded);
  const id = spec.revId ?? newRevisionId();
  if (graph.has(id)) throw new RetortError("RETORT_DUPLICATE_REVISION", `revision ${id} already exists (${graph.require(id).path})`, { hint: "Pick another --rev-id, or leave it out for a random one." });
  if (graph.branchLabels.has(id)) throw new RetortError("RETORT_INVALID_REVISION_ID", `Revision id ${id} is already a branch label (of ${graph.branchLabels.get(id)!.revision})`, { hint: "Pick another --rev-id, or leave it out for a random one." });
  if (spec.branchLabel !== undefined) checkBranchLabel(spec.branchLabel, (label) => graph.branchLabels.get(label)?.revision ?? graph.get(label)?.revision);
  let parents: string[];
  const linear = loaded.config.migrations?.linear === true;
  if (linear) assertLinear(graph, spec.parents ? "merge" : "revision");
  if (spec.parents) {
    parents = mergeParents(graph, spec.parents, spec.splice ?? false);
  } else if (graph.size === 0) {
    parents = [];
  } else {
    const parent = resolveRevision(graph, spec.head ?? "head");
    if (!parent) throw new RetortError("RETORT_UNKNOWN_REVISION", `--head ${spec.head} is base; a new base revision needs no --head`);
    if (!spec.splice && !graph.heads.some((h) => h.revision === parent.revision)) {
      throw new RetortError("RETORT_MULTIPLE_HEADS", `${parent.revision} is not a head; a new revision on it would start a branch`, {
        hint: "Pass --splice to branch from it on purpose, or --head <a head>.",
      });
    }
    parents = [parent.revision];
  }
  if (linear && !spec.parents) assertLinear(graph, "revision", { revision: id, parent: parents[0] });
  const createdAt = new Date();
  // Two revisions with one message within a second (a script) would share a name: the later one's carries its id too.
  const named = join(dir, migrationFileName(createdAt, spec.message));
  const path = existsSync(named) ? join(dir, migrationFileName(createdAt, `${spec.message} ${id}`)) : named;
  const text = renderMigration({
    revision: id,
    parents,
    message: spec.message,
    createdAt: createdAt.toISOString(),
    ...(spec.branchLabel ? { branchLabels: [spec.branchLabel] } : {}),
    ...(spec.dependsOn?.length ? { dependsOn: spec.dependsOn.flatMap((d) => resolveTarget(graph, d, []).map((r) => r.revision)) } : {}),
    ...(spec.upgradeBody ? { upgradeBody: spec.upgradeBody } : {}),
    ...(spec.downgradeBody ? { downgradeBody: spec.downgradeBody } : {}),
    ...(spec.transactional === false ? { transactional: false } : {}),
    ...(spec.lockTimeout !== undefined ? { lockTimeout: spec.lockTimeout } : {}),
    ...(spec.contractOf !== undefined ? { contractOf: spec.contractOf } : {}),
    moduleSpecifier: loaded.config.migrations?.importFrom ?? "retort-db",
    ...(spec.imports?.length ? { imports: [`import { ${[...new Set(spec.imports)].sort().join(", ")} } from ${JSON.stringify(loaded.config.migrations?.importFrom ?? "retort-db")};`] } : {}),
  });
  writeFileSync(path, text, { flag: "wx" });
  return { path: relative(options.cwd ?? process.cwd(), path), revision: id, parents };
}

/**
 * The parents of `retort merge`: at least two distinct revisions, each a head unless `splice`
 * (merging from the middle of a branch leaves the revisions above it out, as Alembic warns).
 */
function mergeParents(graph: RevisionGraph, targets: readonly string[], splice: boolean): string[] {
  const parents = [...new Set(targets.flatMap((target) => resolveTarget(graph, target, []).map((r) => r.revision)))];
  if (parents.length < 2) {
    const what = parents.length === 0 ? "nothing" : `only ${parents[0]}`;
    throw new RetortError("RETORT_INVALID_MERGE", `Nothing to merge: ${targets.map((t) => JSON.stringify(t)).join(", ")} ${targets.length === 1 ? "names" : "name"} ${what}; a merge joins two or more revisions.`, {
      hint: graph.heads.length < 2 ? "There is a single head, so no merge is needed: `retort revision -m \"…\"` adds the next revision." : "Name two or more heads (`retort heads` lists them), or `heads`.",
      details: { targets, parents },
    });
  }
  if (!splice) {
    const notHeads = parents.filter((id) => graph.require(id).children.length > 0);
    if (notHeads.length > 0) {
      throw new RetortError("RETORT_INVALID_MERGE", `Cannot merge ${notHeads.join(", ")}: not a head (revisions already build on ${notHeads.length === 1 ? "it" : "them"}).`, {
        hint: "Merge heads (`retort heads` lists them), or pass --splice to merge from the middle of a branch on purpose.",
        details: { notHeads },
      });
    }
  }
  return graph.sortTopologically(parents).map((r) => r.revision);
}

/**
 * Create retort.config.ts, the migrations folder and .env.example (each only when missing), and
 * make git ignore `.retort/` (the embedded database and caches): .gitignore is created, or the
 * line appended once.
 */
export function init(options: { cwd?: string; directory?: string } = {}): { created: string[]; updated: string[] } {
  const cwd = options.cwd ?? process.cwd();
  const created: string[] = [];
  const updated: string[] = [];
  const configFile = join(cwd, "retort.config.ts");
  const directory = options.directory ?? "migrations/versions";
  if (directory.trim() === "") {
    throw new RetortError("RETORT_USAGE", "init --directory is empty: migrations need a folder of their own.", { hint: "Leave --directory out for migrations/versions, or name a folder." });
  }
  // The folder first: when it cannot be made (a file has its name), no config points at it.
  const dir = resolvePath(cwd, directory);
  if (!existsSync(dir)) {
    makeDirectory(dir);
    created.push(`${relative(cwd, dir) || "."}/`);
  }
  // Any config already there is kept: a new retort.config.ts would take precedence over a .js or .mjs one.
  if (!CONFIG_NAMES.some((name) => existsSync(join(cwd, name)))) {
    writeFileSync(
      configFile,
      `import { defineConfig } from "retort-db/config";\n\nexport default defineConfig({\n  models: "./src/schema.ts",\n  migrations: { directory: ${JSON.stringify(directory)} },\n});\n`,
    );
    created.unshift("retort.config.ts");
  }
  const envExample = join(cwd, ".env.example");
  if (!existsSync(envExample)) {
    writeFileSync(envExample, ENV_EXAMPLE);
    created.push(".env.example");
  }
  const gitignore = join(cwd, ".gitignore");
  if (!existsSync(gitignore)) {
    writeFileSync(gitignore, ".retort/\n");
    created.push(".gitignore");
  } else {
    const text = readFileSync(gitignore, "utf8");
    if (!text.split(/\r?\n/).some((line) => /^\/?\.retort\/?\s*$/.test(line))) {
      writeFileSync(gitignore, `${text}${text === "" || text.endsWith("\n") ? "" : "\n"}.retort/\n`);
      updated.push(".gitignore");
    }
  }
  return { created, updated };
}

/** The variables Retort reads for the database URL, as placeholders (never a real password). */
const ENV_EXAMPLE = `# Database URLs for Retort. Copy to .env (keep .env out of git) and fill in.
# DATABASE_URL wins when set; otherwise the variable for the environment (RETORT_ENV, else NODE_ENV)
# is used; development falls back to embedded Postgres (PGlite) under .retort/.
# URL forms: postgres://user@host:5432/db (the password too, in .env only), pglite:<dir>, pglite:memory, sqlite:<file>
# DATABASE_URL=
# DEV_DATABASE_URL=postgres://app@localhost:5432/app_dev
# TEST_DATABASE_URL=postgres://app@localhost:5432/app_test
# PROD_DATABASE_URL=
`;
