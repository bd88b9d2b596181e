import { databaseTest } from "../../../src/testing/vitest.js"; // a real project: "retort-db/testing/vitest"
import { options } from "./options.js";

/** `test` with `db` (a transaction rolled back after each test) and `database` (the file's own clone). */
export const test = databaseTest({ ...options, keepOnFailure: process.env.KEEP_ON_FAILURE === "1" });
