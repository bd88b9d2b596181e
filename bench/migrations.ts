/**
 * `npx tsx bench/migrations.ts`: the migration CLI as whole processes (issue 3, "Speed").
 *
 * 1. Chains of 1,000 and 10,000 empty revisions: wall time of `heads`, `current`, `history` and a
 *    no-op `upgrade head` on a SQLite file database (PGlite would spend seconds starting and hide
 *    the graph cost), and `current` / no-op `upgrade head` on the local Postgres server; `node -e 0`
 *    as the floor. Targets: 10k costs at most 12x 1k for every command (linear); a no-op
 *    `current` and `upgrade head` at 10,000 revisions under 0.3 s each where the floor is 0.08 s,
 *    i.e. under 3.75x the floor: each run is paired with a `node -e 0` run just before it, and the
 *    median of the pairs' ratios is held to that (issue 11 §9).
 * 2. Applying 1,000 revisions that each create a table and an index, on a fresh Postgres database
 *    per run: `retort upgrade head` vs psql running the offline script (`retort upgrade base:head
 *    --sql`: BEGIN; CREATE TABLE; CREATE INDEX; version row; COMMIT; per revision). Target: at most
 *    1.15x psql (Drizzle 1.18x, Alembic 1.24x, Kysely 1.35x here). A third run, psql with Retort's
 *    history-table statements added exactly as the online runner sends them, splits the gap into
 *    server-side bookkeeping and the Node process's own cost.
 * 3. For every missed target, one run under `node --cpu-prof`, summarised: time by category
 *    (module loader, Retort's folders, drivers, GC, idle = waiting on the database) and the
 *    top functions.
 *
 * Always runs `npm run build` first (when tsc reports type errors but emits, it measures the
 * emitted JavaScript and prints a notice) and times dist/cli/main.js with plain node (timing tsx's
 * on-the-fly compile would be unfair). Revision files are `.mjs` importing dist/index.js by
 * absolute path; the config is `retort.config.mjs`. Before the no-op measurements, head is reached
 * by really applying the chain (history rows written), with migrations.transaction "all" to spare
 * the commits; not by `stamp`. The apply runs also report each process's CPU time (user + sys,
 * through GNU time when /usr/bin/time is there): on this shared VM the server's time drifts by tens
 * of percent between runs, the client's CPU much less. Temp files and databases are removed at the end.
 *
 * Environment: BENCH_RUNS (5) runs per measurement, median reported; a measurement whose first
 * run exceeds BENCH_SLOW_MS (3000) gets 3 runs, stated in the table, to keep the total within ~5
 * minutes. BENCH_APPLY_ROUNDS (3), BENCH_APPLY_REVISIONS (1000), BENCH_SIZES ("1000,10000"),
 * BENCH_PROFILE (auto: only for missed targets; 1: always; 0: never), BENCH_PROFILE_DIR (keep the
 * .cpuprofile files there), BENCH_SKIP_BUILD=1, BENCH_APPLY=0 (chains only, skip part 2),
 * TEST_DATABASE_URL (the Postgres server).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { formatProfile, summariseProfile } from "./support/cpuprofile.js";
import { checkpoint, appliedState, dropAll, postgresAvailable, psqlAvailable, serverUrl, tempDatabase } from "./support/postgres.js";
import { buildForBench, fmtMs, measure, median, runProcess, type Measurement } from "./support/process.js";
import { writeProject, type MigrationProject } from "./support/project.js";
import { withHistoryRows } from "./support/psql-script.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const CLI = join(ROOT, "dist", "cli", "main.js");
const LIB = join(ROOT, "dist", "index.js");
const NODE = process.execPath;

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const SLOW_MS = Number(process.env.BENCH_SLOW_MS ?? 3000);
const APPLY_ROUNDS = Number(process.env.BENCH_APPLY_ROUNDS ?? 3);
const APPLY_REVISIONS = Number(process.env.BENCH_APPLY_REVISIONS ?? 1000);
const SIZES = (process.env.BENCH_SIZES ?? "1000,10000").split(",").map(Number);
const PROFILE = process.env.BENCH_PROFILE ?? "auto";
/**
 * Issue 11: 300 ms where `node -e 0` takes about 80 ms. Held as that multiple of the floor
 * measured in the same run, since this VM's speed drifts between sessions (the floor has
 * measured 58 to 125 ms).
 */
const NOOP_TARGET_FLOORS = 300 / 80;
const SKIP_APPLY = process.env.BENCH_APPLY === "0";
const APPLY_TARGET = 1.15;

const small = SIZES[0]!;
const large = SIZES[SIZES.length - 1]!;
/** 12x for 10x as many revisions: linear, with 20% slack. */
const LINEAR_LIMIT = (large / small) * 1.2;

const log = (line: string) => process.stderr.write(`${line}\n`);
const tmp = mkdtempSync(join(tmpdir(), "retort-bench-migrations-"));

let cleaned = false;
async function cleanup(): Promise<void> {
  if (cleaned) return;
  cleaned = true;
  await dropAll();
  rmSync(tmp, { recursive: true, force: true });
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void cleanup().finally(() => process.exit(130));
  });
}

function retort(project: MigrationProject, url: string, args: string[], expect?: RegExp, config = project.config, cpu = false) {
  return runProcess(NODE, [CLI, "--config", config, "--url", url, ...args], { cwd: project.dir, cpu, ...(expect ? { expect } : {}) });
}

const load = () => `load average ${loadavg().map((x) => x.toFixed(2)).join(" ")} on ${cpus().length} CPUs`;

// ---------------------------------------------------------------------------------------------
// 1. Listing commands and no-op upgrades over long chains

type Backend = "sqlite" | "postgres";
interface Case {
  backend: Backend;
  command: string;
  args: string[];
  expect: (project: MigrationProject) => RegExp;
}

const CASES: Case[] = [
  { backend: "sqlite", command: "heads", args: ["heads"], expect: (p) => new RegExp(`${p.head} \\(head\\)`) },
  { backend: "sqlite", command: "current", args: ["current"], expect: (p) => new RegExp(`^${p.head} \\(head\\)`, "m") },
  { backend: "sqlite", command: "history", args: ["history"], expect: () => /^<base> -> 000000000000 \(base\)/m },
  { backend: "sqlite", command: "upgrade head (no-op)", args: ["upgrade", "head"], expect: () => /nothing to do/ },
  { backend: "postgres", command: "current", args: ["current"], expect: (p) => new RegExp(`^${p.head} \\(head\\)`, "m") },
  { backend: "postgres", command: "upgrade head (no-op)", args: ["upgrade", "head"], expect: () => /nothing to do/ },
];
const caseKey = (c: Case) => `${c.backend.padEnd(8)} ${c.command}`;

/** A measurement, and for the no-op cases the median of each run's time over a `node -e 0` run just before it. */
type FloorMeasurement = Measurement & { floorRatio?: number };

/**
 * Each run of fn right after a run of `node -e 0`, the ratio taken per pair: this VM's speed
 * drifts by tens of percent within minutes, and a pair shares its moment.
 */
function measureAgainstFloor(fn: () => number, runs: number): FloorMeasurement {
  const times: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < runs; i++) {
    const floor = runProcess(NODE, ["-e", "0"]).ms;
    const ms = fn();
    times.push(ms);
    ratios.push(ms / floor);
  }
  return { median: median(times), runs: times, floorRatio: median(ratios) };
}

interface ChainResults {
  floor: Measurement;
  /** `retort --version`: the CLI's modules loaded, no work. */
  startup: Measurement;
  byCase: Map<string, Map<number, FloorMeasurement>>;
  reachHead: Array<{ size: number; backend: Backend; ms: number }>;
  projects: Map<number, { project: MigrationProject; sqliteUrl: string }>;
}

async function chains(pgSkip: string | undefined): Promise<ChainResults> {
  log(`node -e 0, retort --version ×${RUNS}`);
  const floor = measure(() => runProcess(NODE, ["-e", "0"]).ms, RUNS);
  const startup = measure(() => runProcess(NODE, [CLI, "--version"], { expect: /^\d+\.\d+/ }).ms, RUNS);
  const byCase = new Map<string, Map<number, FloorMeasurement>>();
  const reachHead: ChainResults["reachHead"] = [];
  const projects: ChainResults["projects"] = new Map();

  for (const size of SIZES) {
    const t0 = performance.now();
    const project = writeProject(join(tmp, `empty-${size}`), size, "empty", LIB);
    log(`${size} empty revisions written in ${fmtMs(performance.now() - t0)}`);
    const sqliteUrl = `sqlite:${join(project.dir, "db.sqlite")}`;
    projects.set(size, { project, sqliteUrl });

    for (const backend of ["sqlite", "postgres"] as const) {
      if (backend === "postgres" && pgSkip) continue;
      const db = backend === "postgres" ? await tempDatabase() : undefined;
      const url = db?.url ?? sqliteUrl;
      try {
        // Reach head by really applying the chain (so the history table holds its rows, as in real
        // life), in one transaction to spare thousands of commits.
        const reach = retort(project, url, ["--quiet", "upgrade", "head"], undefined, project.applyConfig);
        reachHead.push({ size, backend, ms: reach.ms });
        log(`${backend} ${size}: applied to head (one transaction) in ${fmtMs(reach.ms)}`);
        for (const c of CASES.filter((x) => x.backend === backend)) {
          const expect = c.expect(project);
          const noop = c.command === "current" || c.command.startsWith("upgrade head");
          const m = noop ? measureAgainstFloor(() => retort(project, url, c.args, expect).ms, RUNS) : measure(() => retort(project, url, c.args, expect).ms, RUNS, SLOW_MS);
          log(`  ${caseKey(c)} @${size}: ${fmtMs(m.median)} (${m.runs.map(fmtMs).join(", ")})`);
          if (!byCase.has(caseKey(c))) byCase.set(caseKey(c), new Map());
          byCase.get(caseKey(c))!.set(size, m);
        }
      } finally {
        await db?.drop();
      }
    }
  }
  // Measured again at the end, and the lower median kept: one slow spell on this shared VM at
  // the start would otherwise loosen every target held as a multiple of the floor.
  const floorAgain = measure(() => runProcess(NODE, ["-e", "0"]).ms, RUNS);
  log(`node -e 0 at the start ${fmtMs(floor.median)}, at the end ${fmtMs(floorAgain.median)}: the lower counts`);
  return { floor: floorAgain.median < floor.median ? floorAgain : floor, startup, byCase, reachHead, projects };
}

interface Verdict {
  missed: boolean;
  text: string;
}

function reportChains(r: ChainResults): { linearMisses: string[]; noopMissed: boolean } {
  const width = 34;
  const col = (s: string, w = 10) => s.padStart(w);
  const lines: string[] = [];
  lines.push("");
  lines.push(`== Chains of empty revisions: whole-process wall time, median of ${RUNS} runs (dist/cli/main.js); ${load()} at the end ==`);
  lines.push(`${"".padEnd(width)}${SIZES.map((n) => col(n.toLocaleString("en-US"))).join("")}${col(`${large / 1000}k/${small / 1000}k`, 12)}  targets`);
  lines.push(`${"node -e 0 (floor)".padEnd(width)}${col(fmtMs(r.floor.median))}`);
  lines.push(`${"retort --version (CLI startup)".padEnd(width)}${col(fmtMs(r.startup.median))}`);
  const linearMisses: string[] = [];
  let noopMissed = false;
  for (const [key, bySize] of r.byCase) {
    const a = bySize.get(small);
    const b = bySize.get(large);
    const verdicts: Verdict[] = [];
    let ratioText = "";
    if (a && b) {
      const ratio = b.median / a.median;
      ratioText = `${ratio.toFixed(2)}x`;
      const missed = ratio > LINEAR_LIMIT;
      if (missed) linearMisses.push(key);
      verdicts.push({ missed, text: `[<= ${LINEAR_LIMIT.toFixed(0)}x] ${missed ? "MISSED" : "ok"}` });
    }
    if ((key.includes("upgrade head") || key.endsWith("current")) && b && large === 10_000) {
      const floors = b.floorRatio ?? b.median / r.floor.median;
      const missed = floors >= NOOP_TARGET_FLOORS;
      if (missed) noopMissed = true;
      verdicts.push({ missed, text: `[@10k < ${NOOP_TARGET_FLOORS}x floor] ${floors.toFixed(2)}x ${missed ? "MISSED" : "ok"}` });
    }
    const notes = [...bySize].filter(([, m]) => m.note).map(([n, m]) => `@${n}: ${m.note}`);
    lines.push(`${key.padEnd(width)}${SIZES.map((n) => col(bySize.get(n) ? fmtMs(bySize.get(n)!.median) : "-")).join("")}${col(ratioText, 12)}  ${verdicts.map((v) => v.text).join("; ")}${notes.length ? `  (${notes.join("; ")})` : ""}`);
  }
  lines.push("");
  lines.push(`Derived: CLI startup above the floor ${fmtMs(r.startup.median - r.floor.median)}; per size, \`current\` above startup, and what a no-op upgrade costs beyond \`current\` (same config, graph and connection):`);
  for (const backend of ["sqlite", "postgres"] as const) {
    const cur = r.byCase.get(`${backend.padEnd(8)} current`);
    const up = r.byCase.get(`${backend.padEnd(8)} upgrade head (no-op)`);
    if (!cur || !up) continue;
    for (const n of SIZES) {
      const c = cur.get(n)!.median;
      const u = up.get(n)!.median;
      lines.push(`  ${backend} @${n}: current - startup ${fmtMs(c - r.startup.median)}; upgrade(no-op) - current ${fmtMs(u - c)}`);
    }
  }
  lines.push(
    `How head was reached before measuring: \`upgrade head\` for real (every revision applied, history rows written) with migrations.transaction "all" ` +
      `(one transaction, to spare the commits): ${r.reachHead.map((x) => `${x.backend} @${x.size} ${fmtMs(x.ms)}`).join(", ")}. Not stamped.`,
  );
  console.log(lines.join("\n"));
  return { linearMisses, noopMissed };
}

// ---------------------------------------------------------------------------------------------
// 2. Applying revisions that create a table and an index, against psql

interface ApplyResults {
  revisions: number;
  times: Record<Variant, number[]>;
  cpu: Record<Variant, number[]>;
  loadBefore: string;
  project: MigrationProject;
}
type Variant = "retort" | "psql" | "psql+history";
const VARIANTS: Variant[] = ["retort", "psql", "psql+history"];

async function apply(): Promise<ApplyResults> {
  const project = writeProject(join(tmp, `tables-${APPLY_REVISIONS}`), APPLY_REVISIONS, "table", LIB);
  // Offline: does not connect, the URL only picks the dialect.
  const offline = retort(project, serverUrl, ["upgrade", "base:head", "--sql"], /CREATE INDEX/).stdout;
  const plainFile = join(project.dir, "upgrade.sql");
  const historyFile = join(project.dir, "upgrade-with-history.sql");
  writeFileSync(plainFile, offline);
  writeFileSync(historyFile, withHistoryRows(offline, APPLY_REVISIONS));

  const times: Record<Variant, number[]> = { retort: [], psql: [], "psql+history": [] };
  const cpu: Record<Variant, number[]> = { retort: [], psql: [], "psql+history": [] };
  const loadBefore = load();
  for (let round = 0; round < APPLY_ROUNDS; round++) {
    // Rotate the order so no variant always runs first (the VM's disk speed drifts).
    const order = VARIANTS.map((_, i) => VARIANTS[(i + round) % VARIANTS.length]!);
    for (const variant of order) {
      const db = await tempDatabase();
      try {
        await checkpoint();
        spawnSync("sync"); // and let the kernel write back what the last run and DROP DATABASE left
        const run =
          variant === "retort"
            ? retort(project, db.url, ["upgrade", "head"], /upgraded \d+ revision/, project.config, true)
            : runProcess("psql", [db.url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", variant === "psql" ? plainFile : historyFile], { cpu: true });
        const ms = run.ms;
        if (run.cpuMs !== undefined) cpu[variant].push(run.cpuMs);
        const state = await appliedState(db.url);
        if (state.tables !== APPLY_REVISIONS || state.indexes !== APPLY_REVISIONS || state.versions.join() !== project.head) {
          throw new Error(`${variant}: expected ${APPLY_REVISIONS} tables and indexes at ${project.head}, found ${JSON.stringify(state)}`);
        }
        times[variant].push(ms);
        log(`apply round ${round + 1}/${APPLY_ROUNDS} ${variant}: ${fmtMs(ms)}`);
      } finally {
        await db.drop();
      }
    }
  }
  return { revisions: APPLY_REVISIONS, times, cpu, loadBefore, project };
}

function reportApply(r: ApplyResults): boolean {
  const ratio = (a: Variant, b: Variant) => median(r.times[a].map((x, i) => x / r.times[b][i]!));
  const lines: string[] = [""];
  lines.push(`== Applying ${r.revisions.toLocaleString("en-US")} revisions (CREATE TABLE + CREATE INDEX each) on the local Postgres server, fresh database and CHECKPOINT before each run, ${APPLY_ROUNDS} rounds in rotating order ==`);
  const label: Record<Variant, string> = {
    retort: "retort upgrade head (whole process)",
    psql: "psql -f offline script (1 tx/revision)",
    "psql+history": "psql, + Retort's history-row statements",
  };
  const cpuText = (v: Variant) => (r.cpu[v].length ? `   process CPU (user+sys) median ${fmtMs(median(r.cpu[v]))}` : "");
  for (const v of VARIANTS) lines.push(`  ${label[v].padEnd(44)} median ${fmtMs(median(r.times[v])).padStart(8)}   runs: ${r.times[v].map(fmtMs).join(", ")}${cpuText(v)}`);
  lines.push(`  (${r.loadBefore} before the rounds, ${load()} after: other work on the machine shows up as spread between runs)`);
  const main = ratio("retort", "psql");
  const missed = main > APPLY_TARGET;
  const fastest = (a: Variant, b: Variant) => (Math.min(...r.times[a]) / Math.min(...r.times[b])).toFixed(2);
  lines.push(
    `  retort / psql: ${main.toFixed(2)}x (median of per-round ratios; ratio of medians ${(median(r.times.retort) / median(r.times.psql)).toFixed(2)}x, of fastest runs ${fastest("retort", "psql")}x) [<= ${APPLY_TARGET}x] ${missed ? "MISSED" : "ok"}   (Drizzle 1.18x, Alembic 1.24x, Kysely 1.35x)`,
  );
  lines.push(
    `  split: (psql+history) / psql ${ratio("psql+history", "psql").toFixed(2)}x (fastest ${fastest("psql+history", "psql")}x) = what Retort's history rows cost the server (one INSERT per revision, inside its transaction);`,
  );
  lines.push(
    `         retort / (psql+history) ${ratio("retort", "psql+history").toFixed(2)}x (fastest ${fastest("retort", "psql+history")}x) = the Node process over the same statements (start, loading ${r.revisions.toLocaleString("en-US")} modules, planning, driver)`,
  );
  if (r.cpu.retort.length && r.cpu.psql.length) {
    const extra = median(r.cpu.retort) - median(r.cpu.psql);
    lines.push(
      `  client CPU: Retort's process spends ${fmtMs(extra)} more CPU than psql's = ${((100 * extra) / median(r.times.psql)).toFixed(0)}% of psql's wall time, ` +
        `on top of the server's time for the same statements (the process does one thing at a time: load, plan, then wait on each statement).`,
    );
  }
  console.log(lines.join("\n"));
  return missed;
}

// ---------------------------------------------------------------------------------------------
// 3. Profiles of the missed targets

function profile(title: string, project: MigrationProject, url: string, args: string[], expect: RegExp): void {
  const dir = process.env.BENCH_PROFILE_DIR ? resolve(process.env.BENCH_PROFILE_DIR, title.replace(/[^a-z0-9]+/gi, "-")) : join(tmp, "profiles", String(Math.random()).slice(2));
  mkdirSync(dir, { recursive: true });
  const before = new Set(readdirSync(dir));
  const run = runProcess(NODE, ["--cpu-prof", "--cpu-prof-dir", dir, CLI, "--config", project.config, "--url", url, ...args], { cwd: project.dir, expect });
  const file = readdirSync(dir).find((name) => name.endsWith(".cpuprofile") && !before.has(name));
  if (!file) throw new Error(`no .cpuprofile written in ${dir}`);
  const summary = summariseProfile(join(dir, file), [
    { prefix: join(ROOT, "dist"), label: "retort dist", byFolder: true },
    { prefix: project.versions, label: "migration files" },
  ]);
  console.log(`\n-- profile: ${title} (wall ${fmtMs(run.ms)} under the profiler${process.env.BENCH_PROFILE_DIR ? `; ${join(dir, file)}` : ""})`);
  console.log(formatProfile(summary));
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const started = performance.now();
  process.once("beforeExit", () => console.log(`\n(benchmark total ${fmtMs(performance.now() - started)})`));
  console.log(`Retort migration benchmark: node ${process.version}, ${new Date().toISOString()}`);
  buildForBench(ROOT, CLI, log);
  const pgSkip = await postgresAvailable();
  const psqlSkip = pgSkip ?? psqlAvailable();
  if (pgSkip) console.log(`NOTICE: ${pgSkip}; Postgres cases are SKIPPED.`);
  else if (psqlSkip) console.log(`NOTICE: ${psqlSkip}; the psql comparison is SKIPPED.`);

  const chainResults = await chains(pgSkip);
  const { linearMisses, noopMissed } = reportChains(chainResults);
  const applyResults = psqlSkip || SKIP_APPLY ? undefined : await apply();
  const applyMissed = applyResults ? reportApply(applyResults) : false;

  const always = PROFILE === "1";
  if (PROFILE !== "0") {
    const largest = chainResults.projects.get(large)!;
    const toProfile = new Set<string>();
    if (always || noopMissed) {
      toProfile.add("upgrade head (no-op)");
      toProfile.add("current");
    }
    for (const key of linearMisses) toProfile.add(CASES.find((c) => caseKey(c) === key)!.command);
    for (const command of toProfile) {
      const c = CASES.find((x) => x.backend === "sqlite" && x.command === command) ?? CASES.find((x) => x.command === command)!;
      log(`profiling ${command} @${large} …`);
      profile(`${command} at ${large.toLocaleString("en-US")} revisions, SQLite`, largest.project, largest.sqliteUrl, c.args, c.expect(largest.project));
    }
    if (applyResults && (always || applyMissed)) {
      const db = await tempDatabase();
      try {
        log("profiling the apply …");
        profile(`upgrade head applying ${APPLY_REVISIONS.toLocaleString("en-US")} table+index revisions, Postgres`, applyResults.project, db.url, ["upgrade", "head"], /upgraded \d+ revision/);
      } finally {
        await db.drop();
      }
    }
  }
}

try {
  await main();
} finally {
  await cleanup();
}
