/**
 * The Postgres introspector on one in-memory PGlite (Postgres 18: NOT NULL constraints live in
 * pg_constraint there). The cases are shared with the server: see postgres-family.ts.
 */
import { createPgliteDriver } from "../../src/dialects/pglite/driver.js";
import { describeIntrospection } from "./postgres-family.js";

describeIntrospection("pglite", async () => {
  const driver = await createPgliteDriver({}, { schema: { tables: [], enums: [] } });
  return { driver, cleanup: () => driver.close() };
});
