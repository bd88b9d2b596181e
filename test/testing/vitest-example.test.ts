/**
 * examples/testing-vitest run as a user runs it: vitest with 2 workers, the globalSetup building
 * the template once (on a throwaway cluster), each file in its own clone, each test rolled back.
 * Then with keepOnFailure against the suite's server: a failing test's database stays.
 */
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { findPostgresBinaries } from "../../src/dev/postgres-binaries.js";
import { dropDatabase } from "../../src/dev/databases.js";
import { prepareTestTemplate } from "../../src/testing/index.js";
import { options as exampleOptions } from "../../examples/testing-vitest/tests/options.js";
import { postgresReachable } from "../support/postgres.js";
import { databasesLike, dropTemplates, exec, testServerUrl } from "./support.js";

const CONFIG = resolve("examples/testing-vitest/vitest.config.ts");
const VITEST = resolve("node_modules/vitest/vitest.mjs");

let haveBinaries = true;
try {
  findPostgresBinaries(process.cwd());
} catch {
  haveBinaries = false;
  if (process.env.CI) throw new Error("CI needs Postgres server binaries for the vitest example (it starts a throwaway cluster)");
  console.warn("\n[retort tests] NOTICE: no Postgres server binaries; the vitest example run is SKIPPED.\n");
}
const postgresUp = await postgresReachable();

async function runExample(env: Record<string, string | undefined>): Promise<{ code: number; output: string }> {
  const environment: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0", ...env };
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete environment[key];
  try {
    const { stdout, stderr } = await exec(process.execPath, [VITEST, "run", "--config", CONFIG, "--maxWorkers", "2"], { env: environment, timeout: 120_000 });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
    return { code, output: `${stdout}${stderr}` };
  }
}

// Postgres names carry the owning process: <stem>_r<host>_<pid base 36>_<time>_<n>_test.
const owners = (output: string) => [...output.matchAll(/database of (\w+)\.test\.ts: \S+_r[0-9a-f]{6}_([0-9a-z]+)_[0-9a-z]+_[0-9a-z]+_test/g)].map((m) => ({ file: m[1], pid: m[2] }));

describe.skipIf(!haveBinaries)("the vitest example", () => {
  it("passes with 2 workers, each file in its own clone on the throwaway cluster", async () => {
    const { code, output } = await runExample({ TEST_DATABASE_URL: undefined, FAIL_ON_PURPOSE: undefined, KEEP_ON_FAILURE: undefined });
    expect(output).toMatch(/Tests\s+9 passed/);
    expect(code).toBe(0);
    const seen = owners(output);
    expect(seen.map((s) => s.file).sort()).toEqual(["authors", "posts"]);
    // Two worker processes made them.
    expect(new Set(seen.map((s) => s.pid)).size).toBe(2);
  });

  it.skipIf(!postgresUp)("keepOnFailure: a failing test's database stays on the server, its URL printed", async () => {
    const url = testServerUrl();
    const stem = new URL(url).pathname.slice(1).replace(/_test$/, "");
    const { code, output } = await runExample({ TEST_DATABASE_URL: url, FAIL_ON_PURPOSE: "1", KEEP_ON_FAILURE: "1" });
    expect(code).not.toBe(0);
    expect(output).toMatch(/Tests\s+1 failed \| 8 passed/);
    const kept = /kept the test database for a look: (\S+)/.exec(output)?.[1];
    expect(kept).toBeDefined();
    const left = await databasesLike(`${stem}_r`);
    expect(left).toEqual([expect.objectContaining({ name: new URL(kept!).pathname.slice(1), note: "retort: kept after a failing test" })]);
    await dropDatabase(kept!);
    // The example's template on the suite's server: found (not built again), then removed.
    const prepared = await prepareTestTemplate({ ...exampleOptions, url });
    expect(prepared.built).toBe(false);
    await dropTemplates([prepared.template]);
  });
});
