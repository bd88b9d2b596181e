/**
 * `retort.config.ts`: where the models and migrations are, how migrations run, and which
 * database to use. May be TypeScript (see import-module.ts).
 */
import { hash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { RetortError } from "../errors.js";
import { importModule } from "./import-module.js";

export interface MigrationSettings {
  /** Folder of revision files, relative to the config file (default "migrations/versions"). */
  directory?: string;
  /** "each" (default): one transaction per migration; "all": one around the whole run. */
  transaction?: "each" | "all";
  /** How long to wait for another process's migration lock (default 60 s). */
  lockTimeoutMs?: number;
  /** An applied migration whose file changed: "error" (default) or "warn". */
  modifiedMigrations?: "error" | "warn";
  /** Module that new revision files import `defineMigration` from (default "retort"). */
  importFrom?: string;
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

export interface RetortConfig {
  /** The module exporting your models (for autogenerate and check). */
  models?: string;
  /** Database URL when neither --url nor the environment gives one. */
  url?: string;
  migrations?: MigrationSettings;
  localServer?: LocalServerSettings;
  services?: Record<string, ServiceSettings>;
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
const SCHEMA_REVISION = 1;

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
  if (!validated(config, root)) {
    const { validateConfig } = await import("./config-schema.js");
    validateConfig(config, file);
    remember(config, root);
  }
  return { config: config as RetortConfig, root, file };
}

/**
 * A config identical (as JSON) to one validated before in this project is not validated again:
 * loading zod costs more than the rest of a no-op `retort current`. Values JSON cannot hold
 * (functions, undefined…) are never remembered, so they are always checked.
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

const checkedFile = (root: string) => join(root, ".retort", "cache", "config-checked");

function validated(config: object, root: string): boolean {
  const print = fingerprint(config);
  if (!print) return false;
  try {
    return readFileSync(checkedFile(root), "utf8") === print;
  } catch {
    return false;
  }
}

function remember(config: object, root: string): void {
  const print = fingerprint(config);
  if (!print) return;
  try {
    mkdirSync(dirname(checkedFile(root)), { recursive: true });
    writeFileSync(checkedFile(root), print);
  } catch {
    // A read-only folder: validate again next time.
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

export function migrationsDirectory(loaded: LoadedConfig): string {
  return resolve(loaded.root, loaded.config.migrations?.directory ?? "migrations/versions");
}

/** Where Retort keeps what it can always recompute (header cache, head schemas): .retort/cache next to the config. */
export function cacheDirectory(loaded: LoadedConfig): string {
  return join(loaded.root, ".retort", "cache");
}

/** The embedded default database: PGlite under .retort/ next to the config. */
export function defaultDatabaseUrl(loaded: LoadedConfig): string {
  return `pglite:${join(loaded.root, ".retort", "dev")}`;
}

/**
 * Which database: --url, else DATABASE_URL, else <ENV>_DATABASE_URL for the environment
 * (--env, RETORT_ENV, NODE_ENV; dev by default), else the config's url, else the embedded default.
 */
export function resolveDatabaseUrl(loaded: LoadedConfig, options: { url?: string; env?: string } = {}, environment = process.env): string {
  if (options.url) return options.url;
  if (environment.DATABASE_URL) return environment.DATABASE_URL;
  const name = (options.env ?? environment.RETORT_ENV ?? environment.NODE_ENV ?? "dev").toLowerCase();
  const key = { development: "DEV", dev: "DEV", test: "TEST", production: "PROD", prod: "PROD" }[name] ?? name.toUpperCase();
  const fromEnv = environment[`${key}_DATABASE_URL`];
  if (fromEnv) return fromEnv;
  return loaded.config.url ?? defaultDatabaseUrl(loaded);
}
