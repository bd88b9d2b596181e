/**
 * `npx tsx bench/autogenerate.ts`: `retort revision --autogenerate` and `retort check` as whole
 * processes on the issue's generated schema ("Autogenerate, check and drift", "Speed"): 300
 * tables, 2,400 columns, 480 indexes (180 partial), 300 foreign keys, 300 checks, 5 enums, written
 * by bench/support/models-project.ts as a TypeScript models module (schema.ts) and a
 * retort.config.ts importing "retort-db" (node_modules/retort-db links to this repository, as if
 * installed), both compiled by esbuild. No database: the head schema is the in-memory fold.
 *
 * 1. first generation: migrations/versions emptied before each run; the run must write exactly
 *    one revision, holding `createTable("t299"`.
 * 2. one-column change: versions holds the first revision (written by the CLI in setup), the
 *    models add one nullable column; the run must write a revision with `addColumn` of "note",
 *    which is deleted after the run.
 * 3. check, nothing to do: versions holds the first revision, models unchanged; exit 0.
 * Target: each under 0.7 s (drizzle-kit generate 0.68 s / 0.95 s, Alembic autogenerate 2.7 s /
 * 4.9 s on this schema). `node -e 0` and `retort --version` are the floors.
 *
 * Before every run schema.ts is rewritten with a new comment line (a developer just edited the
 * models), so it is compiled every time. What can be cached, and is, as in a real project: the
 * compiled retort.config.ts and migration files (node_modules/.cache/retort, used while their
 * files are unchanged), and Retort's .retort/cache/ (parsed migration headers, head schemas).
 * Scenarios 2 and 3 each start on a first revision generated just before, so their first run is
 * cold for that migration file; it is reported on its own and the median is of the BENCH_RUNS
 * runs after it. A reference row runs `check` without touching schema.ts (everything cached),
 * which shows what compiling the models costs.
 *
 * Always runs `npm run build` first (BENCH_SKIP_BUILD=1 to skip) and times dist/cli/main.js with
 * plain node. For every missed target, one run under `node --cpu-prof`, summarised. The temp dir
 * is removed at the end.
 *
 * Environment: BENCH_RUNS (5), BENCH_TABLES (300), BENCH_PROFILE (auto: only for missed targets;
 * 1: always; 0: never), BENCH_PROFILE_DIR (keep the .cpuprofile files there), BENCH_SKIP_BUILD=1.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { formatProfile, summariseProfile } from "./support/cpuprofile.js";
import { modelsSource, writeModelsProject } from "./support/models-project.js";
import { buildForBench, fmtMs, measure, runProcess, type Measurement } from "./support/process.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const CLI = join(ROOT, "dist", "cli", "main.js");
/** How the project imports Retort: by package name, as an installed one does. */
const LIBRARY = "retort-db";
const NODE = process.execPath;

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const TABLES = Number(process.env.BENCH_TABLES ?? 300);
const PROFILE = process.env.BENCH_PROFILE ?? "auto";
const TARGET_MS = 700;
const LAST = `t${String(TABLES - 1).padStart(3, "0")}`;

const log = (line: string) => process.stderr.write(`${line}\n`);
const tmp = mkdtempSync(join(tmpdir(), "retort-bench-autogenerate-"));
process.once("SIGINT", () => {
  rmSync(tmp, { recursive: true, force: true });
  process.exit(130);
});

const project = writeModelsProject(join(tmp, "project"), TABLES, LIBRARY);
mkdirSync(join(project.dir, "node_modules"));
symlinkSync(ROOT, join(project.dir, "node_modules", "retort-db"));
const compiledCache = join(project.dir, "node_modules", ".cache", "retort");

let stamps = 0;
/** The developer's edit: new models text (same schema unless `extraColumn`), never compiled before. */
const editModels = (extraColumn = false) => writeFileSync(project.models, modelsSource(LIBRARY, TABLES, { extraColumn, stamp: `edited ${++stamps}` }));
const revisions = () => readdirSync(project.versions).filter((name) => name.endsWith(".ts"));
const clearVersions = () => {
  for (const name of revisions()) rmSync(join(project.versions, name));
};
const retort = (args: string[], expect: RegExp, node: string[] = []) => runProcess(NODE, [...node, CLI, ...args], { cwd: project.dir, expect });

interface Scenario {
  title: string;
  args: string[];
  expect: RegExp;
  /** Put the project in the scenario's state; untimed, before every run. */
  prepare: () => void;
  /** Check what the run left, and clean up after it; untimed. */
  verify: () => void;
  target: boolean;
  /** Starts on a first revision generated just before (so its first run is cold for that file). */
  onFirstRevision: boolean;
}

const generateFirst = () => {
  clearVersions();
  editModels();
  retort(["revision", "--autogenerate", "-m", "first"], /^created /m);
  firstRevision = revisions();
  if (firstRevision.length !== 1) throw new Error(`expected one first revision, found ${firstRevision.join(", ")}`);
};

/** The one file a run wrote beside the first revision, checked for `needles` and deleted. */
const takeNew = (before: readonly string[], needles: string[]) => {
  const added = revisions().filter((name) => !before.includes(name));
  if (added.length !== 1) throw new Error(`expected one new revision, found ${added.join(", ") || "none"}`);
  const text = readFileSync(join(project.versions, added[0]!), "utf8");
  for (const needle of needles) if (!text.includes(needle)) throw new Error(`${added[0]} lacks ${needle}`);
  rmSync(join(project.versions, added[0]!));
};

let firstRevision: string[] = [];
const SCENARIOS: Scenario[] = [
  {
    title: "1. revision --autogenerate, first generation",
    args: ["revision", "--autogenerate", "-m", "first"],
    expect: /^created /m,
    prepare: () => {
      clearVersions();
      editModels();
    },
    verify: () => takeNew([], [`createTable("${LAST}"`]),
    target: true,
    onFirstRevision: false,
  },
  {
    title: "2. revision --autogenerate, one-column change",
    args: ["revision", "--autogenerate", "-m", "add note"],
    expect: /^created /m,
    prepare: () => editModels(true),
    verify: () => takeNew(firstRevision, ["addColumn", '"note"']),
    target: true,
    onFirstRevision: true,
  },
  { title: "3. check, nothing to do", args: ["check"], expect: /models match migrations head/, prepare: () => editModels(), verify: () => {}, target: true, onFirstRevision: true },
  {
    title: "   check, schema.ts untouched (reference)",
    args: ["check"],
    expect: /models match migrations head/,
    prepare: () => {},
    verify: () => {},
    target: false,
    onFirstRevision: false,
  },
];

interface Result {
  scenario: Scenario;
  first: number;
  rest: Measurement;
}

function run(scenario: Scenario): Result {
  if (scenario.onFirstRevision) generateFirst();
  const once = () => {
    scenario.prepare();
    const ms = retort(scenario.args, scenario.expect).ms;
    scenario.verify();
    return ms;
  };
  const first = once();
  const rest = measure(once, RUNS);
  log(`${scenario.title.trim()}: first ${fmtMs(first)}, then ${rest.runs.map(fmtMs).join(", ")}`);
  return { scenario, first, rest };
}

function profile(scenario: Scenario): void {
  const dir = process.env.BENCH_PROFILE_DIR ? resolve(process.env.BENCH_PROFILE_DIR, scenario.title.replace(/[^a-z0-9]+/gi, "-")) : join(tmp, "profiles", String(Math.random()).slice(2));
  mkdirSync(dir, { recursive: true });
  const before = new Set(readdirSync(dir));
  scenario.prepare();
  const ms = retort(scenario.args, scenario.expect, ["--cpu-prof", "--cpu-prof-dir", dir]).ms;
  scenario.verify();
  const file = readdirSync(dir).find((name) => name.endsWith(".cpuprofile") && !before.has(name));
  if (!file) throw new Error(`no .cpuprofile written in ${dir}`);
  const summary = summariseProfile(join(dir, file), [
    { prefix: join(ROOT, "dist"), label: "retort dist", byFolder: true },
    { prefix: project.dir, label: "project files (models, config, migrations)" },
  ]);
  console.log(`\n-- profile: ${scenario.title.replace(/^\d\. /, "")} (warm, wall ${fmtMs(ms)} under the profiler${process.env.BENCH_PROFILE_DIR ? `; ${join(dir, file)}` : ""})`);
  console.log(formatProfile(summary));
}

async function main(): Promise<void> {
  const started = performance.now();
  console.log(`Retort autogenerate benchmark: node ${process.version}, ${new Date().toISOString()}`);
  buildForBench(ROOT, CLI, log);
  log(`node -e 0, retort --version ×${RUNS}`);
  const floor = measure(() => runProcess(NODE, ["-e", "0"]).ms, RUNS);
  const startup = measure(() => runProcess(NODE, [CLI, "--version"], { expect: /^\d+\.\d+/ }).ms, RUNS);
  const results = SCENARIOS.map(run);

  const width = 48;
  const lines = [
    "",
    `== ${TABLES} tables (${(TABLES * 8).toLocaleString("en-US")} columns, ${TABLES + Array.from({ length: TABLES }, (_, i) => i % 5 < 3).filter(Boolean).length} indexes, ${TABLES} FKs, 5 enums): whole-process wall time, dist/cli/main.js; ` +
      `load average ${loadavg().map((x) => x.toFixed(2)).join(" ")} on ${cpus().length} CPUs ==`,
    `${"".padEnd(width)}${"first run".padStart(10)}${`median/${RUNS}`.padStart(10)}  target`,
    `${"node -e 0 (floor)".padEnd(width)}${"".padStart(10)}${fmtMs(floor.median).padStart(10)}`,
    `${"retort --version (CLI startup)".padEnd(width)}${"".padStart(10)}${fmtMs(startup.median).padStart(10)}`,
  ];
  const missed: Scenario[] = [];
  for (const { scenario, first, rest } of results) {
    const miss = scenario.target && rest.median >= TARGET_MS;
    if (miss) missed.push(scenario);
    const verdict = scenario.target ? `[< ${TARGET_MS} ms] ${miss ? "MISSED" : "ok"}` : "";
    lines.push(`${scenario.title.padEnd(width)}${fmtMs(first).padStart(10)}${fmtMs(rest.median).padStart(10)}  ${verdict}   runs: ${rest.runs.map(fmtMs).join(", ")}`);
  }
  const [, , check, untouched] = results;
  lines.push(
    "",
    `Derived: CLI startup above the floor ${fmtMs(startup.median - floor.median)}; what rewriting schema.ts costs \`check\` (3. minus the reference row, compiling it) ${fmtMs(check!.rest.median - untouched!.rest.median)}.`,
    "Reference on this schema (issue): drizzle-kit generate 0.68 s / 0.95 s, Alembic autogenerate 2.7 s / 4.9 s (first generation / one-column change).",
    `First run: 1. the project's first CLI run (retort.config.ts not yet compiled); 2. and 3. the first run after a first revision was generated for them (not yet compiled). ` +
      `The median is of the ${RUNS} runs after it.`,
    `Cached between runs: the compiled retort.config.ts and migration files (${compiledCache}, used while their files are unchanged; ${existsSync(compiledCache) ? readdirSync(compiledCache).length : 0} entries at the end), ` +
      `Retort's parsed migration headers (.retort/cache: ${existsSync(join(project.dir, ".retort", "cache")) ? readdirSync(join(project.dir, ".retort", "cache")).join(", ") : "none"}). ` +
      `Not cached: schema.ts (rewritten before every run but the reference row), the fold, the diff, the rendering; dist/ is plain JavaScript loaded by Node.`,
  );
  console.log(lines.join("\n"));

  if (PROFILE !== "0") {
    for (const scenario of PROFILE === "1" ? SCENARIOS : missed) {
      if (scenario.onFirstRevision) {
        generateFirst();
        retort(["check"], /models match/); // compile the new first revision, as before the median runs
      }
      log(`profiling ${scenario.title.trim()} …`);
      profile(scenario);
    }
  }
  console.log(`\n(benchmark total ${fmtMs(performance.now() - started)})`);
}

try {
  await main();
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
