/** `retort init` writes a config that imports the light "retort-db/config" entry. */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as configEntry from "../../src/config.js";
import * as index from "../../src/index.js";
import { init } from "../../src/runtime/api.js";

describe("retort-db/config", () => {
  it("is what retort init's config imports, and the same defineConfig as the main entry", () => {
    const cwd = mkdtempSync(join(tmpdir(), "retort-init-"));
    expect(init({ cwd }).created).toEqual(["retort.config.ts", "migrations/versions/", ".env.example", ".gitignore"]);
    expect(readFileSync(join(cwd, "retort.config.ts"), "utf8")).toContain('import { defineConfig } from "retort-db/config";');
    const { exports } = JSON.parse(readFileSync("package.json", "utf8")) as { exports: Record<string, { default: string; types: string }> };
    // src/config.ts is built to dist/config.js.
    // "default", not "import": CommonJS apps require() it too (Node >= 20.19 loads ES modules so).
    expect(exports["./config"]).toEqual({ types: "./dist/config.d.ts", default: "./dist/config.js" });
    expect(configEntry.defineConfig).toBe(index.defineConfig);
  });
});
