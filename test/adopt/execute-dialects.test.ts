/** op.execute with SQL per dialect: what runs where, and a missing dialect named at plan time. */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, downgrade, isRetortError, migrationSql, upgrade } from "../../src/index.js";
import { renderMigrationBodies } from "../../src/autogenerate/index.js";
import { createOpRecorder } from "../../src/operations/api.js";
import { createTempDatabase, postgresReachable, type TempDatabase } from "../support/postgres.js";
import { createProject } from "../runtime/project.js";

const postgresUp = await postgresReachable();

function project() {
  const p = createProject();
  p.add({
    id: "aaaa00000001",
    message: "per dialect",
    up: `op.execute({ postgres: "CREATE TABLE made_by (dialect TEXT DEFAULT 'postgres')", sqlite: "CREATE TABLE made_by (dialect TEXT DEFAULT 'sqlite')" }, { reverseSql: { postgres: "DROP TABLE made_by", sqlite: "DROP TABLE made_by" } });
    op.execute({ postgres: "INSERT INTO made_by DEFAULT VALUES", sqlite: sql\`INSERT INTO made_by DEFAULT VALUES\` }, { reverseSql: "DELETE FROM made_by" });`,
    down: `op.execute("DELETE FROM made_by"); op.execute({ postgres: "DROP TABLE made_by", sqlite: "DROP TABLE made_by" });`,
  });
  p.add({ id: "bbbb00000002", parents: ["aaaa00000001"], message: "postgres only", up: `op.execute({ postgres: "CREATE SEQUENCE pg_only_seq" });`, down: `op.execute({ postgres: "DROP SEQUENCE pg_only_seq" });` });
  return p;
}

async function rows(url: string): Promise<unknown[]> {
  const db = await connect(url, { schema: {} });
  try {
    return (await db.query("SELECT dialect FROM made_by")).rows;
  } finally {
    await db.close();
  }
}

describe("op.execute per dialect", () => {
  it("SQLite runs its own text; a revision with no SQLite text fails at plan time naming the revision, before anything runs", async () => {
    const p = project();
    const url = `sqlite:${join(p.root, "app.db")}`;
    const options = { config: p.config, url };
    const error = await upgrade("head", options).catch((e: unknown) => e);
    expect(isRetortError(error, "RETORT_INVALID_OPERATION")).toBe(true);
    expect((error as Error).message).toMatch(/revision bbbb00000002, execute\): op\.execute\(\) has no SQL for sqlite \(it has SQL for postgres\)/);
    expect((error as { hint: string }).hint).toContain('sqlite: "…"');
    // Planned before running: not even the first revision ran.
    await expect(rows(url)).rejects.toThrow(/no such table/);
    // --sql names it the same way.
    await expect(migrationSql("up", "base:head", { ...options, dialect: "sqlite" })).rejects.toThrow(/bbbb00000002.*no SQL for sqlite/);

    await upgrade("aaaa00000001", options);
    expect(await rows(url)).toEqual([{ dialect: "sqlite" }]);
    await downgrade("base", options);
    await expect(rows(url)).rejects.toThrow(/no such table/);
  }, 30_000);

  it("offline SQL for Postgres and PGlite takes the postgres text", async () => {
    const p = project();
    for (const dialect of ["postgres", "pglite"] as const) {
      const script = await migrationSql("up", "base:head", { config: p.config, dialect });
      expect(script).toContain("CREATE TABLE made_by (dialect TEXT DEFAULT 'postgres');");
      expect(script).toContain("CREATE SEQUENCE pg_only_seq;");
      expect(script).not.toContain("'sqlite'");
    }
  });

  describe.skipIf(!postgresUp)("Postgres server", () => {
    let database: TempDatabase;
    beforeAll(async () => {
      database = await createTempDatabase("retort_exec");
    });
    afterAll(async () => database?.drop());
    it("runs the postgres text, and the reverse per dialect", async () => {
      const p = project();
      const options = { config: p.config, url: database.url };
      await upgrade("head", options);
      expect(await rows(database.url)).toEqual([{ dialect: "postgres" }]);
      await downgrade("base", options);
      await expect(rows(database.url)).rejects.toThrow(/does not exist/);
    }, 30_000);
  });

  it("the op API checks the dialect keys; the renderer writes them back", () => {
    const { op, ops } = createOpRecorder();
    expect(() => op.execute({ postgress: "SELECT 1" } as never)).toThrow(/unknown dialect "postgress"/);
    expect(() => op.execute({})).toThrow(/gives no SQL for any dialect/);
    op.execute({ postgres: "CREATE SEQUENCE s", sqlite: "SELECT 1" }, { reverseSql: { postgres: "DROP SEQUENCE s", sqlite: "SELECT 1" } });
    expect(ops).toEqual([{ kind: "execute", sql: { postgres: "CREATE SEQUENCE s", sqlite: "SELECT 1" }, reverseSql: { postgres: "DROP SEQUENCE s", sqlite: "SELECT 1" } }]);
    const bodies = renderMigrationBodies(ops);
    expect(bodies.upgrade).toBe("op.execute({ postgres: sql`CREATE SEQUENCE s`, sqlite: sql`SELECT 1` }, { reverseSql: { postgres: sql`DROP SEQUENCE s`, sqlite: sql`SELECT 1` } });");
    expect(bodies.downgrade).toBe("op.execute({ postgres: sql`DROP SEQUENCE s`, sqlite: sql`SELECT 1` }, { reverseSql: { postgres: sql`CREATE SEQUENCE s`, sqlite: sql`SELECT 1` } });");
  });
});
