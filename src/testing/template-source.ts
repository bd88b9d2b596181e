/**
 * What a test database is made of, and its fingerprint: the migration files (or, in a project
 * without migrations, the models through createAll), the models and the test seeds. Equal
 * fingerprints mean equal databases, so a template built once serves every test until one of
 * those inputs changes.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { extname, resolve } from "node:path";
import { connect, createAll, type Database } from "../db/database.js";
import { migrationsDirectory, type LoadedConfig } from "../env/config.js";
import { importModule } from "../env/import-module.js";
import { RetortError } from "../errors.js";
import { configOf, scripts, upgrade } from "../runtime/api.js";
import { loadModels } from "../schema/load-models.js";
import { schemaFromModels } from "../schema/from-models.js";

export interface TemplateOptions<S> {
  /** The models (`import * as schema`): `db.models`, and the tables of a project without migrations. */
  schema?: S;
  /** A loaded config or a config file (default: retort.config.* in cwd). */
  config?: LoadedConfig | string;
  cwd?: string;
  /**
   * Files run on the template after the migrations, relative to the config's folder: `.sql` files
   * as they are, modules (`.ts`, `.js`) whose default export is `async (db) => { … }`.
   */
  seeds?: string[];
}

export interface TemplateSource {
  loaded: LoadedConfig;
  /** false: no migrations folder, the tables come from the models (createAll). */
  migrations: boolean;
  models: Record<string, unknown>;
  seeds: string[];
  /** sha256 (hex) over the migration files, the models and the seeds. */
  fingerprint: string;
}

/** Per schema object (by identity) and options: computed once per process. */
const sources = new WeakMap<object, Map<string, Promise<TemplateSource>>>();
const NO_SCHEMA = {};
let generation = 0;

/** The source of `options` (computed once per process and options). */
export function templateSource<S>(options: TemplateOptions<S>): Promise<TemplateSource> {
  const key = JSON.stringify([generation, typeof options.config === "object" ? options.config.root : options.config, options.cwd ?? process.cwd(), options.seeds ?? []]);
  const owner = (options.schema as object | undefined) ?? NO_SCHEMA;
  const byKey = sources.get(owner) ?? new Map<string, Promise<TemplateSource>>();
  sources.set(owner, byKey);
  const cached = byKey.get(key);
  if (cached) return cached;
  const made = readSource(options);
  byKey.set(key, made);
  made.catch(() => byKey.delete(key));
  return made;
}

/** Forget what was read (a test that edits migration files in one process). */
export function forgetTemplateSources(): void {
  generation++;
}

async function readSource<S>(options: TemplateOptions<S>): Promise<TemplateSource> {
  const loaded = await configOf({ ...(options.config === undefined ? {} : { config: options.config }), ...(options.cwd === undefined ? {} : { cwd: options.cwd }) });
  const migrations = loaded.file !== undefined || existsSync(migrationsDirectory(loaded));
  const given = options.schema as Record<string, unknown> | undefined;
  // The models given, else the ones the config names (loaded only then: a test file passes its own,
  // and in a project that has both they are the same models, so the fingerprint is the same).
  const models = given ?? (loaded.config.models ? await loadModels(resolve(loaded.root, loaded.config.models)) : {});
  if (!migrations && !given) {
    throw new RetortError("RETORT_CONFIG", `createTestDatabase: ${loaded.root} has no migrations (no config file, no ${migrationsDirectory(loaded)}) and no schema was given`, {
      hint: "Run createTestDatabase from your project's folder (or pass config), or pass { schema } to build the tables from the models.",
      details: { folder: loaded.root },
    });
  }
  const seeds = (options.seeds ?? []).map((file) => resolve(loaded.root, file));
  const hash = createHash("sha256");
  if (migrations) {
    const { graph } = scripts(loaded);
    for (const revision of [...graph.revisions].sort((a, b) => (a.revision < b.revision ? -1 : 1))) hash.update(`revision ${revision.revision} ${revision.checksum}\n`);
  }
  hash.update(`models ${JSON.stringify(schemaFromModels(models))}\n`);
  for (const file of seeds) {
    if (!existsSync(file)) throw new RetortError("RETORT_CONFIG", `test seed file not found: ${file}`, { hint: "Seed paths are relative to the config's folder.", details: { file } });
    hash.update(`seed ${file} ${createHash("sha256").update(readFileSync(file)).digest("hex")}\n`);
  }
  return { loaded, migrations, models, seeds, fingerprint: hash.digest("hex") };
}

/** Bring the database at `url` (or the open `database`) to what the source describes: migrations to head (or createAll), then the seeds. */
export async function buildFromSource(source: TemplateSource, where: { url: string } | { database: Database<any> }): Promise<void> {
  const owned = "url" in where ? await connect(where.url, { schema: source.models }) : undefined;
  const db = owned ?? (where as { database: Database<any> }).database;
  try {
    if (source.migrations) await upgrade("head", { config: source.loaded, database: db });
    else await createAll(db);
    for (const file of source.seeds) await runSeed(db, file);
  } finally {
    await owned?.close();
  }
}

async function runSeed(db: Database<any>, file: string): Promise<void> {
  if (extname(file) === ".sql") {
    await db.query(readFileSync(file, "utf8"));
    return;
  }
  const seed = await importModule(file, { default: true });
  if (typeof seed !== "function") {
    throw new RetortError("RETORT_CONFIG", `test seed ${file} has no default export function`, { hint: "export default async function seed(db) { … }", details: { file } });
  }
  await (seed as (db: Database<any>) => Promise<void>)(db);
}
