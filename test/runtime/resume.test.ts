/**
 * A revision with steps outside a transaction ([transactional steps, CREATE INDEX CONCURRENTLY,
 * more steps]) killed while the concurrent build runs: the part before it is committed with its
 * progress record, and a rerun resumes — whether the build finished on its own (a VALID index is
 * accepted) or died with the client (the INVALID index is dropped and built again).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { current, isRetortError, upgrade, type CommandOptions } from "../../src/index.js";
import { postgresReachable, tempDatabaseForSuite } from "../support/postgres.js";
import { createProject, waitFor, type Project } from "./project.js";

const postgresUp = await postgresReachable();

function chain(): Project {
  const project = createProject();
  project.add({
    id: "tabl00000001",
    message: "events with rows",
    up: `op.createTable("events", { id: t.integer().primaryKey(), name: t.text() });\nop.execute("INSERT INTO events SELECT g, 'n' || (g % 100) FROM generate_series(1, 2000) g");`,
  });
  project.add({
    id: "part00000002",
    parents: ["tabl00000001"],
    message: "side table, concurrent index, more",
    up: [
      `op.createTable("side", { id: t.integer().primaryKey() });`,
      `op.execute("INSERT INTO side VALUES (1)");`,
      `op.createIndex("ix_events_name", "events", ["name"], { concurrently: true });`,
      `op.createTable("after_index", { id: t.integer().primaryKey() });`,
    ].join("\n"),
  });
  return project;
}

describe.skipIf(!postgresUp)("a revision killed during CREATE INDEX CONCURRENTLY resumes", () => {
  const suite = tempDatabaseForSuite();

  async function rows(sql: string): Promise<Record<string, unknown>[]> {
    return (await suite.client.query(sql)).rows;
  }

  /** Start `retort upgrade head` in a child process and kill it while the concurrent build waits on a lock we hold. */
  async function killDuringBuild(project: Project, options: { alsoKillBackend: boolean }): Promise<void> {
    const blocker = new pg.Client({ connectionString: suite.temp.url });
    await blocker.connect();
    // A writer's lock: CREATE INDEX CONCURRENTLY creates the (INVALID) index, then waits for it.
    await blocker.query("BEGIN; LOCK TABLE events IN ROW EXCLUSIVE MODE");
    const config = join(project.root, "retort.config.mjs");
    writeFileSync(config, `export default ${JSON.stringify(project.config.config)};\n`);
    let child: ChildProcess | undefined;
    try {
      child = spawn("node_modules/.bin/tsx", ["src/cli/main.ts", "--config", config, "--url", suite.temp.url, "--quiet", "upgrade", "head"], { stdio: "ignore" });
      const backend = await waitFor("the concurrent build to wait", async () => {
        const found = await rows("SELECT pid FROM pg_stat_activity WHERE query LIKE 'CREATE INDEX CONCURRENTLY%' AND wait_event_type = 'Lock'");
        return found[0]?.pid as number | undefined;
      });
      child.kill("SIGKILL");
      if (options.alsoKillBackend) await suite.client.query("SELECT pg_terminate_backend($1)", [backend]);
    } finally {
      await blocker.query("COMMIT");
      await blocker.end();
      if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
    await waitFor("the killed build to end", async () => ((await rows("SELECT 1 FROM pg_stat_activity WHERE query LIKE 'CREATE INDEX CONCURRENTLY%' AND state = 'active'")).length === 0 ? true : undefined));
  }

  it("a build that dies with its backend leaves an INVALID index: the progress record says which steps are committed, and the rerun drops it, builds it and reaches head", async () => {
    const project = chain();
    const options: CommandOptions = { config: project.config, url: suite.temp.url };
    await upgrade("tabl00000001", options);
    await killDuringBuild(project, { alsoKillBackend: true });

    // The part before the concurrent step is committed, and the history says so.
    expect(await rows("SELECT id FROM side")).toEqual([{ id: 1 }]);
    expect(await rows("SELECT revision, outcome, steps_done, steps_total FROM retort_migrations WHERE revision = 'part00000002'")).toEqual([
      { revision: "part00000002", outcome: "running", steps_done: 2, steps_total: 4 },
    ]);
    expect(await rows("SELECT indisvalid AS valid FROM pg_index WHERE indexrelid = to_regclass('ix_events_name')")).toEqual([{ valid: false }]);
    expect(await rows("SELECT version_num FROM retort_version")).toEqual([{ version_num: "tabl00000001" }]);
    const before = await current(options);
    expect(before.heads.map((head) => head.revision)).toEqual(["tabl00000001"]);
    expect(before.inProgress).toEqual([{ revision: "part00000002", direction: "up", stepsDone: 2, totalSteps: 4, outcome: "running", startedAt: expect.any(String), message: "side table, concurrent index, more" }]);

    await upgrade("head", options);
    expect((await current(options)).heads.map((head) => head.revision)).toEqual(["part00000002"]);
    expect((await current(options)).inProgress).toEqual([]);
    expect(await rows("SELECT indisvalid AS valid FROM pg_index WHERE indexrelid = to_regclass('ix_events_name')")).toEqual([{ valid: true }]);
    expect(await rows("SELECT count(*)::int AS n FROM pg_index WHERE NOT indisvalid")).toEqual([{ n: 0 }]);
    expect(await rows("SELECT id FROM side")).toEqual([{ id: 1 }]);
    expect(await rows("SELECT to_regclass('after_index') IS NOT NULL AS present")).toEqual([{ present: true }]);
    expect(await rows("SELECT outcome, steps_done FROM retort_migrations WHERE revision = 'part00000002' ORDER BY id")).toEqual([
      { outcome: "running", steps_done: 2 },
      { outcome: "applied", steps_done: 4 },
    ]);
    await suite.client.query("DROP TABLE side, after_index, events, retort_version, retort_migrations");
  }, 60_000);

  it("a build that finishes after its client died leaves a VALID index of the same definition: the rerun accepts it as done", async () => {
    const project = chain();
    const options: CommandOptions = { config: project.config, url: suite.temp.url };
    await upgrade("tabl00000001", options);
    await killDuringBuild(project, { alsoKillBackend: false });
    expect(await rows("SELECT indisvalid AS valid FROM pg_index WHERE indexrelid = to_regclass('ix_events_name')")).toEqual([{ valid: true }]);
    const oid = (await rows("SELECT to_regclass('ix_events_name')::oid AS oid"))[0]!.oid;

    await upgrade("head", options);
    expect((await current(options)).heads.map((head) => head.revision)).toEqual(["part00000002"]);
    // The very same index: accepted, not rebuilt.
    expect((await rows("SELECT to_regclass('ix_events_name')::oid AS oid"))[0]!.oid).toBe(oid);
    await suite.client.query("DROP TABLE side, after_index, events, retort_version, retort_migrations");
  }, 60_000);

  it("an index of the same name but another definition is not taken for done: the rerun fails, saying which steps are committed", async () => {
    const project = chain();
    const options: CommandOptions = { config: project.config, url: suite.temp.url };
    await upgrade("tabl00000001", options);
    await suite.client.query("CREATE INDEX ix_events_name ON events (id)");
    const error = await upgrade("head", options).catch((e: unknown) => e);
    expect(isRetortError(error, "RETORT_MIGRATION_FAILED")).toBe(true);
    expect((error as Error).message).toContain('index "ix_events_name" already exists with another definition: CREATE INDEX ix_events_name ON public.events USING btree (id)');
    expect((error as Error).message).toContain("The database is now at tabl00000001, with steps 1..2 of 4 of revision part00000002 committed");
    expect((error as { hint: string }).hint).toBe(`Drop or rename the existing index "ix_events_name" (it is not the one this migration builds). Steps 1..2 of revision part00000002 are committed; fix the cause and rerun the same command to resume at step 3.`);
    expect((error as { hint: string }).hint).not.toContain("rolled back");
    expect((error as { details: Record<string, unknown> }).details).toMatchObject({ currentHeads: ["tabl00000001"], stepsCommitted: 2, totalSteps: 4 });
    await suite.client.query("DROP INDEX ix_events_name");
    await upgrade("head", options);
    expect(await rows("SELECT id FROM side")).toEqual([{ id: 1 }]);
    await suite.client.query("DROP TABLE side, after_index, events, retort_version, retort_migrations");
  }, 60_000);
});
