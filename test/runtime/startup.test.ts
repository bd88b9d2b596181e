/**
 * upgradeOnStartup: migrates outside development (once, under the lock, when many replicas start
 * together), only reports in development, and costs one query when nothing is pending.
 */
import { execFile } from "node:child_process";
import { appendFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { connect, isRetortError, upgradeOnStartup, type StartupResult } from "../../src/index.js";
import { createTempDatabase, postgresReachable } from "../support/postgres.js";
import { createProject, type Project } from "./project.js";

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
      expect(queries).toEqual(["SELECT version_num FROM retort_version"]);
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
