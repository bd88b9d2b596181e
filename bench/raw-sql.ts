/**
 * `npx tsx bench/raw-sql.ts`: `retort check` as a whole process, with a cold head-schema cache
 * (.retort/cache removed before every run), on a project whose migrations build their tables
 * with op.execute DDL (sequences, tables with named keys and checks, expression indexes,
 * comments, an INSERT) that the Postgres parser folds in memory. Target: under 0.7 s (issue 12,
 * "Speed"); before the fold, one op.execute made check boot an ephemeral PGlite (7.5–19 s).
 *
 * Rows, same run: `node -e 0` (floor); the same project written with typed operations only (the
 * fold without the parser: the baseline the ratio is taken against); the raw-SQL project; and,
 * once, the raw-SQL project with one statement the fold leaves to a real database (a DO block),
 * which shows what the ephemeral path costs.
 *
 * Environment: BENCH_RUNS (5), BENCH_REVISIONS (20), BENCH_SKIP_BUILD=1.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { buildForBench, fmtMs, measure, runProcess } from "./support/process.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const CLI = join(ROOT, "dist", "cli", "main.js");
const NODE = process.execPath;
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const REVISIONS = Number(process.env.BENCH_REVISIONS ?? 20);
const TARGET_MS = 700;
const log = (line: string) => process.stderr.write(`${line}\n`);
const tmp = mkdtempSync(join(tmpdir(), "retort-bench-raw-sql-"));

const rawSql = (i: number) =>
  [
    `CREATE SEQUENCE t${i}_ids START 1000`,
    `CREATE TABLE t${i} (id bigint NOT NULL DEFAULT nextval('t${i}_ids'), name text NOT NULL, score integer DEFAULT 0, ` +
      `created_at timestamp without time zone NOT NULL DEFAULT now(), CONSTRAINT t${i}_pkey PRIMARY KEY (id), CONSTRAINT t${i}_score_check CHECK (score >= 0))`,
    `CREATE UNIQUE INDEX t${i}_name_key ON t${i} (lower(name)) WHERE score > 0`,
    `COMMENT ON TABLE t${i} IS 'table ${i}'`,
    `INSERT INTO t${i} (name) VALUES ('seed')`,
  ].join(";\n");

const typedOps = (i: number) =>
  `op.createTable("t${i}", { id: t.bigint().default(sql\`nextval('t${i}_ids'::regclass)\`), name: t.text(), score: t.integer().nullable().default(0), created_at: t.timestamp().defaultNow() }, ` +
  `(x) => [primaryKey(x.id).name("t${i}_pkey"), check("t${i}_score_check", sql\`score >= 0\`).name("t${i}_score_check"), unique(sql\`lower(name)\`).where(sql\`score > 0\`).name("t${i}_name_key")], { comment: "table ${i}" });`;

function writeProject(name: string, body: (i: number) => string, extra = ""): string {
  const dir = join(tmp, name);
  const versions = join(dir, "migrations", "versions");
  mkdirSync(versions, { recursive: true });
  mkdirSync(join(dir, "node_modules"));
  symlinkSync(ROOT, join(dir, "node_modules", "retort-db"));
  writeFileSync(join(dir, "retort.config.mjs"), `export default { models: "./schema.mjs", migrations: { directory: "migrations/versions", importFrom: "retort-db" } };\n`);
  const models = ['import { check, index, primaryKey, sql, t, table, unique } from "retort-db";'];
  for (let i = 0; i < REVISIONS; i++) {
    models.push(
      `export const t${i} = table("t${i}", { id: t.bigint().default(sql\`nextval('t${i}_ids'::regclass)\`), name: t.text(), score: t.integer().nullable().default(0), created_at: t.timestamp().defaultNow() }, ` +
        `(x) => [primaryKey(x.id).name("t${i}_pkey"), check("t${i}_score_check", sql\`score >= 0\`).name("t${i}_score_check"), unique(sql\`lower(name)\`).where(sql\`score > 0\`).name("t${i}_name_key")], { comment: "table ${i}" });`,
    );
    const id = i.toString(16).padStart(12, "0");
    const parent = i === 0 ? "[]" : `[${JSON.stringify((i - 1).toString(16).padStart(12, "0"))}]`;
    const up = body(i) + (i === REVISIONS - 1 ? extra : "");
    writeFileSync(
      join(versions, `2026010100${String(i).padStart(4, "0")}_t${i}.mjs`),
      `// revision: ${id}\n// parents: ${parent}\nimport { defineMigration, check, primaryKey, sql, t, unique } from "retort-db";\n` +
        `export default defineMigration({ revision: "${id}", parents: ${parent}, message: "t${i}", createdAt: "2026-01-01T00:00:00.000Z",\n` +
        `  async upgrade(op) { ${up} },\n  async downgrade(op) { op.dropTable("t${i}"); },\n});\n`,
    );
  }
  writeFileSync(join(dir, "schema.mjs"), `${models.join("\n")}\n`);
  return dir;
}

function check(dir: string, expect: RegExp): number {
  rmSync(join(dir, ".retort"), { recursive: true, force: true });
  return runProcess(NODE, [CLI, "check", "--dialect", "pglite"], { cwd: dir, expect }).ms;
}

async function main(): Promise<void> {
  console.log(`Retort raw-SQL fold benchmark: node ${process.version}, ${new Date().toISOString()}`);
  buildForBench(ROOT, CLI, log);
  // Typed projects need the sequences too: a sequence is raw SQL, which folds to nothing.
  const typed = writeProject("typed", (i) => `op.execute({ postgres: "CREATE SEQUENCE t${i}_ids START 1000" }); ${typedOps(i)}`);
  const raw = writeProject("raw", (i) => `op.execute(${JSON.stringify(rawSql(i))});`);
  const opaque = writeProject("opaque", (i) => `op.execute(${JSON.stringify(rawSql(i))});`, ` op.execute("DO $$ BEGIN PERFORM 1; END $$");`);
  log(`node -e 0, check ×${RUNS} on each project`);
  const floor = measure(() => runProcess(NODE, ["-e", "0"]).ms, RUNS);
  const typedRuns = measure(() => check(typed, /models match migrations head \(fold\)/), RUNS);
  const rawRuns = measure(() => check(raw, /models match migrations head \(fold\)/), RUNS);
  const ephemeral = check(opaque, /models match migrations head \(ephemeral/);
  const width = 64;
  const row = (title: string, ms: number, runs?: number[], verdict = "") => `${title.padEnd(width)}${fmtMs(ms).padStart(10)}  ${verdict}${runs ? `   runs: ${runs.map(fmtMs).join(", ")}` : ""}`;
  const miss = rawRuns.median >= TARGET_MS;
  console.log(
    [
      "",
      `== retort check, cold .retort/cache, ${REVISIONS} revisions / tables; whole process, dist/cli/main.js; load average ${loadavg().map((x) => x.toFixed(2)).join(" ")} on ${cpus().length} CPUs ==`,
      `${"".padEnd(width)}${`median/${RUNS}`.padStart(10)}`,
      row("node -e 0 (floor)", floor.median),
      row("typed operations (baseline)", typedRuns.median, typedRuns.runs),
      row("op.execute DDL folded by the parser", rawRuns.median, rawRuns.runs, `[< ${TARGET_MS} ms] ${miss ? "MISSED" : "ok"}  ×${(rawRuns.median / typedRuns.median).toFixed(2)} the baseline`),
      row("… plus one DO block (ephemeral PGlite, 1 run)", ephemeral),
    ].join("\n"),
  );
}

try {
  await main();
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
