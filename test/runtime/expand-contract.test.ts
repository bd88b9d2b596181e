/**
 * Expand/contract on Postgres: `revision --autogenerate --expand-contract` for a column rename
 * and a type change writes an expand and a gated contract revision. Between them the old app's
 * queries (old column names and types) and the new app's (new columns) both work and see each
 * other's writes; `upgrade` stops before the contract until `retort release <expand>` (or the
 * config) says the expand is deployed; then the contract drops the old columns.
 */
import pg from "pg";
import { describe, expect, it } from "vitest";
import { connect, current, downgrade, release, upgrade, upgradeOnStartup } from "../../src/index.js";
import { check } from "../../src/runtime/schema-commands.js";
import { headerExtras, modelProject, type ModelProject } from "../autogenerate/safe-support.js";
import { postgresReachable, tempDatabaseForSuite } from "../support/postgres.js";
import { failure } from "./project.js";

const postgresUp = await postgresReachable();
if (!postgresUp) console.warn("[retort tests] NOTICE: Postgres server unreachable; expand/contract on Postgres is SKIPPED.");

/** More rows than one backfill batch (1000). */
const ROWS = 2500;
const BEFORE = `export const users = table("users", { id: t.bigint().primaryKey(), username: t.text(), score: t.integer().nullable() }, (u) => [index(u.username)]);`;
/** username renamed to handle (its index follows); score widened to bigint under the same name. */
const AFTER = `export const users = table("users", { id: t.bigint().primaryKey(), handle: t.text().renamedFrom("username"), score: t.bigint().nullable() }, (u) => [index(u.handle)]);`;

describe.skipIf(!postgresUp)("expand/contract on Postgres", () => {
  const suite = tempDatabaseForSuite();

  async function populated(settings: Parameters<typeof modelProject>[0] = {}): Promise<ModelProject> {
    await suite.client.query("DROP SCHEMA public CASCADE; CREATE SCHEMA public");
    const project = modelProject({ url: suite.temp.url, ...settings });
    await project.generate(BEFORE);
    await upgrade("head", project.options);
    await suite.client.query(`INSERT INTO users SELECT g, 'user' || g, g FROM generate_series(1, ${ROWS}) g`);
    return project;
  }

  const columns = async () => (await suite.client.query("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'users' ORDER BY ordinal_position")).rows;

  it("old and new queries both work between expand and contract; the contract waits for release", async () => {
    const project = await populated();
    const pair = await project.generate(AFTER, { expandContract: true, revId: "expand_users" });
    expect(pair.revision).toBe("expand_users");
    expect(headerExtras(pair.text)).toEqual(["transactional: false,", 'lockTimeout: "5s",']);
    expect(headerExtras(pair.contractText!)).toEqual(["transactional: false,", 'lockTimeout: "5s",', 'contractOf: "expand_users",']);
    expect(pair.contractText).toContain('parents: ["expand_users"],');
    expect(pair.text).toContain('op.addColumn("users", "handle", t.text().nullable());');
    expect(pair.text).toContain('op.addColumn("users", "score_new", t.bigint().nullable());');
    expect(pair.text).toContain("CREATE TRIGGER retort_sync_users_handle BEFORE INSERT OR UPDATE ON users FOR EACH ROW EXECUTE FUNCTION retort_sync_users_handle()");
    expect(pair.text).toContain("UPDATE users SET handle = username WHERE (retort_last_key IS NULL OR id > retort_last_key) AND id <= retort_batch_end AND handle IS NULL;");
    expect(pair.contractText).toContain('op.dropColumn("users", "username");');
    // The index moves with the name: built concurrently on the new column in the expand, the old one dropped in the contract.
    expect(pair.text).toContain('op.createIndex(null, "users", ["handle"], { concurrently: true });');
    expect(pair.contractText).toContain('op.dropIndex("ix_users_username", { table: "users", concurrently: true });');
    expect(pair.contractText).toContain('op.renameColumn("users", "score_new", "score");');

    // upgrade runs the expand and stops before the contract.
    const held = await failure(upgrade("head", project.options));
    expect(held.code).toBe("RETORT_CONTRACT_NOT_RELEASED");
    expect(held.message).toContain(`Revision ${pair.contract!.revision} (step 2 (contract)) is the contract of expand revision expand_users`);
    expect(held.message).toContain("(the 1 revision(s) before it ran)");
    expect(held.hint).toMatch(/run `retort release expand_users`, then `retort upgrade` again/);
    expect((await current(project.options)).heads.map((head) => head.revision)).toEqual(["expand_users"]);

    // The backfill copied every row, in both new columns.
    const copied = await suite.client.query("SELECT count(*) FILTER (WHERE handle = username)::int AS handle, count(*) FILTER (WHERE score_new = score)::int AS score FROM users");
    expect(copied.rows[0]).toEqual({ handle: ROWS, score: ROWS });
    expect((await suite.client.query("SELECT is_nullable FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'handle'")).rows[0]!.is_nullable).toBe("NO");

    // The old app (old names) and the new app (new names) side by side.
    await suite.client.query("INSERT INTO users (id, username, score) VALUES (100001, 'old-app', 7)");
    await suite.client.query("INSERT INTO users (id, handle, score_new) VALUES (100002, 'new-app', 8)");
    await suite.client.query("UPDATE users SET username = 'renamed-by-old' WHERE id = 1");
    await suite.client.query("UPDATE users SET handle = 'renamed-by-new', score_new = 2000000000 WHERE id = 2");
    const seen = await suite.client.query("SELECT id::int, username, handle, score, score_new::int AS score_new FROM users WHERE id IN (1, 2, 100001, 100002) ORDER BY id");
    expect(seen.rows).toEqual([
      { id: 1, username: "renamed-by-old", handle: "renamed-by-old", score: 1, score_new: 1 },
      { id: 2, username: "renamed-by-new", handle: "renamed-by-new", score: 2000000000, score_new: 2000000000 },
      { id: 100001, username: "old-app", handle: "old-app", score: 7, score_new: 7 },
      { id: 100002, username: "new-app", handle: "new-app", score: 8, score_new: 8 },
    ]);

    // Still held on the next upgrade; release refuses a revision that is not applied.
    expect((await failure(upgrade("head", project.options))).code).toBe("RETORT_CONTRACT_NOT_RELEASED");
    const notApplied = await failure(release(pair.contract!.revision, project.options));
    expect(notApplied.code).toBe("RETORT_RELEASE_REFUSED");
    expect(notApplied.message).toBe(`Revision ${pair.contract!.revision} is not applied on this database (it is at expand_users), so it cannot be released`);

    const released = await release("expand_users", project.options);
    expect(released).toMatchObject({ revision: "expand_users", recorded: true });
    expect((await release("expand_users", project.options)).recorded).toBe(false);
    const rows = await suite.client.query("SELECT revision FROM retort_releases");
    expect(rows.rows).toEqual([{ revision: "expand_users" }]);

    // Released: the contract runs; the new app's queries keep working, the old columns are gone.
    await upgrade("head", project.options);
    expect(await columns()).toEqual([
      { column_name: "id", data_type: "bigint" },
      { column_name: "handle", data_type: "text" },
      { column_name: "score", data_type: "bigint" },
    ]);
    await suite.client.query("INSERT INTO users (id, handle, score) VALUES (100003, 'after-contract', 9)");
    expect((await suite.client.query("SELECT indexname FROM pg_indexes WHERE tablename = 'users' ORDER BY indexname")).rows.map((row) => row.indexname)).toEqual(["ix_users_handle", "pk_users"]);
    expect((await suite.client.query("SELECT count(*)::int AS n FROM users")).rows[0]!.n).toBe(ROWS + 3);
    expect((await suite.client.query("SELECT count(*)::int AS n FROM pg_trigger WHERE tgrelid = 'users'::regclass AND NOT tgisinternal")).rows[0]!.n).toBe(0);
    expect((await suite.client.query("SELECT count(*)::int AS n FROM pg_proc WHERE proname LIKE 'retort_sync_%'")).rows[0]!.n).toBe(0);
    // The database is the models (the retort_releases table is Retort's own, never a change). The
    // migrations head says the same, through an ephemeral PGlite (DO blocks are not folded): ~15 s
    // here, so left to RETORT_SLOW_TESTS.
    expect((await check({ ...project.options, against: "database" })).changes).toEqual([]);
    if (process.env.RETORT_SLOW_TESTS) expect((await check({ ...project.options, url: undefined, dialect: "postgres" })).changes).toEqual([]);

    // The contract's downgrade brings the old columns back, filled from the new ones.
    await downgrade("expand_users", project.options);
    const restored = await suite.client.query("SELECT count(*) FILTER (WHERE username = handle)::int AS same, count(*)::int AS n FROM users");
    expect(restored.rows[0]).toEqual({ same: ROWS + 3, n: ROWS + 3 });
    await suite.client.query("INSERT INTO users (id, username, score) VALUES (100004, 'old-again', 1)");
    expect((await suite.client.query("SELECT handle FROM users WHERE id = 100004")).rows[0]!.handle).toBe("old-again");
  }, 120_000);

  it("a table rename: the old app reads and writes the old name through a view until the contract drops it", async () => {
    const project = await populated();
    const renamed = BEFORE.replace('table("users", {', 'table("members", {').replace("(u) => [index(u.username)]);", '(u) => [index(u.username)], { renamedFrom: "users" });');
    const pair = await project.generate(renamed, { expandContract: true, revId: "expand_members" });
    expect(pair.text).toContain('op.renameTable("users", "members");');
    expect(pair.text).toContain("// retort-lint-disable renaming-table:");
    expect(pair.text).toContain("CREATE VIEW users AS SELECT * FROM members");
    // Names that follow the table's are renamed in the catalog, not rebuilt under a lock.
    expect(pair.text).toContain("ALTER INDEX ix_users_username RENAME TO ix_members_username");
    expect(pair.text).toContain("ALTER TABLE members RENAME CONSTRAINT pk_users TO pk_members");
    expect(pair.text).not.toContain("dropIndex");
    expect(pair.contractText).toContain("DROP VIEW users");

    await failure(upgrade("head", project.options));
    // Between expand and contract: the old app on "users", the new app on "members", one set of rows.
    await suite.client.query("INSERT INTO users (id, username, score) VALUES (100001, 'old-app', 7)");
    await suite.client.query("INSERT INTO members (id, username, score) VALUES (100002, 'new-app', 8)");
    await suite.client.query("UPDATE users SET username = 'changed-by-old' WHERE id = 100002");
    await suite.client.query("DELETE FROM users WHERE id = 1");
    expect((await suite.client.query("SELECT id::int, username FROM members WHERE id IN (1, 100001, 100002) ORDER BY id")).rows).toEqual([
      { id: 100001, username: "old-app" },
      { id: 100002, username: "changed-by-old" },
    ]);
    expect((await suite.client.query("SELECT count(*)::int AS n FROM users")).rows[0]!.n).toBe(ROWS + 1);

    await release("expand_members", project.options);
    await upgrade("head", project.options);
    expect((await suite.client.query("SELECT to_regclass('users') AS old, to_regclass('members')::text AS new")).rows[0]).toEqual({ old: null, new: "members" });
    expect((await suite.client.query("SELECT indexname FROM pg_indexes WHERE tablename = 'members' ORDER BY indexname")).rows.map((row) => row.indexname)).toEqual(["ix_members_username", "pk_members"]);
    expect((await check({ ...project.options, against: "database" })).changes).toEqual([]);

    // Both downgrades: the view comes back with the contract's, the old name with the expand's.
    await downgrade("expand_members", project.options);
    expect((await suite.client.query("SELECT count(*)::int AS n FROM users")).rows[0]!.n).toBe(ROWS + 1);
    await downgrade("-1", project.options);
    expect((await suite.client.query("SELECT to_regclass('users')::text AS old, to_regclass('members') AS new")).rows[0]).toEqual({ old: "users", new: null });
  }, 120_000);

  it("a table renamed and changed in one migration is refused with the way to split it", async () => {
    const project = await populated();
    const both = BEFORE.replace('table("users", {', 'table("members", {').replace("score: t.integer().nullable()", "score: t.integer().nullable(), level: t.integer().nullable()").replace("(u) => [index(u.username)]);", '(u) => [index(u.username)], { renamedFrom: "users" });');
    const refused = await failure(project.generate(both, { expandContract: true }));
    expect(refused.code).toBe("RETORT_UNSUPPORTED");
    expect(refused.message).toBe("--expand-contract: users is renamed to members and changed in the same migration");
  }, 120_000);

  it("the config can open the gate (migrations.released); a database upgraded from base is never held", async () => {
    const project = await populated({ migrations: { released: ["expand_open"] } });
    await project.generate(AFTER, { expandContract: true, revId: "expand_open" });
    await upgrade("head", project.options);
    expect((await columns()).map((column) => column.column_name)).toEqual(["id", "handle", "score"]);

    // A fresh database: no app ran against the old columns, so nothing waits.
    await suite.client.query("DROP SCHEMA public CASCADE; CREATE SCHEMA public");
    const fresh = modelProject({ url: suite.temp.url });
    await fresh.generate(BEFORE);
    await fresh.generate(AFTER, { expandContract: true });
    await upgrade("head", fresh.options);
    expect((await columns()).map((column) => column.column_name)).toEqual(["id", "handle", "score"]);
  }, 120_000);

  it("upgradeOnStartup runs the expand and boots the app, with a warning, while the contract waits", async () => {
    const project = await populated();
    await project.generate(AFTER, { expandContract: true, revId: "expand_boot" });
    const app = await connect(suite.temp.url, { schema: {} });
    const warnings: string[] = [];
    try {
      const result = await upgradeOnStartup({ database: app, config: project.config, env: "production", logger: { info: () => {}, warn: (line) => warnings.push(line) } });
      expect(result).toMatchObject({ action: "upgraded", heads: ["expand_boot"] });
    } finally {
      await app.close();
    }
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^retort: Revision \w+ \(step 2 \(contract\)\) is the contract of expand revision expand_boot: .* run `retort release expand_boot`/);
  }, 60_000);

  it("--backfill goes with --expand-contract: a NOT NULL column added beside the rename is filled in the expand", async () => {
    const project = modelProject({ dialect: "postgres" });
    await project.generate(BEFORE);
    const pair = await project.generate(AFTER.replace("score: t.bigint().nullable()", "score: t.integer().nullable(), bio: t.text()"), { expandContract: true, backfill: { "users.bio": "'(none)'" } });
    expect(pair.text).toContain("op.execute(sql`UPDATE users SET bio = ('(none)') WHERE bio IS NULL`);");
    expect(pair.warnings).toEqual([]);
  }, 60_000);

  it("--expand-contract without a rename or type change is refused", async () => {
    const project = modelProject({ dialect: "postgres" });
    await project.generate(BEFORE);
    const error = await project.generate(`export const users = table("users", { id: t.bigint().primaryKey(), username: t.text(), score: t.integer().nullable(), bio: t.text().nullable() });`, { expandContract: true }).catch((e: unknown) => e);
    expect((error as { code: string }).code).toBe("RETORT_USAGE");
    expect((error as Error).message).toBe("--expand-contract found no table rename, column rename or type change on an existing table in this migration");
  }, 60_000);
});
