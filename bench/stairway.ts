/**
 * `npx tsx bench/stairway.ts`: `retort test-migrations` (the stairway) on a history of 200
 * realistic revisions (issue 15, "retort test-migrations"): every fourth creates a table (id, name,
 * created_at), the others add a nullable column, an index, or a foreign key to the previous table,
 * each with its downgrade. The library function is timed in-process (no CLI start-up).
 *
 * Baseline in the same run, on the same kind of database: one `upgrade head` plus one `downgrade
 * base` of the same history (the least any test of every downgrade must do), on a SQLite file,
 * in-memory PGlite (started before the clock) and a fresh database of the server. The stairway
 * runs as a user runs it: on its own throwaway database for SQLite (a temp file, synchronous
 * commits off) and PGlite (its start-up included), through --url on the server. The stairway does
 * three runs and four schema reads per revision, so its ratio to the baseline says how much the
 * per-revision overhead costs. Target: SQLite under 30 s for 200 revisions. Postgres (the local
 * server, a fresh database per run) is reported, not targeted; PGlite likewise.
 *
 * The migration files are compiled once before anything is timed (as in a project that ran them
 * before), so the first measured side is not charged esbuild's work.
 *
 * Environment: BENCH_REVISIONS (200), BENCH_STAIRWAY_POSTGRES=0 to skip the server,
 * BENCH_STAIRWAY_PGLITE=0 to skip PGlite, TEST_DATABASE_URL (the server).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { connect, downgrade, upgrade, type LoadedConfig } from "../src/index.js";
import { testMigrations } from "../src/runtime/stairway.js";
import { migrationFileName, renderMigration } from "../src/script/index.js";
import { dropAll, postgresAvailable, tempDatabase } from "./support/postgres.js";
import { fmtMs } from "./support/process.js";

const REVISIONS = Number(process.env.BENCH_REVISIONS ?? 200);
const TARGET_MS = 30_000;
const SOURCE_INDEX = resolve("src/index.ts");

const id = (i: number) => `st${i.toString(16).padStart(10, "0")}`;

/** The body pair of revision i: a table every fourth revision, then a column, an index, a foreign key on it. */
function bodies(i: number): { up: string; down: string } {
  const table = `t${Math.floor(i / 4)}`;
  switch (i % 4) {
    case 0:
      return { up: `op.createTable("${table}", { id: t.integer().primaryKey(), name: t.text(), createdAt: t.timestamptz().defaultNow() });`, down: `op.dropTable("${table}");` };
    case 1:
      return { up: `op.addColumn("${table}", "note", t.text().nullable());`, down: `op.dropColumn("${table}", "note");` };
    case 2:
      return { up: `op.createIndex(null, "${table}", ["name"]);`, down: `op.dropIndex("ix_${table}_name");` };
    default: {
      if (i < 4) return { up: `op.addColumn("${table}", "score", t.integer().default(0));`, down: `op.dropColumn("${table}", "score");` };
      const parent = `t${Math.floor(i / 4) - 1}`;
      return { up: `op.addColumn("${table}", "parent_id", t.integer().nullable().references("${parent}.id"));`, down: `op.dropColumn("${table}", "parent_id");` };
    }
  }
}

function writeHistory(): { root: string; config: LoadedConfig } {
  const root = mkdtempSync(join(tmpdir(), "retort-bench-stairway-"));
  const dir = join(root, "migrations", "versions");
  mkdirSync(dir, { recursive: true });
  const start = Date.UTC(2026, 0, 1);
  for (let i = 0; i < REVISIONS; i++) {
    const createdAt = new Date(start + i * 60_000);
    const { up, down } = bodies(i);
    writeFileSync(
      join(dir, migrationFileName(createdAt, `step ${i}`)),
      renderMigration({
        revision: id(i),
        parents: i === 0 ? [] : [id(i - 1)],
        message: `step ${i}`,
        createdAt,
        upgradeBody: up,
        downgradeBody: down,
        moduleSpecifier: SOURCE_INDEX,
        imports: [`import { t } from ${JSON.stringify(SOURCE_INDEX)};`],
      }),
    );
  }
  return { root, config: { root, config: { migrations: { importFrom: SOURCE_INDEX } } } };
}

interface Row {
  backend: string;
  baseline: number;
  stairway: number;
  ok: boolean;
}

async function measureOn(backend: string, config: LoadedConfig, open: () => Promise<{ url: string; done: () => Promise<void> }>): Promise<Row> {
  const first = await open();
  let t = performance.now();
  const db = await connect(first.url, { schema: {} });
  try {
    await upgrade("head", { config, database: db });
    await downgrade("base", { config, database: db });
  } finally {
    await db.close();
  }
  const baseline = performance.now() - t;
  await first.done();
  // The stairway as a user runs it: SQLite and PGlite on its own throwaway database (chosen by
  // the config's URL), the Postgres server through --url.
  const second = await open();
  t = performance.now();
  const throwaway = !second.url.startsWith("postgres");
  const report = await testMigrations(throwaway ? { config: { ...config, config: { ...config.config, url: second.url } } } : { config, url: second.url });
  const stairway = performance.now() - t;
  const ok = report.ok && report.passed.length === REVISIONS;
  if (!ok) console.error(`${backend}: the stairway failed: ${JSON.stringify(report.failure ?? report.models)}`);
  await second.done();
  return { backend, baseline, stairway, ok };
}

async function main(): Promise<void> {
  console.log(`stairway bench: ${REVISIONS} revisions; ${cpus().length} CPUs, load ${loadavg()[0]!.toFixed(2)}`);
  const { root, config } = writeHistory();
  const rows: Row[] = [];
  try {
    // Untimed: compile the 200 migration files once (esbuild, then Retort's compiled cache), as a
    // project that has run them before would have; neither side pays for it.
    const warm = await connect("sqlite::memory:", { schema: {} });
    await upgrade("head", { config, database: warm }).finally(() => warm.close());
    rows.push(
      await measureOn("SQLite file", config, async () => {
        const folder = mkdtempSync(join(tmpdir(), "retort-bench-stairway-db-"));
        return { url: `sqlite:${join(folder, "db.sqlite")}`, done: async () => rmSync(folder, { recursive: true, force: true }) };
      }),
    );
    if (process.env.BENCH_STAIRWAY_PGLITE !== "0") rows.push(await measureOn("PGlite (memory)", config, async () => ({ url: "pglite:memory", done: async () => {} })));
    if (process.env.BENCH_STAIRWAY_POSTGRES !== "0") {
      const missing = await postgresAvailable();
      if (missing) console.log(`Postgres skipped: ${missing}`);
      else
        rows.push(
          await measureOn("Postgres server", config, async () => {
            const temp = await tempDatabase();
            return { url: temp.url, done: () => temp.drop() };
          }),
        );
    }
  } finally {
    await dropAll();
    rmSync(root, { recursive: true, force: true });
  }
  console.log(`\n| backend | upgrade head + downgrade base | test-migrations | ratio | per revision | target |`);
  console.log(`|---|---|---|---|---|---|`);
  for (const row of rows) {
    const target = row.backend.startsWith("SQLite") ? (row.stairway < TARGET_MS && row.ok ? `under ${fmtMs(TARGET_MS)}: met` : `under ${fmtMs(TARGET_MS)}: MISSED`) : row.ok ? "reported" : "FAILED";
    console.log(`| ${row.backend} | ${fmtMs(row.baseline)} | ${fmtMs(row.stairway)} | ${(row.stairway / row.baseline).toFixed(1)}x | ${fmtMs(row.stairway / REVISIONS)} | ${target} |`);
  }
  if (rows.some((row) => !row.ok)) process.exitCode = 1;
}

await main();
