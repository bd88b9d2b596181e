import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { expect, it } from "vitest";

const run = promisify(execFile);

it("`npm run demo` (the README's main job) exits 0 on the embedded default", async () => {
  const env = { ...process.env };
  delete env.DATABASE_URL; // the embedded default, whatever the caller's environment says
  const { stdout } = await run("npm", ["run", "--silent", "demo"], { env, timeout: 120_000 });
  expect(stdout).toContain("Retort demo on pglite:memory (pglite)");
  expect(stdout).toMatch(/• created 6 tables and 2 enums/);
  expect(stdout).toMatch(/duplicate snippet refused: RETORT_UNIQUE_VIOLATION/);
  expect(stdout).toMatch(/soft-deleted ken: 11 live members, 12 including deleted/);
  expect(stdout).toMatch(/Done: \d+ SQL statements/);
}, 120_000);
