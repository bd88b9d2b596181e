/**
 * `upgradeOnStartup()`: what an application calls when it boots.
 *
 * - Outside development it upgrades to the heads under the migration lock, so many replicas
 *   starting at once are safe: one applies each revision, the others wait for the lock, find
 *   nothing left to do, and return.
 * - In development it never migrates (the developer runs `retort upgrade`), and logs one line
 *   when migrations are pending.
 * - With nothing pending it costs one query (the version table) and loads no migration module:
 *   the revision graph comes from the file headers (cached under .retort/cache).
 */
import { hash } from "node:crypto";
import { join } from "node:path";
import type { Database } from "../db/database.js";
import { environmentName } from "../env/environment.js";
import { RetortError, isRetortError } from "../errors.js";
import { cacheDirectory, migrationsDirectory, type LoadedConfig } from "../env/config.js";
import { cachedHeads, saveHeads, upgradePlan } from "../script/index.js";
import { configOf, scripts, upgrade } from "./api.js";
import { VERSION_TABLE } from "./version-table.js";

export interface StartupLogger {
  info(message: string): void;
  warn?(message: string): void;
}

export interface UpgradeOnStartupOptions {
  /** The open database the app uses (its connection runs the migrations). */
  database: Database<any>;
  /** The loaded config or a config file path (default: retort.config.* in cwd). */
  config?: LoadedConfig | string;
  /** Or just the migrations folder, when the app ships no config file. */
  migrations?: string;
  /** The environment (default: $RETORT_ENV, $NODE_ENV, development). */
  env?: string;
  /** How long a replica waits for another one's migration lock (default: the config's, else 60 s). */
  lockTimeoutMs?: number;
  /** Where the one-line reports go (default: console). */
  logger?: StartupLogger;
}

export interface StartupResult {
  environment: string;
  /** What this call did: nothing to do, migrated, or (development) only reported pending revisions. */
  action: "up-to-date" | "upgraded" | "pending";
  /** Revisions that were pending when it looked. */
  pending: string[];
  heads: string[];
}

export async function upgradeOnStartup(options: UpgradeOnStartupOptions): Promise<StartupResult> {
  const environment = environmentName(options.env);
  const logger = options.logger ?? { info: (m: string) => console.log(m), warn: (m: string) => console.warn(m) };
  const loaded = await startupConfig(options);
  const current = await versionRows(options.database);
  // The common case, a restart of the same build: the heads are remembered, nothing else is read.
  const dir = migrationsDirectory(loaded);
  const headsFile = join(cacheDirectory(loaded), `heads-${hash("sha256", dir, "hex").slice(0, 16)}.json`);
  const known = cachedHeads(dir, headsFile);
  if (known !== undefined && sameSet(current, known)) return { environment, action: "up-to-date", pending: [], heads: current };
  const { graph } = scripts(loaded);
  saveHeads(dir, headsFile, graph);
  const unknown = current.filter((id) => !graph.has(id));
  if (unknown.length > 0) {
    throw new RetortError("RETORT_UNKNOWN_REVISION", `the database is at revision(s) ${unknown.join(", ")}, which this build's migrations do not have`, {
      hint: "This build is older than the database, or its migrations folder is incomplete. Deploy the build that has those revisions, or downgrade the database with the build that added them.",
      details: { unknown, migrations: graph.size },
    });
  }
  const heads = graph.heads.map((r) => r.revision).sort();
  const pending = sameSet(current, heads) ? [] : upgradePlan(graph, current, "heads").map((r) => r.revision);
  if (pending.length === 0) return { environment, action: "up-to-date", pending, heads: current };
  if (environment === "development") {
    logger.info(`retort: ${pending.length} migration(s) pending (${pending.slice(0, 3).join(", ")}${pending.length > 3 ? ", …" : ""}); run \`retort upgrade\`.`);
    return { environment, action: "pending", pending, heads: current };
  }
  const withTimeout: LoadedConfig =
    options.lockTimeoutMs === undefined ? loaded : { ...loaded, config: { ...loaded.config, migrations: { ...loaded.config.migrations, lockTimeoutMs: options.lockTimeoutMs } } };
  let result;
  try {
    result = await upgrade("heads", { config: withTimeout, database: options.database, env: environment });
  } catch (error) {
    // The app that boots is the one deployed after an expand: a contract that waits for `retort
    // release` must not stop it from starting (the revisions before the contract ran).
    if (!isRetortError(error, "RETORT_CONTRACT_NOT_RELEASED")) throw error;
    (logger.warn ?? logger.info).call(logger, `retort: ${error.message} ${error.hint ?? ""}`.trim());
    const now = (error.details.currentHeads as string[] | undefined) ?? current;
    return { environment, action: sameSet(now, current) ? "up-to-date" : "upgraded", pending, heads: now };
  }
  if (result.revisions.length > 0) logger.info(`retort: upgraded ${result.from.join(", ") || "base"} -> ${result.to.join(", ")} (${result.revisions.length} revision(s))`);
  return { environment, action: result.revisions.length > 0 ? "upgraded" : "up-to-date", pending, heads: result.to };
}

async function startupConfig(options: UpgradeOnStartupOptions): Promise<LoadedConfig> {
  if (options.migrations !== undefined) {
    const base = options.config === undefined ? { config: {}, root: process.cwd() } : await configOf({ config: options.config });
    return { ...base, config: { ...base.config, migrations: { ...base.config.migrations, directory: options.migrations } } };
  }
  return configOf(options.config === undefined ? {} : { config: options.config });
}

/** The version rows, or none when Retort never ran here (no version table yet). */
async function versionRows(database: Database<any>): Promise<string[]> {
  const conn = await database.driver.acquire();
  try {
    const { rows } = await conn.query<{ version_num: string }>(`SELECT version_num FROM ${VERSION_TABLE}`);
    return rows.map((row) => row.version_num).sort();
  } catch (error) {
    const missing = /does not exist|no such table/i.test((error as Error).message);
    if (missing) return [];
    throw database.driver.translateError(error);
  } finally {
    conn.release();
  }
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}
