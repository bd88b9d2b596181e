/**
 * `npx tsx bench/graph.ts`: the script layer at 1,000 and 10,000 revisions, in-process.
 *
 * Writes a linear chain of empty migration files into a temp dir for each size, then times, per
 * round: loadScriptDirectory (read every header and checksum), building the RevisionGraph, `heads`,
 * upgradePlan(head) from the middle of the chain, and the full history. Prints the median of
 * several rounds (after one warm-up) per phase and the 10k/1k ratio of the totals: linear code
 * gives about 10x; the target is at most 12x.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadScriptDirectory } from "../src/script/directory.js";
import { RevisionGraph } from "../src/script/graph.js";
import { upgradePlan } from "../src/script/plan.js";
import { historyFor } from "../src/script/targets.js";
import { migrationFileName, renderMigration } from "../src/script/template.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const SIZES = [1_000, 10_000];
const PHASES = ["load", "graph", "heads", "plan", "history", "total"] as const;
type Phase = (typeof PHASES)[number];

function writeChain(n: number): { dir: string; middle: string } {
  const dir = mkdtempSync(join(tmpdir(), `retort-bench-graph-${n}-`));
  const start = Date.UTC(2026, 0, 1);
  let parent: string | undefined;
  let middle = "";
  for (let i = 0; i < n; i++) {
    const revision = i.toString(16).padStart(12, "0");
    const createdAt = new Date(start + i * 1000);
    const text = renderMigration({ revision, parents: parent ? [parent] : [], message: `revision number ${i}`, createdAt });
    writeFileSync(join(dir, migrationFileName(createdAt, `revision number ${i}`)), text);
    if (i === Math.floor(n / 2)) middle = revision;
    parent = revision;
  }
  return { dir, middle };
}

function round(dir: string, middle: string): Record<Phase, number> {
  const t0 = performance.now();
  const scripts = loadScriptDirectory(dir).revisions;
  const t1 = performance.now();
  const graph = new RevisionGraph(scripts);
  const t2 = performance.now();
  const heads = graph.heads;
  const t3 = performance.now();
  const plan = upgradePlan(graph, [middle], "head");
  const t4 = performance.now();
  const history = historyFor(graph, undefined);
  const t5 = performance.now();
  if (heads.length !== 1 || plan.length !== scripts.length - scripts.findIndex((s) => s.revision === middle) - 1 || history.length !== scripts.length) {
    throw new Error("benchmark sanity check failed");
  }
  return { load: t1 - t0, graph: t2 - t1, heads: t3 - t2, plan: t4 - t3, history: t5 - t4, total: t5 - t0 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => `${x.toFixed(2).padStart(8)} ms`;

const results = new Map<number, Record<Phase, number>>();
for (const n of SIZES) {
  const { dir, middle } = writeChain(n);
  try {
    const cold = round(dir, middle).total; // warm-up: JIT and the file cache; what a one-shot CLI process pays
    const rounds = Array.from({ length: ROUNDS }, () => round(dir, middle));
    const summary = Object.fromEntries(PHASES.map((p) => [p, median(rounds.map((r) => r[p]))])) as Record<Phase, number>;
    results.set(n, summary);
    console.log(`${String(n).padStart(6)} revisions: ${PHASES.map((p) => `${p} ${ms(summary[p])}`).join("  ")}   (first round, cold: ${ms(cold)})`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const small = results.get(SIZES[0]!)!;
const large = results.get(SIZES[1]!)!;
const ratio = large.total / small.total;
console.log(`10k/1k ratio (total): ${ratio.toFixed(2)}x [target <= 12x] ${ratio <= 12 ? "ok" : "MISSED"}`);
console.log(`10k/1k ratio without file reads (graph+heads+plan+history): ${((large.total - large.load) / (small.total - small.load)).toFixed(2)}x`);
console.log(`header reading at 10k: ${ms(large.load)} [target: well under 300 ms]`);
