/**
 * `npx tsx bench/testing.ts`: what a test file pays for its own database (issue 16), for a schema
 * of 50 tables made by 30 revisions, median per file:
 *
 * - Postgres server (TEST_DATABASE_URL's, durability as configured): createTestDatabase() vs the
 *   same `CREATE DATABASE … TEMPLATE` issued raw through pg (target <= 1.2x), and vs running the
 *   migrations per file (target >= 10x faster);
 * - the throwaway test cluster (RAM folder, durability off): createTestDatabase() (target <= 30 ms);
 * - PGlite from the snapshot (target <= 0.5 s), beside a fresh PGlite migrated per file;
 * - SQLite from a copy of the template file (target <= 5 ms);
 * - withRollback around a test body (an insert and a count) vs the body alone (target < 1 ms).
 *
 * Runs alternate between the measured call and its baseline, so load on the machine hits both.
 * Environment: BENCH_FILES (20), BENCH_MIGRATE_FILES (5), BENCH_PGLITE_FILES (5), TEST_DATABASE_URL,
 * BENCH_CASES (postgres,cluster,sqlite,pglite).
 */
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { connect, upgrade, type LoadedConfig } from "../src/index.js";
import { migrationFileName, renderMigration } from "../src/script/index.js";
import { createTestDatabase, prepareTestTemplate, startTestCluster, withRollback, type TestDatabase } from "../src/testing/index.js";
import { postgresAvailable, serverUrl } from "./support/postgres.js";

const FILES = Number(process.env.BENCH_FILES ?? 20);
const MIGRATE_FILES = Number(process.env.BENCH_MIGRATE_FILES ?? 5);
const PGLITE_FILES = Number(process.env.BENCH_PGLITE_FILES ?? 5);
const TABLES = 50;
const REVISIONS = 30;
const LIBRARY = join(process.cwd(), "src", "index.ts");

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const ms = (value: number) => `${value.toFixed(value < 10 ? 2 : 1)} ms`;
const rows: Array<{ case: string; value: string; target: string; ok: boolean | undefined }> = [];
const report = (name: string, value: string, target: string, ok: boolean | undefined) => {
  rows.push({ case: name, value, target, ok });
  console.log(`${name}: ${value}`);
};

/** 50 tables over 30 revisions: each with a foreign key to the one before, an index and five columns. */
function writeSchemaProject(root: string): LoadedConfig {
  const versions = join(root, "migrations", "versions");
  mkdirSync(versions, { recursive: true });
  const start = Date.UTC(2026, 0, 1);
  for (let r = 0; r < REVISIONS; r++) {
    const body: string[] = [];
    // Tables in order, one or two per revision, so each one's parent exists already.
    for (let i = Math.ceil((r * TABLES) / REVISIONS); i < Math.ceil(((r + 1) * TABLES) / REVISIONS); i++) {
      const name = `table_${String(i).padStart(2, "0")}`;
      const parent = i === 0 ? "" : `, parent_id: t.integer().nullable().references("table_${String(i - 1).padStart(2, "0")}.id")`;
      body.push(`op.createTable("${name}", { id: t.integer().primaryKey(), name: t.text(), amount: t.numeric(12, 2).default(0), active: t.boolean().default(true), created_at: t.timestamptz().defaultNow()${parent} });`);
      body.push(`op.createIndex(null, "${name}", ["name"]);`);
    }
    const createdAt = new Date(start + r * 60_000);
    writeFileSync(
      join(versions, migrationFileName(createdAt, `revision ${r}`)),
      renderMigration({
        revision: `r${String(r).padStart(11, "0")}`,
        parents: r === 0 ? [] : [`r${String(r - 1).padStart(11, "0")}`],
        message: `revision ${r}`,
        createdAt,
        moduleSpecifier: LIBRARY,
        imports: [`import { t } from ${JSON.stringify(LIBRARY)};`],
        upgradeBody: body.join("\n"),
        downgradeBody: "",
      }),
    );
  }
  return { root, config: { migrations: { importFrom: LIBRARY } } };
}

const work = mkdtempSync(join(tmpdir(), "retort-bench-testing-"));
const config = writeSchemaProject(join(work, "project"));

async function postgresServer(): Promise<void> {
  const why = await postgresAvailable();
  if (why) {
    console.log(`Postgres server cases skipped: ${why}`);
    return;
  }
  const url = new URL(serverUrl);
  url.pathname = "/bench_testing_test";
  const testUrl = url.toString();
  const { template } = await prepareTestTemplate({ config, url: testUrl });
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  const retort: number[] = [];
  const raw: number[] = [];
  try {
    for (let i = 0; i <= FILES; i++) {
      let start = performance.now();
      const db = await createTestDatabase({ config, url: testUrl });
      const retortMs = performance.now() - start;
      await db.drop();
      const name = `bench_raw_${process.pid}_${i}`;
      start = performance.now();
      await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
      const rawMs = performance.now() - start;
      await admin.query(`DROP DATABASE "${name}"`);
      // The first round warms caches (the template check, the connection pools).
      if (i > 0) {
        retort.push(retortMs);
        raw.push(rawMs);
      }
    }
    const migrate: number[] = [];
    for (let i = 0; i < MIGRATE_FILES; i++) {
      const name = `bench_migrate_${process.pid}_${i}`;
      const start = performance.now();
      await admin.query(`CREATE DATABASE "${name}"`);
      const dbUrl = new URL(serverUrl);
      dbUrl.pathname = `/${name}`;
      await upgrade("head", { config, url: dbUrl.toString() });
      migrate.push(performance.now() - start);
      await admin.query(`DROP DATABASE "${name}" WITH (FORCE)`);
    }
    const ratio = median(retort) / median(raw);
    const speedup = median(migrate) / median(retort);
    report("Postgres server: raw CREATE DATABASE … TEMPLATE (pg)", ms(median(raw)), "baseline", undefined);
    report("Postgres server: createTestDatabase()", `${ms(median(retort))} (${ratio.toFixed(2)}x raw)`, "<= 1.2x raw", ratio <= 1.2);
    report("Postgres server: migrations per file", `${ms(median(migrate))} (${speedup.toFixed(1)}x slower)`, ">= 10x createTestDatabase", speedup >= 10);

    // Rollback per test on a clone: a test body alone vs inside withRollback.
    const db = await createTestDatabase({ config, url: testUrl });
    try {
      await rollbackOverhead("Postgres server", db);
    } finally {
      await db.drop();
    }
  } finally {
    // A test suite keeps its template for the next run; the benchmark leaves nothing behind.
    await admin.query(`ALTER DATABASE "${template}" WITH IS_TEMPLATE false`);
    await admin.query(`DROP DATABASE "${template}" WITH (FORCE)`);
    await admin.end();
  }
}

async function rollbackOverhead(label: string, db: TestDatabase): Promise<void> {
  let id = 0;
  const insert = `INSERT INTO table_00 (id, name) VALUES (${db.family === "postgres" ? "$1" : "?"}, 'x')`;
  const body = async (session: Pick<TestDatabase, "query">) => {
    id++;
    await session.query(insert, [id]);
    await session.query("SELECT count(*) FROM table_00");
  };
  // The body alone runs on one held connection, as it does inside the transaction, so the
  // difference is BEGIN and ROLLBACK (not the pool checkouts a bare db.query makes per statement).
  const bareRun = () => db.withConnection((conn) => body(conn as never));
  const bare: number[] = [];
  const wrapped: number[] = [];
  const timed = async (fn: () => Promise<unknown>) => {
    const start = performance.now();
    await fn();
    return performance.now() - start;
  };
  for (let i = 0; i <= FILES * 5; i++) {
    // Alternate which goes first, so neither always runs on a warmer cache.
    const [bareMs, wrappedMs] =
      i % 2 === 0
        ? [await timed(bareRun), await timed(() => withRollback(db, (tx) => body(tx)))]
        : [await timed(() => withRollback(db, (tx) => body(tx))), await timed(bareRun)].reverse();
    if (i > 0) {
      bare.push(bareMs!);
      wrapped.push(wrappedMs!);
    }
  }
  const overhead = median(wrapped) - median(bare);
  report(`${label}: withRollback around a test body`, `${ms(overhead)} over ${ms(median(bare))}`, "< 1 ms", overhead < 1);
}

async function throwawayCluster(): Promise<void> {
  let cluster;
  try {
    cluster = await startTestCluster();
  } catch (error) {
    console.log(`throwaway cluster skipped: ${(error as Error).message.split("\n")[0]}`);
    return;
  }
  try {
    const { template } = await prepareTestTemplate({ config, url: cluster.url });
    const admin = new pg.Client({ connectionString: cluster.url.replace(/\/[^/]*$/, "/postgres") });
    await admin.connect();
    const times: number[] = [];
    const raw: number[] = [];
    try {
      for (let i = 0; i <= FILES; i++) {
        let start = performance.now();
        const db = await createTestDatabase({ config, url: cluster.url });
        const elapsed = performance.now() - start;
        await db.drop();
        start = performance.now();
        await admin.query(`CREATE DATABASE bench_raw TEMPLATE "${template}"`);
        const rawMs = performance.now() - start;
        await admin.query("DROP DATABASE bench_raw");
        if (i > 0) {
          times.push(elapsed);
          raw.push(rawMs);
        }
      }
    } finally {
      await admin.end();
    }
    report("throwaway cluster: raw CREATE DATABASE … TEMPLATE (pg, default strategy)", ms(median(raw)), "reference", undefined);
    report("throwaway cluster (tmpfs, durability off): createTestDatabase()", ms(median(times)), "<= 30 ms", median(times) <= 30);
  } finally {
    await cluster.stop();
  }
}

async function pglite(): Promise<void> {
  const { template } = await prepareTestTemplate({ config, url: "pglite:memory" });
  const { PGlite } = await import("@electric-sql/pglite");
  const snapshot = new Blob([readFileSync(template)]);
  const times: number[] = [];
  const raw: number[] = [];
  for (let i = 0; i <= PGLITE_FILES; i++) {
    let start = performance.now();
    const db = await createTestDatabase({ config, url: "pglite:memory" });
    const elapsed = performance.now() - start;
    await db.drop();
    // Baseline: PGlite itself loading the same snapshot.
    start = performance.now();
    const bare = await PGlite.create({ loadDataDir: snapshot });
    const rawMs = performance.now() - start;
    await bare.close();
    if (i > 0) {
      times.push(elapsed);
      raw.push(rawMs);
    }
  }
  report("PGlite: PGlite.create({ loadDataDir }) of the same snapshot", ms(median(raw)), "reference", undefined);
  const start = performance.now();
  const fresh = await connect("pglite:memory");
  await upgrade("head", { config, database: fresh });
  const freshMs = performance.now() - start;
  await fresh.close();
  report("PGlite: fresh instance + migrations (once)", ms(freshMs), "reference", undefined);
  report("PGlite: createTestDatabase() from the snapshot", ms(median(times)), "<= 500 ms", median(times) <= 500);
}

async function sqlite(): Promise<void> {
  await prepareTestTemplate({ config, url: "sqlite::memory:" });
  const times: number[] = [];
  for (let i = 0; i <= FILES; i++) {
    const start = performance.now();
    const db = await createTestDatabase({ config, url: "sqlite::memory:" });
    const elapsed = performance.now() - start;
    if (i === FILES) await rollbackOverhead("SQLite", db);
    await db.drop();
    if (i > 0) times.push(elapsed);
  }
  report("SQLite: createTestDatabase() (template file copy)", ms(median(times)), "<= 5 ms", median(times) <= 5);
}

const CASES = new Set((process.env.BENCH_CASES ?? "postgres,cluster,sqlite,pglite").split(","));
try {
  if (CASES.has("postgres")) await postgresServer();
  if (CASES.has("cluster")) await throwawayCluster();
  if (CASES.has("sqlite")) await sqlite();
  if (CASES.has("pglite")) await pglite();
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(`\ntest databases for ${TABLES} tables in ${REVISIONS} revisions, median of ${FILES} files (PGlite ${PGLITE_FILES}, migrations per file ${MIGRATE_FILES})`);
for (const row of rows) console.log(`${row.ok === undefined ? "  " : row.ok ? "ok" : "!!"} ${row.case.padEnd(64)} ${row.value.padEnd(30)} ${row.target}`);
