/**
 * `retort.config.ts`: where the models and migrations are, how migrations run, and which
 * database to use. May be TypeScript (see import-module.ts).
 */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { RetortError } from "../errors.js";
import { importModule } from "./import-module.js";

export interface MigrationSettings {
  /** Folder of revision files, relative to the config file (default "migrations/versions"). */
  directory?: string;
  /** "each" (default): one transaction per migration; "all": one around the whole run. */
  transaction?: "each" | "all";
  /** How long to wait for another process's migration lock, or for a PGlite directory another process has open (default 60 s). */
  lockTimeoutMs?: number;
  /** An applied migration whose file changed: "error" (default) or "warn". */
  modifiedMigrations?: "error" | "warn";
  /** Module that new revision files import `defineMigration` from (default "retort"). */
  importFrom?: string;
}

export interface RetortConfig {
  /** The module exporting your models (for autogenerate and check). */
  models?: string;
  /** Database URL when neither --url nor the environment gives one. */
  url?: string;
  migrations?: MigrationSettings;
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

const CONFIG_NAMES = ["retort.config.ts", "retort.config.mts", "retort.config.js", "retort.config.mjs"];

/** Load `path`, or look for retort.config.* in `cwd`. No file: defaults. */
export async function loadConfig(path?: string, cwd = process.cwd()): Promise<LoadedConfig> {
  const file = path ? resolve(cwd, path) : CONFIG_NAMES.map((name) => join(cwd, name)).find((candidate) => existsSync(candidate));
  if (!file) return { config: {}, root: cwd };
  if (!existsSync(file)) {
    throw new RetortError("RETORT_CONFIG", `config file not found: ${path}`, { hint: "Run `retort init` to create one, or fix --config." });
  }
  let loaded: unknown;
  try {
    loaded = await importModule(file, { default: true });
  } catch (error) {
    throw new RetortError("RETORT_CONFIG", `could not load ${file}: ${(error as Error).message}`, { cause: error, hint: "Fix the error in the config file; it must `export default defineConfig({ … })`." });
  }
  if (typeof loaded !== "object" || loaded === null) {
    throw new RetortError("RETORT_CONFIG", `${file} must export a config object`, { hint: "export default defineConfig({ … })" });
  }
  return { config: loaded as RetortConfig, root: dirname(file), file };
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
