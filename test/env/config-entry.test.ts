/** `retort init` writes a config that imports the light "retort/config" entry. */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as configEntry from "../../src/config.js";
import * as index from "../../src/index.js";
import { init } from "../../src/runtime/api.js";

describe("retort/config", () => {
  it("is what retort init's config imports, and the same defineConfig as the main entry", () => {
    const cwd = mkdtempSync(join(tmpdir(), "retort-init-"));
    expect(init({ cwd }).created).toEqual(["retort.config.ts", "migrations/versions/"]);
    expect(readFileSync(join(cwd, "retort.config.ts"), "utf8")).toContain('import { defineConfig } from "retort/config";');
    const { exports } = JSON.parse(readFileSync("package.json", "utf8")) as { exports: Record<string, { import: string; types: string }> };
    // src/config.ts is built to dist/config.js.
    expect(exports["./config"]).toEqual({ types: "./dist/config.d.ts", import: "./dist/config.js" });
    expect(configEntry.defineConfig).toBe(index.defineConfig);
  });
});
