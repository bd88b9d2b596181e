import { testDatabaseSetup } from "../../../src/testing/vitest.js"; // a real project: "retort-db/testing/vitest"
import { options } from "./options.js";

// A throwaway Postgres cluster in RAM for the run, unless TEST_DATABASE_URL names a server
// (postgres://…/<app>_test), or a pglite:/sqlite: URL.
export default testDatabaseSetup({ ...options, cluster: !process.env.TEST_DATABASE_URL });
