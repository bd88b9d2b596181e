/**
 * The daily workflow from the command line, in a real git repository: setup, a branch's database
 * copied from its parent's, branch listing and pruning, wipe, reset, teardown, every production
 * guard, `retort env` and `retort env check`.
 */
import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import Sqlite from "better-sqlite3";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { migrationFileName, renderMigration } from "../../src/script/index.js";
import { createTempDatabase, postgresReachable } from "../support/postgres.js";

const exec = promisify(execFile);
const SOURCE_INDEX = resolve("src/index.ts");
const CLI = resolve("src/cli/main.ts");
const TSX = resolve("node_modules/.bin/tsx");
const postgresUp = await postgresReachable();

function git(cwd: string, ...args: string[]): void {
  execFileSync("git", args, { cwd, stdio: "ignore", env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@t", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@t" } });
}

let clock = Date.UTC(2026, 5, 1);
function addRevision(dir: string, id: string, parents: string[], up: string, down: string): void {
  const createdAt = new Date((clock += 60_000));
  writeFileSync(
    join(dir, "migrations", "versions", migrationFileName(createdAt, id)),
    renderMigration({ revision: id, parents, message: id, createdAt, upgradeBody: up, downgradeBody: down, moduleSpecifier: SOURCE_INDEX, imports: [`import { t } from ${JSON.stringify(SOURCE_INDEX)};`] }),
  );
}

/** A git repository holding a Retort project with two revisions (notes table, then an index). */
function project(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "workflow-"));
  execFileSync("mkdir", ["-p", join(dir, "migrations", "versions")]);
  writeFileSync(join(dir, "retort.config.mjs"), `export default { migrations: { importFrom: ${JSON.stringify(SOURCE_INDEX)} } };\n`);
  writeFileSync(join(dir, ".gitignore"), ".retort/\n*.db\n");
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  addRevision(dir, "wf0000000001", [], `op.createTable("notes", { id: t.integer().primaryKey(), body: t.text() });`, `op.dropTable("notes");`);
  addRevision(dir, "wf0000000002", ["wf0000000001"], `op.createIndex(null, "notes", ["body"]);`, `op.dropIndex("ix_notes_body");`);
  git(dir, "init", "-q", "-b", "main");
  git(dir, "add", ".");
  git(dir, "commit", "-q", "-m", "start");
  return dir;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function retort(cwd: string, env: Record<string, string>, ...args: string[]): Promise<Run> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/DATABASE_URL$|^NODE_ENV$|^RETORT_/.test(k)));
  try {
    const { stdout, stderr } = await exec(TSX, [CLI, ...args], { cwd, env: { ...clean, ...env }, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (failure) {
    const f = failure as { code: number; stdout: string; stderr: string };
    return { code: f.code, stdout: f.stdout, stderr: f.stderr };
  }
}

const errorOf = (run: Run) => (JSON.parse(run.stderr.slice(run.stderr.indexOf("{"))) as { error: { code: string; message: string; hint?: string } }).error;

function rows(file: string, sql: string): unknown[] {
  const db = new Sqlite(file, { readonly: true });
  try {
    return db.prepare(sql).all();
  } finally {
    db.close();
  }
}

describe("the daily workflow (SQLite, in a git repository)", () => {
  it("setup, a branch database copied from its parent, branches, prune, wipe, env", async () => {
    const dir = project({ ".env": "DEV_DATABASE_URL=sqlite:app.db\n" });
    const setup = await retort(dir, {}, "setup");
    expect(setup.code).toBe(0);
    expect(setup.stdout).toContain("created sqlite:app.main.db");
    const main = join(dir, "app.main.db");
    expect(rows(main, "SELECT version_num FROM retort_version")).toEqual([{ version_num: "wf0000000002" }]);
    new Sqlite(main).exec("INSERT INTO notes VALUES (1, 'kept across branches')").close();

    const env = await retort(dir, {}, "--json", "env");
    expect(JSON.parse(env.stdout)).toMatchObject({ environment: "development", source: "$DEV_DATABASE_URL", branch: "main", url: "sqlite:app.main.db", baseUrl: "sqlite:app.db" });
    expect(JSON.parse(env.stdout).variables).toContainEqual({ name: "DEV_DATABASE_URL", from: join(dir, ".env"), value: "sqlite:app.db" });

    git(dir, "checkout", "-q", "-b", "feature/tags");
    addRevision(dir, "wf0000000003", ["wf0000000002"], `op.addColumn("notes", "tag", t.text().nullable());`, `op.dropColumn("notes", "tag");`);
    const up = await retort(dir, {}, "upgrade");
    expect(up.code).toBe(0);
    expect(up.stdout).toContain("as a copy of sqlite:app.main.db (branch main)");
    const feature = join(dir, "app.feature_tags.db");
    expect(rows(feature, "SELECT id, body, tag FROM notes")).toEqual([{ id: 1, body: "kept across branches", tag: null }]);
    expect(rows(main, "SELECT version_num FROM retort_version")).toEqual([{ version_num: "wf0000000002" }]);

    const listed = JSON.parse((await retort(dir, {}, "--json", "db", "branches")).stdout) as { databases: unknown[] };
    expect(listed.databases).toEqual([
      { url: "sqlite:app.feature_tags.db", branch: "feature/tags", current: true, stale: false },
      { url: "sqlite:app.main.db", branch: "main", current: false, stale: false },
    ]);

    // wipe drops this branch's database only; the next upgrade copies the parent's again.
    expect((await retort(dir, {}, "wipe")).stdout).toBe("dropped sqlite:app.feature_tags.db\n");
    expect(existsSync(feature)).toBe(false);
    expect(rows(main, "SELECT body FROM notes")).toEqual([{ body: "kept across branches" }]);
    expect((await retort(dir, {}, "upgrade")).code).toBe(0);
    expect(rows(feature, "SELECT version_num FROM retort_version")).toEqual([{ version_num: "wf0000000003" }]);

    git(dir, "checkout", "-q", "main");
    git(dir, "branch", "-q", "-D", "feature/tags");
    const pruned = JSON.parse((await retort(dir, {}, "--json", "db", "branches", "--prune")).stdout) as { databases: Array<{ stale: boolean }>; pruned: string[] };
    expect(pruned.pruned).toEqual(["sqlite:app.feature_tags.db"]);
    expect(existsSync(feature)).toBe(false);

    const wiped = await retort(dir, {}, "wipe");
    expect(wiped.stdout).toBe("dropped sqlite:app.main.db\n");
    expect(existsSync(main)).toBe(false);
  }, 240_000);

  it("the first branch database of a project starts as a copy of the database it used before", async () => {
    const dir = project({ ".env": "DEV_DATABASE_URL=sqlite:app.db\n" });
    const before = new Sqlite(join(dir, "app.db"));
    before.exec("CREATE TABLE kept (v text); INSERT INTO kept VALUES ('from before')");
    before.close();
    const setup = await retort(dir, {}, "setup");
    expect(setup.stdout).toContain("created sqlite:app.main.db as a copy of sqlite:app.db (the database from before branch databases)");
    expect(rows(join(dir, "app.main.db"), "SELECT v FROM kept")).toEqual([{ v: "from before" }]);
  }, 240_000);

  it("back on a branch that lacks the database's newest revisions: current and upgrade say where they are and what to do", async () => {
    const dir = project({ ".env": "DEV_DATABASE_URL=sqlite:app.db\nRETORT_BRANCH_DATABASES=0\n" });
    git(dir, "checkout", "-q", "-b", "feature/archive");
    addRevision(dir, "wf0000000009", ["wf0000000002"], `op.addColumn("notes", "archived", t.boolean().default(false));`, `op.dropColumn("notes", "archived");`);
    git(dir, "add", ".");
    git(dir, "commit", "-q", "-m", "archive");
    expect((await retort(dir, {}, "upgrade")).code).toBe(0);
    git(dir, "checkout", "-q", "main");
    const current = await retort(dir, {}, "current");
    expect(current.stdout).toContain("wf0000000009 (no file in this checkout: it is on branch feature/archive; downgrade it there, or re-create this database)");
    const up = await retort(dir, {}, "--json", "upgrade");
    expect(up.code).toBe(1);
    const error = errorOf(up);
    expect(error.code).toBe("RETORT_UNKNOWN_REVISION");
    expect(error.message).toBe("The database is at wf0000000009 (its file is on branch feature/archive), which this checkout's migrations do not define: it was probably upgraded from another branch.");
    expect(error.hint).toContain("run `retort downgrade wf0000000002` there");
    expect(error.hint).toContain("`retort wipe && retort upgrade`");
    // The way out it names works.
    git(dir, "checkout", "-q", "feature/archive");
    expect((await retort(dir, {}, "downgrade", "wf0000000002")).code).toBe(0);
    git(dir, "checkout", "-q", "main");
    expect((await retort(dir, {}, "upgrade")).stdout).toContain("nothing to do");
  }, 240_000);

  it("the production guard: reset, wipe, teardown, downgrade base and stamp --purge refuse; --force-production needs a terminal", async () => {
    const dir = project();
    const prod = { NODE_ENV: "production", PROD_DATABASE_URL: `sqlite:${join(dir, "prod.db")}` };
    expect((await retort(dir, prod, "upgrade")).code).toBe(0);
    for (const args of [["reset"], ["wipe"], ["wipe", "--force-production"], ["teardown", "--yes"], ["downgrade", "base"], ["stamp", "wf0000000001", "--purge"]]) {
      const run = await retort(dir, prod, "--json", ...args);
      expect(run.code, args.join(" ")).toBe(1);
      expect(errorOf(run).code, args.join(" ")).toBe("RETORT_PRODUCTION_GUARD");
    }
    expect(errorOf(await retort(dir, prod, "--json", "wipe", "--force-production")).message).toContain("needs a person at a terminal");
    // The production URL in development is refused too.
    const viaUrl = await retort(dir, { PROD_DATABASE_URL: prod.PROD_DATABASE_URL, DEV_DATABASE_URL: prod.PROD_DATABASE_URL, RETORT_BRANCH_DATABASES: "0" }, "--json", "reset");
    expect(errorOf(viaUrl).message).toContain("its URL is the production database's");
    expect(rows(join(dir, "prod.db"), "SELECT version_num FROM retort_version")).toEqual([{ version_num: "wf0000000002" }]);
  }, 240_000);

  it("teardown asks on a terminal, needs --yes without one, and deletes the local data", async () => {
    const dir = project();
    expect((await retort(dir, {}, "setup")).code).toBe(0);
    expect(existsSync(join(dir, ".retort", "pglite", "main", "PG_VERSION"))).toBe(true);
    const refused = await retort(dir, {}, "--json", "teardown");
    expect(errorOf(refused)).toMatchObject({ code: "RETORT_USAGE", hint: "retort teardown --yes" });
    expect(refused.code).toBe(2);
    const done = await retort(dir, {}, "teardown", "--yes");
    expect(done.code).toBe(0);
    expect(existsSync(join(dir, ".retort"))).toBe(false);
  }, 240_000);

  it("env check: a missing variable and a committed secret fail; placeholders pass", async () => {
    const dir = project({
      "retort.config.mjs": `export default { url: process.env.APP_DB, migrations: { importFrom: ${JSON.stringify(SOURCE_INDEX)} } };\n`,
      ".env.example": "DATABASE_URL=postgres://user:password@localhost:5432/app\nDEV_DATABASE_URL=postgres://app:Xk9#mQ2v@db.internal/app\nTEST_DATABASE_URL=\nAPI_TOKEN=sk_live_4eC39HqLyjWDarjtT1zdp7dc\n",
    });
    const failed = await retort(dir, {}, "--json", "env", "check");
    expect(failed.code).toBe(1);
    const error = errorOf(failed);
    expect(error.code).toBe("RETORT_ENV_CHECK");
    expect(error.message).toContain("PROD_DATABASE_URL is read by Retort but not listed");
    expect(error.message).toContain("APP_DB is read by the config but not listed");
    expect(error.message).toContain("DEV_DATABASE_URL (line 2) looks like a real secret: a password in a URL");
    expect(error.message).toContain("API_TOKEN (line 4) looks like a real secret: a long random token");
    expect(error.message).not.toContain("DATABASE_URL (line 1)");
    writeFileSync(join(dir, ".env.example"), "DATABASE_URL=postgres://user:password@localhost:5432/app\nDEV_DATABASE_URL=\nTEST_DATABASE_URL=\nPROD_DATABASE_URL=postgres://user:<password>@host/app\nAPP_DB=\nAPI_TOKEN=<token>\n");
    const ok = await retort(dir, {}, "env", "check");
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("holds no secret");
    // Listed commented out, as an optional variable: listed, and its value still checked.
    writeFileSync(join(dir, ".env.example"), "# DATABASE_URL=\n# DEV_DATABASE_URL=postgres://app@localhost:5432/app_dev\n#TEST_DATABASE_URL=\n# PROD_DATABASE_URL=postgres://app:Xk9#mQ2v@db.internal/app\nAPP_DB=\n");
    const commented = await retort(dir, {}, "--json", "env", "check");
    expect(errorOf(commented).message).toContain("PROD_DATABASE_URL (line 4) looks like a real secret");
    expect(errorOf(commented).message).not.toContain("not listed");
    // A name listed twice: the template's commented line, and a real value added below it.
    writeFileSync(join(dir, ".env.example"), "# DATABASE_URL=\n# DEV_DATABASE_URL=\nTEST_DATABASE_URL=\nPROD_DATABASE_URL=\nAPP_DB=\nDEV_DATABASE_URL=postgres://app:Xk9mQ2vLp8@db.example.com/app\n");
    const twice = await retort(dir, {}, "--json", "env", "check");
    expect(twice.code).toBe(1);
    expect(errorOf(twice).message).toContain("DEV_DATABASE_URL (line 6) looks like a real secret: a password in a URL");
  }, 240_000);

  it("what retort init writes passes retort env check", async () => {
    const dir = mkdtempSync(join(tmpdir(), "retort-init-env-"));
    expect((await retort(dir, {}, "init")).code).toBe(0);
    const check = await retort(dir, {}, "env", "check");
    expect(check.stderr).toBe("");
    expect(check.code).toBe(0);
  }, 240_000);
});

describe.skipIf(!postgresUp)("reset on the Postgres server", () => {
  it("drops every object, keeps the schema's grants, and migrates again", async () => {
    const temp = await createTempDatabase();
    try {
      const dir = project();
      const env = { DATABASE_URL: temp.url, RETORT_BRANCH_DATABASES: "0" };
      expect((await retort(dir, env, "upgrade")).code).toBe(0);
      const client = new pg.Client({ connectionString: temp.url });
      await client.connect();
      try {
        await client.query("INSERT INTO notes VALUES (1, 'gone after reset'); CREATE TABLE stray (id int)");
        const reset = await retort(dir, env, "reset");
        expect(reset.code).toBe(0);
        expect(reset.stdout).toMatch(/reset postgres:\/\/.* now at wf0000000002/);
        expect((await client.query("SELECT count(*)::int AS n FROM notes")).rows).toEqual([{ n: 0 }]);
        expect((await client.query("SELECT to_regclass('public.stray') AS t")).rows).toEqual([{ t: null }]);
        expect((await client.query("SELECT count(*)::int AS n FROM retort_migrations WHERE outcome = 'applied'")).rows).toEqual([{ n: 2 }]);
      } finally {
        await client.end();
      }
    } finally {
      await temp.drop();
    }
  }, 240_000);
});
