/**
 * The migration commands as library functions: `upgrade(config, "head")` and friends. The CLI is
 * a thin layer over these. Each returns data (for --json) and never prints.
 */
import { hash } from "node:crypto";
import { mkdirSync, writeFileSync, existsSync } from "node:fs";
import { join, relative } from "node:path";
import type { Database } from "../db/database.js";
import type { ConnectionTarget } from "../env/url.js";
import { parseDatabaseUrl, redactUrl } from "../env/url.js";
import type { Connection, Driver, HeldConnection } from "../dialects/driver.js";
import { openDriver } from "../dialects/open.js";
import { cacheDirectory, loadConfig, migrationsDirectory, resolveDatabaseUrl, type LoadedConfig } from "../env/config.js";
import { RetortError } from "../errors.js";
import { EMPTY_SCHEMA, familyOf, type Dialect } from "../schema/snapshot.js";
import {
  RevisionGraph,
  appliedRevisions,
  applyStep,
  downgradePlan,
  loadScriptDirectory,
  migrationFileName,
  newRevisionId,
  renderMigration,
  resolveRange,
  resolveRevision,
  resolveTarget,
  upgradePlan,
  type Revision,
} from "../script/index.js";
import { acquireMigrationLock } from "./lock.js";
import { MigrationExecutor, type InProgressRevision, type ProgressEvent } from "./executor.js";
import type { PlannedRevision } from "./plan.js";

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

/** The command's config: the one given, else loaded once from options.config or the folder. */
export async function configOf(options: CommandOptions): Promise<LoadedConfig> {
  if (typeof options.config === "object") return options.config;
  return loadConfig(options.config, options.cwd);
}

function scripts(loaded: LoadedConfig): { graph: RevisionGraph; dir: string } {
  const dir = migrationsDirectory(loaded);
  const cacheFile = join(cacheDirectory(loaded), `headers-${hash("sha256", dir, "hex").slice(0, 16)}.json`);
  const directory = loadScriptDirectory(dir, { cacheFile });
  return { graph: new RevisionGraph(directory.revisions), dir };
}

/** The configured database's driver (or the given open database's) for fn; closed after unless given. */
async function withDriver<T>(loaded: LoadedConfig, options: CommandOptions, fn: (driver: Driver, target: ConnectionTarget, url: string) => Promise<T>): Promise<T> {
  const url = options.database ? describeTarget(options.database.target) : resolveDatabaseUrl(loaded, options);
  const target = options.database?.target ?? parseDatabaseUrl(url);
  const driver = options.database?.driver ?? (await openDriver(target, EMPTY_SCHEMA));
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

/** Take the migration lock, then ensure the version tables and run fn on one connection. */
async function withMigrationContext<T>(loaded: LoadedConfig, options: CommandOptions, fn: (ctx: { executor: MigrationExecutor; dialect: Dialect; target: ConnectionTarget; url: string }) => Promise<T>): Promise<T> {
  return withDriver(loaded, options, async (driver, target, url) => {
    const lock = await acquireMigrationLock(target, driver, loaded.config.migrations?.lockTimeoutMs ?? 60_000);
    try {
      return await withConnection(driver, async (conn) => {
        const executor = new MigrationExecutor(driver, conn, familyOf(driver.dialect));
        await executor.ensureTables();
        return fn({ executor, dialect: driver.dialect, target, url });
      });
    } finally {
      await lock.release();
    }
  });
}

/** Run fn on one connection of the configured database (or the given open one); no lock, no version tables. */
export async function withDatabase<T>(loaded: LoadedConfig, options: CommandOptions, fn: (conn: Connection, dialect: Dialect) => Promise<T>): Promise<T> {
  return withDriver(loaded, options, (driver) => withConnection(driver, (conn) => fn(conn, driver.dialect)));
}

function describeTarget(target: ConnectionTarget): string {
  switch (target.dialect) {
    case "postgres":
      return target.url;
    case "pglite":
      return `pglite:${target.dataDir ?? "memory"}`;
    case "sqlite":
      return `sqlite:${target.filename}`;
  }
}

async function compilePlan(revisions: readonly Revision[], direction: "up" | "down", dialect: Dialect, graph: RevisionGraph, startHeads: string[]): Promise<PlannedRevision[]> {
  // Nothing to run: do not load a single module (a no-op upgrade must stay fast at any history size).
  if (revisions.length === 0) return [];
  const { compileRevision, foldRevisions, preloadMigrations, recordOperations } = await import("./plan.js");
  const applied = startHeads.length === 0 ? [] : upgradePlan(graph, [], startHeads);
  await preloadMigrations([...applied, ...revisions]);
  // The schema before the plan: the fold of what is applied, which SQLite rebuilds compile against.
  let schema = await foldRevisions(applied);
  const planned: PlannedRevision[] = [];
  for (const file of revisions) {
    const ops = await recordOperations(file, direction);
    const compiled = compileRevision(file, direction, ops, dialect, schema);
    planned.push(compiled.planned);
    schema = compiled.after;
  }
  return planned;
}

function stepper(graph: RevisionGraph) {
  return (heads: Set<string>, revision: PlannedRevision) => {
    const next = new Set(heads);
    applyStep(next, revision.file, revision.direction, graph);
    return next;
  };
}

/** Revisions applied now (below the current heads) whose file differs from what ran. */
function checkModified(graph: RevisionGraph, currentHeads: string[], recorded: Map<string, string>, loaded: LoadedConfig, options: CommandOptions): void {
  const applied = appliedRevisions(graph, currentHeads.filter((id) => graph.has(id)));
  const modified = [...applied]
    .filter((id) => recorded.has(id) && recorded.get(id) !== graph.require(id).checksum)
    .map((id) => graph.require(id));
  if (modified.length === 0) return;
  const files = modified.map((revision) => `  ${revision.path} (${revision.revision})`).join("\n");
  const message = `${modified.length} applied migration file(s) changed since they ran:\n${files}`;
  if (loaded.config.migrations?.modifiedMigrations === "warn") {
    options.onWarning?.(message);
    return;
  }
  throw new RetortError("RETORT_MODIFIED_MIGRATION", message, {
    hint: "Restore the file as it was applied and put the change in a new revision (retort revision -m …). To accept edits, set migrations.modifiedMigrations to \"warn\".",
    details: { revisions: modified.map((r) => ({ revision: r.revision, file: r.path })) },
  });
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
  const { graph } = scripts(loaded);
  return withMigrationContext(loaded, options, async ({ executor, dialect, url }) => {
    const from = await executor.currentHeads();
    checkModified(graph, from, await executor.appliedChecksums(), loaded, options);
    const revisions = direction === "up" ? upgradePlan(graph, from, target) : downgradePlan(graph, from, target);
    const plan = await compilePlan(revisions, direction, dialect, graph, from);
    const to = await executor.run(plan, from, stepper(graph), {
      transaction: loaded.config.migrations?.transaction ?? "each",
      resume: await executor.unfinished(),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(options.onWarning ? { onWarning: options.onWarning } : {}),
    });
    return { url: redactUrl(url), direction, from, to, revisions: revisions.map((r) => ({ revision: r.revision, message: r.message })) };
  });
}

/**
 * Offline SQL for an upgrade or downgrade, without connecting. `range` is "target" (from base,
 * or from the given start) or "start:end".
 */
export async function migrationSql(direction: "up" | "down", range: string, options: CommandOptions & { dialect?: Dialect } = {}): Promise<string> {
  const loaded = await configOf(options);
  const { graph } = scripts(loaded);
  const dialect = options.dialect ?? parseDatabaseUrl(resolveDatabaseUrl(loaded, options)).dialect;
  // "b" alone means from base (upgrade); a downgrade needs "start:end" since there is no database to ask.
  if (!range.includes(":") && direction === "down") {
    throw new RetortError("RETORT_UNKNOWN_REVISION", `offline downgrade needs a range <from>:<to>, got "${range}"`, { hint: "e.g. retort downgrade head:base --sql" });
  }
  const { start, end } = range.includes(":") ? resolveRange(graph, range, []) : { start: [] as string[], end: resolveTarget(graph, range, []).map((r) => r.revision) };
  const revisions = direction === "up" ? upgradePlan(graph, start, end) : downgradePlan(graph, start, end.length === 0 ? "base" : end);
  const plan = await compilePlan(revisions, direction, dialect, graph, start);
  const { renderPlanSql } = await import("./offline.js");
  return renderPlanSql(plan, dialect, start, stepper(graph), loaded.config.migrations?.transaction ?? "each");
}

/** The database's current revision(s), and any revision whose run has not finished (running, killed, or failed part-way). */
export async function current(options: CommandOptions = {}): Promise<{ url: string; heads: Array<{ revision: string; message: string; isHead: boolean }>; inProgress: InProgressRevision[] }> {
  const loaded = await configOf(options);
  const { graph } = scripts(loaded);
  return withMigrationContext(loaded, options, async ({ executor, url }) => {
    const heads = await executor.currentHeads();
    const fileHeads = new Set(graph.heads.map((r) => r.revision));
    return {
      url: redactUrl(url),
      heads: heads.map((id) => ({ revision: id, message: graph.get(id)?.message ?? "(no file for this revision)", isHead: fileHeads.has(id) })),
      inProgress: await executor.inProgress(),
    };
  });
}

/** Set the version table to `target` without running migrations (`purge` clears it first). */
export async function stamp(target: string, options: CommandOptions & { purge?: boolean } = {}): Promise<RunResult> {
  const loaded = await configOf(options);
  const { graph } = scripts(loaded);
  return withMigrationContext(loaded, options, async ({ executor, url }) => {
    const from = await executor.currentHeads();
    const start = options.purge ? [] : from;
    const targets = resolveTarget(graph, target, start).map((r) => r.revision);
    await executor.setHeads(new Set(from), new Set(targets));
    return { url: redactUrl(url), direction: "up", from, to: [...targets].sort(), revisions: [] };
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
}

/** Write a new revision file; returns its path and header. */
export async function revision(spec: NewRevision, options: CommandOptions = {}): Promise<{ path: string; revision: string; parents: string[] }> {
  const loaded = await configOf(options);
  const dir = migrationsDirectory(loaded);
  if (!existsSync(dir)) {
    throw new RetortError("RETORT_BAD_MIGRATION_FILE", `migrations folder ${dir} does not exist`, { hint: "Run `retort init` first." });
  }
  const { graph } = scripts(loaded);
  const id = spec.revId ?? newRevisionId();
  if (graph.has(id)) throw new RetortError("RETORT_DUPLICATE_REVISION", `revision ${id} already exists (${graph.require(id).path})`, { hint: "Pick another --rev-id, or leave it out for a random one." });
  let parents: string[];
  if (spec.parents) {
    parents = spec.parents.flatMap((p) => resolveTarget(graph, p, []).map((r) => r.revision));
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
  const createdAt = new Date();
  const path = join(dir, migrationFileName(createdAt, spec.message));
  const text = renderMigration({
    revision: id,
    parents,
    message: spec.message,
    createdAt: createdAt.toISOString(),
    ...(spec.branchLabel ? { branchLabels: [spec.branchLabel] } : {}),
    ...(spec.dependsOn?.length ? { dependsOn: spec.dependsOn.flatMap((d) => resolveTarget(graph, d, []).map((r) => r.revision)) } : {}),
    ...(spec.upgradeBody ? { upgradeBody: spec.upgradeBody } : {}),
    ...(spec.downgradeBody ? { downgradeBody: spec.downgradeBody } : {}),
    moduleSpecifier: loaded.config.migrations?.importFrom ?? "retort",
    ...(spec.imports?.length ? { imports: [`import { ${[...new Set(spec.imports)].sort().join(", ")} } from ${JSON.stringify(loaded.config.migrations?.importFrom ?? "retort")};`] } : {}),
  });
  writeFileSync(path, text, { flag: "wx" });
  return { path: relative(options.cwd ?? process.cwd(), path), revision: id, parents };
}

/** Create retort.config.ts and the migrations folder. */
export function init(options: { cwd?: string; directory?: string } = {}): { created: string[] } {
  const cwd = options.cwd ?? process.cwd();
  const created: string[] = [];
  const configFile = join(cwd, "retort.config.ts");
  const directory = options.directory ?? "migrations/versions";
  if (!existsSync(configFile)) {
    writeFileSync(
      configFile,
      `import { defineConfig } from "retort/config";\n\nexport default defineConfig({\n  models: "./src/schema.ts",\n  migrations: { directory: "${directory}" },\n});\n`,
    );
    created.push("retort.config.ts");
  }
  const dir = join(cwd, directory);
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true });
    created.push(`${directory}/`);
  }
  return { created };
}
