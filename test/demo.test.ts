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

it("`npm run demo` against an unreachable database prints the error and its hint, no stack trace, and exits 1", async () => {
  const env = { ...process.env, DATABASE_URL: "postgres://demo:secret@127.0.0.1:1/retort_demo" };
  const failure = await run("npm", ["run", "--silent", "demo"], { env, timeout: 120_000 }).then(
    () => undefined,
    (error: { code: number; stderr: string }) => error,
  );
  expect(failure?.code).toBe(1);
  expect(failure!.stderr).toMatch(/^error RETORT_CONNECTION_FAILED: Could not connect to Postgres at 127\.0\.0\.1:1/m);
  expect(failure!.stderr).toMatch(/^hint: /m);
  expect(failure!.stderr).not.toMatch(/^\s+at /m);
  expect(failure!.stderr).not.toContain("secret");
}, 120_000);
