/** `retort init` prepares a project for git: .retort/ ignored, the database variables documented. */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { init } from "../../src/runtime/api.js";

const project = () => mkdtempSync(join(tmpdir(), "retort-init-"));

describe("retort init", () => {
  it("creates .gitignore with .retort/ and .env.example with every database variable, no secret", () => {
    const cwd = project();
    expect(init({ cwd })).toEqual({ created: ["retort.config.ts", "migrations/versions/", ".env.example", ".gitignore"], updated: [] });
    expect(readFileSync(join(cwd, ".gitignore"), "utf8")).toBe(".retort/\n");
    const example = readFileSync(join(cwd, ".env.example"), "utf8");
    for (const name of ["DATABASE_URL", "DEV_DATABASE_URL", "TEST_DATABASE_URL", "PROD_DATABASE_URL"]) {
      expect(example).toMatch(new RegExp(`^# ${name}=`, "m"));
    }
    // URLs with a user and no password: nothing secret to leak from an example file.
    expect(example).not.toMatch(/:\/\/[^@\s/]+:[^@\s]+@/);
  });

  it("appends .retort/ to an existing .gitignore once, keeping what was there", () => {
    const cwd = project();
    writeFileSync(join(cwd, ".gitignore"), "node_modules\ndist");
    expect(init({ cwd }).updated).toEqual([".gitignore"]);
    expect(readFileSync(join(cwd, ".gitignore"), "utf8")).toBe("node_modules\ndist\n.retort/\n");
    expect(init({ cwd })).toEqual({ created: [], updated: [] });
    expect(readFileSync(join(cwd, ".gitignore"), "utf8")).toBe("node_modules\ndist\n.retort/\n");
  });

  it("leaves a .gitignore that already ignores /.retort alone, and never overwrites .env.example", () => {
    const cwd = project();
    writeFileSync(join(cwd, ".gitignore"), "/.retort\n");
    writeFileSync(join(cwd, ".env.example"), "MINE=1\n");
    expect(init({ cwd })).toEqual({ created: ["retort.config.ts", "migrations/versions/"], updated: [] });
    expect(readFileSync(join(cwd, ".gitignore"), "utf8")).toBe("/.retort\n");
    expect(readFileSync(join(cwd, ".env.example"), "utf8")).toBe("MINE=1\n");
  });
});
