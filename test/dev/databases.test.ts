/** Whole databases for the workflow: copy, drop, reset, on the Postgres server, PGlite and SQLite. */
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { connect } from "../../src/index.js";
import { createDatabase, databaseExists, dropDatabase, grantsFromAcl, resetPostgresSchemas } from "../../src/dev/databases.js";
import { postgresReachable, serverUrl } from "../support/postgres.js";

const postgresUp = await postgresReachable();

function onServer(name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function sql<R = Record<string, unknown>>(url: string, text: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows as R[];
  } finally {
    await client.end();
  }
}

describe.skipIf(!postgresUp)("databases on the Postgres server", () => {
  it("a copy by template keeps the parent's rows; a parent in use gives an empty database and says why; drop ends sessions", async () => {
    const suffix = `${process.pid}_${Date.now() % 100000}`;
    const parent = onServer(`retort_parent_${suffix}`);
    const child = onServer(`retort_child_${suffix}`);
    const other = onServer(`retort_other_${suffix}`);
    try {
      expect(await databaseExists(parent)).toBe(false);
      expect(await createDatabase(parent)).toEqual({});
      await sql(parent, "CREATE TABLE notes (id int); INSERT INTO notes VALUES (1), (2), (3)");
      expect(await createDatabase(child, parent)).toEqual({ copiedFrom: parent });
      expect(await sql(child, "SELECT count(*)::int AS n FROM notes")).toEqual([{ n: 3 }]);

      const busy = new pg.Client({ connectionString: parent });
      busy.on("error", () => undefined); // DROP … WITH (FORCE) ends this session
      await busy.connect();
      try {
        const result = await createDatabase(other, parent);
        expect(result.copyFailed).toMatch(/being accessed by other users/);
        expect(await sql(other, "SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'notes'")).toEqual([{ n: 0 }]);
        expect(await dropDatabase(parent)).toBe(true);
      } finally {
        await busy.end().catch(() => undefined);
      }
      expect(await databaseExists(parent)).toBe(false);
      expect(await dropDatabase(parent)).toBe(false);
    } finally {
      for (const url of [parent, child, other]) await dropDatabase(url);
    }
  });

  it("reset empties the schema and keeps its owner, grants and comment", async () => {
    const suffix = `${process.pid}_${Date.now() % 100000}`;
    const url = onServer(`retort_reset_${suffix}`);
    const role = `retort_reader_${suffix}`;
    await createDatabase(url);
    try {
      await sql(url, `CREATE ROLE ${role}; GRANT USAGE ON SCHEMA public TO ${role}; CREATE SCHEMA app; GRANT USAGE, CREATE ON SCHEMA app TO ${role} WITH GRANT OPTION; COMMENT ON SCHEMA app IS 'the app'`);
      await sql(url, "CREATE TABLE public.a (id int); CREATE TABLE app.b (id int); CREATE TYPE app.mood AS ENUM ('ok')");
      const before = await sql(url, "SELECT nspname, pg_get_userbyid(nspowner) AS owner, nspacl::text AS acl, obj_description(oid, 'pg_namespace') AS comment FROM pg_namespace WHERE nspname IN ('public', 'app') ORDER BY 1");
      expect(await resetPostgresSchemas(url, ["public", "app"])).toEqual(expect.arrayContaining(["public", "app"]));
      expect(await sql(url, "SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN ('public', 'app')")).toEqual([{ n: 0 }]);
      expect(await sql(url, "SELECT count(*)::int AS n FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = 'app'")).toEqual([{ n: 0 }]);
      const after = await sql(url, "SELECT nspname, pg_get_userbyid(nspowner) AS owner, nspacl::text AS acl, obj_description(oid, 'pg_namespace') AS comment FROM pg_namespace WHERE nspname IN ('public', 'app') ORDER BY 1");
      expect(after).toEqual(before);
    } finally {
      await dropDatabase(url);
      await sql(serverUrl, `DROP ROLE IF EXISTS ${role}`);
    }
  });
});

describe("databases in files", () => {
  it("PGlite: a folder copy keeps the rows; drop removes the folder", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dbs-"));
    const parent = `pglite:${join(dir, "main")}`;
    const child = `pglite:${join(dir, "feature")}`;
    const db = await connect(parent, { schema: {} });
    await db.kysely.schema.createTable("notes").addColumn("id", "integer").execute();
    await db.kysely.insertInto("notes" as never).values([{ id: 1 }, { id: 2 }] as never).execute();
    await db.close();
    expect(await createDatabase(child, parent)).toEqual({ copiedFrom: parent });
    const copy = await connect(child, { schema: {} });
    expect(await copy.kysely.selectFrom("notes" as never).selectAll().execute()).toHaveLength(2);
    await copy.close();
    expect(await dropDatabase(child)).toBe(true);
    expect(existsSync(join(dir, "feature"))).toBe(false);
    expect(await databaseExists(parent)).toBe(true);
  });

  it("SQLite: the file (and its WAL) copied; a missing parent gives nothing to copy; drop removes every file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dbs-"));
    const parent = `sqlite:${join(dir, "app.main.db")}`;
    const child = `sqlite:${join(dir, "app.feature.db")}`;
    const db = await connect(parent, { schema: {} });
    await db.kysely.schema.createTable("notes").addColumn("id", "integer").execute();
    await db.kysely.insertInto("notes" as never).values([{ id: 1 }] as never).execute();
    await db.close();
    expect(await createDatabase(child, parent)).toEqual({ copiedFrom: parent });
    const copy = await connect(child, { schema: {} });
    expect(await copy.kysely.selectFrom("notes" as never).selectAll().execute()).toEqual([{ id: 1 }]);
    await copy.close();
    expect(await createDatabase(`sqlite:${join(dir, "other.db")}`, `sqlite:${join(dir, "missing.db")}`)).toEqual({});
    expect(await dropDatabase(child)).toBe(true);
    expect(existsSync(join(dir, "app.feature.db"))).toBe(false);
    expect(await dropDatabase(child)).toBe(false);
  });
});

describe("schema ACLs", () => {
  it("become the GRANT statements that restore them", () => {
    expect(grantsFromAcl("app", "owner", ["owner=UC/owner", "reader=U/owner", "=U/owner", '"Odd Name"=U*C/owner'])).toEqual([
      'GRANT USAGE ON SCHEMA "app" TO "reader"',
      'GRANT USAGE ON SCHEMA "app" TO PUBLIC',
      'GRANT USAGE ON SCHEMA "app" TO "Odd Name" WITH GRANT OPTION',
      'GRANT CREATE ON SCHEMA "app" TO "Odd Name"',
    ]);
    expect(grantsFromAcl("app", "owner", null)).toEqual([]);
  });
});
