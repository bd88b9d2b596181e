/** What both the global setup and the fixtures build from: the same options give the same template. */
import { fileURLToPath } from "node:url";
import * as schema from "../src/schema.js";

export const options = {
  schema,
  // The project's folder (retort.config.ts): vitest may be started from elsewhere.
  cwd: fileURLToPath(new URL("..", import.meta.url)),
  seeds: ["seeds/test.sql"],
};
