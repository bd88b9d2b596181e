/**
 * Kill tests: `retort upgrade head` SIGKILLed at seeded random moments over a chain that mixes
 * transactional revisions, steps outside a transaction (CREATE INDEX CONCURRENTLY on a table big
 * enough for the build to take a moment, enum ADD VALUE) and SQLite rebuilds of tables with
 * ON DELETE CASCADE children holding rows. After each kill the database must be exactly at a
 * revision, or at a recorded partial step of the next one; no row lost (count + checksum);
 * SQLite's foreign_key_check and integrity_check clean; and a rerun reaches head (on Postgres
 * with no INVALID index left).
 *
 * A few trials per backend by default; RETORT_CRASH_TRIALS=300 for the long mode,
 * RETORT_CRASH_SEED=<n> to replay a failure (the seed is in every assertion message),
 * RETORT_CRASH_LOG=<file> to follow a long run trial by trial.
 */
import { appendFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { connect, upgrade } from "../../src/index.js";
import { createTempDatabase, postgresReachable, type TempDatabase } from "../support/postgres.js";
import { createProject, type Project } from "../runtime/project.js";
import { crashSeed, crashTrials, seededRandom, shapeKey, shapeWithin, upgradeInChild, writeConfig, type Shape } from "./harness.js";

const postgresUp = await postgresReachable();
const DEFAULT_TRIALS = 3;
/** Bounded by the number of trials (the long mode takes longer, but still stops by itself). */
const timeoutMs = 120_000 + crashTrials(DEFAULT_TRIALS) * 30_000;

interface Backend {
  name: string;
  revisions: string[];
  project: Project;
  /** A fresh, empty database. */
  fresh(): Promise<string>;
  /** Wait until nothing the killed process started still runs in the database. */
  settle(url: string): Promise<void>;
  shape(url: string): Promise<Shape>;
  /** Row count and checksum of the data tables. */
  fingerprint(url: string): Promise<unknown>;
  heads(url: string): Promise<string[]>;
  /** Revisions whose history records committed steps of an unfinished run. */
  partial(url: string): Promise<Array<{ revision: string; steps_done: number }>>;
  /** Invariants beyond shape and rows: [] when clean. */
  problems(url: string, afterRerun: boolean): Promise<string[]>;
}

/** A linear chain of revisions; a body starting with "// no transaction" is a revision with `transactional: false`. */
function chain(bodies: string[], prefix: string): { project: Project; revisions: string[] } {
  const project = createProject();
  const revisions: string[] = [];
  for (const [i, up] of bodies.entries()) {
    const id = `${prefix}${String(i + 1).padStart(12 - prefix.length, "0")}`;
    const transactional = !up.startsWith("// no transaction");
    project.add({ id, parents: revisions.slice(-1), message: `crash chain ${i + 1}`, up, ...(transactional ? {} : { transactional: false }) });
    revisions.push(id);
  }
  return { project, revisions };
}

async function runTrials(backend: Backend, defaultTrials: number): Promise<void> {
  const seed = crashSeed();
  const random = seededRandom(seed);
  const trials = crashTrials(defaultTrials);
  const { project, revisions } = backend;
  const config = writeConfig(project);
  const options = (url: string) => ({ config: project.config, url });

  // The shape after each revision, the rows at head, and how long the work takes in a child.
  const calibration = await backend.fresh();
  const shapes: Shape[] = [await backend.shape(calibration)];
  for (const revision of revisions) {
    await upgrade(revision, options(calibration));
    shapes.push(await backend.shape(calibration));
  }
  const rows = await backend.fingerprint(calibration);
  const timed = await upgradeInChild(config, await backend.fresh());
  expect(timed.code, timed.stderr).toBe(0);
  let workMs = timed.workMs!;

  const outcomes = { finished: 0, atRevision: 0, partial: 0 };
  for (let trial = 1; trial <= trials; trial++) {
    const url = await backend.fresh();
    // Some kills land after the end: the run finished, which must hold too.
    const killAfterMs = Math.round(random() * workMs * 1.15);
    const context = `[${backend.name}] seed ${seed}, trial ${trial}/${trials}, kill ${killAfterMs} ms into the work (RETORT_CRASH_SEED=${seed} replays it)`;
    const run = await upgradeInChild(config, url, killAfterMs);
    if (!run.killed) {
      expect(run.code, `${context}: the run ended by itself and must have succeeded: ${run.stderr}`).toBe(0);
      // The machine got faster than at calibration: aim the next kills within the work as it is now.
      if (run.workMs !== undefined) workMs = Math.round((workMs + run.workMs) / 2);
    }
    await backend.settle(url);

    const heads = await backend.heads(url);
    expect(heads.length, `${context}: one head at most`).toBeLessThanOrEqual(1);
    const at = heads.length === 0 ? 0 : revisions.indexOf(heads[0]!) + 1;
    expect(at, `${context}: head ${heads[0]} is a revision of the chain`).toBeGreaterThanOrEqual(0);
    const shape = await backend.shape(url);
    const partial = await backend.partial(url);
    if (partial.length === 0) {
      expect(shapeKey(shape), `${context}: exactly at revision ${at}`).toBe(shapeKey(shapes[at]!));
      if (at === revisions.length) outcomes.finished++;
      else outcomes.atRevision++;
    } else {
      outcomes.partial++;
      expect(partial.map((row) => row.revision), `${context}: the partial revision is the next one`).toEqual([revisions[at]]);
      expect(shapeWithin(shapes[at]!, shape) && shapeWithin(shape, shapes[at + 1]!), `${context}: between revision ${at} and ${at + 1}: ${shapeKey(shape)}`).toBe(true);
    }
    if (at >= 1) expect(await backend.fingerprint(url), `${context}: no row lost`).toEqual(rows);
    expect(await backend.problems(url, false), context).toEqual([]);

    await upgrade("head", options(url));
    expect(await backend.heads(url), `${context}: the rerun reaches head`).toEqual([revisions.at(-1)]);
    expect(shapeKey(await backend.shape(url)), `${context}: at head after the rerun`).toBe(shapeKey(shapes.at(-1)!));
    expect(await backend.fingerprint(url), `${context}: no row lost after the rerun`).toEqual(rows);
    expect(await backend.problems(url, true), context).toEqual([]);
    if (process.env.RETORT_CRASH_LOG) appendFileSync(process.env.RETORT_CRASH_LOG, `${context}: ok ${JSON.stringify(outcomes)}\n`);
  }
  console.log(`[crash] ${backend.name}: ${trials} kills within ~${workMs} ms of work (seed ${seed}): ${outcomes.atRevision} at a revision, ${outcomes.partial} at a recorded partial step, ${outcomes.finished} after the run finished; every rerun reached head`);
}

// ---------------------------------------------------------------------------------------------
// SQLite

async function sqliteQuery(url: string, sql: string): Promise<Record<string, unknown>[]> {
  const db = await connect(url, { schema: {} });
  try {
    return (await db.query(sql)).rows;
  } finally {
    await db.close();
  }
}

function sqliteBackend(): Backend {
  const { project, revisions } = chain(
    [
      [
        `op.createTable("parents", { id: t.integer().primaryKey(), name: t.varchar(50) });`,
        `op.createTable("children", { id: t.integer().primaryKey(), parent_id: t.integer().references("parents.id", { onDelete: "cascade" }), note: t.text() });`,
        `op.execute("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) INSERT INTO parents SELECT i, 'parent ' || i FROM n");`,
        `op.execute("INSERT INTO children SELECT id * 2 - 1, id, 'a' || id FROM parents UNION ALL SELECT id * 2, id, 'b' || id FROM parents");`,
      ].join("\n"),
      `op.alterColumn("parents", "name", { nullable: true });`,
      `op.addColumn("children", "tag", t.text().nullable());\nop.createIndex("ix_children_tag", "children", ["tag"]);`,
      // A rebuild in a revision without a transaction: the rebuild is still one transaction.
      `// no transaction\nop.alterColumn("children", "note", { nullable: true });\nop.createTable("plain", { id: t.integer().primaryKey() });`,
      `op.addCheck("ck_parents_name_length", "parents", "length(name) > 0");\nop.createTable("done_marker", { id: t.integer().primaryKey() });`,
    ],
    "sqlt",
  );
  const root = mkdtempSync(join(tmpdir(), "retort-crash-"));
  let n = 0;
  return {
    name: "sqlite",
    project,
    revisions,
    fresh: async () => `sqlite:${join(root, `trial-${++n}.db`)}`,
    settle: async () => undefined,
    async shape(url) {
      const tables = await sqliteQuery(url, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'retort_%' ORDER BY name");
      const shape: Shape = { tables: {}, indexes: [], enums: {} };
      for (const { name } of tables) {
        shape.tables[String(name)] = (await sqliteQuery(url, `SELECT name FROM pragma_table_info('${String(name)}') ORDER BY name`)).map((row) => String(row.name));
      }
      shape.indexes = (await sqliteQuery(url, "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%' ORDER BY name")).map((row) => String(row.name));
      return shape;
    },
    async fingerprint(url) {
      return {
        parents: await sqliteQuery(url, "SELECT count(*) AS n, sum(id) AS ids, total(length(name)) AS names FROM parents"),
        children: await sqliteQuery(url, "SELECT count(*) AS n, sum(id * 3 + parent_id) AS ids, total(length(note)) AS notes FROM children"),
      };
    },
    async heads(url) {
      const exists = await sqliteQuery(url, "SELECT 1 FROM sqlite_master WHERE name = 'retort_version'");
      return exists.length === 0 ? [] : (await sqliteQuery(url, "SELECT version_num FROM retort_version")).map((row) => String(row.version_num));
    },
    async partial(url) {
      const exists = await sqliteQuery(url, "SELECT 1 FROM sqlite_master WHERE name = 'retort_migrations'");
      if (exists.length === 0) return [];
      const rows = await sqliteQuery(url, "SELECT revision, steps_done FROM retort_migrations WHERE id IN (SELECT max(id) FROM retort_migrations GROUP BY revision) AND outcome <> 'applied' AND steps_done > 0");
      return rows as Array<{ revision: string; steps_done: number }>;
    },
    async problems(url) {
      const problems: string[] = [];
      const orphans = await sqliteQuery(url, "SELECT count(*) AS n FROM pragma_foreign_key_check");
      if (orphans[0]!.n !== 0) problems.push(`foreign_key_check: ${orphans[0]!.n} orphan row(s)`);
      const integrity = await sqliteQuery(url, "PRAGMA integrity_check");
      if (integrity[0]!.integrity_check !== "ok") problems.push(`integrity_check: ${JSON.stringify(integrity)}`);
      const leftovers = await sqliteQuery(url, "SELECT name FROM sqlite_master WHERE name LIKE '_retort_tmp_%'");
      if (leftovers.length > 0) problems.push(`rebuild tables left behind: ${JSON.stringify(leftovers)}`);
      const foreignKeys = await sqliteQuery(url, "PRAGMA foreign_keys");
      if (foreignKeys[0]!.foreign_keys !== 1) problems.push("a new connection has foreign keys off");
      return problems;
    },
  };
}

describe("kill -9 during `retort upgrade head`: SQLite", () => {
  it("after every kill the database is at a revision with every row, clean, and a rerun reaches head", async () => {
    await runTrials(sqliteBackend(), DEFAULT_TRIALS);
  }, timeoutMs);
});

// ---------------------------------------------------------------------------------------------
// Postgres

describe.skipIf(!postgresUp)("kill -9 during `retort upgrade head`: Postgres", () => {
  let temp: TempDatabase | undefined;
  let admin: pg.Client | undefined;
  afterAll(async () => {
    await admin?.end();
    await temp?.drop();
  });

  it("after every kill the database is at a revision or a recorded partial step, with every row; a rerun reaches head with no INVALID index", async () => {
    temp = await createTempDatabase("retort_crash");
    admin = new pg.Client({ connectionString: temp.url });
    await admin.connect();
    const db = admin;
    const url = temp.url;
    const query = async (sql: string) => (await db.query(sql)).rows as Record<string, unknown>[];
    const { project, revisions } = chain(
      [
        [
          `op.createEnum("mood", ["a", "b"]);`,
          `op.createTable("events", { id: t.integer().primaryKey(), name: t.text(), mood: enumColumn("mood").default("a") });`,
          `op.execute("INSERT INTO events SELECT g, md5(g::text), CASE WHEN g % 2 = 0 THEN 'a' ELSE 'b' END::mood FROM generate_series(1, 80000) g");`,
          `op.createTable("kids", { id: t.integer().primaryKey(), event_id: t.integer().references("events.id", { onDelete: "cascade" }) });`,
          `op.execute("INSERT INTO kids SELECT g, g FROM generate_series(1, 30000) g");`,
        ].join("\n"),
        [
          `op.createTable("side", { id: t.integer().primaryKey() });`,
          `op.createIndex("ix_events_name", "events", ["name"], { concurrently: true });`,
          `op.createTable("after_index", { id: t.integer().primaryKey() });`,
        ].join("\n"),
        [`op.createTable("moods_log", { id: t.integer().primaryKey() });`, `op.addEnumValue("mood", "c");`, `op.addColumn("events", "note", t.text().nullable());`].join("\n"),
        [
          `op.createTable("r4", { id: t.integer().primaryKey() });`,
          `op.createIndex("uq_events_id_name", "events", ["id", "name"], { unique: true, concurrently: true });`,
          `op.createIndex("ix_kids_event_id", "kids", ["event_id"], { concurrently: true });`,
        ].join("\n"),
        `op.alterColumn("events", "name", { nullable: true });\nop.createIndex("ix_events_mood", "events", ["mood"]);`,
      ],
      "pgsq",
    );
    const backend: Backend = {
      name: "postgres",
      project,
      revisions,
      async fresh() {
        await this.settle(url);
        await query("DROP SCHEMA public CASCADE; CREATE SCHEMA public");
        return url;
      },
      async settle() {
        const deadline = Date.now() + 60_000;
        // The killed client's backend may still be finishing (or failing) its statement.
        while ((await query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"))[0]!.n !== 0) {
          if (Date.now() > deadline) throw new Error("a killed migration's backend is still running after 60 s");
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      },
      async shape() {
        const shape: Shape = { tables: {}, indexes: [], enums: {} };
        for (const row of await query("SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name NOT LIKE 'retort_%' ORDER BY 1, 2")) {
          (shape.tables[String(row.table_name)] ??= []).push(String(row.column_name));
        }
        shape.indexes = (await query("SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND tablename NOT LIKE 'retort_%' ORDER BY 1")).map((row) => String(row.indexname));
        for (const row of await query("SELECT t.typname, e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid ORDER BY 1, e.enumsortorder")) {
          (shape.enums[String(row.typname)] ??= []).push(String(row.enumlabel));
        }
        return shape;
      },
      async fingerprint() {
        return {
          events: await query("SELECT count(*)::text AS n, sum(id)::text AS ids, sum(hashtext(name))::text AS names, sum(hashtext(mood::text))::text AS moods FROM events"),
          kids: await query("SELECT count(*)::text AS n, sum(id::bigint * 3 + event_id)::text AS ids FROM kids"),
        };
      },
      async heads() {
        if ((await query("SELECT to_regclass('retort_version') IS NULL AS missing"))[0]!.missing) return [];
        return (await query("SELECT version_num FROM retort_version")).map((row) => String(row.version_num));
      },
      async partial() {
        if ((await query("SELECT to_regclass('retort_migrations') IS NULL AS missing"))[0]!.missing) return [];
        return (await query(
          "SELECT revision, steps_done FROM retort_migrations WHERE id IN (SELECT max(id) FROM retort_migrations GROUP BY revision) AND outcome <> 'applied' AND steps_done > 0",
        )) as Array<{ revision: string; steps_done: number }>;
      },
      async problems(_url, afterRerun) {
        if (!afterRerun) return [];
        const invalid = await query("SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE NOT i.indisvalid");
        return invalid.map((row) => `INVALID index left after the rerun: ${String(row.relname)}`);
      },
    };
    await runTrials(backend, DEFAULT_TRIALS);
  }, timeoutMs);
});
