/**
 * Splits and merges of columns as expand/contract pairs on Postgres: `retort revision
 * --autogenerate --expand-contract --backfill …` with each new column's SQL over the old columns
 * and each old column's SQL over the new ones. Between expand and contract the old app (old
 * columns only) and the new app (new columns only) both work and see each other's writes; the
 * contract waits for `retort release`; both downgrades bring the data back. The backfill resumes
 * after an interruption, and each mistake in the flags is refused before anything is written.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { connect, current, downgrade, release, upgrade } from "../../src/index.js";
import { check } from "../../src/runtime/schema-commands.js";
import { modelProject, type ModelProject } from "../autogenerate/safe-support.js";
import { postgresReachable, tempDatabaseForSuite } from "../support/postgres.js";
import { failure, runCli, waitFor } from "./project.js";

const postgresUp = await postgresReachable();
if (!postgresUp) console.warn("[retort tests] NOTICE: Postgres server unreachable; expand/contract splits and merges on Postgres are SKIPPED.");

/** More rows than one backfill batch (1000). */
const ROWS = 2500;

const ONE_NAME = `export const users = table("users", { id: t.bigint().primaryKey(), fullName: t.text() });`;
const TWO_NAMES = `export const users = table("users", { id: t.bigint().primaryKey(), firstName: t.text(), lastName: t.text() });`;
const SPLIT = ["users.first_name=split_part(full_name, ' ', 1)", "users.last_name=split_part(full_name, ' ', 2)", "users.full_name=first_name || ' ' || last_name"];
/** `--backfill` values as the CLI reads them: "table.column=SQL" → { "table.column": "SQL" }. */
const backfillsOf = (...values: string[]) => Object.fromEntries(values.map((value) => value.split(/=(.*)/s).slice(0, 2) as [string, string]));

describe.skipIf(!postgresUp)("expand/contract splits and merges on Postgres", () => {
  const suite = tempDatabaseForSuite();
  const rows = async (sql: string) => (await suite.client.query(sql)).rows;
  const columns = () => rows("SELECT column_name AS name, is_nullable AS nullable FROM information_schema.columns WHERE table_name = 'users' ORDER BY ordinal_position");
  const syncObjects = async () => (await rows("SELECT (SELECT count(*) FROM pg_trigger WHERE tgrelid = 'users'::regclass AND NOT tgisinternal)::int AS triggers, (SELECT count(*) FROM pg_proc WHERE proname LIKE 'retort_sync_%')::int AS functions"))[0];

  /** A project at `models` on an empty database, with ROWS rows from `fill` (an INSERT … SELECT over generate_series(1, ROWS) g). */
  async function populated(models: string, fill: string, settings: Parameters<typeof modelProject>[0] = {}): Promise<ModelProject & { configFile: string; cli(...args: string[]): ReturnType<typeof runCli> }> {
    await suite.client.query("DROP SCHEMA public CASCADE; CREATE SCHEMA public");
    const project = modelProject({ url: suite.temp.url, ...settings });
    await project.generate(models);
    await upgrade("head", project.options);
    await suite.client.query(fill.replaceAll("ROWS", String(ROWS)));
    const configFile = join(project.root, "retort.config.mjs");
    writeFileSync(configFile, `export default ${JSON.stringify(project.config.config)};\n`);
    // Autogenerate compares the models with the migrations head (no database); the others run on the database.
    const cli = (...args: string[]) => runCli(configFile, args[0] === "revision" ? [...args, "--dialect", "postgres"] : ["--url", suite.temp.url, ...args]);
    return { ...project, configFile, cli };
  }

  /** The pair through the command line; `upgrade` runs the expand and stops before the contract. */
  async function expandThroughCli(project: Awaited<ReturnType<typeof populated>>, models: string, revId: string, backfills: readonly string[], dropped: readonly string[]): Promise<void> {
    project.writeModels(models);
    const generated = await project.cli("revision", "--autogenerate", "-m", revId.replace("_", " "), "--rev-id", revId, "--expand-contract", ...backfills.flatMap((value) => ["--backfill", value]));
    expect(generated.code).toBe(0);
    // The console names what the contract drops; the linter finds nothing in either file.
    expect(generated.err.trim().split("\n")).toEqual(dropped.map((column) => `warning destructive: dropColumn ${column} (in the contract revision, after release)`));
    expect(generated.out.match(/^lint: no findings$/gm)).toHaveLength(2);
    expect(generated.out).toMatch(new RegExp(`the contract: \`retort upgrade\` runs it after \`retort release ${revId}\``));
    const held = await project.cli("upgrade");
    expect(held.code).toBe(1);
    expect(held.err).toContain("RETORT_CONTRACT_NOT_RELEASED");
    expect(held.err).toContain(`run \`retort release ${revId}\``);
    expect((await current(project.options)).heads.map((head) => head.revision)).toEqual([revId]);
  }

  it("a split: full_name → first_name + last_name, the old and the new app side by side, then the contract and both downgrades", async () => {
    const project = await populated(ONE_NAME, "INSERT INTO users SELECT g, 'first' || g || ' last' || g FROM generate_series(1, ROWS) g");
    await expandThroughCli(project, TWO_NAMES, "split_name", SPLIT, ["users.full_name"]);

    // The backfill filled every row; first_name and last_name are NOT NULL already (full_name was).
    expect(await rows("SELECT count(*) FILTER (WHERE first_name = 'first' || id AND last_name = 'last' || id)::int AS filled FROM users")).toEqual([{ filled: ROWS }]);
    expect(await columns()).toEqual([
      { name: "id", nullable: "NO" },
      { name: "full_name", nullable: "NO" },
      { name: "first_name", nullable: "NO" },
      { name: "last_name", nullable: "NO" },
    ]);

    // The old app writes full_name only, the new app first_name and last_name only.
    await suite.client.query("INSERT INTO users (id, full_name) VALUES (100001, 'Ada Lovelace')");
    await suite.client.query("UPDATE users SET full_name = 'Grace Hopper' WHERE id = 1");
    await suite.client.query("INSERT INTO users (id, first_name, last_name) VALUES (100002, 'Alan', 'Turing')");
    await suite.client.query("UPDATE users SET last_name = 'Kay' WHERE id = 2");
    expect(await rows("SELECT id::int, full_name, first_name, last_name FROM users WHERE id IN (1, 2, 100001, 100002) ORDER BY id")).toEqual([
      { id: 1, full_name: "Grace Hopper", first_name: "Grace", last_name: "Hopper" },
      { id: 2, full_name: "first2 Kay", first_name: "first2", last_name: "Kay" },
      { id: 100001, full_name: "Ada Lovelace", first_name: "Ada", last_name: "Lovelace" },
      { id: 100002, full_name: "Alan Turing", first_name: "Alan", last_name: "Turing" },
    ]);

    await release("split_name", project.options);
    await upgrade("head", project.options);
    expect(await columns()).toEqual([
      { name: "id", nullable: "NO" },
      { name: "first_name", nullable: "NO" },
      { name: "last_name", nullable: "NO" },
    ]);
    expect(await syncObjects()).toEqual({ triggers: 0, functions: 0 });
    await suite.client.query("INSERT INTO users (id, first_name, last_name) VALUES (100003, 'Edsger', 'Dijkstra')");
    expect(await rows("SELECT count(*)::int AS n FROM users")).toEqual([{ n: ROWS + 3 }]);
    expect((await check({ ...project.options, against: "database" })).changes).toEqual([]);

    // The contract's downgrade: full_name again, computed from the new columns, NOT NULL, kept in step.
    await downgrade("split_name", project.options);
    expect(await rows("SELECT count(*) FILTER (WHERE full_name = first_name || ' ' || last_name)::int AS same, count(*)::int AS n FROM users")).toEqual([{ same: ROWS + 3, n: ROWS + 3 }]);
    expect((await columns()).find((column) => column.name === "full_name")).toEqual({ name: "full_name", nullable: "NO" });
    await suite.client.query("INSERT INTO users (id, full_name) VALUES (100004, 'Barbara Liskov')");
    expect(await rows("SELECT first_name, last_name FROM users WHERE id = 100004")).toEqual([{ first_name: "Barbara", last_name: "Liskov" }]);

    // The expand's downgrade: the table as it was, with every row's name, the new app's included.
    await downgrade("-1", project.options);
    expect(await columns()).toEqual([
      { name: "id", nullable: "NO" },
      { name: "full_name", nullable: "NO" },
    ]);
    expect(await syncObjects()).toEqual({ triggers: 0, functions: 0 });
    expect(await rows("SELECT id::int, full_name FROM users WHERE id IN (1, 2, 3, 100001, 100002, 100003, 100004) ORDER BY id")).toEqual([
      { id: 1, full_name: "Grace Hopper" },
      { id: 2, full_name: "first2 Kay" },
      { id: 3, full_name: "first3 last3" },
      { id: 100001, full_name: "Ada Lovelace" },
      { id: 100002, full_name: "Alan Turing" },
      { id: 100003, full_name: "Edsger Dijkstra" },
      { id: 100004, full_name: "Barbara Liskov" },
    ]);
  }, 180_000);

  it("a merge: first_name + last_name (nullable) → full_name; NOT NULL waits for the contract, and its downgrade lifts it again", async () => {
    const before = `export const users = table("users", { id: t.bigint().primaryKey(), firstName: t.text(), lastName: t.text().nullable() });`;
    const project = await populated(before, "INSERT INTO users SELECT g, 'first' || g, CASE WHEN g % 10 = 0 THEN NULL ELSE 'last' || g END FROM generate_series(1, ROWS) g");
    await expandThroughCli(project, ONE_NAME, "merge_name", [
      // Columns bare or qualified with the table's name: both read the row being written.
      "users.full_name=concat_ws(' ', users.first_name, last_name)",
      "users.first_name=split_part(full_name, ' ', 1)",
      // A comment in the SQL is left out of what is generated.
      "users.last_name=nullif(split_part(full_name, ' ', 2), '') -- no second word: NULL",
    ], ["users.first_name", "users.last_name"]);

    expect(await rows("SELECT count(*) FILTER (WHERE full_name = 'first' || id || CASE WHEN id % 10 = 0 THEN '' ELSE ' last' || id END)::int AS filled FROM users")).toEqual([{ filled: ROWS }]);
    const expand = readFileSync(join(project.dir, readdirSync(project.dir).find((file) => file.endsWith("_merge_name_expand.ts"))!), "utf8");
    expect(expand).toContain("SELECT split_part(full_name, ' ', 1), nullif(split_part(full_name, ' ', 2), '') INTO NEW.first_name, NEW.last_name FROM (SELECT NEW.*) AS users;");
    expect(expand).not.toContain("no second word");
    // full_name's SQL reads last_name, which may be NULL (Retort cannot tell that concat_ws never gives NULL):
    // its NOT NULL waits for the contract, when no old app writes any more.
    expect((await columns()).find((column) => column.name === "full_name")).toEqual({ name: "full_name", nullable: "YES" });

    await suite.client.query("INSERT INTO users (id, first_name, last_name) VALUES (100001, 'Ada', NULL)");
    await suite.client.query("UPDATE users SET last_name = 'Lamport' WHERE id = 10");
    await suite.client.query("INSERT INTO users (id, full_name) VALUES (100002, 'Alan Turing')");
    await suite.client.query("UPDATE users SET full_name = 'Edsger Dijkstra' WHERE id = 1");
    expect(await rows("SELECT id::int, first_name, last_name, full_name FROM users WHERE id IN (1, 10, 100001, 100002) ORDER BY id")).toEqual([
      { id: 1, first_name: "Edsger", last_name: "Dijkstra", full_name: "Edsger Dijkstra" },
      { id: 10, first_name: "first10", last_name: "Lamport", full_name: "first10 Lamport" },
      { id: 100001, first_name: "Ada", last_name: null, full_name: "Ada" },
      { id: 100002, first_name: "Alan", last_name: "Turing", full_name: "Alan Turing" },
    ]);

    await release("merge_name", project.options);
    await upgrade("head", project.options);
    expect(await columns()).toEqual([
      { name: "id", nullable: "NO" },
      { name: "full_name", nullable: "NO" },
    ]);
    expect(await syncObjects()).toEqual({ triggers: 0, functions: 0 });
    expect((await check({ ...project.options, against: "database" })).changes).toEqual([]);

    await downgrade("merge_name", project.options);
    expect((await columns()).find((column) => column.name === "full_name")).toEqual({ name: "full_name", nullable: "YES" });
    await suite.client.query("INSERT INTO users (id, first_name) VALUES (100003, 'Barbara')");
    expect(await rows("SELECT full_name FROM users WHERE id = 100003")).toEqual([{ full_name: "Barbara" }]);
    await downgrade("-1", project.options);
    expect(await columns()).toEqual([
      { name: "id", nullable: "NO" },
      { name: "first_name", nullable: "NO" },
      { name: "last_name", nullable: "YES" },
    ]);
    expect(await rows("SELECT id::int, first_name, last_name FROM users WHERE id IN (1, 20, 21, 100001, 100002, 100003) ORDER BY id")).toEqual([
      { id: 1, first_name: "Edsger", last_name: "Dijkstra" },
      { id: 20, first_name: "first20", last_name: null },
      { id: 21, first_name: "first21", last_name: "last21" },
      { id: 100001, first_name: "Ada", last_name: null },
      { id: 100002, first_name: "Alan", last_name: "Turing" },
      { id: 100003, first_name: "Barbara", last_name: null },
    ]);
  }, 180_000);

  it("a backfill killed part-way keeps its committed batches, and the rerun fills only the rest", async () => {
    const project = await populated(ONE_NAME, "INSERT INTO users SELECT g, 'first' || g || ' last' || g FROM generate_series(1, ROWS) g", { autogenerate: { lockTimeout: "1min" } });
    await project.generate(TWO_NAMES, { expandContract: true, revId: "split_resume", backfill: backfillsOf(...SPLIT) });
    // Row 1500 (the second batch) waits for an advisory lock the test holds: the backfill stops there.
    await suite.client.query(`CREATE FUNCTION wait_for_test() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_advisory_xact_lock(4242); RETURN NEW; END $$;
      CREATE TRIGGER wait_for_test BEFORE UPDATE ON users FOR EACH ROW WHEN (NEW.id = 1500) EXECUTE FUNCTION wait_for_test()`);
    await suite.client.query("SELECT pg_advisory_lock(4242)");
    let child: ChildProcess | undefined;
    try {
      child = spawn("node_modules/.bin/tsx", ["src/cli/main.ts", "--config", project.configFile, "--url", suite.temp.url, "--quiet", "upgrade"], { stdio: "ignore" });
      const backend = await waitFor("the backfill to wait at row 1500", async () => (await rows("SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND wait_event = 'advisory'"))[0]?.pid as number | undefined);
      child.kill("SIGKILL");
      await suite.client.query("SELECT pg_terminate_backend($1)", [backend]);
      await waitFor("the killed backend to go", async () => ((await rows(`SELECT 1 FROM pg_stat_activity WHERE pid = ${backend}`)).length === 0 ? true : undefined));
    } finally {
      await suite.client.query("SELECT pg_advisory_unlock(4242)");
      if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
    expect(await rows("SELECT count(*) FILTER (WHERE first_name IS NOT NULL)::int AS filled, max(id) FILTER (WHERE first_name IS NOT NULL)::int AS last FROM users")).toEqual([{ filled: 1000, last: 1000 }]);
    const [interrupted] = (await current(project.options)).inProgress;
    expect(interrupted).toMatchObject({ revision: "split_resume", direction: "up", outcome: "running" });
    const firstBatch = await rows("SELECT xmin::text AS version FROM users WHERE id = 1");

    // The rerun goes on with the backfill (and stops before the contract, which waits for release).
    expect((await failure(upgrade("head", project.options))).code).toBe("RETORT_CONTRACT_NOT_RELEASED");
    expect(await rows("SELECT count(*) FILTER (WHERE first_name = 'first' || id AND last_name = 'last' || id)::int AS filled FROM users")).toEqual([{ filled: ROWS }]);
    // Row 1 was filled by the killed run: the rerun did not write it again.
    expect(await rows("SELECT xmin::text AS version FROM users WHERE id = 1")).toEqual(firstBatch);
    expect((await columns()).filter((column) => column.name.endsWith("_name"))).toEqual([
      { name: "full_name", nullable: "NO" },
      { name: "first_name", nullable: "NO" },
      { name: "last_name", nullable: "NO" },
    ]);
    expect((await current(project.options)).heads.map((head) => head.revision)).toEqual(["split_resume"]);
  }, 120_000);
});

describe("expand/contract splits and merges: mistakes in the flags are refused before anything is written", () => {
  const before = `export const users = table("users", { id: t.bigint().primaryKey(), fullName: t.text(), nick: t.text().nullable() });`;
  const split = `export const users = table("users", { id: t.bigint().primaryKey(), firstName: t.text(), lastName: t.text(), nick: t.text().nullable() });`;
  const [first, last, full] = SPLIT;

  it("each with RETORT_USAGE, the column and what to do", async () => {
    const project = modelProject({ dialect: "postgres" });
    await project.generate(before);
    const cases: Array<{ models: string; backfill: Record<string, string>; message: string; hint: RegExp }> = [
      {
        // A NOT NULL column dropped beside a rename: the new app's inserts would leave it out.
        models: `export const users = table("users", { id: t.bigint().primaryKey(), nickname: t.text().nullable().renamedFrom("nick") });`,
        backfill: {},
        message: "--expand-contract: users.full_name is dropped, but it is NOT NULL without a default: between expand and contract the new app's inserts leave it out and fail",
        hint: /^For a split or merge, give its SQL over the new columns: --backfill "users.full_name=<SQL>" .* Otherwise make it nullable in a migration of its own first/,
      },
      {
        models: split,
        backfill: backfillsOf(first!, last!),
        message: "--expand-contract: users.full_name is dropped in the split of users (full_name → first_name, last_name) (users.first_name, users.last_name are computed from it) but has no --backfill expression",
        hint: /^Give its SQL over the new columns: --backfill "users.full_name=<SQL over first_name, last_name>"\. Without it the old app reads stale values/,
      },
      {
        models: split,
        backfill: backfillsOf(first!, full!),
        message: "--expand-contract: users.last_name is added in the split of users (full_name → first_name, last_name) but has no --backfill expression (users.full_name is computed from it)",
        hint: /^Give its SQL over the old columns: --backfill "users.last_name=<SQL over full_name>"/,
      },
      {
        models: split,
        backfill: backfillsOf(first!, last!, full!, "users.nick=upper(nick)"),
        message: "--backfill names users.nick, which this migration neither adds nor drops",
        hint: /Columns added or dropped here: users.first_name \(added\), users.last_name \(added\), users.full_name \(dropped\)\.$/,
      },
      {
        models: split,
        backfill: backfillsOf("users.first_name=split_part(full_name, ' ' 1)", last!, full!),
        message: `--backfill "users.first_name=split_part(full_name, ' ' 1)": the Postgres parser rejects it: syntax error at or near "1"`,
        hint: /^Give one SQL expression over the old columns of users \(id, full_name, nick\)/,
      },
      {
        models: split,
        backfill: backfillsOf(first!, last!, "users.full_name=first_name; DROP TABLE users"),
        message: `--backfill "users.full_name=first_name; DROP TABLE users": expected one SQL expression (the column's value), not a statement or a list`,
        hint: /^Give one SQL expression over the new columns of users \(id, nick, first_name, last_name\)/,
      },
      {
        models: split,
        backfill: backfillsOf("users.first_name=split_part(name, ' ', 1)", last!, full!),
        message: `--backfill "users.first_name=split_part(name, ' ', 1)": it reads name, which is not a column of users before this migration`,
        hint: /over the old columns of users/,
      },
      {
        // The backward SQL reads the new row: the old column is not there for the new app.
        models: split,
        backfill: backfillsOf(first!, last!, "users.full_name=coalesce(full_name, first_name)"),
        message: `--backfill "users.full_name=coalesce(full_name, first_name)": it reads full_name, which is not a column of the new users`,
        hint: /over the new columns of users/,
      },
      {
        models: `export const users = table("users", { id: t.bigint().primaryKey(), nick: t.text().nullable() });`,
        backfill: backfillsOf("users.full_name=coalesce(nick, '')"),
        message: "--backfill gives users.full_name (dropped) its SQL over the new columns, but this migration adds no column to users",
        hint: /^A dropped column's SQL is for a split or merge/,
      },
    ];
    for (const { models, backfill, message, hint } of cases) {
      const error = await failure(project.generate(models, { expandContract: true, backfill }));
      expect({ code: error.code, message: error.message }).toEqual({ code: "RETORT_USAGE", message });
      expect(error.hint).toMatch(hint);
    }
    expect(readdirSync(project.dir)).toHaveLength(1);
  }, 120_000);

  it("SQLite has no expand/contract", async () => {
    const project = modelProject({ dialect: "sqlite" });
    await project.generate(before);
    const error = await failure(project.generate(split, { expandContract: true, backfill: backfillsOf(first!, last!, full!) }));
    expect(error.code).toBe("RETORT_USAGE");
    expect(error.message).toBe("--expand-contract is for Postgres and PGlite with safe autogenerate, but this project generates for sqlite");
    expect(error.hint).toBe("Leave out the flag: SQLite rebuilds tables in one transaction anyway.");
  }, 60_000);
});

describe("expand/contract splits on PGlite", () => {
  it("the split's trigger, backfill, contract and downgrades work on PGlite too", async () => {
    const url = `pglite:${join(mkdtempSync(join(tmpdir(), "retort-split-")), "db")}`;
    /** Statements on the database, one connection (PGlite is one process: closed before the next command). */
    const on = async (...statements: string[]) => {
      const db = await connect(url);
      try {
        const results = [];
        for (const statement of statements) results.push((await db.query(statement)).rows);
        return results.at(-1)!;
      } finally {
        await db.close();
      }
    };
    const project = modelProject({ url });
    await project.generate(ONE_NAME);
    await upgrade("head", project.options);
    await on("INSERT INTO users SELECT g, 'first' || g || ' last' || g FROM generate_series(1, 1500) g");
    await project.generate(TWO_NAMES, { expandContract: true, revId: "split_pglite", backfill: backfillsOf(...SPLIT) });
    expect((await failure(upgrade("head", project.options))).code).toBe("RETORT_CONTRACT_NOT_RELEASED");

    const names = "SELECT id::int, full_name, first_name, last_name FROM users WHERE id IN (1, 2, 3, 100001, 100002) ORDER BY id";
    expect(
      await on(
        "INSERT INTO users (id, full_name) VALUES (100001, 'Ada Lovelace')",
        "UPDATE users SET full_name = 'Grace Hopper' WHERE id = 1",
        "INSERT INTO users (id, first_name, last_name) VALUES (100002, 'Alan', 'Turing')",
        "UPDATE users SET last_name = 'Kay' WHERE id = 2",
        names,
      ),
    ).toEqual([
      { id: 1, full_name: "Grace Hopper", first_name: "Grace", last_name: "Hopper" },
      { id: 2, full_name: "first2 Kay", first_name: "first2", last_name: "Kay" },
      { id: 3, full_name: "first3 last3", first_name: "first3", last_name: "last3" },
      { id: 100001, full_name: "Ada Lovelace", first_name: "Ada", last_name: "Lovelace" },
      { id: 100002, full_name: "Alan Turing", first_name: "Alan", last_name: "Turing" },
    ]);
    expect(await on("SELECT count(*)::int AS n FROM users WHERE first_name IS NULL OR last_name IS NULL")).toEqual([{ n: 0 }]);

    await release("split_pglite", project.options);
    await upgrade("head", project.options);
    expect(await on("SELECT column_name AS name FROM information_schema.columns WHERE table_name = 'users' ORDER BY ordinal_position")).toEqual([{ name: "id" }, { name: "first_name" }, { name: "last_name" }]);

    await downgrade("split_pglite", project.options);
    await downgrade("-1", project.options);
    expect(await on("SELECT id::int, full_name FROM users WHERE id IN (1, 2, 100002) ORDER BY id")).toEqual([
      { id: 1, full_name: "Grace Hopper" },
      { id: 2, full_name: "first2 Kay" },
      { id: 100002, full_name: "Alan Turing" },
    ]);
  }, 120_000);
});
