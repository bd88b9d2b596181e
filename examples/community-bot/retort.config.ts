import { defineConfig } from "../../src/config.js"; // a real project: "retort/config"

export default defineConfig({
  models: "./schema.ts",
  migrations: {
    directory: "migrations/versions",
    // Inside this repository the example imports Retort from source; a real project uses "retort".
    importFrom: "../../../../src/index.js",
  },
});
