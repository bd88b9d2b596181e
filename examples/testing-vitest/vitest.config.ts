import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  // Paths in retort.config.ts and in the tests are relative to this folder.
  root: fileURLToPath(new URL(".", import.meta.url)),
  test: {
    include: ["tests/**/*.test.ts"],
    // Builds the template once (and starts the throwaway cluster) before the workers start.
    globalSetup: ["tests/global-setup.ts"],
    // Each worker runs its files in their own clones.
    pool: "forks",
    maxWorkers: 2,
  },
});
