/**
 * The config's table selection and the default exclusions (other tools' version tables,
 * extension-owned objects) hold in every comparison with a live database: introspection, drift
 * and autogenerate --url, on the Postgres server and on SQLite.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, stamp, type LoadedConfig } from "../../src/index.js";
import { autogenerate, drift } from "../../src/runtime/schema-commands.js";
import { introspectLive } from "../../src/runtime/head-schema.js";
import { tableFilter } from "../../src/schema/table-filter.js";
import { createTempDatabase, postgresReachable, type TempDatabase } from "../support/postgres.js";
import { SOURCE_INDEX, createProject } from "../runtime/project.js";

const postgresUp = await postgresReachable();

// The extension is the schema's (models declare it); what it owns is not (SQLite ignores it).
const USERS_MODEL = `import { extension, t, table } from ${JSON.stringify(SOURCE_INDEX)};
export const citext = extension("citext");
export const users = table("users", { id: t.bigint().primaryKey(), email: t.text() }, () => []);
`;
/** What a database another tool built holds besides the users table. */
const OTHER_TOOLS_SQL = [
  "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))",
  "INSERT INTO alembic_version VALUES ('4f2e1d0c9b8a')",
  `CREATE TABLE "_prisma_migrations" ("id" VARCHAR(36) NOT NULL PRIMARY KEY, "checksum" VARCHAR(64) NOT NULL, "migration_name" VARCHAR(255) NOT NULL)`,
  `CREATE TABLE "__drizzle_migrations" (id INTEGER PRIMARY KEY, hash text NOT NULL, created_at bigint)`,
  "CREATE TABLE legacy_audit (id INTEGER PRIMARY KEY, note TEXT)",
  "CREATE TABLE legacy_log (id INTEGER PRIMARY KEY)",
];

function projectWithModels(selection?: LoadedConfig["config"]["tables"]) {
  const project = createProject();
  writeFileSync(join(project.root, "schema.ts"), USERS_MODEL);
  const config: LoadedConfig = { ...project.config, config: { ...project.config.config, models: "./schema.ts", ...(selection ? { tables: selection } : {}) } };
  return { project, config };
}


describe("tables include/exclude and the default exclusions", () => {
  it("tableFilter: names and globs, other tools' tables out unless included by name", () => {
    const keep = tableFilter({ exclude: ["legacy_*", "tmp?"] });
    expect(["users", "legacy_audit", "tmp1", "tmp12", "alembic_version", "_prisma_migrations", "__drizzle_migrations"].filter(keep)).toEqual(["users", "tmp12"]);
    const only = tableFilter({ include: ["app_*", "alembic_version"] });
    expect(["app_users", "users", "alembic_version"].filter(only)).toEqual(["app_users", "alembic_version"]);
  });

  describe.skipIf(!postgresUp)("Postgres server", () => {
    let database: TempDatabase;
    beforeAll(async () => {
      database = await createTempDatabase("retort_filter");
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      try {
        await client.query("CREATE TABLE users (id BIGINT NOT NULL, email TEXT NOT NULL, CONSTRAINT pk_users PRIMARY KEY (id))");
        for (const statement of OTHER_TOOLS_SQL) await client.query(statement);
        // An extension's objects: citext's type, and a table the extension owns (as PostGIS owns
        // spatial_ref_sys) with a column of a type Retort cannot describe.
        await client.query("CREATE EXTENSION citext");
        await client.query("CREATE TABLE spatial_ref_sys (srid INTEGER PRIMARY KEY, auth_name citext)");
        await client.query("ALTER EXTENSION citext ADD TABLE spatial_ref_sys");
        await client.query("CREATE TYPE ext_kind AS ENUM ('a', 'b')");
        await client.query("ALTER EXTENSION citext ADD TYPE ext_kind");
      } finally {
        await client.end();
      }
    }, 60_000);
    afterAll(async () => database?.drop());

    it("never shows other tools' tables, extension-owned objects or excluded tables in any diff", async () => {
      const { project, config } = projectWithModels({ exclude: ["legacy_*"] });
      const options = { config, url: database.url };
      const db = await connect(database.url, { schema: {} });
      try {
        const live = await db.withConnection((conn) => introspectLive(config, conn, "postgres"));
        expect(live.tables.map((table) => table.name)).toEqual(["users"]);
        expect(live.enums).toEqual([]);
      } finally {
        await db.close();
      }
      // autogenerate --url: the models equal the live users table; nothing else is a change.
      const against = await autogenerate({ message: "users" }, { config, url: database.url, against: "database" });
      expect(against.changes).toEqual([]);
      expect(against.path).toBeUndefined();
      // A revision creating users, stamped: drift sees no difference either.
      const first = await autogenerate({ message: "users" }, { config, url: database.url });
      expect(first.changes).toEqual(["createExtension citext", "createTable users"]);
      await stamp("head", options);
      const drifted = await drift(options);
      expect(drifted.changes).toEqual([]);
      expect(drifted.ok).toBe(true);

      // Without the exclude, the legacy tables are what drift reports (and nothing else).
      const { config: plain } = projectWithModels();
      const unfiltered = await drift({ config: { ...plain, root: project.root }, url: database.url });
      expect(unfiltered.changes.sort()).toEqual(["createTable legacy_audit", "createTable legacy_log"]);
    }, 60_000);

    it("schemas: more than one is refused with a clear error", async () => {
      const { config } = projectWithModels();
      const error = await drift({ config: { ...config, config: { ...config.config, schemas: ["public", "billing"] } }, url: database.url }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "RETORT_CONFIG", message: expect.stringContaining('["public","billing"]') });
    });
  });

  it("SQLite: the same tables never show in drift or autogenerate --url", async () => {
    const { project, config } = projectWithModels({ exclude: ["legacy_*"] });
    const file = join(project.root, "app.db");
    const sqlite = new Database(file);
    sqlite.exec("CREATE TABLE users (id BIGINT NOT NULL, email TEXT NOT NULL, CONSTRAINT pk_users PRIMARY KEY (id))");
    for (const statement of OTHER_TOOLS_SQL) sqlite.exec(statement);
    sqlite.close();
    const url = `sqlite:${file}`;
    expect((await autogenerate({ message: "users" }, { config, url, against: "database" })).changes).toEqual([]);
    await autogenerate({ message: "users" }, { config, url });
    await stamp("head", { config, url });
    expect((await drift({ config, url })).changes).toEqual([]);
    const { config: plain } = projectWithModels();
    expect((await drift({ config: { ...plain, root: project.root }, url })).changes.sort()).toEqual(["createTable legacy_audit", "createTable legacy_log"]);
  }, 60_000);
});
