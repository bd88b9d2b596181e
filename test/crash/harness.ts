/**
 * The kill harness: `retort upgrade head` in a child process, SIGKILLed at a seeded random moment
 * of its work, then the database is inspected as the next process would find it. Each backend
 * gives a fresh database per trial, its shape (tables, columns, indexes, enum labels) and a
 * fingerprint of the data tables (row count and checksum).
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Project } from "../runtime/project.js";

/** Seeded PRNG (mulberry32): the same seed replays the same kill moments. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function crashSeed(): number {
  const given = process.env.RETORT_CRASH_SEED;
  return given !== undefined ? Number(given) : Math.floor(Math.random() * 2 ** 31);
}

/** Trials per backend: a few by default, RETORT_CRASH_TRIALS for the long mode. */
export function crashTrials(fallback: number): number {
  const given = Number(process.env.RETORT_CRASH_TRIALS);
  return Number.isFinite(given) && given > 0 ? given : fallback;
}

export function writeConfig(project: Project): string {
  const file = join(project.root, "retort.config.mjs");
  writeFileSync(file, `export default ${JSON.stringify(project.config.config)};\n`);
  return file;
}

export interface ChildRun {
  /** Milliseconds from the first progress line (the work starting) to exit. */
  workMs: number | undefined;
  killed: boolean;
  code: number | null;
  stderr: string;
}

/**
 * Run `retort upgrade head` as a child; with `killAfterMs`, SIGKILL it that long after its first
 * progress line (the first revision starting), so the kill lands in the migration work rather
 * than in the process start-up, whose length varies with the machine's load.
 */
export function upgradeInChild(config: string, url: string, killAfterMs?: number): Promise<ChildRun> {
  // One process (node with the tsx loader): the tsx command would run the CLI in a child of its own, which a kill of the parent leaves running.
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "--config", config, "--url", url, "upgrade", "head"], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  let stderr = "";
  let killed = false;
  let timer: NodeJS.Timeout | undefined;
  let workStarted: number | undefined;
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
    if (workStarted === undefined && stderr.includes("[1/")) {
      workStarted = Date.now();
      if (killAfterMs !== undefined) timer = setTimeout(() => (killed = child.kill("SIGKILL")), killAfterMs);
    }
  });
  // A bound on any one run, so a hung child never hangs the suite.
  const guard = setTimeout(() => child.kill("SIGKILL"), 120_000);
  return new Promise((resolve) => {
    child.on("exit", (code) => {
      clearTimeout(timer);
      clearTimeout(guard);
      resolve({ workMs: workStarted === undefined ? undefined : Date.now() - workStarted, killed, code, stderr });
    });
  });
}

/** Tables → sorted columns, index names, enum labels: what "the database is at revision X" is checked against. */
export interface Shape {
  tables: Record<string, string[]>;
  indexes: string[];
  enums: Record<string, string[]>;
}

export function shapeKey(shape: Shape): string {
  return JSON.stringify(shape);
}

/** `inner` has nothing `outer` lacks. */
export function shapeWithin(inner: Shape, outer: Shape): boolean {
  const sub = (a: readonly string[], b: readonly string[]) => a.every((item) => b.includes(item));
  return (
    Object.entries(inner.tables).every(([table, columns]) => outer.tables[table] !== undefined && sub(columns, outer.tables[table]!)) &&
    sub(inner.indexes, outer.indexes) &&
    Object.entries(inner.enums).every(([name, labels]) => outer.enums[name] !== undefined && sub(labels, outer.enums[name]!))
  );
}
