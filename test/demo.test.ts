import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { expect, it } from "vitest";

const run = promisify(execFile);

it("`npm run demo` (the README's main job) exits 0 on the embedded default", async () => {
  const env = { ...process.env };
  delete env.DATABASE_URL; // the embedded default, whatever the caller's environment says
  const { stdout } = await run("npm", ["run", "--silent", "demo"], { env, timeout: 120_000 });
  expect(stdout).toContain("Retort demo on pglite:memory (pglite)");
  expect(stdout).toMatch(/• migrations: applied 2 revisions \(base -> 8e4a7d2c5f31\): 6 tables, 2 enums/);
  expect(stdout).toMatch(/• current: 8e4a7d2c5f31 \(head\) moderation, snippets, reminders, starboard/);
  expect(stdout).toMatch(/• history: <base> -> 3b1f0c9a2d10, guilds and members/);
  expect(stdout).toMatch(/duplicate snippet refused: RETORT_UNIQUE_VIOLATION/);
  expect(stdout).toMatch(/soft-deleted ken: 11 live members, 12 including deleted/);
  expect(stdout).toMatch(/Done: \d+ SQL statements/);
}, 120_000);
