/**
 * `upgradeOnStartup()`: what an application calls when it boots.
 *
 * - Outside development it upgrades to the heads under the migration lock, so many replicas
 *   starting at once are safe: one applies each revision, the others wait for the lock, find
 *   nothing left to do, and return.
 * - In development it never migrates (the developer runs `retort upgrade`), and logs one line
 *   when migrations are pending.
 * - With nothing pending it costs one query (the version rows, and history rows of runs that
 *   stopped part-way) and loads no migration module: the revision graph comes from the file
 *   headers (cached under .retort/cache).
 * - A run left part-way (steps outside a transaction committed, the rest not) leaves a schema that
 *   matches no revision: outside development the upgrade resumes it or refuses
 *   (RETORT_UNFINISHED_REVISION), so the app does not start on it; development logs a warning.
 */
import { hash } from "node:crypto";
import { join } from "node:path";
import type { Database } from "../db/database.js";
import { environmentName } from "../env/environment.js";
import { RetortError, isRetortError } from "../errors.js";
import { cacheDirectory, migrationsDirectory, type LoadedConfig } from "../env/config.js";
import { cachedHeads, saveHeads, upgradePlan } from "../script/index.js";
import { configOf, scripts, upgrade } from "./api.js";
import { STOPPED_PART_WAY, latestRowsWhere } from "./status.js";
import { HISTORY_TABLE, VERSION_TABLE } from "./version-table.js";

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
  /**
   * What this call did: nothing to do, migrated, or (development) only reported pending
   * revisions, or a run left part-way that only `retort upgrade`/`downgrade`/`stamp` may settle.
   */
  action: "up-to-date" | "upgraded" | "pending" | "unfinished";
  /** Revisions that were pending when it looked. */
  pending: string[];
  heads: string[];
}

export async function upgradeOnStartup(options: UpgradeOnStartupOptions): Promise<StartupResult> {
  const environment = environmentName(options.env);
  const logger = options.logger ?? { info: (m: string) => console.log(m), warn: (m: string) => console.warn(m) };
  const loaded = await startupConfig(options);
  const { heads: current, partWay } = await versionState(options.database);
  // The common case, a restart of the same build: the heads are remembered, nothing else is read.
  const dir = migrationsDirectory(loaded);
  const headsFile = join(cacheDirectory(loaded), `heads-${hash("sha256", dir, "hex").slice(0, 16)}.json`);
  const known = cachedHeads(dir, headsFile);
  if (partWay.length === 0 && known !== undefined && sameSet(current, known)) return { environment, action: "up-to-date", pending: [], heads: current };
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
  if (partWay.length > 0 && environment === "development") {
    const runs = partWay.map((run) => `the ${run.direction === "up" ? "upgrade" : "downgrade"} of ${run.revision} (${run.stepsDone} step(s) committed)`).join(", ");
    (logger.warn ?? logger.info).call(logger, `retort: ${runs} stopped part-way, so the schema matches no revision; run \`retort current\`, then finish it with \`retort upgrade\`/\`downgrade\`, or \`retort stamp\` after a repair by hand.`);
    return { environment, action: "unfinished", pending, heads: current };
  }
  // A run left part-way goes to the upgrade even with nothing pending: it resumes it or refuses.
  if (pending.length === 0 && partWay.length === 0) return { environment, action: "up-to-date", pending, heads: current };
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

interface PartWayRun {
  revision: string;
  direction: string;
  stepsDone: number;
}

/**
 * The version rows (none when Retort never ran here) and the runs whose latest attempt stopped
 * part-way. One query reads the version rows and the rare history rows that may be such a run;
 * only when there are any does a second ask which are their revision's latest.
 */
async function versionState(database: Database<any>): Promise<{ heads: string[]; partWay: PartWayRun[] }> {
  const conn = await database.driver.acquire();
  const missingTable = (error: unknown) => /does not exist|no such table/i.test((error as Error).message);
  try {
    type Row = { version_num: string | null; revision: string | null };
    let rows: Row[];
    try {
      ({ rows } = await conn.query<Row>(
        `SELECT version_num, NULL AS revision FROM ${VERSION_TABLE} UNION ALL SELECT NULL, revision FROM ${HISTORY_TABLE} WHERE ${STOPPED_PART_WAY}`,
      ));
    } catch (error) {
      if (!missingTable(error)) throw error;
      // No history table: Retort never ran here, or someone made the version table by hand.
      ({ rows } = await conn.query<Row>(`SELECT version_num, NULL AS revision FROM ${VERSION_TABLE}`));
    }
    const heads = rows.flatMap((row) => (row.version_num === null ? [] : [String(row.version_num)])).sort();
    if (!rows.some((row) => row.revision !== null)) return { heads, partWay: [] };
    type Run = { revision: string; direction: string; steps_done: number };
    const latest = await latestRowsWhere<Run>((sql) => conn.query<Run>(sql), "steps_done", STOPPED_PART_WAY);
    return { heads, partWay: latest.map((row) => ({ revision: String(row.revision), direction: String(row.direction), stepsDone: Number(row.steps_done) })) };
  } catch (error) {
    if (missingTable(error)) return { heads: [], partWay: [] };
    throw database.driver.translateError(error);
  } finally {
    conn.release();
  }
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}
