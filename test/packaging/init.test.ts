/** `retort init` prepares a project for git: .retort/ ignored, the database variables documented. */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
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

  it("writes --directory as a string literal that reads back as given; refuses an empty one, and a folder it cannot make, before writing a config", () => {
    for (const directory of ['db/"quoted"', "db\\migrations", "dossier/été"]) {
      const cwd = project();
      init({ cwd, directory });
      const literal = /directory: ("(?:[^"\\]|\\.)*")/.exec(readFileSync(join(cwd, "retort.config.ts"), "utf8"))![1]!;
      expect(JSON.parse(literal)).toBe(directory);
      expect(existsSync(join(cwd, directory))).toBe(true);
    }
    const empty = project();
    expect(() => init({ cwd: empty, directory: " " })).toThrow(/--directory is empty/);
    expect(readdirSync(empty)).toEqual([]);
    const blocked = project();
    writeFileSync(join(blocked, "migrations"), "a file where the folder would go\n");
    expect(() => init({ cwd: blocked })).toThrow();
    expect(readdirSync(blocked)).toEqual(["migrations"]);
  });

  it("keeps a config that is already there (a new retort.config.ts would win over it) and creates its migrations folder", async () => {
    const cwd = project();
    const config = 'export default { migrations: { directory: "db/versions" } };\n';
    writeFileSync(join(cwd, "retort.config.mjs"), config);
    const { stdout } = await promisify(execFile)(resolve("node_modules/.bin/tsx"), [resolve("src/cli/main.ts"), "init"], { cwd });
    expect(stdout.trim()).toBe("created db/versions/, .env.example, .gitignore");
    expect(readFileSync(join(cwd, "retort.config.mjs"), "utf8")).toBe(config);
    expect(existsSync(join(cwd, "retort.config.ts"))).toBe(false);
    expect(readdirSync(cwd).sort()).toEqual([".env.example", ".gitignore", "db", "retort.config.mjs"]);
  });
});
