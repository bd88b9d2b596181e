/**
 * retort squash: a linear range replaced by one generated revision, proved on two scratch
 * databases; a database at the end of the range is already at the squash (nothing re-runs), one in
 * the middle runs the rest of the range from the archive, one below it runs the squash; refusals
 * for non-linear ranges and steps a schema difference cannot carry.
 */
import { appendFileSync, existsSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { current, downgrade, upgrade } from "../../src/index.js";
import { squash } from "../../src/runtime/squash.js";
import { testMigrations } from "../../src/runtime/stairway.js";
import { verify } from "../../src/runtime/verify.js";
import { createProject, failure, query, sqliteFileUrl } from "../runtime/project.js";
import { createTempDatabase, postgresReachable, serverUrl } from "../support/postgres.js";

const postgresUp = await postgresReachable();

/** r1 users; r2..r4 the range (column, rename, posts with FK and index); r5 after the range. */
function history() {
  const project = createProject({});
  project.add({ id: "sq0000000001", message: "users", up: `op.createTable("users", { id: t.integer().primaryKey(), name: t.text() });`, down: `op.dropTable("users");` });
  project.add({ id: "sq0000000002", parents: ["sq0000000001"], message: "nick", up: `op.addColumn("users", "nick", t.text().nullable());`, down: `op.dropColumn("users", "nick");` });
  project.add({ id: "sq0000000003", parents: ["sq0000000002"], message: "rename nick", up: `op.renameColumn("users", "nick", "handle");`, down: `op.renameColumn("users", "handle", "nick");` });
  project.add({
    id: "sq0000000004",
    parents: ["sq0000000003"],
    message: "posts",
    up: `op.createTable("posts", { id: t.integer().primaryKey(), userId: t.integer().references("users.id", { onDelete: "cascade" }), title: t.varchar(80) }, (p) => [index(p.userId)]);`,
    down: `op.dropTable("posts");`,
  });
  project.add({ id: "sq0000000005", parents: ["sq0000000004"], message: "post body", up: `op.addColumn("posts", "body", t.text().nullable());`, down: `op.dropColumn("posts", "body");` });
  return project;
}

const tables = async (url: string) => (await query(url, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")).map((r) => r.name);
const historyRows = async (url: string) => (await query(url, "SELECT revision, direction, outcome FROM retort_migrations ORDER BY id")).map((r) => `${r.revision} ${r.direction} ${r.outcome}`);

describe("retort squash", () => {
  it("replaces the range, proves it, and upgrades databases below, inside and at the end of the range correctly (SQLite)", async () => {
    const project = history();
    project.config.config.url = sqliteFileUrl();
    const below = sqliteFileUrl();
    const middle = sqliteFileUrl();
    const end = sqliteFileUrl();
    const fresh = sqliteFileUrl();
    await upgrade("sq0000000001", { config: project.config, url: below });
    await upgrade("sq0000000002", { config: project.config, url: middle });
    await upgrade("sq0000000004", { config: project.config, url: end });
    for (const url of [below, middle, end]) await query(url, "INSERT INTO users (id, name) VALUES (1, 'ada')");
    await query(middle, "UPDATE users SET nick = 'a' WHERE id = 1");
    await query(end, "UPDATE users SET handle = 'a' WHERE id = 1");
    const oldFiles = readdirSync(project.dir).filter((f) => f.endsWith(".ts")).sort();

    const result = await squash("sq0000000002:sq0000000004", { message: "users handle and posts" }, { config: project.config, cwd: project.root, env: "development" });
    expect(result).toMatchObject({ revision: "sq0000000004", replaces: ["sq0000000002", "sq0000000003", "sq0000000004"], parents: ["sq0000000001"], written: true });
    expect(result.proof.databases).toBe("two in-memory SQLite databases");
    expect(result.operations).toEqual(["addColumn users.handle", "createTable posts"]);
    expect(readFileSync(join(project.dir, "..", "..", result.path!), "utf8")).toContain("index(");

    // The files: one new revision, the three old ones archived, the rest untouched.
    const now = readdirSync(project.dir).filter((f) => f.endsWith(".ts")).sort();
    // Named with the creation time of the range's last revision, so it sorts where the range stood.
    expect(now).toEqual([oldFiles[0], `${oldFiles[3]!.slice(0, 14)}_users_handle_and_posts.ts`, oldFiles[4]]);
    expect(readdirSync(join(project.dir, "squashed")).sort()).toEqual(oldFiles.slice(1, 4));
    const text = readFileSync(join(project.root, result.path!), "utf8");
    expect(text).toContain(`replaces: ["sq0000000002", "sq0000000003", "sq0000000004"],`);
    expect(text).toContain(`parents: ["sq0000000001"],`);

    // At the end of the range: already at the squash; only r5 runs; nothing is reported as edited or missing.
    const endBefore = await historyRows(end);
    const warnings: string[] = [];
    expect((await current({ config: project.config, url: end, onWarning: (w) => warnings.push(w) })).heads.map((h) => h.revision)).toEqual(["sq0000000004"]);
    expect(warnings).toEqual([]);
    expect(await verify({ config: project.config, url: end })).toMatchObject({ ok: true, problems: [] });
    const endRun = await upgrade("head", { config: project.config, url: end });
    expect(endRun.revisions.map((r) => r.revision)).toEqual(["sq0000000005"]);
    expect(await historyRows(end)).toEqual([...endBefore, "sq0000000005 up applied"]);

    // In the middle: current and doctor say where it stands and what to run.
    const middleNow = await current({ config: project.config, url: middle });
    expect(middleNow.heads).toEqual([{ revision: "sq0000000002", message: expect.stringContaining("squashed into sq0000000004"), isHead: false }]);
    const { doctor } = await import("../../src/runtime/doctor.js");
    const middleDoctor = await doctor({ config: project.config, url: middle });
    expect(middleDoctor.findings.filter((f) => f.check === "version-table" || f.check === "modified").map((f) => `${f.severity} ${f.message}`)).toEqual([
      "warning the database is at sq0000000002, inside the range squashed into sq0000000004",
    ]);
    // The rest of the range runs from the archive, then r5.
    const middleRun = await upgrade("head", { config: project.config, url: middle });
    expect(middleRun.revisions.map((r) => r.revision)).toEqual(["sq0000000003", "sq0000000004", "sq0000000005"]);
    expect(await query(middle, "SELECT id, name, handle FROM users")).toEqual([{ id: 1, name: "ada", handle: "a" }]);
    expect(await verify({ config: project.config, url: middle })).toMatchObject({ ok: true });

    // Below the range: the squash runs, keeping the rows.
    const belowRun = await upgrade("head", { config: project.config, url: below });
    expect(belowRun.revisions.map((r) => r.revision)).toEqual(["sq0000000004", "sq0000000005"]);
    expect(await query(below, "SELECT id, name, handle FROM users")).toEqual([{ id: 1, name: "ada", handle: null }]);

    // An archived file edited is noticed; once the archive is deleted, the squash vouches for the range.
    const archivedThird = join(project.dir, "squashed", oldFiles[2]!);
    appendFileSync(archivedThird, "// edited in the archive\n");
    expect((await verify({ config: project.config, url: end })).problems).toEqual([expect.objectContaining({ revision: "sq0000000003", problem: "changed", file: archivedThird })]);
    rmSync(join(project.dir, "squashed"), { recursive: true });
    expect(await verify({ config: project.config, url: end })).toMatchObject({ ok: true });
    expect(await verify({ config: project.config, url: middle })).toMatchObject({ ok: true });

    // All of them, and a fresh database, end with the same schema; the new history passes the stairway.
    await upgrade("head", { config: project.config, url: fresh });
    const sql = async (url: string) => (await query(url, "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name")).map((r) => `${r.type} ${r.name}`);
    for (const url of [below, middle, end]) expect(await sql(url)).toEqual(await sql(fresh));
    expect(await tables(fresh)).toEqual(["posts", "retort_migrations", "retort_version", "users"]);
    expect(await testMigrations({ config: project.config, env: "development" })).toMatchObject({ ok: true, passed: ["sq0000000001", "sq0000000004", "sq0000000005"] });
  });

  it("keeps renames inside the range as renames, so a database below it keeps its rows", async () => {
    const project = createProject({});
    project.config.config.url = sqliteFileUrl();
    project.add({ id: "rn0000000001", message: "people", up: `op.createTable("people", { id: t.integer().primaryKey(), name: t.text() });`, down: `op.dropTable("people");` });
    project.add({ id: "rn0000000002", parents: ["rn0000000001"], message: "persons", up: `op.renameTable("people", "persons");`, down: `op.renameTable("persons", "people");` });
    project.add({ id: "rn0000000003", parents: ["rn0000000002"], message: "full name", up: `op.renameColumn("persons", "name", "full_name");`, down: `op.renameColumn("persons", "full_name", "name");` });
    const below = sqliteFileUrl();
    await upgrade("rn0000000001", { config: project.config, url: below });
    await query(below, "INSERT INTO people (id, name) VALUES (7, 'Grace')");
    const result = await squash("rn0000000002:rn0000000003", { message: "renames" }, { config: project.config, env: "development" });
    expect(result.operations).toEqual(["renameTable people → persons", "renameColumn persons.name → full_name"]);
    await upgrade("head", { config: project.config, url: below });
    expect(await query(below, "SELECT id, full_name FROM persons")).toEqual([{ id: 7, full_name: "Grace" }]);
  });

  it("on a database in the middle, downgrade first asks for the upgrade", async () => {
    const project = history();
    project.config.config.url = sqliteFileUrl();
    const middle = sqliteFileUrl();
    await upgrade("sq0000000003", { config: project.config, url: middle });
    await squash("sq0000000002:sq0000000004", { message: "squashed" }, { config: project.config, env: "development" });
    const refused = await failure(downgrade("sq0000000001", { config: project.config, url: middle }));
    expect(refused.code).toBe("RETORT_UNKNOWN_REVISION");
    expect(refused.message).toContain("in the middle of the range squashed into sq0000000004");
    expect(refused.hint).toContain("retort upgrade");
  });

  it("refuses a range that is not one line, and steps a schema difference cannot carry, writing nothing", async () => {
    const project = history();
    project.config.config.url = sqliteFileUrl();
    project.add({ id: "sqbranch0001", parents: ["sq0000000002"], message: "side branch", up: `op.createTable("side", { id: t.integer().primaryKey() });`, down: `op.dropTable("side");` });
    const before = readdirSync(project.dir).sort();
    const branched = await failure(squash("sq0000000001:sq0000000004", { message: "x" }, { config: project.config, env: "development" }));
    expect(branched.code).toBe("RETORT_SQUASH_REFUSED");
    expect(branched.message).toContain("sqbranch0001");

    const backwards = await failure(squash("sq0000000004:sq0000000002", { message: "x" }, { config: project.config, env: "development" }));
    expect(backwards.message).toBe("sq0000000004 is not below sq0000000002 (following parents down from sq0000000002 reaches base at sq0000000001)");

    const raw = createProject({});
    raw.config.config.url = sqliteFileUrl();
    raw.add({ id: "raw000000001", message: "users", up: `op.createTable("users", { id: t.integer().primaryKey() });`, down: `op.dropTable("users");` });
    raw.add({ id: "raw000000002", parents: ["raw000000001"], message: "seed", up: `op.execute("INSERT INTO users VALUES (1)");`, down: `op.execute("DELETE FROM users");` });
    const refused = await failure(squash("raw000000001:raw000000002", { message: "x" }, { config: raw.config, env: "development" }));
    expect(refused.code).toBe("RETORT_SQUASH_REFUSED");
    expect(refused.message).toContain("raw000000002");
    expect(refused.message).toContain("INSERT INTO users");
    expect(existsSync(join(raw.dir, "squashed"))).toBe(false);
    expect(readdirSync(project.dir).sort()).toEqual(before);
  });

  it("proves on PGlite with enums, foreign keys and a renamed table (Postgres catalogs compared)", async () => {
    const project = createProject({});
    project.config.config.url = "pglite:memory";
    project.add({ id: "pg0000000001", message: "enum and accounts", up: `op.createEnum("plan", ["free", "pro"]); op.createTable("accounts", { id: t.integer().primaryKey(), plan: enumColumn("plan").default("free") });`, down: `op.dropTable("accounts"); op.dropEnum("plan");` });
    project.add({ id: "pg0000000002", parents: ["pg0000000001"], message: "rename", up: `op.renameTable("accounts", "customers");`, down: `op.renameTable("customers", "accounts");` });
    project.add({ id: "pg0000000003", parents: ["pg0000000002"], message: "orders", up: `op.createTable("orders", { id: t.bigint().primaryKey(), customerId: t.integer().references("customers.id") }); op.addEnumValue("plan", "team");`, down: `op.dropTable("orders");` });
    const result = await squash("pg0000000001:pg0000000003", { message: "initial" }, { config: project.config, dryRun: true, env: "development" });
    expect(result).toMatchObject({ revision: "pg0000000003", written: false, parents: [] });
    expect(result.proof.databases).toBe("two in-memory PGlite databases");
    expect(result.proof.objects).toBeGreaterThan(4);
    expect(existsSync(join(project.dir, "squashed"))).toBe(false);
  }, 60_000);
});

describe.skipIf(!postgresUp)("squash on a Postgres server", () => {
  it("the catalog comparison sees sequences, triggers, views and grants the schema snapshot does not describe", async () => {
    const { catalogDifferences } = await import("../../src/runtime/squash.js");
    const { connect } = await import("../../src/index.js");
    const [x, y] = [await createTempDatabase(), await createTempDatabase()];
    const role = `retort_reader_${process.pid}`;
    const [a, b] = [await connect(x.url, { schema: {} }), await connect(y.url, { schema: {} })];
    try {
      for (const db of [a, b]) await db.query("CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL)");
      await a.query("CREATE SEQUENCE item_numbers START 100");
      await a.query("CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$");
      await a.query("CREATE TRIGGER items_touch BEFORE UPDATE ON items FOR EACH ROW EXECUTE FUNCTION touch()");
      await a.query("CREATE VIEW item_names AS SELECT name FROM items");
      await a.query(`CREATE ROLE ${role}`);
      await a.query(`GRANT SELECT ON items TO ${role}`);
      const { differences } = await catalogDifferences(a, b, "postgres");
      const text = differences.join("\n");
      expect(text).toContain("only in the old history: sequence item_numbers");
      expect(text).toContain("only in the old history: trigger items items_touch");
      expect(text).toContain("only in the old history: view item_names");
      expect(text).toContain(`only in the old history: grant items ${role} SELECT`);
      expect(differences.filter((line) => line.startsWith("only with the squash"))).toEqual([]);
      expect((await catalogDifferences(b, b, "postgres")).differences).toEqual([]);
      await a.query(`REVOKE ALL ON items FROM ${role}`);
    } finally {
      await a.close();
      await b.close();
      await x.drop();
      await y.drop();
      const cleanup = await connect(serverUrl, { schema: {} });
      await cleanup.query(`DROP ROLE IF EXISTS ${role}`).finally(() => cleanup.close());
    }
  });

  it("proves with --url on two scratch databases of the server, and drops them", async () => {
    const project = history();
    const temp = await createTempDatabase();
    try {
      const result = await squash("sq0000000002:sq0000000004", { message: "squashed on the server" }, { config: project.config, url: temp.url, dryRun: true });
      expect(result.proof.databases).toMatch(/^two scratch databases on postgres:/);
      const left = await query(temp.url, "SELECT datname FROM pg_database WHERE datname LIKE 'retort_squash_%'");
      expect(left).toEqual([]);
    } finally {
      await temp.drop();
    }
  });
});
