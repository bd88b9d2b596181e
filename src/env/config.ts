/**
 * `retort.config.ts`: where the models and migrations are, how migrations run, and which
 * database to use. May be TypeScript (see import-module.ts).
 */
import { hash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { RetortError } from "../errors.js";
import { branchDatabaseUrl, branchOrCommit, parentBranch, readGitState } from "./branch.js";
import { environmentOf } from "./environment.js";
import { nearestFile } from "./compiled-cache.js";
import { importModule } from "./import-module.js";
import type { PoolerMode } from "./postgres-url.js";
import { redactUrl } from "./url.js";
import { makeDirectory } from "./make-directory.js";

export interface MigrationSettings {
  /** Folder of revision files, relative to the config file (default "migrations/versions"). */
  directory?: string;
  /** "each" (default): one transaction per migration; "all": one around the whole run. */
  transaction?: "each" | "all";
  /** How long to wait for another process's migration lock, or for a PGlite directory another process has open (default 60 s). */
  lockTimeoutMs?: number;
  /** An applied migration whose file changed: "error" (default) or "warn". */
  modifiedMigrations?: "error" | "warn";
  /** Module that new revision files import `defineMigration` from (default "retort-db"). */
  importFrom?: string;
  /** true: the revision graph must stay one line; `revision`, `merge` and `upgrade` refuse a second head (RETORT_NOT_LINEAR). */
  linear?: boolean;
  /**
   * Expand revisions whose contract may run without `retort release`: "all" (the gate is off),
   * a list of revisions, or a function of the expand revision (e.g. reading the deployed version).
   */
  released?: "all" | string[] | ((expand: string) => boolean | Promise<boolean>);
}

/** A Postgres duration as lock_timeout takes it: "5s", "500ms", "1min", "2h" (or plain milliseconds). */
export const POSTGRES_DURATION = /^\d+\s*(ms|s|min|h)?$/;

/** How `revision --autogenerate` writes migrations. */
export interface AutogenerateSettings {
  /** Postgres/PGlite: lock-friendly forms for tables that already exist (default true; see autogenerate/safe.ts). */
  safe?: boolean;
  /** The lock_timeout generated migrations set on Postgres (default "5s"). */
  lockTimeout?: string;
}

/** The project's local Postgres server (`retort db up`). */
export interface LocalServerSettings {
  /** Port on 127.0.0.1 (default 5433, beside a system server on 5432). */
  port?: number;
  /** Major version of the binaries to use (default: the newest installed). */
  version?: number;
  /** Name of the project's database (default: from package.json's name or the folder's). */
  database?: string;
  /** false: fsync and synchronous commit off, for throwaway clusters (default true). */
  durable?: boolean;
  /** OS user the server runs as when Retort runs as root (default "postgres"). */
  osUser?: string;
  /** More postgresql.conf settings, e.g. { log_statement: "all" }. */
  settings?: Record<string, string | number | boolean>;
}

/** A development service started and stopped with the database (`services` in the config). */
export interface ServiceSettings {
  /** Shell command that starts it (it may stay in the foreground or daemonize itself). */
  start: string;
  /** Shell command that stops it (default: SIGTERM to the process group Retort started). */
  stop?: string;
  /** When it is ready: a TCP port on 127.0.0.1 (or "host:port") that accepts connections, or a command that exits 0. */
  ready?: { tcp: number | string } | { command: string };
  /** Shell command that exits 0 while it runs (default: the readiness check, else the started process). */
  status?: string;
  /** How long to wait for readiness (default 30 s). */
  timeoutMs?: number;
  /** Folder the commands run in, relative to the config (default: the config's folder). */
  cwd?: string;
  env?: Record<string, string>;
}

/**
 * The variables that hold database URLs, when a team's names differ from Retort's: e.g.
 * `{ url: "POSTGRES_URL" }` or `{ production: ["PROD_PG_URL", "PRIMARY_URL"] }` (first set wins).
 */
export interface EnvironmentNames {
  /** Read first in every environment (default DATABASE_URL). */
  url?: string | string[];
  /** Per environment (defaults DEV_DATABASE_URL, TEST_DATABASE_URL, PROD_DATABASE_URL). */
  development?: string | string[];
  test?: string | string[];
  production?: string | string[];
  /** Other environments by name (default <NAME>_DATABASE_URL, e.g. STAGING_DATABASE_URL). */
  environments?: Record<string, string | string[]>;
}

/** A lint rule's level in the config: a severity, or "off". */
export type LintRuleLevel = "error" | "warning" | "info" | "off";

/** `lint` in retort.config.*. */
export interface LintSettings {
  /** Postgres major version the migrations run on (default: the server's with --url, else 14). */
  postgresVersion?: number;
  /** Per rule: "off", or the severity to report it with. */
  rules?: Record<string, LintRuleLevel>;
  /** Limits checked with --url; a finding over one becomes an error. */
  budgets?: LintBudgets;
  /** Throughput of the duration model (MB/s); see live.ts. */
  throughput?: { scanMBps?: number; rewriteMBps?: number; indexMBps?: number };
  /** Below this many rows a locking finding is graded small and reported as info (default 10,000). */
  smallTableRows?: number;
  /** Transactions open longer than this are reported with --url (default 60 s). */
  longTransactionSeconds?: number;
}

export interface LintBudgets {
  /** Most rows an ACCESS EXCLUSIVE lock may be held over while the table is scanned or rewritten. */
  accessExclusiveRows?: number;
  /** Most rows a lock that blocks writes (SHARE, SHARE ROW EXCLUSIVE, ACCESS EXCLUSIVE) may be held over. */
  blockingWritesRows?: number;
  /** Most estimated seconds any lock that blocks the app may be held. */
  lockSeconds?: number;
}

export interface RetortConfig {
  /** The module exporting your models (for autogenerate and check). */
  models?: string;
  /** Database URL when neither --url nor the environment gives one. */
  url?: string;
  /** Names of the variables holding database URLs (default DATABASE_URL, then DEV_/TEST_/PROD_DATABASE_URL). */
  env?: EnvironmentNames;
  /** "transaction" behind a connection pooler in transaction mode (PgBouncer before 1.21): unnamed statements only. */
  pooler?: PoolerMode;
  migrations?: MigrationSettings;
  autogenerate?: AutogenerateSettings;
  /**
   * Which live tables Retort looks at (introspection, check, drift, autogenerate --url, pull):
   * names or globs (`*`, `?`). Other tools' version tables are left out unless included by name.
   */
  tables?: { include?: string[]; exclude?: string[] };
  /** Postgres schema(s) Retort reads (default ["public"]; one schema today). */
  schemas?: string[];
  /** One database per git branch in development (default true; $RETORT_BRANCH_DATABASES=0 turns it off too). */
  branchDatabases?: boolean;
  localServer?: LocalServerSettings;
  services?: Record<string, ServiceSettings>;
  /** `retort lint`: target Postgres version, rule levels, budgets checked with --url. */
  lint?: LintSettings;
  /** Development data: `retort seed`, and `retort setup` / `reset --seed`. */
  seeds?: SeedSettings;
}

export interface SeedSettings {
  /** Folder of seed files, relative to the config file (default "seeds"); they run in name order. */
  directory?: string;
}

/** Typed helper for `export default defineConfig({ … })`. */
export function defineConfig(config: RetortConfig): RetortConfig {
  return config;
}

export interface LoadedConfig {
  config: RetortConfig;
  /** The folder relative paths are resolved against (the config file's folder, or cwd). */
  root: string;
  /** The config file, when one was found. */
  file?: string;
}

export const CONFIG_NAMES = ["retort.config.ts", "retort.config.mts", "retort.config.js", "retort.config.mjs"];

/**
 * Bump when config-schema.ts removes or narrows a key: configs validated before are then checked
 * again (see validated()).
 */
const SCHEMA_REVISION = 5;

/**
 * Load `path`, or look for retort.config.* in `cwd`, and validate it (RETORT_CONFIG names each
 * bad key). No file: defaults (commands that need a file say so: see requireConfigFile).
 */
export async function loadConfig(path?: string, cwd = process.cwd()): Promise<LoadedConfig> {
  const file = path ? resolve(cwd, path) : CONFIG_NAMES.map((name) => join(cwd, name)).find((candidate) => existsSync(candidate));
  if (!file) return { config: {}, root: cwd };
  if (!existsSync(file)) {
    throw new RetortError("RETORT_CONFIG", `config file not found: ${path}`, { hint: "Run `retort init` to create one, or fix --config." });
  }
  let namespace: Record<string, unknown>;
  try {
    namespace = (await importModule(file)) as Record<string, unknown>;
  } catch (error) {
    throw new RetortError("RETORT_CONFIG", `could not load ${file}: ${(error as Error).message}`, { cause: error, hint: "Fix the error in the config file; it must `export default defineConfig({ … })`." });
  }
  const config = namespace.default;
  if (config === undefined) {
    const named = Object.keys(namespace).filter((key) => key !== "default");
    throw new RetortError("RETORT_CONFIG", `${file} has no default export${named.length ? ` (it exports ${named.map((n) => `\`${n}\``).join(", ")})` : ""}, so Retort would run with silent defaults.`, {
      hint: "Export the config as the default: `export default defineConfig({ … })`.",
      details: { file },
    });
  }
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    throw new RetortError("RETORT_CONFIG", `${file} must export a config object as its default export`, { hint: "export default defineConfig({ … })", details: { file } });
  }
  const root = dirname(file);
  if (!validated(config, file)) {
    const { validateConfig } = await import("./config-schema.js");
    validateConfig(config, file);
    remember(config, file);
  }
  return { config: concealUrl(config as RetortConfig), root, file };
}

/**
 * A config identical (as JSON) to one validated before is not validated again: loading zod costs
 * more than the rest of a no-op `retort current`. The mark is kept where the compiled-code cache
 * is (node_modules/.cache/retort; no node_modules, no mark), never in the project: a command that
 * fails must leave nothing behind. Values JSON cannot hold (functions, undefined…) are never
 * marked, so they are always checked.
 */
function fingerprint(config: object): string | undefined {
  let plain = true;
  const text = JSON.stringify(config, (_key, value: unknown) => {
    if (value === undefined || typeof value === "function" || typeof value === "symbol" || typeof value === "bigint") plain = false;
    else if (typeof value === "object" && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) plain = false;
    return value;
  });
  return plain ? hash("sha256", `${SCHEMA_REVISION}\n${text}`, "hex") : undefined;
}

/** The mark for one config file, or undefined where there is no node_modules to keep it in. */
function markFile(file: string): string | undefined {
  const modules = nearestFile(dirname(file), "node_modules");
  return modules && join(modules, ".cache", "retort", `config-${hash("sha256", file, "hex").slice(0, 16)}.checked`);
}

function validated(config: object, file: string): boolean {
  const print = fingerprint(config);
  const mark = markFile(file);
  if (!print || !mark) return false;
  try {
    return readFileSync(mark, "utf8") === print;
  } catch {
    return false;
  }
}

function remember(config: object, file: string): void {
  const print = fingerprint(config);
  const mark = markFile(file);
  if (!print || !mark) return;
  try {
    makeDirectory(dirname(mark));
    writeFileSync(mark, print);
  } catch {
    // A read-only node_modules: validate again next time.
  }
}

/**
 * Commands that write files or compare the models (revision, check, autogenerate…) need a config
 * file; looked up from disk and not found, they say so and point at `retort init`.
 */
export function requireConfigFile(loaded: LoadedConfig, command: string): void {
  if (loaded.file) return;
  throw new RetortError("RETORT_CONFIG", `\`retort ${command}\` needs a config file, and there is no ${CONFIG_NAMES.join(", ")} in ${loaded.root}.`, {
    hint: "Run `retort init` to create retort.config.ts and migrations/versions/, or pass --config <file>.",
    details: { folder: loaded.root },
  });
}

/** A copy whose `url` (it may hold a password) is not enumerable, so logging or serialising a loaded config cannot show it. */
function concealUrl(config: RetortConfig): RetortConfig {
  if (typeof config.url !== "string") return config;
  const copy = { ...config };
  Object.defineProperty(copy, "url", { value: config.url, enumerable: false });
  return copy;
}

export function migrationsDirectory(loaded: LoadedConfig): string {
  return resolve(loaded.root, loaded.config.migrations?.directory ?? "migrations/versions");
}

/** Where Retort keeps what it can always recompute (header cache, head schemas): .retort/cache next to the config. */
export function cacheDirectory(loaded: LoadedConfig): string {
  return join(loaded.root, ".retort", "cache");
}

/** The embedded default database: PGlite under .retort/<dev|test> next to the config. */
export function defaultDatabaseUrl(loaded: LoadedConfig, environment: "development" | "test" = "development"): string {
  return `pglite:${join(loaded.root, ".retort", environment === "test" ? "test" : "dev")}`;
}

export interface ResolveUrlOptions {
  /** An explicit URL (the CLI's --url): wins over everything. */
  url?: string;
  /** The environment name (the CLI's --env); default $RETORT_ENV, else $NODE_ENV, else development. */
  env?: string;
  /** The config (loaded, or the object a config file exports); default: none, relative paths from cwd. */
  config?: LoadedConfig | RetortConfig;
  /** Where relative paths resolve without a loaded config (default process.cwd()). */
  cwd?: string;
  /** The variables to read (default process.env). */
  environment?: NodeJS.ProcessEnv;
}

/** Which database, and why: what `retort env` and error messages show. Holds no password. */
export interface DatabaseUrlChoice {
  /** development, test, production, or the name given (staging…). */
  environment: string;
  /** Where the environment name came from: "--env", "$RETORT_ENV", "$NODE_ENV" or "default". */
  environmentSource: string;
  /** Where the URL came from: "--url", "$DATABASE_URL", "$PROD_DATABASE_URL", "config url", "embedded default". */
  source: string;
  /** The URL, password masked. */
  url: string;
  /** In development with branch databases: the git branch (or detached commit) the URL is for. */
  branch?: string;
  /** Before the branch suffix: the URL the environment named (masked). */
  baseUrl?: string;
}

const DEFAULT_VARIABLES: Record<string, string> = { development: "DEV_DATABASE_URL", test: "TEST_DATABASE_URL", production: "PROD_DATABASE_URL" };

function loadedOf(options: ResolveUrlOptions): LoadedConfig {
  const config = options.config;
  if (config && "root" in config && "config" in config && typeof config.root === "string") return config as LoadedConfig;
  return { config: (config as RetortConfig | undefined) ?? {}, root: options.cwd ?? process.cwd() };
}

const list = (names: string | string[] | undefined): string[] | undefined => (names === undefined ? undefined : Array.isArray(names) ? names : [names]);

/** The variables read for a URL in every environment (DATABASE_URL unless the config renames it). */
export function generalUrlVariables(loaded: LoadedConfig): string[] {
  return list(loaded.config.env?.url) ?? ["DATABASE_URL"];
}

/** The variables read for `environment`'s URL (DEV_/TEST_/PROD_DATABASE_URL, <NAME>_DATABASE_URL, or the config's names). */
export function environmentUrlVariables(loaded: LoadedConfig, environment: string): string[] {
  const names = loaded.config.env;
  return (
    list(names?.[environment as keyof EnvironmentNames] as string | string[] | undefined) ??
    list(names?.environments?.[environment]) ?? [DEFAULT_VARIABLES[environment] ?? `${environment.toUpperCase().replace(/[^A-Z0-9]+/g, "_")}_DATABASE_URL`]
  );
}

/** The production database's URLs as set in the variables: touching one is production whatever the environment says. */
export function productionUrls(options: ResolveUrlOptions = {}): string[] {
  const variables = options.environment ?? process.env;
  const loaded = loadedOf(options);
  return environmentUrlVariables(loaded, "production").flatMap((name) => (variables[name] ? [variables[name]!] : []));
}

/**
 * Which database: --url; else $DATABASE_URL; else the environment's variable (DEV_/TEST_/PROD_DATABASE_URL,
 * <NAME>_DATABASE_URL for others; renamed by the config's `env`); else the config's url; else the
 * embedded PGlite database, in development (and a separate one for test) only. Anywhere else a
 * missing URL is RETORT_NO_DATABASE_URL, never a silent fallback to a local database.
 */
function chooseDatabaseUrl(options: ResolveUrlOptions): { raw: string; base: string; choice: DatabaseUrlChoice } {
  const loaded = loadedOf(options);
  const variables = options.environment ?? process.env;
  const set = (name: string) => (variables[name] ? variables[name] : undefined);
  const { environment, source: environmentSource } = environmentOf(options.env, variables);
  const choose = (base: string, source: string) => {
    const branch = source === "--url" ? undefined : branchOf(loaded, environment, variables);
    const raw = branch === undefined ? base : branchDatabaseUrl(base, branch, loaded.root);
    const choice: DatabaseUrlChoice = { environment, environmentSource, source, url: redactUrl(raw) };
    if (branch !== undefined && raw !== base) Object.assign(choice, { branch, baseUrl: redactUrl(base) });
    return { raw, base, choice };
  };

  if (options.url) return choose(options.url, "--url");
  const looked: string[] = ["--url"];
  for (const name of generalUrlVariables(loaded)) {
    looked.push(`$${name}`);
    if (set(name)) return choose(set(name)!, `$${name}`);
  }
  const perEnvironment = environmentUrlVariables(loaded, environment);
  for (const name of perEnvironment) {
    looked.push(`$${name}`);
    if (set(name)) return choose(set(name)!, `$${name}`);
  }
  looked.push(`the config's url${loaded.file ? ` (${loaded.file})` : ""}`);
  if (loaded.config.url) return choose(loaded.config.url, "config url");
  if (environment === "development" || environment === "test") return choose(defaultDatabaseUrl(loaded, environment), "embedded default");
  throw new RetortError("RETORT_NO_DATABASE_URL", `No database URL for environment "${environment}" (from ${environmentSource}): looked at ${looked.join(", ")}; none is set. The embedded PGlite database serves development only.`, {
    hint: `Set ${perEnvironment[0]} (or ${generalUrlVariables(loaded)[0]}), pass --url, or set url in the config. For the local embedded database, run with --env development.`,
    details: { environment, environmentSource, looked },
  });
}

/**
 * The branch whose own database development uses: on unless the config's branchDatabases is false
 * or $RETORT_BRANCH_DATABASES is 0; none outside a git repository.
 */
function branchOf(loaded: LoadedConfig, environment: string, variables: NodeJS.ProcessEnv): string | undefined {
  if (environment !== "development" || loaded.config.branchDatabases === false || variables.RETORT_BRANCH_DATABASES === "0") return undefined;
  const state = readGitState(loaded.root);
  return state === undefined ? undefined : branchOrCommit(state);
}

export interface BranchDatabase {
  /** The checked-out branch (or detached_<commit>). */
  branch: string;
  url: string;
  /** The URL the environment named, before the branch suffix. */
  baseUrl: string;
  /** The branch it was created from, as git's reflog tells, and that branch's database. */
  parent?: { branch: string; url: string };
}

/**
 * The current branch's database and its parent branch's, when development uses branch databases
 * (undefined otherwise): what `setup` and `upgrade` copy a new branch's database from.
 */
export function branchDatabase(options: ResolveUrlOptions = {}): BranchDatabase | undefined {
  const { raw, base, choice } = chooseDatabaseUrl(options);
  if (choice.branch === undefined) return undefined;
  const loaded = loadedOf(options);
  const state = readGitState(loaded.root);
  const parentName = state?.branch === undefined ? undefined : parentBranch(state, state.branch);
  const parentUrl = parentName === undefined ? undefined : branchDatabaseUrl(base, parentName, loaded.root);
  return { branch: choice.branch, url: raw, baseUrl: base, ...(parentName !== undefined && parentUrl !== undefined && parentUrl !== raw ? { parent: { branch: parentName, url: parentUrl } } : {}) };
}

/** The database URL every command (and your app) uses; see chooseDatabaseUrl for the order. */
export function resolveDatabaseUrl(options: ResolveUrlOptions = {}): string {
  return chooseDatabaseUrl(options).raw;
}

/** Which database would be used and why, with the password masked. */
export function explainDatabaseUrl(options: ResolveUrlOptions = {}): DatabaseUrlChoice {
  return chooseDatabaseUrl(options).choice;
}
