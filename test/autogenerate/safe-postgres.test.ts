/**
 * Safe autogenerate output applied on Postgres while another connection holds a long read on the
 * table: a step that needs a strong lock gives up after the revision's lockTimeout (the app's
 * queries queued behind it wait no longer than that) and says why; a concurrent index build lets
 * writes through and finishes once the read ends; the NOT NULL backfill path fills a populated
 * table; a stub fails until it is written, and the rerun resumes after the committed steps.
 */
import { readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { current, upgrade } from "../../src/index.js";
import { check } from "../../src/runtime/schema-commands.js";
import { renderMigration } from "../../src/script/index.js";
import { SOURCE_INDEX, createProject, failure } from "../runtime/project.js";
import { postgresReachable, tempDatabaseForSuite } from "../support/postgres.js";
import { headerExtras, modelProject, type ModelProject } from "./safe-support.js";

const postgresUp = await postgresReachable();
if (!postgresUp) console.warn("[retort tests] NOTICE: Postgres server unreachable; safe autogenerate on Postgres is SKIPPED.");

const ROWS = 5000;
const USERS = `export const users = table("users", { id: t.bigint().primaryKey(), name: t.text() });`;

describe.skipIf(!postgresUp)("safe autogenerate applied on Postgres under a long read", () => {
  const suite = tempDatabaseForSuite();

  /** A project at "users with ROWS rows" on a fresh schema of the temp database. */
  async function populated(lockTimeout = "1s"): Promise<ModelProject> {
    await suite.client.query("DROP SCHEMA public CASCADE; CREATE SCHEMA public");
    const project = modelProject({ url: suite.temp.url, autogenerate: { lockTimeout } });
    await project.generate(USERS);
    await upgrade("head", project.options);
    await suite.client.query(`INSERT INTO users SELECT g, 'Name ' || g FROM generate_series(1, ${ROWS}) g`);
    return project;
  }

  /** Another session with an open transaction that read the table (ACCESS SHARE held until it ends). */
  async function longRead(isolation = "READ COMMITTED"): Promise<pg.Client> {
    const reader = new pg.Client({ connectionString: suite.temp.url });
    await reader.connect();
    await reader.query(`BEGIN ISOLATION LEVEL ${isolation}`);
    await reader.query("SELECT count(*) FROM users");
    return reader;
  }

  it("a NOT NULL column with --backfill: under a long read the upgrade gives up after lockTimeout, app queries wait no longer; after the read it fills every row", async () => {
    const project = await populated("1s");
    const generated = await project.generate(`export const users = table("users", { id: t.bigint().primaryKey(), name: t.text(), slug: t.text() }, (u) => [index(u.slug)]);`, {
      backfill: { "": "lower(replace(name, ' ', '-'))" },
    });
    expect(generated.text).toContain('lockTimeout: "1s",');

    const reader = await longRead();
    try {
      const started = Date.now();
      const run = failure(upgrade("head", project.options));
      // An app query arriving while the migration waits for its lock queues behind it, for at most the lock timeout.
      await new Promise((done) => setTimeout(done, 200));
      const appStarted = Date.now();
      const app = new pg.Client({ connectionString: suite.temp.url });
      await app.connect();
      await app.query("SELECT count(*) FROM users WHERE id = 1");
      const appWaited = Date.now() - appStarted;
      await app.end();
      const error = await run;
      const elapsed = Date.now() - started;
      expect(error.code).toBe("RETORT_MIGRATION_FAILED");
      expect(error.message).toContain('at "addColumn users.slug"');
      expect(error.message).toContain("canceling statement due to lock timeout");
      expect(error.hint).toMatch(/^The step gave up waiting for a table lock after the revision's lockTimeout \(1s\): another session holds a conflicting lock/);
      expect(elapsed).toBeGreaterThanOrEqual(900);
      expect(elapsed).toBeLessThan(5000);
      expect(appWaited).toBeLessThan(3000);
      // Nothing of the revision is committed: the column is not there, the database is at the first revision.
      const columns = await suite.client.query("SELECT column_name FROM information_schema.columns WHERE table_name = 'users' ORDER BY ordinal_position");
      expect(columns.rows.map((row) => row.column_name)).toEqual(["id", "name"]);
    } finally {
      await reader.query("ROLLBACK");
      await reader.end();
    }

    // The read is over: the rerun goes through.
    await upgrade("head", project.options);
    const filled = await suite.client.query("SELECT count(*)::int AS n, count(*) FILTER (WHERE slug = lower(replace(name, ' ', '-')))::int AS ok FROM users");
    expect(filled.rows[0]).toEqual({ n: ROWS, ok: ROWS });
    const column = await suite.client.query("SELECT is_nullable FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'slug'");
    expect(column.rows[0]!.is_nullable).toBe("NO");
    const checks = await suite.client.query("SELECT conname FROM pg_constraint WHERE conrelid = 'users'::regclass AND contype = 'c'");
    expect(checks.rows).toEqual([]);
    const index = await suite.client.query("SELECT indisvalid FROM pg_index WHERE indexrelid = 'ix_users_slug'::regclass");
    expect(index.rows[0]!.indisvalid).toBe(true);
    expect((await check(project.options)).ok).toBe(true);
  }, 60_000);

  it("a revision in one transaction under a long read: rolled back after lockTimeout, naming the step", async () => {
    const project = await populated("1s");
    const generated = await project.generate(`export const users = table("users", { id: t.bigint().primaryKey(), name: t.text(), bio: t.text().nullable() });`);
    expect(headerExtras(generated.text)).toEqual(['lockTimeout: "1s",']);
    const reader = await longRead();
    try {
      const started = Date.now();
      const error = await failure(upgrade("head", project.options));
      // One lock timeout for the revision's one text, one more to name the step that waits.
      expect(Date.now() - started).toBeLessThan(6000);
      expect(error.message).toContain('at "addColumn users.bio"');
      expect(error.message).toContain("canceling statement due to lock timeout");
      expect(error.message).toContain(`Revision ${generated.revision} was rolled back`);
    } finally {
      await reader.query("ROLLBACK");
      await reader.end();
    }
    await upgrade("head", project.options);
    expect((await current(project.options)).heads.map((head) => head.revision)).toEqual([generated.revision]);
  }, 60_000);

  it("a lock timeout part-way: the steps before stay committed, and the rerun resumes at the failed step", async () => {
    await suite.client.query("DROP SCHEMA public CASCADE; CREATE SCHEMA public");
    const project = modelProject({ url: suite.temp.url, autogenerate: { lockTimeout: "1s" } });
    const teams = `export const teams = table("teams", { id: t.bigint().primaryKey() });`;
    await project.generate(`${teams}\nexport const users = table("users", { id: t.bigint().primaryKey(), teamId: t.bigint().nullable() });`);
    await upgrade("head", project.options);
    await suite.client.query(`INSERT INTO teams VALUES (1); INSERT INTO users SELECT g, 1 FROM generate_series(1, ${ROWS}) g`);
    // A token with a volatile default (filled row by row), and a foreign key to teams.
    const generated = await project.generate(`${teams}\nexport const users = table("users", { id: t.bigint().primaryKey(), teamId: t.bigint().nullable().references("teams.id"), token: t.uuid().defaultRandom() });`);
    expect(generated.text).toContain("transactional: false,");

    // An open transaction that wrote to teams: the foreign key's lock on teams must wait for it.
    const writer = new pg.Client({ connectionString: suite.temp.url });
    await writer.connect();
    await writer.query("BEGIN; INSERT INTO teams VALUES (2)");
    let error;
    try {
      error = await failure(upgrade("head", project.options));
    } finally {
      await writer.query("ROLLBACK");
      await writer.end();
    }
    expect(error.message).toContain('at "addForeignKey fk_users_team_id_teams on users"');
    expect(error.message).toContain("canceling statement due to lock timeout");
    const committed = error.details.stepsCommitted as number;
    expect(committed).toBeGreaterThan(0);
    expect(error.hint).toContain(`fix the cause and rerun the same command to resume at step ${committed + 1}`);
    // The token is in place already (committed before the failed step).
    expect((await suite.client.query("SELECT count(DISTINCT token)::int AS n FROM users")).rows[0]!.n).toBe(ROWS);

    await upgrade("head", project.options);
    const fk = await suite.client.query("SELECT convalidated FROM pg_constraint WHERE conname = 'fk_users_team_id_teams'");
    expect(fk.rows[0]!.convalidated).toBe(true);
    const token = await suite.client.query("SELECT is_nullable, column_default FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'token'");
    expect(token.rows[0]).toEqual({ is_nullable: "NO", column_default: "gen_random_uuid()" });
    expect((await check(project.options)).ok).toBe(true);
  }, 60_000);

  it("lockTimeout holds for its revision only: in each transaction of it (one per revision, one per step, or one around the run), not in the next", async () => {
    for (const transaction of ["each", "all"] as const) {
      await suite.client.query("DROP SCHEMA public CASCADE; CREATE SCHEMA public");
      const project = createProject({ transaction });
      const write = (revision: string, parents: string[], body: string, extra: { lockTimeout?: string; transactional?: boolean } = {}) =>
        writeFileSync(
          join(project.dir, `2026010100000${parents.length ? revision.slice(1) : "0"}_${revision}.ts`),
          renderMigration({ revision, parents, message: revision, createdAt: new Date(Date.UTC(2026, 0, 1)), upgradeBody: body, downgradeBody: "", moduleSpecifier: SOURCE_INDEX, imports: [`import { t } from ${JSON.stringify(SOURCE_INDEX)};`], ...extra }),
        );
      const record = (revision: string) => `op.execute("INSERT INTO seen VALUES ('${revision}', current_setting('lock_timeout'))");`;
      write("r1", [], `op.createTable("seen", { revision: t.text(), value: t.text() });\n${record("r1")}`);
      write("r2", ["r1"], record("r2"), { lockTimeout: "1500ms" });
      write("r3", ["r2"], record("r3"));
      write("r4", ["r3"], `op.addColumn("seen", "note", t.text().nullable());\n${record("r4")}`, { lockTimeout: "2s", transactional: false });
      write("r5", ["r4"], record("r5"));
      await upgrade("head", { config: project.config, url: suite.temp.url });
      const seen = await suite.client.query("SELECT revision, value FROM seen ORDER BY revision");
      expect({ transaction, rows: seen.rows }).toEqual({
        transaction,
        rows: [
          { revision: "r1", value: "0" },
          { revision: "r2", value: "1500ms" },
          { revision: "r3", value: "0" },
          { revision: "r4", value: "2s" },
          { revision: "r5", value: "0" },
        ],
      });
    }
  }, 60_000);

  it("CREATE INDEX CONCURRENTLY under a long read: writes go on, the build waits for the read and then finishes", async () => {
    const project = await populated("1s");
    await project.generate(`export const users = table("users", { id: t.bigint().primaryKey(), name: t.text() }, (u) => [index(u.name)]);`);
    // A repeatable-read snapshot: the concurrent build must wait until it ends.
    const reader = await longRead("REPEATABLE READ");
    let finished = false;
    const run = upgrade("head", project.options).then((result) => {
      finished = true;
      return result;
    });
    try {
      await new Promise((done) => setTimeout(done, 1500));
      // Longer than the lock timeout, and the build is still waiting rather than failing.
      expect(finished).toBe(false);
      const writer = new pg.Client({ connectionString: suite.temp.url });
      await writer.connect();
      const writeStarted = Date.now();
      await writer.query(`INSERT INTO users VALUES (${ROWS + 1}, 'during the build')`);
      const wrote = Date.now() - writeStarted;
      await writer.end();
      expect(wrote).toBeLessThan(1000);
    } finally {
      await reader.query("COMMIT");
      await reader.end();
    }
    await run;
    const index = await suite.client.query("SELECT indisvalid FROM pg_index WHERE indexrelid = 'ix_users_name'::regclass");
    expect(index.rows[0]!.indisvalid).toBe(true);
  }, 60_000);

  it("the backfill stub fails on a populated table with its message; written by hand, the rerun resumes after the committed column", async () => {
    const project = await populated();
    const generated = await project.generate(`export const users = table("users", { id: t.bigint().primaryKey(), name: t.text(), nickname: t.text() });`);
    const error = await failure(upgrade("head", project.options));
    expect(error.code).toBe("RETORT_MIGRATION_FAILED");
    expect(error.message).toContain('at "backfill users.nickname" failed: fill in the backfill for users.nickname');
    expect(error.details.stepsCommitted).toBe(1);
    const state = await current(project.options);
    expect(state.inProgress.map((row) => row.revision)).toEqual([generated.revision]);

    // The user writes the backfill where the stub was.
    const file = join(project.root, generated.path!.replace(/^.*migrations/, "migrations"));
    const text = readFileSync(file, "utf8");
    const written = text.replace(/op\.run\("backfill users\.nickname", async \(db\) => \{[\s\S]*?\n    \}\);/, 'op.run("backfill users.nickname", async (db) => {\n      await db.updateTable("users").set({ nickname: "anonymous" }).where("nickname", "is", null).execute();\n    });');
    expect(written).not.toBe(text);
    // Under a new file name: this process has the old module loaded (a new `retort upgrade` process would not).
    unlinkSync(file);
    writeFileSync(file.replace(/\.ts$/, "_filled.ts"), written);
    await upgrade("head", project.options);
    const filled = await suite.client.query("SELECT count(*) FILTER (WHERE nickname = 'anonymous')::int AS ok FROM users");
    expect(filled.rows[0]!.ok).toBe(ROWS);
    const column = await suite.client.query("SELECT is_nullable FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'nickname'");
    expect(column.rows[0]!.is_nullable).toBe("NO");
  }, 60_000);
});
