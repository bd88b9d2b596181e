/**
 * The config's `schemas` names the schema Retort reads (introspection, drift, autogenerate), while
 * migrations name tables without a schema and so change those of the connection's current schema.
 * With the two apart, a migration written from one schema's tables dropped a column of the
 * same-named table in the other (`public`), data and all: the run now refuses before any step.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { upgrade, type LoadedConfig } from "../../src/index.js";
import { createTempDatabase, postgresReachable, type TempDatabase } from "../support/postgres.js";
import { createProject, failure } from "./project.js";

const postgresUp = await postgresReachable();
if (!postgresUp) console.warn("schema-config.test.ts: no Postgres server at 127.0.0.1:5432, skipped");

describe.skipIf(!postgresUp)("config schemas against the connection's search_path (Postgres server)", () => {
  let database: TempDatabase;
  const columns = async (schema: string) => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ column_name: string }>("SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'customers' ORDER BY ordinal_position", [schema]);
      return rows.map((row) => row.column_name);
    } finally {
      await client.end();
    }
  };
  beforeAll(async () => {
    database = await createTempDatabase("retort_schema_config");
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      await client.query("CREATE SCHEMA billing");
      await client.query("CREATE TABLE public.customers (id int PRIMARY KEY, name text)");
      await client.query("INSERT INTO public.customers VALUES (1, 'precious')");
    } finally {
      await client.end();
    }
  });
  afterAll(async () => {
    await database?.drop();
  });

  it("refuses to migrate when unqualified names resolve elsewhere, then runs in the configured schema once the URL sets it", async () => {
    const project = createProject();
    const config: LoadedConfig = { ...project.config, config: { ...project.config.config, schemas: ["billing"] } };
    project.add({ id: "make00000001", message: "customers", up: `op.createTable("customers", { id: t.integer().primaryKey(), name: t.text().nullable() });`, down: `op.dropTable("customers");` });
    project.add({ id: "drop00000001", parents: ["make00000001"], message: "drop name", up: `op.dropColumn("customers", "name");`, down: `op.addColumn("customers", "name", t.text().nullable());` });

    const refused = await failure(upgrade("head", { config, url: database.url }));
    expect(refused.code).toBe("RETORT_SCHEMA_MISMATCH");
    expect(refused.message).toContain(`schema "billing"`);
    expect(refused.message).toContain(`schema "public"`);
    expect(refused.hint).toContain("search_path%3Dbilling%2Cpublic");
    expect(await columns("public")).toEqual(["id", "name"]);
    expect(await columns("billing")).toEqual([]);
    const probe = new pg.Client({ connectionString: database.url });
    await probe.connect();
    try {
      // Refused before the version tables were made anywhere.
      expect((await probe.query("SELECT to_regclass('public.retort_version') AS t")).rows).toEqual([{ t: null }]);
    } finally {
      await probe.end();
    }

    const withPath = `${database.url}?options=-c%20search_path%3Dbilling%2Cpublic`;
    const result = await upgrade("head", { config, url: withPath });
    expect(result.to).toEqual(["drop00000001"]);
    expect(await columns("billing")).toEqual(["id"]);
    expect(await columns("public")).toEqual(["id", "name"]);
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      expect((await client.query("SELECT name FROM public.customers")).rows).toEqual([{ name: "precious" }]);
      // The version tables are where the migrations ran, with them.
      expect((await client.query("SELECT version_num FROM billing.retort_version")).rows).toEqual([{ version_num: "drop00000001" }]);
    } finally {
      await client.end();
    }
  });
});
