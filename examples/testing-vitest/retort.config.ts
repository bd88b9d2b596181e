import { defineConfig } from "../../src/config.js"; // a real project: "retort-db/config"

export default defineConfig({
  models: "./src/schema.ts",
  migrations: {
    directory: "migrations/versions",
    // Inside this repository the example imports Retort from source; a real project uses "retort-db".
    importFrom: "../../../../src/index.js",
  },
});
