/**
 * upgradeOnStartup: migrates outside development (once, under the lock, when many replicas start
 * together), only reports in development, costs one query when nothing is pending, and does not
 * start an app over a run left part-way.
 */
import { execFile } from "node:child_process";
import { appendFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { connect, downgrade, isRetortError, upgrade, upgradeOnStartup, type StartupResult } from "../../src/index.js";
import { createTempDatabase, postgresReachable } from "../support/postgres.js";
import { createProject, query, sqliteFileUrl, type Project } from "./project.js";

const exec = promisify(execFile);
const postgresUp = await postgresReachable();

function chain(project: Project, n: number): string[] {
  const ids: string[] = [];
  for (let i = 1; i <= n; i++) {
    const id = `boot0000000${i}`;
    project.add({ id, parents: ids.slice(-1), message: `table ${i}`, up: `op.createTable("t${i}", { id: t.integer().primaryKey() });`, down: `op.dropTable("t${i}");` });
    ids.push(id);
  }
  return ids;
}

describe("upgradeOnStartup", () => {
  it("production upgrades to head; a second start does nothing with one query and no module load", async () => {
    const project = createProject();
    const ids = chain(project, 3);
    const queries: string[] = [];
    const db = await connect("sqlite::memory:", { schema: {}, onQuery: (e) => queries.push(e.sql) });
    try {
      const lines: string[] = [];
      const logger = { info: (m: string) => lines.push(m) };
      const first = await upgradeOnStartup({ database: db, config: project.config, env: "production", logger });
      expect(first).toMatchObject({ environment: "production", action: "upgraded", pending: ids, heads: [ids[2]] });
      expect(lines).toEqual([`retort: upgraded base -> ${ids[2]} (3 revision(s))`]);
      const tables = await db.kysely.introspection.getTables();
      expect(tables.map((t) => t.name).filter((n) => /^t\d$/.test(n)).sort()).toEqual(["t1", "t2", "t3"]);

      // Nothing pending: one query, and no migration module is loaded (a broken one would fail the call).
      for (const file of readdirSync(project.dir)) appendFileSync(join(project.dir, file), "\nthis is not TypeScript (\n");
      queries.length = 0;
      const second = await upgradeOnStartup({ database: db, config: project.config, env: "production", logger });
      expect(second).toEqual({ environment: "production", action: "up-to-date", pending: [], heads: [ids[2]] });
      expect(queries).toEqual(["SELECT version_num, NULL AS revision FROM retort_version UNION ALL SELECT NULL, revision FROM retort_migrations WHERE outcome <> 'applied' AND steps_done > 0"]);
    } finally {
      await db.close();
    }
  });

  it("development never migrates: it logs one line naming what is pending", async () => {
    const project = createProject();
    const ids = chain(project, 2);
    const db = await connect("pglite:memory", { schema: {} });
    try {
      const lines: string[] = [];
      const result = await upgradeOnStartup({ database: db, config: project.config, env: "development", logger: { info: (m) => lines.push(m) } });
      expect(result).toMatchObject({ action: "pending", pending: ids, heads: [] });
      expect(lines).toEqual([`retort: 2 migration(s) pending (${ids.join(", ")}); run \`retort upgrade\`.`]);
      const { rows } = await db.driver.acquire().then(async (c) => {
        try {
          return await c.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_tables WHERE tablename IN ('t1', 't2', 'retort_version')");
        } finally {
          c.release();
        }
      });
      expect(rows[0]!.n).toBe(0);
    } finally {
      await db.close();
    }
  });

  it("a database ahead of this build's migrations is refused with the unknown revisions named", async () => {
    const project = createProject();
    chain(project, 1);
    const db = await connect("sqlite::memory:", { schema: {} });
    try {
      await db.kysely.schema.createTable("retort_version").addColumn("version_num", "varchar(64)", (c) => c.primaryKey()).execute();
      await db.kysely.insertInto("retort_version" as never).values({ version_num: "fromthefuture" } as never).execute();
      const error = await upgradeOnStartup({ database: db, config: project.config, env: "production", logger: { info: () => {} } }).catch((e: unknown) => e);
      expect(isRetortError(error, "RETORT_UNKNOWN_REVISION")).toBe(true);
      expect((error as Error).message).toContain("fromthefuture");
    } finally {
      await db.close();
    }
  });

  it("a downgrade left part-way is not taken for up to date: production refuses to start, development warns", async () => {
    const project = createProject();
    const [first] = chain(project, 1);
    const second = "boot00000009";
    project.add({
      id: second,
      parents: [first!],
      message: "outside a transaction",
      transactional: false,
      up: `op.createTable("a", { id: t.integer().primaryKey() });\nop.createTable("b", { id: t.integer().primaryKey() });`,
      down: `op.dropTable("b");\nop.execute("DELETE FROM missing");\nop.dropTable("a");`,
    });
    const url = sqliteFileUrl();
    await upgrade("head", { config: project.config, url });
    const db = await connect(url, { schema: {} });
    try {
      const lines: string[] = [];
      const logger = { info: (m: string) => lines.push(m), warn: (m: string) => lines.push(`warn: ${m}`) };
      // Up to date, and the heads are now remembered: the fast path is armed.
      expect(await upgradeOnStartup({ database: db, config: project.config, env: "production", logger })).toMatchObject({ action: "up-to-date", heads: [second] });

      const failed = await downgrade("-1", { config: project.config, url }).catch((e: unknown) => e);
      expect(isRetortError(failed, "RETORT_MIGRATION_FAILED")).toBe(true);
      // b dropped, a kept: the version row still says the head, which the schema no longer is.
      expect(await query(url, "SELECT version_num FROM retort_version")).toEqual([{ version_num: second }]);
      const tables = async () => (await query(url, "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('a', 'b') ORDER BY name")).map((row) => row.name);
      expect(await tables()).toEqual(["a"]);

      const refused = await upgradeOnStartup({ database: db, config: project.config, env: "production", logger }).catch((e: unknown) => e);
      expect(isRetortError(refused, "RETORT_UNFINISHED_REVISION")).toBe(true);
      expect((refused as Error).message).toContain(`the downgrade of ${second}`);
      expect(await tables()).toEqual(["a"]);

      lines.length = 0;
      const development = await upgradeOnStartup({ database: db, config: project.config, env: "development", logger });
      expect(development).toEqual({ environment: "development", action: "unfinished", pending: [], heads: [second] });
      expect(lines).toEqual([expect.stringMatching(new RegExp(`^warn: retort: the downgrade of ${second} \\(1 step\\(s\\) committed\\) stopped part-way`))]);
    } finally {
      await db.close();
    }
  });

  it("an upgrade left part-way is resumed by a production start once what stopped it is fixed", async () => {
    const project = createProject();
    const [first] = chain(project, 1);
    project.add({
      id: "boot00000009",
      parents: [first!],
      message: "outside a transaction",
      transactional: false,
      up: `op.createTable("a", { id: t.integer().primaryKey() });\nop.execute("INSERT INTO gate VALUES (1)");\nop.createTable("b", { id: t.integer().primaryKey() });`,
      down: `op.dropTable("b");\nop.dropTable("a");`,
    });
    const url = sqliteFileUrl();
    const failed = await upgrade("head", { config: project.config, url }).catch((e: unknown) => e);
    expect(isRetortError(failed, "RETORT_MIGRATION_FAILED")).toBe(true);
    await query(url, "CREATE TABLE gate (id integer)");
    const db = await connect(url, { schema: {} });
    try {
      const started = await upgradeOnStartup({ database: db, config: project.config, env: "production", logger: { info: () => {} } });
      expect(started).toMatchObject({ action: "upgraded", heads: ["boot00000009"] });
      // Resumed at step 2: step 1's table was not created again (which would have failed).
      expect(await query(url, "SELECT id FROM gate")).toEqual([{ id: 1 }]);
      expect(await query(url, "SELECT name FROM sqlite_master WHERE name IN ('a', 'b') ORDER BY name")).toEqual([{ name: "a" }, { name: "b" }]);
    } finally {
      await db.close();
    }
  });

  it.skipIf(!postgresUp)("sixteen replicas starting at once on Postgres: each revision applied once, every one returns", async () => {
    const temp = await createTempDatabase();
    try {
      const project = createProject();
      const ids = chain(project, 4);
      const config = join(project.root, "retort.config.mjs");
      writeFileSync(config, `export default ${JSON.stringify(project.config.config)};\n`);
      const runs = await Promise.all(
        Array.from({ length: 16 }, () => exec("node_modules/.bin/tsx", ["test/fixtures/startup-app.ts", config, temp.url, "production"], { timeout: 170_000 })),
      );
      const results = runs.map((r) => JSON.parse(r.stdout) as StartupResult & { lines: string[] });
      expect(results.every((r) => r.heads.length === 1 && r.heads[0] === ids[3])).toBe(true);
      expect(results.filter((r) => r.action === "upgraded").length).toBeGreaterThanOrEqual(1);
      const { default: pg } = await import("pg");
      const client = new pg.Client({ connectionString: temp.url });
      await client.connect();
      const applied = await client.query("SELECT revision, count(*)::int AS n FROM retort_migrations WHERE direction = 'up' AND outcome = 'applied' GROUP BY revision ORDER BY revision");
      await client.end();
      expect(applied.rows).toEqual(ids.map((revision) => ({ revision, n: 1 })));
    } finally {
      await temp.drop();
    }
  }, 180_000);
});
