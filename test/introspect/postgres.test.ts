/**
 * The Postgres introspector on a fresh database of the local server (skipped with a notice when
 * none answers). The cases are shared with PGlite: see postgres-family.ts.
 */
import { describe, it } from "vitest";
import { createPostgresDriver } from "../../src/dialects/postgres/driver.js";
import { createTempDatabase, postgresReachable } from "../support/postgres.js";
import { describeIntrospection } from "./postgres-family.js";

const serverUp = await postgresReachable();

if (serverUp) {
  describeIntrospection("postgres server", async () => {
    const database = await createTempDatabase("retort_introspect");
    const driver = createPostgresDriver(database.url, { schema: { tables: [], enums: [] } });
    return {
      driver,
      async cleanup() {
        await driver.close();
        await database.drop();
      },
    };
  });
} else {
  describe("introspectPostgres (postgres server)", () => {
    it.skip("needs a Postgres server (TEST_DATABASE_URL): SKIPPED", () => {});
  });
}
