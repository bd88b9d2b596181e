/**
 * Adopting databases that use extensions (TypeORM's uuid-ossp, Rails' pgcrypto and pg_trgm):
 * pull and baseline keep them, so the baseline rebuilds the database on an empty one (pg_dump
 * equal), on the Postgres server and on PGlite; check and drift see a missing extension; offline
 * SQL prints the statements; on SQLite a models file with an extension still migrates.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDriver } from "../../src/dialects/open.js";
import { createPgliteDriver, dumpPgliteDriver } from "../../src/dialects/pglite/driver.js";
import { current, downgrade, isRetortError, upgrade, type LoadedConfig } from "../../src/index.js";
import { parseDatabaseUrl } from "../../src/env/url.js";
import { migrationSql } from "../../src/runtime/api.js";
import { baseline } from "../../src/runtime/baseline.js";
import { pull } from "../../src/runtime/pull.js";
import { check, drift } from "../../src/runtime/schema-commands.js";
import { EMPTY_SCHEMA } from "../../src/schema/snapshot.js";
import { createTempDatabase, postgresReachable, runSql, schemaDump, type TempDatabase } from "../support/postgres.js";
import { createProject, SOURCE_INDEX, type Project } from "../runtime/project.js";

const postgresUp = await postgresReachable();

/** What TypeORM's generated migrations run: uuid-ossp for uuid_generate_v4(), quoted camelCase, an enum, SERIAL, a foreign key. */
const TYPEORM_SQL = `
CREATE EXTENSION IF NOT EXISTS "uuid-ossp";
CREATE TYPE "public"."user_role_enum" AS ENUM('admin', 'member');
CREATE TABLE "user" ("id" uuid NOT NULL DEFAULT uuid_generate_v4(), "firstName" character varying NOT NULL, "role" "public"."user_role_enum" NOT NULL DEFAULT 'member', "createdAt" TIMESTAMP NOT NULL DEFAULT now(), CONSTRAINT "PK_cace4a159ff9f2512dd42373760" PRIMARY KEY ("id"));
CREATE TABLE "photo" ("id" SERIAL NOT NULL, "url" character varying NOT NULL, "userId" uuid, CONSTRAINT "PK_723fa50bf70dcfd06fb5a44d4ff" PRIMARY KEY ("id"));
ALTER TABLE "photo" ADD CONSTRAINT "FK_4494006ff358f754d07df5ccc87" FOREIGN KEY ("userId") REFERENCES "user"("id") ON DELETE NO ACTION ON UPDATE NO ACTION;
`;

/**
 * Rails' structure.sql with enable_extension "pgcrypto" and "pg_trgm": a pgcrypto default and a
 * trigram index. (citext columns are left out: Retort has no citext column type, so introspection
 * refuses them.)
 */
const RAILS_SQL = `
CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA public;
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
CREATE TABLE public.articles (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    title character varying NOT NULL,
    token character varying DEFAULT encode(public.gen_random_bytes(16), 'hex'::text) NOT NULL,
    created_at timestamp(6) without time zone NOT NULL
);
ALTER TABLE ONLY public.articles ADD CONSTRAINT articles_pkey PRIMARY KEY (id);
CREATE INDEX index_articles_on_title_trgm ON public.articles USING gin (title public.gin_trgm_ops);
CREATE TABLE public.schema_migrations (version character varying NOT NULL PRIMARY KEY);
`;

const FIXTURES = { typeorm: TYPEORM_SQL, rails: RAILS_SQL };

/** A project whose config names the models file pull writes. */
function projectWithModels(): { project: Project; config: LoadedConfig; models: string } {
  const project = createProject();
  const models = join(project.root, "models.ts");
  return { project, models, config: { ...project.config, config: { ...project.config.config, models: "models.ts" } } };
}

describe.skipIf(!postgresUp)("adopting databases with extensions [postgres]", () => {
  const sources: Record<string, TempDatabase> = {};
  const baselines: Record<string, { config: LoadedConfig; text: string }> = {};
  beforeAll(async () => {
    for (const [name, text] of Object.entries(FIXTURES)) {
      sources[name] = await createTempDatabase(`retort_ext_${name}`);
      await runSql(sources[name]!.url, text);
    }
  }, 60_000);
  afterAll(async () => {
    for (const source of Object.values(sources)) await source.drop();
  });

  it.each(Object.keys(FIXTURES))("%s: pull writes extension(), baseline createExtension first; a fresh database upgraded from the baseline has the same pg_dump; downgrade drops the extensions too", async (name) => {
    const source = sources[name]!;
    const { project, config, models } = projectWithModels();
    const pulled = await pull({ config, url: source.url, out: models, importFrom: SOURCE_INDEX });
    const extensions = name === "typeorm" ? ["uuid-ossp"] : ["pg_trgm", "pgcrypto"];
    expect(pulled.extensions).toEqual(extensions);
    const modelsText = readFileSync(models, "utf8");
    if (name === "typeorm") expect(modelsText).toContain('export const uuidOssp = extension("uuid-ossp");');
    else expect(modelsText).toContain('export const pgTrgm = extension("pg_trgm");\nexport const pgcrypto = extension("pgcrypto");');

    const result = await baseline({ message: "baseline" }, { config, url: source.url });
    expect(result.extensions).toBe(extensions.length);
    const text = readFileSync(join(project.dir, readdirSync(project.dir)[0]!), "utf8");
    baselines[name] = { config, text };
    const creates = extensions.map((extension) => text.indexOf(`op.createExtension(${JSON.stringify(extension)});`));
    expect(creates.every((at) => at > 0)).toBe(true);
    // Before everything that may need them; dropped after everything in the downgrade.
    expect(Math.max(...creates)).toBeLessThan(text.indexOf(name === "typeorm" ? "op.createEnum(" : "op.createTable("));
    expect(text.lastIndexOf("op.dropTable(")).toBeLessThan(text.indexOf("op.dropExtension("));

    // The models and the stamped database agree with the baseline.
    expect((await check({ config })).changes).toEqual([]);
    expect((await drift({ config, url: source.url })).changes).toEqual([]);

    const target = await createTempDatabase(`retort_ext_${name}_new`);
    try {
      await upgrade("head", { config, url: target.url });
      expect(schemaDump(target.url, ["schema_migrations"])).toEqual(schemaDump(source.url, ["schema_migrations"]));
      expect((await drift({ config, url: target.url })).changes).toEqual([]);
      await downgrade("base", { config, url: target.url });
      const [left] = await runSql(target.url, "SELECT extname FROM pg_extension WHERE extname <> 'plpgsql'");
      expect(left!.rows).toEqual([]);
    } finally {
      await target.drop();
    }
  }, 120_000);

  it("offline SQL prints CREATE EXTENSION first and DROP EXTENSION last", async () => {
    const { config } = baselines.typeorm!;
    const up = await migrationSql("up", "head", { config, dialect: "postgres" });
    expect(up).toContain('-- createExtension uuid-ossp\nCREATE EXTENSION IF NOT EXISTS "uuid-ossp";');
    expect(up.indexOf("CREATE EXTENSION")).toBeLessThan(up.indexOf("CREATE TYPE"));
    const down = await migrationSql("down", "head:base", { config, dialect: "postgres" });
    expect(down).toContain('DROP EXTENSION IF EXISTS "uuid-ossp";');
    expect(down.indexOf('DROP TABLE "user"')).toBeLessThan(down.indexOf("DROP EXTENSION"));
  });

  it("check and drift report a missing extension", async () => {
    const { config } = baselines.typeorm!;
    const models = join(config.root, "models.ts");
    const original = readFileSync(models, "utf8");
    writeFileSync(models, `${original}\nexport const citext = extension("citext");\n`);
    try {
      const checked = await check({ config });
      expect(checked.ok).toBe(false);
      expect(checked.changes).toEqual(["createExtension citext"]);
    } finally {
      writeFileSync(models, original);
    }
    const target = await createTempDatabase("retort_ext_drift");
    try {
      await upgrade("head", { config, url: target.url });
      // Someone drops it by hand (CASCADE takes the column default that calls it).
      await runSql(target.url, 'DROP EXTENSION "uuid-ossp" CASCADE');
      const drifted = await drift({ config, url: target.url });
      expect(drifted.ok).toBe(false);
      expect(drifted.changes).toContain("dropExtension uuid-ossp");
    } finally {
      await target.drop();
    }
  }, 60_000);
});

describe.skipIf(!postgresUp)("the baseline on PGlite", () => {
  it.each(Object.keys(FIXTURES))("%s: upgrade loads the extensions PGlite ships; later opens (which name none) of the directory and of a snapshot can use them", async (name) => {
    const source = await createTempDatabase(`retort_ext_pgl_${name}`);
    try {
      await runSql(source.url, FIXTURES[name as keyof typeof FIXTURES]);
      const { config } = projectWithModels();
      await baseline({ message: "baseline" }, { config, url: source.url });
      const dir = mkdtempSync(join(tmpdir(), "retort-ext-pglite-"));
      const url = `pglite:${dir}`;
      await upgrade("head", { config, url });
      expect((await drift({ config, url })).changes).toEqual([]);
      // The directory remembers the bundles it needs; without that file the catalog says so (one more start).
      const extensions = name === "typeorm" ? ["uuid-ossp"] : ["pg_trgm", "pgcrypto"];
      expect(JSON.parse(readFileSync(join(dir, "retort-extensions.json"), "utf8"))).toEqual(extensions);
      rmSync(join(dir, "retort-extensions.json"));
      const insert = name === "typeorm" ? `INSERT INTO "user" ("firstName") VALUES ('Ada') RETURNING id::text` : `INSERT INTO articles (title, created_at) VALUES ('Hello', now()) RETURNING token AS id`;
      const shape = name === "typeorm" ? /^[0-9a-f-]{36}$/ : /^[0-9a-f]{32}$/;
      const driver = await openDriver(parseDatabaseUrl(url), EMPTY_SCHEMA);
      let snapshot: Blob;
      try {
        expect((await driver.query<{ id: string }>(insert)).rows[0]!.id).toMatch(shape);
        snapshot = await dumpPgliteDriver(driver);
      } finally {
        await driver.close();
      }
      expect(JSON.parse(readFileSync(join(dir, "retort-extensions.json"), "utf8"))).toEqual(extensions);
      // A snapshot opened in memory (test databases) is asked too.
      const clone = await createPgliteDriver({ loadDataDir: snapshot }, { schema: EMPTY_SCHEMA });
      try {
        expect((await clone.query<{ id: string }>(insert)).rows[0]!.id).toMatch(shape);
      } finally {
        await clone.close();
      }
      await downgrade("base", { config, url });
    } finally {
      await source.drop();
    }
  }, 120_000);
});

describe("extensions PGlite does not ship, and SQLite", () => {
  it("PGlite: creating an extension it has no bundle for is RETORT_UNSUPPORTED naming it, before anything runs", async () => {
    const project = createProject();
    project.add({ id: "a1", up: `op.createTable("things", { id: t.bigint().primaryKey() });` });
    project.add({ id: "a2", parents: ["a1"], up: `op.createExtension("postgis");`, down: `op.dropExtension("postgis");` });
    const url = `pglite:${mkdtempSync(join(tmpdir(), "retort-ext-pglite-"))}`;
    const error = await upgrade("head", { config: project.config, url }).catch((e: unknown) => e);
    expect(isRetortError(error, "RETORT_UNSUPPORTED")).toBe(true);
    expect((error as Error).message).toBe('PGlite (embedded Postgres) cannot create extension "postgis": it ships no bundle for it');
    expect((error as { hint: string }).hint).toContain("Use a Postgres server for this database");
    expect((await current({ config: project.config, url })).heads).toEqual([]);
  }, 60_000);

  it("SQLite: a migration's createExtension is a no-op, models with extension() compare clean, offline SQL has no statement for it", async () => {
    const { project, config, models } = projectWithModels();
    writeFileSync(models, `import { extension, t, table } from ${JSON.stringify(SOURCE_INDEX)};\nexport const uuidOssp = extension("uuid-ossp");\nexport const things = table("things", { id: t.uuid().primaryKey() });\n`);
    project.add({ id: "s1", up: `op.createExtension("uuid-ossp");\nop.createTable("things", { id: t.uuid().primaryKey() });`, down: `op.dropTable("things");\nop.dropExtension("uuid-ossp");` });
    const url = `sqlite:${join(project.root, "app.db")}`;
    expect((await upgrade("head", { config, url })).to).toEqual(["s1"]);
    expect((await check({ config, url })).changes).toEqual([]);
    expect((await drift({ config, url })).changes).toEqual([]);
    const offline = await migrationSql("up", "head", { config, dialect: "sqlite" });
    expect(offline).not.toContain("EXTENSION");
    expect(offline).toContain('CREATE TABLE "things"');
    await downgrade("base", { config, url });
  }, 60_000);
});
