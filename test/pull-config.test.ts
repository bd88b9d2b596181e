/**
 * `retort pull` reads the project's config as every other command does: the database is chosen
 * by the shared resolver (DEV_/TEST_DATABASE_URL, the config's url), the models are written where
 * the config's `models` says (so `check` finds them), and the config's table selection applies.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import Database from "better-sqlite3";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { pull } from "../src/runtime/pull.js";
import { baseline } from "../src/runtime/baseline.js";
import { check, drift } from "../src/runtime/schema-commands.js";
import { upgrade } from "../src/runtime/api.js";
import { renderMigration } from "../src/script/index.js";
import { createTempDatabase, postgresReachable, type TempDatabase } from "./support/postgres.js";

const exec = promisify(execFile);
const postgresUp = await postgresReachable();
const TSX = resolve("node_modules/.bin/tsx");
const MAIN = resolve("src/cli/main.ts");
const INDEX = resolve("src/index.ts");

/** A project folder with a config (written as `retort init` writes it, minus the import) and its SQLite database. */
function sqliteProject(config: string): { root: string; url: string } {
  const root = mkdtempSync(join(tmpdir(), "retort-pull-config-"));
  mkdirSync(join(root, "migrations", "versions"), { recursive: true });
  writeFileSync(join(root, "retort.config.ts"), `export default ${config};\n`);
  const file = join(root, "app.db");
  const sqlite = new Database(file);
  sqlite.exec("CREATE TABLE users (id INTEGER NOT NULL, email TEXT NOT NULL, CONSTRAINT pk_users PRIMARY KEY (id))");
  sqlite.close();
  return { root, url: `sqlite:${file}` };
}

/** The environment of a shell where only the given URL variables are set. */
function envWith(variables: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env)) if (name.endsWith("DATABASE_URL") || name === "NODE_ENV" || name === "RETORT_ENV") delete env[name];
  return { ...env, RETORT_BRANCH_DATABASES: "0", ...variables };
}

describe("retort pull and the project's config", () => {
  it("without --out writes the config's models path, reading DEV_DATABASE_URL; check --url then finds the models", async () => {
    const { root, url } = sqliteProject(`{ models: "./src/schema.ts" }`);
    const { stdout } = await exec(TSX, [MAIN, "--json", "pull"], { cwd: root, env: envWith({ DEV_DATABASE_URL: url }), timeout: 60_000 });
    expect(JSON.parse(stdout)).toMatchObject({ path: join(root, "src", "schema.ts"), dialect: "sqlite", tables: ["users"] });
    expect(existsSync(join(root, "src", "db", "schema.ts"))).toBe(false);

    // The models import retort-db, which a temp folder does not have: point them at the source.
    const models = join(root, "src", "schema.ts");
    writeFileSync(models, readFileSync(models, "utf8").replace(`from "retort-db"`, `from ${JSON.stringify(INDEX)}`));
    const result = await check({ cwd: root, url, against: "database" });
    expect(result.changes).toEqual([]);
  }, 60_000);

  it("outside development with no URL anywhere: RETORT_NO_DATABASE_URL, nothing written", async () => {
    const { root } = sqliteProject(`{ models: "./src/schema.ts" }`);
    // Whatever this shell sets, the production lookup finds nothing.
    vi.stubEnv("DATABASE_URL", "");
    vi.stubEnv("PROD_DATABASE_URL", "");
    try {
      const error = await pull({ cwd: root, env: "production" }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "RETORT_NO_DATABASE_URL" });
    } finally {
      vi.unstubAllEnvs();
    }
    expect(existsSync(join(root, "src", "schema.ts"))).toBe(false);
  });

  it("the config's url is used when no variable names one", async () => {
    const { root, url } = sqliteProject("");
    writeFileSync(join(root, "retort.config.ts"), `export default { url: ${JSON.stringify(url)}, models: "./models.ts" };\n`);
    vi.stubEnv("DATABASE_URL", "");
    const result = await pull({ cwd: root, env: "staging" }).finally(() => vi.unstubAllEnvs());
    expect(result.tables).toEqual(["users"]);
    expect(existsSync(join(root, "models.ts"))).toBe(true);
  });
});

describe.skipIf(!postgresUp)("retort pull and the config's table selection (Postgres server)", () => {
  let database: TempDatabase;
  beforeAll(async () => {
    database = await createTempDatabase("retort_pull_tables");
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      await client.query(`
        CREATE TABLE users (id int PRIMARY KEY);
        CREATE TABLE legacy_geo (id int PRIMARY KEY, at point);
        CREATE TABLE legacy_p (id int PRIMARY KEY);
        CREATE TABLE c (id int PRIMARY KEY, p_id int REFERENCES legacy_p (id));`);
    } finally {
      await client.end();
    }
  }, 60_000);
  afterAll(async () => database?.drop());

  function project(tables: string): string {
    const root = mkdtempSync(join(tmpdir(), "retort-pull-tables-"));
    writeFileSync(join(root, "retort.config.ts"), `export default { models: "./schema.ts", tables: ${tables} };\n`);
    return root;
  }

  it("excluded tables are not pulled, and a table of an unsupported type no longer stops it", async () => {
    const everything = await pull({ cwd: project("{}"), url: database.url }).catch((e: unknown) => e);
    expect(everything).toMatchObject({ code: "RETORT_UNSUPPORTED", message: expect.stringContaining(`"legacy_geo"."at"`) });

    const root = project(`{ exclude: ["legacy_*", "c"] }`);
    const result = await pull({ cwd: root, url: database.url });
    expect(result.tables).toEqual(["users"]);
    const text = readFileSync(join(root, "schema.ts"), "utf8");
    expect(text).toContain(`table("users"`);
    expect(text).not.toContain("legacy");

    const only = await pull({ cwd: project(`{ include: ["c", "legacy_p"] }`), url: database.url });
    expect(only.tables).toEqual(["c", "legacy_p"]);
  }, 60_000);

  it("a foreign key to an excluded table: pull, baseline and drift name it and write nothing", async () => {
    const root = project(`{ exclude: ["legacy_*"] }`);
    const expected = {
      code: "RETORT_EXCLUDED_REFERENCE",
      message: expect.stringContaining(`table "c" has foreign key "c_p_id_fkey" (p_id) to "legacy_p", which the config's \`tables\` selection leaves out`),
      hint: expect.stringContaining(`Add "legacy_p" to the selection`),
    };
    expect(await pull({ cwd: root, url: database.url }).catch((e: unknown) => e)).toMatchObject(expected);
    expect(existsSync(join(root, "schema.ts"))).toBe(false);

    expect(await baseline({ message: "baseline" }, { cwd: root, url: database.url }).catch((e: unknown) => e)).toMatchObject(expected);
    expect(existsSync(join(root, "migrations", "versions")) ? readdirSync(join(root, "migrations", "versions")) : []).toEqual([]);
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      expect((await client.query("SELECT to_regclass('retort_version') AS t")).rows[0].t).toBeNull();
    } finally {
      await client.end();
    }

    mkdirSync(join(root, "migrations", "versions"), { recursive: true });
    expect(await drift({ cwd: root, url: database.url }).catch((e: unknown) => e)).toMatchObject(expected);
  }, 60_000);
});

it("drift: a foreign key the migrations made to a table since excluded is compared, not refused (SQLite)", async () => {
  const { root, url } = sqliteProject(`{ tables: { exclude: ["legacy_*"] }, migrations: { importFrom: ${JSON.stringify(INDEX)} } }`);
  writeFileSync(
    join(root, "migrations", "versions", "20260101000000_legacy.ts"),
    renderMigration({
      revision: "legacy000001",
      parents: [],
      message: "legacy",
      createdAt: new Date(Date.UTC(2026, 0, 1)),
      upgradeBody: `op.createTable("legacy_p", { id: t.integer().primaryKey() });\nop.createTable("c", { id: t.integer().primaryKey(), p_id: t.integer().nullable().references("legacy_p.id") });`,
      downgradeBody: `op.dropTable("c");\nop.dropTable("legacy_p");`,
      moduleSpecifier: INDEX,
      imports: [`import { t } from ${JSON.stringify(INDEX)};`],
    }),
  );
  await upgrade("head", { cwd: root, url });
  const result = await drift({ cwd: root, url });
  expect(result.changes).toEqual(["createTable users"]);
}, 60_000);
