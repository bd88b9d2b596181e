import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { connect, current, downgrade, isRetortError, migrationSql, stamp, upgrade, type CommandOptions, type Database, type RetortError } from "../../src/index.js";
import { createTempDatabase, postgresReachable, type TempDatabase } from "../support/postgres.js";
import { createProject, failure, type Project } from "./project.js";

const postgresUp = await postgresReachable();

/** Three revisions in a line: guilds, members (FK with cascade), a column. */
function linear(project: Project): { members: string } {
  project.add({
    id: "aaaa00000001",
    message: "guilds",
    up: `op.createTable("guilds", { id: t.bigint().primaryKey(), name: t.varchar(100) });`,
    down: `op.dropTable("guilds");`,
  });
  const members = project.add({
    id: "bbbb00000002",
    parents: ["aaaa00000001"],
    message: "members",
    up: `op.createTable("members", { id: t.integer().primaryKey(), guild_id: t.bigint().references("guilds.id", { onDelete: "cascade" }), nickname: t.text().nullable() });`,
    down: `op.dropTable("members");`,
  });
  project.add({
    id: "cccc00000003",
    parents: ["bbbb00000002"],
    message: "xp",
    up: `op.addColumn("members", "xp", t.integer().default(0));`,
    down: `op.dropColumn("members", "xp");`,
  });
  return { members };
}

interface Backend {
  name: string;
  url: () => string;
  /** A fresh, empty database for each test. */
  setup: () => Promise<void>;
  teardown?: () => Promise<void>;
  /** Run commands through this open database instead of the URL (in-memory PGlite). */
  database?: () => Database<any>;
}

const backends: Backend[] = [];
{
  let url = "";
  backends.push({ name: "sqlite", url: () => url, setup: async () => void (url = `sqlite:${join(mkdtempSync(join(tmpdir(), "retort-sqlite-")), "app.db")}`) });
}
{
  // In-memory PGlite is reachable only through an open Database: commands get it as `database`.
  let db: Database<any> | undefined;
  backends.push({
    name: "pglite",
    url: () => "pglite:memory",
    database: () => db!,
    setup: async () => void (db = await connect("pglite:memory", { schema: {} })),
    teardown: async () => db?.close(),
  });
}
if (postgresUp) {
  let temp: TempDatabase | undefined;
  backends.push({
    name: "postgres",
    url: () => temp!.url,
    setup: async () => void (temp = await createTempDatabase()),
    teardown: async () => temp?.drop(),
  });
} else {
  console.warn("[retort tests] NOTICE: Postgres server unreachable; runtime Postgres cases are SKIPPED.");
}

let active: Backend;

/** Query the test database (through the open one for PGlite, else a new connection). */
async function rows(sql: string): Promise<Record<string, unknown>[]> {
  if (active.database) return (await active.database().query(sql)).rows;
  const db = await connect(active.url(), { schema: {} });
  try {
    return (await db.query(sql)).rows;
  } finally {
    await db.close();
  }
}

async function tables(): Promise<string[]> {
  const sql = active.name === "sqlite"
    ? "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY 1"
    : "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1";
  return (await rows(sql)).map((r) => String(r.name));
}

/** Command options for the active backend. */
function target(project: Project): CommandOptions {
  return active.database ? { config: project.config, database: active.database() } : { config: project.config, url: active.url() };
}

for (const backend of backends) {
  describe(`migration runtime [${backend.name}]`, () => {
    beforeEach(async () => {
      active = backend;
      await backend.setup();
    });
    afterEach(async () => backend.teardown?.());

    it("upgrades, downgrades by steps and to base, with the version and history tables in step", async () => {
      const project = createProject();
      linear(project);
      const options: CommandOptions = target(project);
      const up = await upgrade("head", options);
      expect(up.revisions.map((r) => r.revision)).toEqual(["aaaa00000001", "bbbb00000002", "cccc00000003"]);
      expect(up.to).toEqual(["cccc00000003"]);
      expect(await tables()).toEqual(["guilds", "members", "retort_migrations", "retort_version"]);
      expect((await current(options)).heads).toEqual([{ revision: "cccc00000003", message: "xp", isHead: true }]);

      const again = await upgrade("head", options);
      expect(again.revisions).toEqual([]);

      const down = await downgrade("-1", options);
      expect(down.to).toEqual(["bbbb00000002"]);
      const cols = backend.name !== "sqlite"
        ? await rows("SELECT column_name AS name FROM information_schema.columns WHERE table_name = 'members' ORDER BY ordinal_position")
        : await rows("SELECT name FROM pragma_table_info('members')");
      expect(cols.map((c) => c.name)).toEqual(["id", "guild_id", "nickname"]);

      await downgrade("base", options);
      expect(await tables()).toEqual(["retort_migrations", "retort_version"]);
      expect((await current(options)).heads).toEqual([]);

      await upgrade("+2", options);
      expect((await current(options)).heads.map((h) => h.revision)).toEqual(["bbbb00000002"]);
      const history = await rows("SELECT revision, direction, outcome FROM retort_migrations ORDER BY id");
      expect(history.map((h) => `${h.direction} ${h.revision} ${h.outcome}`)).toEqual([
        "up aaaa00000001 applied",
        "up bbbb00000002 applied",
        "up cccc00000003 applied",
        "down cccc00000003 applied",
        "down bbbb00000002 applied",
        "down aaaa00000001 applied",
        "up aaaa00000001 applied",
        "up bbbb00000002 applied",
      ]);
      await downgrade("base", options);
    });

    it("branches, merges, and downgrades across a merge point", async () => {
      const project = createProject();
      project.add({ id: "root00000001", message: "root", up: `op.createTable("a", { id: t.integer().primaryKey() });`, down: `op.dropTable("a");` });
      project.add({ id: "left00000002", parents: ["root00000001"], message: "left", up: `op.createTable("l", { id: t.integer().primaryKey() });`, down: `op.dropTable("l");` });
      project.add({ id: "rght00000003", parents: ["root00000001"], message: "right", up: `op.createTable("r", { id: t.integer().primaryKey() });`, down: `op.dropTable("r");` });
      const options: CommandOptions = target(project);
      expect((await failure(upgrade("head", options))).code).toBe("RETORT_MULTIPLE_HEADS");
      await upgrade("heads", options);
      expect((await current(options)).heads.map((h) => h.revision)).toEqual(["left00000002", "rght00000003"]);

      project.add({ id: "merg00000004", parents: ["left00000002", "rght00000003"], message: "merge", up: "", down: "" });
      await upgrade("head", options);
      expect((await current(options)).heads.map((h) => h.revision)).toEqual(["merg00000004"]);

      await downgrade("-1", options); // undoing the merge restores both branch heads
      expect((await current(options)).heads.map((h) => h.revision)).toEqual(["left00000002", "rght00000003"]);
      await downgrade("root00000001", options);
      expect((await current(options)).heads.map((h) => h.revision)).toEqual(["root00000001"]);
      expect(await tables()).toEqual(["a", "retort_migrations", "retort_version"]);
      await downgrade("base", options);
    });

    it("stamp moves the version table without running anything; --purge clears it first", async () => {
      const project = createProject();
      linear(project);
      const options: CommandOptions = target(project);
      await stamp("bbbb00000002", options);
      expect((await current(options)).heads.map((h) => h.revision)).toEqual(["bbbb00000002"]);
      expect(await tables()).toEqual(["retort_migrations", "retort_version"]);
      await stamp("cccc00000003", options);
      expect((await current(options)).heads.map((h) => h.revision)).toEqual(["cccc00000003"]);
      // A version row no file knows (another branch's database): purge replaces it.
      await rows("INSERT INTO retort_version (version_num) VALUES ('ffffffffffff')");
      await stamp("aaaa00000001", { ...options, purge: true });
      expect((await current(options)).heads.map((h) => h.revision)).toEqual(["aaaa00000001"]);
      await stamp("base", options);
      expect((await current(options)).heads).toEqual([]);
    });

    it("stamp is branch-aware: another branch's row stays; a wrong-way target is refused before anything runs", async () => {
      const project = createProject();
      project.add({ id: "root00000001", message: "root", up: "" });
      project.add({ id: "left00000002", parents: ["root00000001"], message: "left", up: "", branchLabels: ["left"] });
      project.add({ id: "left00000003", parents: ["left00000002"], message: "left 2", up: "" });
      project.add({ id: "rght00000002", parents: ["root00000001"], message: "right", up: "", branchLabels: ["right"] });
      const options: CommandOptions = target(project);
      const heads = async () => (await current(options)).heads.map((h) => h.revision);
      await stamp("left00000003", options);
      await stamp("rght00000002", options); // a branch without a row: adds one
      expect(await heads()).toEqual(["left00000003", "rght00000002"]);
      await stamp("left@-1", options); // moves only that branch's row
      expect(await heads()).toEqual(["left00000002", "rght00000002"]);
      await stamp("right@base", options);
      expect(await heads()).toEqual(["left00000002"]);
      await stamp("rght00000002", { ...options, purge: true });
      expect(await heads()).toEqual(["rght00000002"]);

      const wrongWay = await failure(upgrade("-1", options));
      expect(wrongWay.code).toBe("RETORT_INVALID_TARGET");
      expect(wrongWay.hint).toBe("Use `retort downgrade -1`, or `retort upgrade +1`.");
      expect((await failure(downgrade("1", options))).hint).toBe("To downgrade 1 revision(s) from the current one, write `retort downgrade -1`.");
      expect(await heads()).toEqual(["rght00000002"]);
    });

    it("a failing migration rolls back and leaves the database at the previous revision", async () => {
      const project = createProject();
      linear(project);
      project.add({
        id: "dddd00000004",
        parents: ["cccc00000003"],
        message: "broken",
        // The failing statement is in the middle: the report must name it, not its neighbours.
        up: `op.createTable("audit", { id: t.integer().primaryKey() });\nop.execute("INSERT INTO no_such_table VALUES (1)");\nop.createTable("later", { id: t.integer().primaryKey() });`,
      });
      const options: CommandOptions = target(project);
      const error = await failure(upgrade("head", options));
      expect(error.code).toBe("RETORT_MIGRATION_FAILED");
      expect(error.message).toContain("dddd00000004");
      expect(error.message).toContain("INSERT INTO no_such_table VALUES (1)");
      expect(error.message).toMatch(/no_such_table/);
      expect(error.message).not.toContain('CREATE TABLE "later"');
      expect(error.hint).toContain("rolled back");
      expect(error.message).toContain("Revision dddd00000004 was rolled back; the database is now at cccc00000003.");
      expect(error.details.currentHeads).toEqual(["cccc00000003"]);
      expect((await current(options)).heads.map((h) => h.revision)).toEqual(["cccc00000003"]);
      expect(await tables()).not.toContain("audit");
      expect(await tables()).not.toContain("later");
      const last = await rows("SELECT revision, outcome, error FROM retort_migrations ORDER BY id DESC LIMIT 1");
      expect(last[0]).toMatchObject({ revision: "dddd00000004", outcome: "failed" });
      await downgrade("base", options);
    });

    it("a downgrade of two revisions whose second fails says where the database is now: the first stays reverted", async () => {
      const project = createProject();
      linear(project);
      project.add({ id: "dddd00000004", parents: ["cccc00000003"], message: "broken down", up: `op.createTable("d4", { id: t.integer().primaryKey() });`, down: `op.execute("DROP TABLE no_such_table");` });
      project.add({ id: "eeee00000005", parents: ["dddd00000004"], message: "e5", up: `op.createTable("e5", { id: t.integer().primaryKey() });`, down: `op.dropTable("e5");` });
      const options: CommandOptions = target(project);
      await upgrade("head", options);
      const error = await failure(downgrade("-2", options));
      expect(error.code).toBe("RETORT_MIGRATION_FAILED");
      expect(error.message).toContain("Downgrade of dddd00000004");
      expect(error.message).toContain("Revision dddd00000004 was rolled back; the database is now at dddd00000004.");
      expect(error.details.currentHeads).toEqual(["dddd00000004"]);
      expect((await current(options)).heads.map((h) => h.revision)).toEqual(["dddd00000004"]);
      expect(await tables()).not.toContain("e5");
      expect(await tables()).toContain("d4");
    });

    it("runs statements that end in a line comment as written", async () => {
      const project = createProject();
      project.add({
        id: "cmnt00000001",
        message: "comments",
        up: `op.execute("CREATE TABLE c1 (id integer) -- the first");\nop.execute("CREATE TABLE c2 (id integer) -- the second");`,
        down: `op.execute("DROP TABLE c2 -- second");\nop.execute("DROP TABLE c1 -- first");`,
      });
      const options: CommandOptions = target(project);
      await upgrade("head", options);
      expect(await tables()).toEqual(expect.arrayContaining(["c1", "c2"]));
      expect((await current(options)).heads.map((h) => h.revision)).toEqual(["cmnt00000001"]);
      await downgrade("base", options);
      expect(await tables()).not.toContain("c1");
    });

    it("reports progress once per revision (n of m); a callback that throws stops the run between revisions", async () => {
      const project = createProject();
      linear(project);
      const events: string[] = [];
      await upgrade("head", { ...target(project), onProgress: (e) => events.push(`${e.index}/${e.total} ${e.direction} ${e.revision} ${e.message}`) });
      expect(events).toEqual(["1/3 up aaaa00000001 guilds", "2/3 up bbbb00000002 members", "3/3 up cccc00000003 xp"]);

      const stop = new Error("stop here");
      const thrown = await downgrade("base", { ...target(project), onProgress: (e) => { if (e.index === 2) throw stop; } }).catch((error: unknown) => error);
      expect(thrown).toBe(stop);
      // The second revision ran to its end, recorded; the third did not start.
      expect((await current(target(project))).heads.map((h) => h.revision)).toEqual(["aaaa00000001"]);
      const last = await rows("SELECT revision, direction, outcome FROM retort_migrations ORDER BY id DESC LIMIT 1");
      expect(last[0]).toMatchObject({ revision: "bbbb00000002", direction: "down", outcome: "applied" });
    });

    it("the history row times each revision: its start, its end, and the duration between", async () => {
      const project = createProject();
      // ~60 ms of work inside the revision (Postgres: in the revision's one text).
      const slow = backend.name === "sqlite" ? `op.run("wait", () => new Promise((done) => setTimeout(done, 60)));` : `op.execute("SELECT pg_sleep(0.06)");`;
      project.add({ id: "slow00000001", message: "slow", up: `op.createTable("s", { id: t.integer().primaryKey() });\n${slow}`, down: `op.dropTable("s");` });
      await upgrade("head", target(project));
      const [row] = await rows("SELECT started_at, finished_at, duration_ms FROM retort_migrations WHERE revision = 'slow00000001'");
      const time = (value: unknown) => new Date(value as string | Date).getTime();
      const span = time(row!.finished_at) - time(row!.started_at);
      expect(Number(row!.duration_ms)).toBeGreaterThanOrEqual(55);
      expect(Number(row!.duration_ms)).toBeLessThan(10_000);
      expect(Math.abs(span - Number(row!.duration_ms))).toBeLessThanOrEqual(2);
    });

    if (backend.name !== "sqlite") {
      it("sends a revision of plain statements as one text: BEGIN, statements, version, history, COMMIT", async () => {
        const project = createProject();
        linear(project);
        const texts = await captureTexts(() => upgrade("head", target(project)));
        const revisionTexts = texts.filter((text) => text.includes("retort_migrations") && text.startsWith("BEGIN"));
        expect(revisionTexts).toHaveLength(3);
        for (const text of revisionTexts) expect(text.split("\n;\n").at(-1)).toBe("COMMIT");
        expect(revisionTexts[0]).toContain('CREATE TABLE "guilds"');
        expect(revisionTexts[2]).toContain("ALTER TABLE \"members\" ADD COLUMN \"xp\"");
        // And nothing of those revisions went on its own.
        expect(texts.filter((text) => text.includes('"members"') && !text.startsWith("BEGIN"))).toEqual([]);
      });
    }

    it("refuses to run when an applied migration's file changed", async () => {
      const project = createProject();
      const { members: edited } = linear(project);
      const options: CommandOptions = target(project);
      await upgrade("bbbb00000002", options);
      project.add({ id: "eeee00000005", parents: ["cccc00000003"], message: "later", up: "" });
      writeFileSync(edited, readFileSync(edited, "utf8").replace("nickname", "nick"));
      const error = await failure(upgrade("head", options));
      expect(error.code).toBe("RETORT_MODIFIED_MIGRATION");
      expect(error.message).toContain(`${edited} (bbbb00000002)`);
      expect(error.hint).toContain("new revision");
      // current says so (names file and revision); with strict it is an error.
      const noticed: string[] = [];
      const now = await current({ ...options, onWarning: (w) => noticed.push(w) });
      expect(now.heads.map((h) => h.revision)).toEqual(["bbbb00000002"]);
      expect(now.modified).toEqual([{ revision: "bbbb00000002", file: edited }]);
      expect(noticed).toEqual([`1 applied migration file(s) changed since they ran:\n  ${edited} (bbbb00000002)\nupgrade and downgrade refuse to run until they are restored (see \`retort upgrade\`'s error for what to do).`]);
      const strict = await failure(current({ ...options, strict: true }));
      expect(strict.code).toBe("RETORT_MODIFIED_MIGRATION");
      expect(strict.message).toContain(`${edited} (bbbb00000002)`);
      // Configured to warn: the run goes on and the warning names the file.
      const warnings: string[] = [];
      const lenient = { ...project.config, config: { migrations: { ...project.config.config.migrations, modifiedMigrations: "warn" as const } } };
      await upgrade("head", { ...options, config: lenient, onWarning: (w) => warnings.push(w) });
      expect(warnings[0]).toContain(edited);
      expect((await current(options)).heads.map((h) => h.revision)).toEqual(["eeee00000005"]);
    });

    it("offline SQL for a range is what an online run executes", async () => {
      const project = createProject();
      linear(project);
      const options: CommandOptions = target(project);
      const script = await migrationSql("up", "base:head", options);
      expect(script).toContain("CREATE TABLE IF NOT EXISTS retort_version");
      expect(script).toContain("INSERT INTO retort_version (version_num) VALUES ('aaaa00000001');");
      expect(script).toContain("UPDATE retort_version SET version_num = 'cccc00000003' WHERE version_num = 'bbbb00000002';");
      // Run online, recording every statement the executor sends.
      const statements = (await captureStatements(() => upgrade("head", options))).filter(
        (sql) => !/retort_migrations|^SELECT|pg_try_advisory|pg_advisory|^(BEGIN|COMMIT|ROLLBACK)$|^PRAGMA foreign_keys/.test(sql) && !sql.startsWith("CREATE TABLE IF NOT EXISTS"),
      );
      const scripted = script
        .split(/;\n/)
        .map((s) => s.replace(/^(--.*\n)+/gm, "").trim())
        .filter((s) => s && !/^(BEGIN|COMMIT)$/.test(s) && !s.startsWith("CREATE TABLE IF NOT EXISTS") && !s.startsWith("--"));
      expect(statements.length).toBeGreaterThan(5);
      expect(statements).toEqual(scripted);
    });
  });
}

/** Every text the migration executor sends while fn runs (on Postgres, one text may hold several statements). */
async function captureTexts(fn: () => Promise<unknown>): Promise<string[]> {
  const { MigrationExecutor } = await import("../../src/runtime/executor.js");
  const texts: string[] = [];
  const proto = MigrationExecutor.prototype as unknown as { send(text: string, params?: unknown[]): Promise<unknown> };
  const original = proto.send;
  proto.send = function (this: unknown, text: string, params?: unknown[]) {
    texts.push(text);
    return original.call(this, text, params);
  };
  try {
    await fn();
  } finally {
    proto.send = original;
  }
  return texts;
}

/** Every SQL statement the migration executor sends while fn runs. */
async function captureStatements(fn: () => Promise<unknown>): Promise<string[]> {
  return (await captureTexts(fn)).flatMap((text) => text.split("\n;\n").map((s) => s.trim()));
}
