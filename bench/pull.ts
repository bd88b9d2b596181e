/**
 * `npx tsx bench/pull.ts`: `retort pull` as a whole process on the generated 300-table schema of
 * bench/introspect.ts (2,400 columns, 480 indexes, 300 foreign keys, 300 checks, 5 enums) on the
 * local Postgres server. Target (issue 12): under 1 s. `node -e 0` and `retort --version` are the
 * floors, measured in the same run. Each run must report 300 tables and overwrite the file
 * (--force); the written file is checked to hold the last table.
 *
 * Always runs `npm run build` first (BENCH_SKIP_BUILD=1 to skip) and times dist/cli/main.js with
 * plain node. Environment: BENCH_RUNS (5), BENCH_TABLES (300), TEST_DATABASE_URL.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createPostgresDriver } from "../src/dialects/postgres/driver.js";
import { createGenerated, generateSchema } from "./introspect.js";
import { buildForBench, fmtMs, measure, runProcess } from "./support/process.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const CLI = join(ROOT, "dist", "cli", "main.js");
const NODE = process.execPath;
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const TABLES = Number(process.env.BENCH_TABLES ?? 300);

buildForBench(ROOT, CLI, console.log);
const { createTempDatabase } = await import("../test/support/postgres.js");
const database = await createTempDatabase("retort_bench_pull");
const schema = generateSchema(TABLES);
const driver = createPostgresDriver(database.url, { schema });
const dir = mkdtempSync(join(tmpdir(), "retort-bench-pull-"));
try {
  await createGenerated(driver, schema);
  await driver.close();
  const out = join(dir, "schema.ts");
  const last = `t${String(TABLES - 1).padStart(3, "0")}`;
  const floor = measure(() => runProcess(NODE, ["-e", "0"]).ms, RUNS);
  const version = measure(() => runProcess(NODE, [CLI, "--version"], { expect: /^\d+\.\d+/ }).ms, RUNS);
  const pull = measure(() => runProcess(NODE, [CLI, "pull", "--url", database.url, "--out", out, "--force"], { expect: new RegExp(`${TABLES} table\\(s\\), 5 enum\\(s\\)`) }).ms, RUNS);
  const text = readFileSync(out, "utf8");
  if (!text.includes(`export const ${last} = table(`)) throw new Error(`the pulled file lacks table ${last}`);
  console.log(`== retort pull of ${TABLES} tables (whole process, median of ${RUNS}; load ${loadavg()[0]!.toFixed(2)}) ==`);
  console.log(`node -e 0            ${fmtMs(floor.median)}`);
  console.log(`retort --version     ${fmtMs(version.median)}`);
  console.log(`retort pull          ${fmtMs(pull.median)}  (runs: ${pull.runs.map(fmtMs).join(", ")}) [target < 1 s] ${pull.median < 1000 ? "OK" : "MISSED"}`);
  console.log(`file: ${text.split("\n").length} lines, ${(text.length / 1024).toFixed(0)} KiB`);
} finally {
  await database.drop();
  rmSync(dir, { recursive: true, force: true });
}
