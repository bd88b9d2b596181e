/**
 * retort test-migrations: every revision up, down and up again on a throwaway database, compared
 * with the schema before, after and with the fold. A deliberately broken downgrade is caught and
 * named with what it leaves behind; branches and merges step one revision at a time.
 */
import { describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { testMigrations } from "../../src/runtime/stairway.js";
import { createProject, failure, query, sqliteFileUrl } from "../runtime/project.js";
import { createTempDatabase, postgresReachable } from "../support/postgres.js";

const postgresUp = await postgresReachable();

function chain(project: ReturnType<typeof createProject>, brokenDowngrade = false) {
  project.add({ id: "sta000000001", message: "users", up: `op.createTable("users", { id: t.integer().primaryKey(), name: t.text() });`, down: `op.dropTable("users");` });
  project.add({
    id: "sta000000002",
    parents: ["sta000000001"],
    message: "user email",
    up: `op.addColumn("users", "email", t.text().nullable()); op.createIndex(null, "users", ["email"], { unique: true });`,
    // The broken one forgets the column.
    down: brokenDowngrade ? `op.dropIndex("uq_users_email");` : `op.dropIndex("uq_users_email"); op.dropColumn("users", "email");`,
  });
  project.add({ id: "sta000000003", parents: ["sta000000002"], message: "posts", up: `op.createTable("posts", { id: t.integer().primaryKey(), userId: t.integer().references("users.id") });`, down: `op.dropTable("posts");` });
}

describe("retort test-migrations", () => {
  for (const dialect of ["sqlite", "pglite"] as const) {
    it(`passes a correct history and catches a broken downgrade, naming it (${dialect})`, async () => {
      const url = dialect === "sqlite" ? sqliteFileUrl() : "pglite:memory";
      const good = createProject({});
      good.config.config.url = url;
      chain(good);
      // PGlite starts in seconds: the passing run is shown on SQLite only.
      if (dialect === "sqlite") {
        const ok = await testMigrations({ config: good.config, env: "development" });
        expect(ok).toMatchObject({ ok: true, passed: ["sta000000001", "sta000000002", "sta000000003"], total: 3, unfolded: [] });
        expect(ok.database).toContain("SQLite");
      }

      const bad = createProject({});
      bad.config.config.url = url;
      chain(bad, true);
      const report = await testMigrations({ config: bad.config, env: "development" });
      expect(report.ok).toBe(false);
      expect(report.database).toContain(dialect === "sqlite" ? "SQLite" : "PGlite");
      expect(report.passed).toEqual(["sta000000001"]);
      expect(report.failure).toMatchObject({ revision: "sta000000002", message: "user email", phase: "downgrade" });
      expect(report.failure!.differences).toEqual(["dropColumn users.email"]);
    });
  }

  it("steps through branches and a merge one revision at a time, and compares the models with head", async () => {
    const project = createProject({});
    project.config.config.url = sqliteFileUrl();
    project.add({ id: "br0000000001", message: "base", up: `op.createTable("a", { id: t.integer().primaryKey() });`, down: `op.dropTable("a");` });
    project.add({ id: "br0000000002", parents: ["br0000000001"], message: "left", up: `op.createTable("b", { id: t.integer().primaryKey() });`, down: `op.dropTable("b");` });
    project.add({ id: "br0000000003", parents: ["br0000000001"], message: "right", up: `op.createTable("c", { id: t.integer().primaryKey() });`, down: `op.dropTable("c");` });
    project.add({ id: "br0000000004", parents: ["br0000000002", "br0000000003"], message: "merge", up: ``, down: `` });
    project.add({ id: "br0000000005", parents: ["br0000000004"], message: "after", up: `op.addColumn("a", "note", t.text().nullable());`, down: `op.dropColumn("a", "note");` });
    const models = join(project.root, "models.ts");
    writeFileSync(
      models,
      `import { t, table } from ${JSON.stringify(join(process.cwd(), "src/index.ts"))};\nexport const a = table("a", { id: t.integer().primaryKey(), note: t.text().nullable() });\nexport const b = table("b", { id: t.integer().primaryKey() });\n`,
    );
    project.config.config.models = models;
    const report = await testMigrations({ config: project.config, env: "development" });
    expect(report.failure).toBeUndefined();
    expect(report.passed).toEqual(["br0000000001", "br0000000002", "br0000000003", "br0000000004", "br0000000005"]);
    // The models lack table c: they do not match head.
    expect(report.models?.match).toBe(false);
    expect(report.models?.differences).toEqual(["dropTable c"]);
    expect(report.ok).toBe(false);
  });

  it("reports a downgrade that cannot run as that revision's failure", async () => {
    const project = createProject({});
    project.config.config.url = sqliteFileUrl();
    project.add({ id: "irr000000001", message: "users", up: `op.createTable("users", { id: t.integer().primaryKey() });`, down: `op.dropTable("users");` });
    project.add({ id: "irr000000002", parents: ["irr000000001"], message: "bad down", up: `op.createTable("tags", { id: t.integer().primaryKey() });`, down: `op.dropTable("tagz");` });
    const report = await testMigrations({ config: project.config, env: "development" });
    expect(report.failure).toMatchObject({ revision: "irr000000002", phase: "downgrade" });
    expect(report.failure!.differences).toEqual([expect.stringMatching(/^RETORT_INVALID_OPERATION: .*revision irr000000002, dropTable.*"tagz" does not exist/)]);
  });

  it("reports an upgrade that fails", async () => {
    const project = createProject({});
    project.config.config.url = sqliteFileUrl();
    project.add({ id: "upf000000001", message: "users", up: `op.createTable("users", { id: t.integer().primaryKey() });`, down: `op.dropTable("users");` });
    project.add({ id: "upf000000002", parents: ["upf000000001"], message: "bad up", up: `op.execute("INSERT INTO nowhere VALUES (1)");`, down: `` });
    const report = await testMigrations({ config: project.config, env: "development" });
    expect(report.passed).toEqual(["upf000000001"]);
    expect(report.failure).toMatchObject({ revision: "upf000000002", phase: "upgrade", differences: [expect.stringMatching(/^RETORT_MIGRATION_FAILED: .*nowhere/s)] });
  });

  it("notices a schema the fold does not expect (raw SQL it cannot see is skipped, and said so)", async () => {
    const project = createProject({});
    project.config.config.url = sqliteFileUrl();
    project.add({ id: "raw000000001", message: "users", up: `op.createTable("users", { id: t.integer().primaryKey() });`, down: `op.dropTable("users");` });
    project.add({ id: "raw000000002", parents: ["raw000000001"], message: "raw", up: `op.execute("CREATE TABLE extra (id INTEGER PRIMARY KEY)");`, down: `op.execute("DROP TABLE extra");` });
    const report = await testMigrations({ config: project.config, env: "development" });
    expect(report).toMatchObject({ ok: true, unfolded: ["raw000000002"] });
  });

  it("refuses a non-empty --url database unless forced", async () => {
    const project = createProject({});
    chain(project);
    const url = sqliteFileUrl();
    await query(url, "CREATE TABLE keep_me (id INTEGER)");
    const refused = await failure(testMigrations({ config: project.config, url }));
    expect(refused.code).toBe("RETORT_DATABASE_NOT_EMPTY");
    expect(refused.message).toContain("keep_me");
    const forced = await testMigrations({ config: project.config, url, force: true });
    expect(forced.ok).toBe(true);
    expect(await query(url, "SELECT count(*) AS n FROM keep_me")).toEqual([{ n: 0 }]);
  });

  it.skipIf(!postgresUp)("runs on a Postgres server with --url", async () => {
    const temp = await createTempDatabase();
    try {
      const project = createProject({});
      chain(project, true);
      const report = await testMigrations({ config: project.config, url: temp.url });
      expect(report.failure).toMatchObject({ revision: "sta000000002", phase: "downgrade" });
      expect(report.database).not.toContain("throwaway");
    } finally {
      await temp.drop();
    }
  });
});
