/**
 * The team database Makefile as commands: setup (server, services, the branch's database,
 * migrations), reset (empty and migrate again), wipe (drop this branch's database), teardown (stop
 * everything and delete local data), and the list of branch databases. Every destructive step
 * passes the production guard first.
 */
import { existsSync, readdirSync, rmSync } from "node:fs";
import { basename, dirname, extname, join } from "node:path";
import { explainDatabaseUrl, branchDatabase, productionUrls, resolveDatabaseUrl, type LoadedConfig } from "../env/config.js";
import { branchDatabaseUrl, localBranches, readGitState } from "../env/branch.js";
import { databaseIdentity, guardProduction } from "../env/guard.js";
import { parseDatabaseUrl, redactUrl } from "../env/url.js";
import { openDriver } from "../dialects/open.js";
import { EMPTY_SCHEMA } from "../schema/snapshot.js";
import { upgrade, type CommandOptions, type RunResult } from "../runtime/api.js";
import { createDatabase, databaseExists, dropDatabase, resetPostgresSchemas, type CreatedDatabase } from "./databases.js";
import { LocalServer } from "./local-server.js";
import { startServices, stopServices } from "./services.js";
import type { SeedResult } from "./seeds.js";

export interface WorkflowOptions extends CommandOptions {
  config: LoadedConfig;
  /** A line of progress for people. */
  onStep?: (line: string) => void;
  /** reset / wipe only: a person asked to override the production guard (they still type the name). */
  forceProduction?: boolean;
  /** The terminal prompt (tests pass one). */
  ask?: (question: string) => Promise<string>;
  /** teardown: asked after the production guard passed, before anything is stopped or deleted. */
  confirm?: () => Promise<void>;
  /** setup (default true) and reset (default false): run the seeds after migrating, when there is a seeds folder. */
  seed?: boolean;
}

/** The seeds, after setup or reset migrated `url` (none without a seeds folder). */
async function seedAfter(options: WorkflowOptions, url: string, asked: boolean): Promise<SeedResult | undefined> {
  const { runSeeds } = await import("./seeds.js");
  return runSeeds({ config: options.config, url, ...(options.env ? { env: options.env } : {}), optional: true, skipInProduction: !asked, ...(options.onStep ? { onStep: options.onStep } : {}) });
}

function resolveOptions(options: WorkflowOptions) {
  return { config: options.config, ...(options.url ? { url: options.url } : {}), ...(options.env ? { env: options.env } : {}) };
}

async function guard(action: string, options: WorkflowOptions, overridable: boolean): Promise<string> {
  const url = resolveDatabaseUrl(resolveOptions(options));
  const { environment } = explainDatabaseUrl(resolveOptions(options));
  await guardProduction(
    { action, environment, url, productionUrls: productionUrls(resolveOptions(options)), overridable, ...(options.forceProduction ? { forceProduction: true } : {}) },
    ...(options.ask ? [options.ask] : []),
  );
  return url;
}

export interface PreparedDatabase extends CreatedDatabase {
  url: string;
  /** The database did not exist and was made now. */
  created: boolean;
  branch?: string;
}

/**
 * Make sure the database the environment names exists: a branch's database is created as a copy
 * of its parent branch's (then migrations bring it to this branch's head); a Postgres database is
 * created empty. PGlite and SQLite databases are created by opening them. `branchOnly`: do nothing
 * unless development uses a branch database (what `retort upgrade` asks before it runs).
 */
export async function prepareDatabase(options: WorkflowOptions & { branchOnly?: boolean }): Promise<PreparedDatabase | undefined> {
  const branch = branchDatabase(resolveOptions(options));
  if (options.branchOnly && !branch) return undefined;
  const url = branch?.url ?? resolveDatabaseUrl(resolveOptions(options));
  if (await databaseExists(url)) return { url, created: false, ...(branch ? { branch: branch.branch } : {}) };
  // The parent branch's database; else the one used before branch databases (a project's existing `app`).
  const parent =
    branch?.parent && (await databaseExists(branch.parent.url))
      ? { url: branch.parent.url, what: `branch ${branch.parent.branch}` }
      : branch && branch.baseUrl !== url && (await databaseExists(branch.baseUrl))
        ? { url: branch.baseUrl, what: "the database from before branch databases" }
        : undefined;
  const made = await createDatabase(url, parent?.url);
  const copied = made.copiedFrom ? ` as a copy of ${redactUrl(made.copiedFrom)} (${parent!.what})` : "";
  options.onStep?.(`created ${redactUrl(url)}${copied}${made.copyFailed ? ` empty (could not copy the parent branch's database: ${made.copyFailed})` : ""}`);
  return { url, created: true, ...made, ...(branch ? { branch: branch.branch } : {}) };
}

export interface SetupResult {
  server?: { started: boolean; url: string };
  services: Array<{ name: string; started: boolean }>;
  database: PreparedDatabase;
  upgrade: RunResult;
  seeds?: SeedResult;
}

/** `retort setup`: local server (when configured), services, the database, migrations to head. */
export async function setup(options: WorkflowOptions): Promise<SetupResult> {
  const step = options.onStep ?? (() => {});
  let server: SetupResult["server"];
  if (options.config.config.localServer) {
    const local = new LocalServer(options.config);
    const up = await local.up(step);
    server = { started: !up.alreadyRunning, url: up.status.url };
    step(up.alreadyRunning ? `local Postgres already running on port ${up.status.port}` : `local Postgres ${up.status.version} up on port ${up.status.port}`);
  }
  const services = (await startServices(options.config, undefined, step)).map((s) => ({ name: s.name, started: s.started }));
  const database = (await prepareDatabase(options))!;
  const result = await upgrade("heads", { ...options, url: database.url });
  step(result.revisions.length ? `upgraded ${redactUrl(database.url)} to ${result.to.join(", ")} (${result.revisions.length} revision(s))` : `${redactUrl(database.url)} is at head`);
  const seeds = options.seed === false ? undefined : await seedAfter(options, database.url, options.seed === true);
  return { ...(server ? { server } : {}), services, database, upgrade: result, ...(seeds ? { seeds } : {}) };
}

/**
 * `retort reset`: drop every object of the schemas Retort manages (Postgres: each schema dropped
 * and created again with its owner and grants; PGlite and SQLite: the folder or file) and upgrade
 * to head.
 */
export async function reset(options: WorkflowOptions): Promise<{ url: string; schemas?: string[]; upgrade: RunResult; seeds?: SeedResult }> {
  const url = await guard("retort reset", options, true);
  let schemas: string[] | undefined;
  if (parseDatabaseUrl(url).dialect === "postgres") schemas = await resetPostgresSchemas(url, options.config.config.schemas ?? ["public"]);
  else await dropDatabase(url);
  options.onStep?.(`emptied ${redactUrl(url)}`);
  const result = await upgrade("heads", { ...options, url });
  const seeds = options.seed ? await seedAfter(options, url, true) : undefined;
  return { url: redactUrl(url), ...(schemas ? { schemas } : {}), upgrade: result, ...(seeds ? { seeds } : {}) };
}

/** `retort wipe`: drop the current branch's database (only that one). */
export async function wipe(options: WorkflowOptions): Promise<{ url: string; dropped: boolean }> {
  const url = await guard("retort wipe", options, true);
  const dropped = await dropDatabase(url);
  return { url: redactUrl(url), dropped };
}

/** `retort teardown`: stop the services and the local server, delete the project's local data. */
export async function teardown(options: WorkflowOptions): Promise<{ stopped: string[]; deleted: string[] }> {
  await guard("retort teardown", options, false);
  await options.confirm?.();
  const stopped: string[] = [];
  for (const service of await stopServices(options.config)) if (service.stopped) stopped.push(service.name);
  const deleted: string[] = [];
  if (options.config.config.localServer) {
    const local = new LocalServer(options.config);
    if (local.down()) stopped.push("local Postgres");
    // Outside the project when the server's user could not reach it (see local-server.ts).
    if (!local.paths.root.startsWith(join(options.config.root, ".retort")) && existsSync(local.paths.root)) {
      rmSync(dirname(local.paths.root), { recursive: true, force: true });
      deleted.push(dirname(local.paths.root));
    }
  }
  const local = join(options.config.root, ".retort");
  if (existsSync(local)) {
    rmSync(local, { recursive: true, force: true });
    deleted.push(local);
  }
  return { stopped, deleted };
}

export interface BranchDatabaseEntry {
  /** The database, folder or file (password masked). */
  url: string;
  /** The branch it belongs to, when a local branch maps to it. */
  branch?: string;
  current: boolean;
  /** No local branch maps to it any more. */
  stale: boolean;
}

/** `retort db branches`: the branch databases of this project, the stale ones marked; `prune` drops those. */
export async function branchDatabases(options: WorkflowOptions & { prune?: boolean }): Promise<{ databases: BranchDatabaseEntry[]; pruned: string[] }> {
  const current = branchDatabase(resolveOptions(options));
  const state = readGitState(options.config.root);
  if (!current || !state) return { databases: [], pruned: [] };
  const byIdentity = new Map<string, string>();
  for (const branch of localBranches(state)) byIdentity.set(databaseIdentity(branchDatabaseUrl(current.baseUrl, branch, options.config.root)) ?? "", branch);
  const found = await candidates(current.baseUrl, options.config.root);
  const databases = found.map((url): BranchDatabaseEntry & { raw: string } => {
    const branch = byIdentity.get(databaseIdentity(url) ?? "");
    return { raw: url, url: redactUrl(url), ...(branch ? { branch } : {}), current: databaseIdentity(url) === databaseIdentity(current.url), stale: branch === undefined };
  });
  const pruned: string[] = [];
  if (options.prune) {
    for (const entry of databases.filter((d) => d.stale && !d.current)) {
      await dropDatabase(entry.raw);
      pruned.push(entry.url);
    }
  }
  return { databases: databases.map(({ raw: _raw, ...entry }) => entry), pruned };
}

/** Every database that looks like a branch database of `base`: same server and name prefix, folder or file pattern. */
async function candidates(base: string, root: string): Promise<string[]> {
  const target = parseDatabaseUrl(base);
  if (target.dialect === "postgres") {
    const parsed = new URL(base);
    const prefix = `${decodeURIComponent(parsed.pathname.slice(1)) || "postgres"}_`;
    parsed.pathname = "/postgres";
    const driver = await openDriver(parseDatabaseUrl(parsed.toString()), EMPTY_SCHEMA);
    try {
      const { rows } = await driver.query<{ datname: string }>("SELECT datname FROM pg_database WHERE NOT datistemplate AND starts_with(datname, $1) ORDER BY 1", [prefix]);
      return rows.map((row) => {
        const url = new URL(base);
        url.pathname = `/${encodeURIComponent(row.datname)}`;
        return url.toString();
      });
    } finally {
      await driver.close();
    }
  }
  if (target.dialect === "pglite") {
    // The embedded default keeps one folder per branch under .retort/pglite; another folder <dir>.<slug>.
    const folder = join(root, ".retort", "pglite");
    const sample = parseDatabaseUrl(branchDatabaseUrl(base, "x", root));
    const perBranchFolder = sample.dialect === "pglite" && sample.dataDir !== undefined && dirname(sample.dataDir) === folder;
    const dir = perBranchFolder ? folder : dirname(target.dataDir ?? ".");
    const prefix = perBranchFolder ? "" : `${basename(target.dataDir ?? "")}.`;
    return list(dir)
      .filter((name) => name.startsWith(prefix) && existsSync(join(dir, name, "PG_VERSION")))
      .map((name) => `pglite:${join(dir, name)}`);
  }
  if (target.filename === ":memory:") return [];
  const ext = extname(target.filename);
  const stem = basename(target.filename, ext);
  const dir = dirname(target.filename);
  return list(dir)
    .filter((name) => name.startsWith(`${stem}.`) && name.endsWith(ext || ".sqlite3") && name !== basename(target.filename))
    .map((name) => `sqlite:${join(dir, name)}`);
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}
