/**
 * `npx retort-db init` in an empty folder, then `retort revision` / `upgrade`: the project has not
 * installed retort-db, so the imports of retort-db in its config and migrations resolve to the
 * running CLI (here from source; test/packaging/packed.test.ts does it from the npm tarball).
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const exec = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "../..");
const TSX = join(ROOT, "node_modules", ".bin", "tsx");
const CLI = join(ROOT, "src", "cli", "main.ts");

async function retort(cwd: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(TSX, [CLI, ...args], { cwd, timeout: 120_000, env: { ...process.env, NO_COLOR: "1" } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function migration(imports: string, id: string, parents: string[]): string {
  return `${imports}

export default defineMigration({
  revision: "${id}",
  parents: ${JSON.stringify(parents)},
  message: "${id}",
  createdAt: "2026-01-01T00:00:00.000Z",
  async upgrade(op) {
    op.createTable("t_${id}", { id: t.integer().primaryKey() });
  },
  async downgrade(op) {
    op.dropTable("t_${id}");
  },
});
`;
}

describe("imports of retort-db in a project without it", () => {
  it("resolve to the running Retort in TypeScript and JavaScript migrations and the config", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "retort-self-"));
    expect((await retort(cwd, "init")).code).toBe(0);
    expect(readFileSync(join(cwd, "retort.config.ts"), "utf8")).toContain('from "retort-db/config"');
    const dir = join(cwd, "migrations", "versions");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "20260101000000_a.ts"), migration('import { defineMigration, t } from "retort-db";', "00000000000a", []));
    // JavaScript goes to Node first, which cannot find retort-db: the compiler resolves it to us.
    writeFileSync(join(dir, "20260101000001_b.mjs"), migration('import { defineMigration, t } from "retort-db";', "00000000000b", ["00000000000a"]));
    const sql = await retort(cwd, "upgrade", "base:head", "--sql", "--dialect", "sqlite");
    expect(sql.stderr).not.toContain("Cannot find");
    expect(sql.code).toBe(0);
    expect(sql.stdout).toContain('CREATE TABLE "t_00000000000a"');
    expect(sql.stdout).toContain('CREATE TABLE "t_00000000000b"');
    const revision = await retort(cwd, "revision", "-m", "third");
    expect(revision.code, revision.stderr).toBe(0);
    const upgraded = await retort(cwd, "upgrade", "--url", "sqlite::memory:");
    expect(upgraded.code, upgraded.stderr).toBe(0);
    expect(upgraded.stdout).toMatch(/upgraded 3 revision\(s\) on sqlite::memory:: base -> [0-9a-f]{12}/);
  });

  it("the old bare name \"retort\" is not resolved to us: it is another npm package", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "retort-self-"));
    const dir = join(cwd, "migrations", "versions");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(cwd, "retort.config.ts"), `export default { migrations: { directory: "migrations/versions" } };\n`);
    writeFileSync(join(dir, "20260101000000_a.ts"), migration('import { defineMigration, t } from "retort";', "00000000000a", []));
    const sql = await retort(cwd, "upgrade", "base:head", "--sql", "--dialect", "sqlite");
    expect(sql.code).toBe(1);
    expect(sql.stderr).toContain('Could not resolve "retort" (Retort\'s npm package is "retort-db": import from "retort-db", "retort-db/config" or "retort-db/testing")');
  });
});
