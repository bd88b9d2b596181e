/** Whole-process timings: spawn, wait, check the exit code and the output, return the wall time. */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

export interface Run {
  ms: number;
  /** user + system CPU time of the process, when measured (RunOptions.cpu and GNU time present). */
  cpuMs?: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  /** stdout (or stderr) must match, else the run throws: a benchmark of a failing command is worthless. */
  expect?: RegExp;
  env?: NodeJS.ProcessEnv;
  /** Also measure the process's CPU time, through GNU time (/usr/bin/time) when it is there. */
  cpu?: boolean;
}

const TIME = "/usr/bin/time";
const CPU_MARK = "__bench_cpu__";
let gnuTime: boolean | undefined;
/** Whether /usr/bin/time understands -f (GNU time), which is how child CPU time is read. */
export function cpuTimeAvailable(): boolean {
  gnuTime ??= spawnSync(TIME, ["-f", `${CPU_MARK} %U %S`, "true"], { encoding: "utf8" }).stderr?.includes(CPU_MARK) ?? false;
  return gnuTime;
}

export function runProcess(command: string, args: readonly string[], options: RunOptions = {}): Run {
  const wrap = options.cpu === true && cpuTimeAvailable();
  const t0 = performance.now();
  const result = spawnSync(wrap ? TIME : command, wrap ? ["-f", `${CPU_MARK} %U %S`, command, ...args] : args, {
    cwd: options.cwd,
    env: options.env ?? { ...process.env, NO_COLOR: "1" },
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
  });
  const ms = performance.now() - t0;
  if (result.error) throw result.error;
  const stdout = result.stdout ?? "";
  let stderr = result.stderr ?? "";
  let cpuMs: number | undefined;
  if (wrap) {
    const at = stderr.lastIndexOf(CPU_MARK);
    if (at >= 0) {
      const [user, system] = stderr.slice(at + CPU_MARK.length).trim().split(/\s+/).map(Number);
      if (Number.isFinite(user) && Number.isFinite(system)) cpuMs = (user! + system!) * 1000;
      stderr = stderr.slice(0, at);
    }
  }
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(" ")} exited with ${result.status ?? result.signal}\n${stderr.slice(-4000)}${stdout.slice(-2000)}`);
  }
  if (options.expect && !options.expect.test(stdout) && !options.expect.test(stderr)) {
    throw new Error(`${command} ${args.join(" ")}: output does not match ${options.expect}\n${stdout.slice(0, 2000)}${stderr.slice(0, 2000)}`);
  }
  return { ms, stdout, stderr, ...(cpuMs === undefined ? {} : { cpuMs }) };
}

export const median = (xs: readonly number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

export interface Measurement {
  median: number;
  runs: number[];
  /** Why fewer runs than asked were made, if so. */
  note?: string;
}

/**
 * Run `fn` `runs` times and keep the median. A measurement whose first run already takes longer
 * than `slowMs` is cut to `slowRuns` runs (stated in `note`) to keep the whole benchmark within
 * its time budget; those are the cases that miss their target by a wide margin anyway.
 */
export function measure(fn: () => number, runs: number, slowMs = Infinity, slowRuns = 3): Measurement {
  const times = [fn()];
  const total = times[0]! > slowMs ? Math.min(runs, slowRuns) : runs;
  while (times.length < total) times.push(fn());
  return { median: median(times), runs: times, ...(total < runs ? { note: `${total} runs (slow)` } : {}) };
}

export const fmtMs = (ms: number) => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);

/**
 * `npm run build` before measuring dist/ (BENCH_SKIP_BUILD=1 skips it). tsc still emits when only
 * types fail (someone's work in progress elsewhere in src/): then the emitted JavaScript is
 * measured, with a notice saying so.
 */
export function buildForBench(root: string, cli: string, log: (line: string) => void): void {
  if (process.env.BENCH_SKIP_BUILD === "1") return;
  log("npm run build …");
  try {
    log(`built in ${fmtMs(runProcess("npm", ["run", "build", "--silent"], { cwd: root }).ms)}`);
  } catch (error) {
    if (!existsSync(cli)) throw error;
    const first = (error as Error).message.split("\n").filter((line) => line.includes("error TS")).slice(0, 3);
    console.log(`NOTICE: npm run build reported errors; measuring the JavaScript tsc emitted anyway:\n  ${first.join("\n  ")}`);
  }
}
