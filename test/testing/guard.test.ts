/**
 * The test guard (RETORT_TEST_GUARD): no test databases from the development or the production
 * database's URL, nor from a Postgres database whose name does not end in _test unless allowed.
 * It fires before anything is created on the server.
 */
import { afterEach, expect, it } from "vitest";
import { createTestDatabase } from "../../src/testing/index.js";
import { failure } from "../runtime/project.js";
import { notesProject } from "./support.js";

const saved = { ...process.env };
afterEach(() => {
  for (const name of ["DEV_DATABASE_URL", "PROD_DATABASE_URL", "TEST_DATABASE_URL", "DATABASE_URL"]) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});

// Port 9 answers nothing: a guard that let the URL through would fail to connect instead.
const server = "postgres://app:secret@127.0.0.1:9";

it("refuses the development database's URL (DEV_DATABASE_URL), password masked", async () => {
  process.env.DEV_DATABASE_URL = `${server}/app_test`;
  const error = await failure(createTestDatabase({ config: notesProject().config, url: `postgres://app:other@127.0.0.1:9/app_test?sslmode=disable` }));
  expect(error.code).toBe("RETORT_TEST_GUARD");
  expect(error.message).toContain("it is the development database");
  expect(error.message).not.toContain("other");
});

it("refuses the production database's URL, even as TEST_DATABASE_URL", async () => {
  process.env.PROD_DATABASE_URL = `${server}/billing_test`;
  process.env.TEST_DATABASE_URL = `${server}/billing_test`;
  const error = await failure(createTestDatabase({ config: notesProject().config }));
  expect(error.code).toBe("RETORT_TEST_GUARD");
  expect(error.message).toContain("production");
  expect(error.message).not.toContain("secret");
});

it("refuses a Postgres database name without _test, unless allowAnyName", async () => {
  const project = notesProject();
  const error = await failure(createTestDatabase({ config: project.config, url: `${server}/app` }));
  expect(error.code).toBe("RETORT_TEST_GUARD");
  expect(error.message).toContain('database name "app" does not end in _test');
  // Allowed, it goes on to the server (which does not answer here).
  const next = await failure(createTestDatabase({ config: project.config, url: `${server}/app`, allowAnyName: true }));
  expect(next.code).not.toBe("RETORT_TEST_GUARD");
});

it("a SQLite or PGlite URL is a copy's source, not a file that is written: only the identity checks apply", async () => {
  process.env.DEV_DATABASE_URL = "sqlite:./dev.db";
  const project = notesProject();
  const error = await failure(createTestDatabase({ config: project.config, url: "sqlite:./dev.db" }));
  expect(error.code).toBe("RETORT_TEST_GUARD");
  const db = await createTestDatabase({ config: project.config, url: "sqlite:./other.db" });
  expect((await db.query("SELECT version_num FROM retort_version")).rows).toEqual([{ version_num: "b2" }]);
  await db.drop();
});
