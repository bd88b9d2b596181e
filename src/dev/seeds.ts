/**
 * `retort seed [name…]`: run the project's seed files (seeds/*.ts, in name order), each in its
 * own transaction, with the typed controllers of the project's models, a random generator
 * seeded by the file's name, and `seedRows`, which matches rows on a natural key so a second run
 * changes nothing. Seeds run in development unless they list other environments, and never in
 * production (RETORT_PRODUCTION_GUARD, no override).
 */
import { existsSync, readdirSync } from "node:fs";
import { basename, extname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { connect, type Database } from "../db/database.js";
import { auditValue } from "../db/audit.js";
import type { Controller } from "../db/controller.js";
import { explainDatabaseUrl, productionUrls, resolveDatabaseUrl, type LoadedConfig } from "../env/config.js";
import { guardProduction } from "../env/guard.js";
import { importModule, sourcePosition } from "../env/import-module.js";
import { redactUrl } from "../env/url.js";
import { RetortError, isRetortError } from "../errors.js";
import { isTableModel, type AnyTable } from "../model/table.js";
import { loadModels } from "../schema/load-models.js";
import { seededRandom } from "./random.js";
import { isDefinedSeed, type DefinedSeed, type SeedContext, type SeedRowsResult } from "./seed-definition.js";

export interface SeedOptions {
  config: LoadedConfig;
  url?: string;
  env?: string;
  /** Run only these seeds (file names, with or without the extension), in name order. */
  names?: readonly string[];
  /** A line of progress for people. */
  onStep?: (line: string) => void;
  /** setup / reset: no seeds folder is not an error, there is nothing to run. */
  optional?: boolean;
  /** setup: in production, say the seeds are not run instead of refusing (nobody asked for them). */
  skipInProduction?: boolean;
}

export interface SeedRun {
  name: string;
  file: string;
  /** Ran, or skipped because it is for other environments. */
  ran: boolean;
  environments: string[];
  ms?: number;
  rows?: SeedRowsResult;
}

export interface SeedResult {
  url: string;
  environment: string;
  directory: string;
  seeds: SeedRun[];
}

const SEED_FILE = /\.(?:[cm]?ts|[cm]?js)$/;

export function seedsDirectory(loaded: LoadedConfig): string {
  return resolve(loaded.root, loaded.config.seeds?.directory ?? "seeds");
}

/** The seed files in name order (code-point order, the same on every machine). */
function seedFiles(directory: string): string[] {
  return readdirSync(directory)
    .filter((name) => SEED_FILE.test(name) && !name.endsWith(".d.ts"))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((name) => join(directory, name));
}

const seedName = (file: string) => basename(file, extname(file));

export async function runSeeds(options: SeedOptions): Promise<SeedResult | undefined> {
  const loaded = options.config;
  const resolveOptions = { config: loaded, ...(options.url ? { url: options.url } : {}), ...(options.env ? { env: options.env } : {}) };
  const url = resolveDatabaseUrl(resolveOptions);
  const { environment } = explainDatabaseUrl(resolveOptions);
  const directory = seedsDirectory(loaded);
  if (!existsSync(directory) && options.optional) return undefined;
  try {
    await guardProduction({ action: "retort seed", environment, url, productionUrls: productionUrls(resolveOptions), overridable: false });
  } catch (error) {
    if (!options.skipInProduction || !isRetortError(error, "RETORT_PRODUCTION_GUARD")) throw error;
    options.onStep?.("seeds are not run in production");
    return undefined;
  }
  if (!existsSync(directory)) {
    throw new RetortError("RETORT_CONFIG", `no seeds folder: ${directory}`, {
      hint: 'Create seeds/ with files such as seeds/01_users.ts (export default defineSeed({ run: async ({ models }) => { … } })), or set seeds: { directory: "…" } in the config.',
    });
  }
  let files = seedFiles(directory);
  if (options.names?.length) {
    const wanted = new Set(options.names.map((name) => seedName(name)));
    const unknown = [...wanted].filter((name) => !files.some((file) => seedName(file) === name));
    if (unknown.length > 0) {
      throw new RetortError("RETORT_INVALID_SEED", `no seed named ${unknown.map((n) => `"${n}"`).join(", ")} in ${directory}`, {
        hint: `Seeds here: ${files.map(seedName).join(", ") || "none"}.`,
      });
    }
    files = files.filter((file) => wanted.has(seedName(file)));
  }
  const seeds: Array<{ file: string; seed: DefinedSeed<any> }> = [];
  for (const file of files) seeds.push({ file, seed: await loadSeed(file) });

  const models = loaded.config.models ? await loadModels(resolve(loaded.root, loaded.config.models)) : {};
  const db = await connect(url, { schema: models });
  const runs: SeedRun[] = [];
  try {
    for (const { file, seed } of seeds) {
      const environments = seed.environments ?? ["development"];
      const name = seedName(file);
      if (!environments.includes(environment)) {
        if (options.names?.length) {
          throw new RetortError("RETORT_INVALID_SEED", `seed "${name}" is for ${environments.join(", ")}, not ${environment}`, {
            hint: `Run it with --env ${environments[0]}, or add "${environment}" to its environments.`,
          });
        }
        runs.push({ name, file, ran: false, environments });
        continue;
      }
      const started = performance.now();
      const rows: SeedRowsResult = { created: 0, updated: 0, unchanged: 0 };
      try {
        await db.transaction(async (tx) => {
          await seed.run(seedContext(tx, environment, name, rows));
        });
      } catch (error) {
        throw await seedFailure(error, file, loaded.root);
      }
      const ms = Math.round(performance.now() - started);
      runs.push({ name, file, ran: true, environments, ms, rows });
      options.onStep?.(`seeded ${name} (${rows.created} created, ${rows.updated} updated, ${rows.unchanged} unchanged; ${ms} ms)`);
    }
  } finally {
    await db.close();
  }
  return { url: redactUrl(url), environment, directory, seeds: runs };
}

async function loadSeed(file: string): Promise<DefinedSeed<any>> {
  let module: Record<string, unknown>;
  try {
    module = (await importModule(file, { fresh: true })) as Record<string, unknown>;
  } catch (error) {
    throw new RetortError("RETORT_INVALID_SEED", `could not load seed ${file}: ${(error as Error).message}`, { cause: error, hint: "Fix the error in the seed file." });
  }
  const seed = module.default;
  if (!isDefinedSeed(seed)) {
    throw new RetortError("RETORT_INVALID_SEED", `${file} does not default-export a seed`, {
      hint: 'export default defineSeed({ run: async ({ models, seedRows, random }) => { … } }) (defineSeed from "retort-db").',
    });
  }
  if (seed.environments?.includes("production")) {
    throw new RetortError("RETORT_INVALID_SEED", `${file} lists "production" among its environments; seeds never run in production`, {
      hint: "Seeds are development and test data. Put data production needs in a migration.",
    });
  }
  return seed;
}

function seedContext(tx: Database<any>, env: string, name: string, counts: SeedRowsResult): SeedContext<any> {
  return {
    models: tx.models,
    kysely: tx.kysely,
    db: tx,
    random: seededRandom(name),
    env,
    seedRows: async (target, rows, options) => {
      const result = await seedRows(tx, target as unknown as Controller<any, AnyTable> | AnyTable, rows as Record<string, unknown>[], options.key);
      counts.created += result.created;
      counts.updated += result.updated;
      counts.unchanged += result.unchanged;
      return result;
    },
  };
}

const sameValue = (a: unknown, b: unknown) => JSON.stringify(auditValue(a)) === JSON.stringify(auditValue(b));

/** Create what is missing, update what differs (only the given fields), leave equal rows alone. */
async function seedRows(tx: Database<any>, target: Controller<any, AnyTable> | AnyTable, rows: Record<string, unknown>[], key: readonly string[]): Promise<SeedRowsResult> {
  const controller = isTableModel(target) ? controllerByName(tx, target.$.name) : target;
  if (!key?.length) throw new RetortError("RETORT_INVALID_QUERY", `seedRows(${controller.info.name}): give the natural key, e.g. { key: ["email"] }`);
  for (const column of key) controller.info.column(column);
  const result: SeedRowsResult = { created: 0, updated: 0, unchanged: 0 };
  for (const row of rows) {
    const where: Record<string, unknown> = {};
    for (const column of key) {
      if (row[column] === undefined) throw new RetortError("RETORT_INVALID_QUERY", `seedRows(${controller.info.name}): a row has no value for its key "${column}"`, { details: { row: Object.keys(row) } });
      where[column] = row[column];
    }
    const existing = (await controller.withDeleted().findOne({ where: where as never })) as Record<string, unknown> | undefined;
    if (!existing) {
      await controller.create(row as never);
      result.created++;
      continue;
    }
    const patch = Object.fromEntries(Object.entries(row).filter(([field, value]) => value !== undefined && !sameValue(value, existing[field])));
    if (Object.keys(patch).length === 0) {
      result.unchanged++;
      continue;
    }
    await controller.withDeleted().updateMany(where as never, patch as never);
    result.updated++;
  }
  return result;
}

/** A seed file imports its own copy of the models: find the controller by table name. */
function controllerByName(tx: Database<any>, table: string): Controller<any, AnyTable> {
  const controller = Object.values(tx.models as Record<string, Controller<any, AnyTable>>).find((c) => c.info.name === table);
  if (!controller) {
    throw new RetortError("RETORT_INVALID_QUERY", `seedRows: table "${table}" is not among the models of the config's models module`, {
      hint: "Pass a controller from `models` (seedRows(models.users, …)), or export the table from the models module.",
    });
  }
  return controller;
}

/**
 * A failed seed, named by the file and line in the user's own source. The stack's frames name
 * the seed file (the compiled module carries its file name) with the compiled position; the
 * source map gives back the position in the TypeScript the user wrote.
 */
async function seedFailure(error: unknown, file: string, root: string): Promise<RetortError> {
  const where = await failingLine(error, file);
  const place = where ? `${relative(root, where.file) || where.file}:${where.line}:${where.column}` : relative(root, file);
  const reason = error instanceof Error ? error.message : String(error);
  const code = isRetortError(error) ? ` (${error.code})` : "";
  return new RetortError("RETORT_SEED_FAILED", `seed ${relative(root, file)} failed at ${place}: ${reason}${code}`, {
    hint: `Nothing of this seed was written: its transaction was rolled back (seeds before it are kept).${isRetortError(error) && error.hint ? ` ${error.hint}` : ""}`,
    details: { seed: seedName(file), file, ...(where ?? {}), ...(isRetortError(error) ? { causeCode: error.code } : {}) },
    cause: error,
  });
}

async function failingLine(error: unknown, file: string): Promise<{ file: string; line: number; column: number } | undefined> {
  const stack = error instanceof Error ? (error.stack ?? "") : "";
  // A frame names the compiled module by its file (when the runtime honours its sourceURL) or by
  // its data: URL, whose code ends with that sourceURL.
  for (const match of stack.matchAll(/(data:text\/javascript;base64,[A-Za-z0-9+/=]+|file:\/\/[^\s()]+?|\/[^\s():]+):(\d+):(\d+)/g)) {
    if (frameFile(match[1]!) !== resolve(file)) continue;
    const line = Number(match[2]);
    const column = Number(match[3]);
    return (await sourcePosition(file, line, column)) ?? { file, line, column };
  }
  return undefined;
}

function frameFile(location: string): string | undefined {
  if (location.startsWith("data:")) {
    const code = Buffer.from(location.slice(location.indexOf(",") + 1), "base64").toString("utf8");
    const url = /\/\/# sourceURL=(file:\S+)\s*$/.exec(code)?.[1];
    return url === undefined ? undefined : resolve(fileURLToPath(url));
  }
  return resolve(location.startsWith("file:") ? fileURLToPath(location) : location);
}
