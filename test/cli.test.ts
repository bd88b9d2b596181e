import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { createProject } from "./runtime/project.js";

const exec = promisify(execFile);
const TSX = join("node_modules", ".bin", "tsx");

async function retort(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return retortWith({}, ...args);
}

async function retortWith(env: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(TSX, ["src/cli/main.ts", ...args], { timeout: 60_000, env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe("retort CLI", () => {
  it("sql prints the DDL for a models module without connecting", async () => {
    const { code, stdout } = await retort("sql", "examples/community-bot/schema.ts", "--dialect", "postgres");
    expect(code).toBe(0);
    expect(stdout).toContain(`CREATE TYPE "guild_role" AS ENUM ('owner', 'admin', 'member');`);
    expect(stdout).toContain(`CREATE UNIQUE INDEX "uq_members_guild_id_nickname" ON "members"`);
    expect(stdout).toContain(`USING gin`);
  });

  it("create-all builds the tables on a SQLite file and --json reports them", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "retort-cli-")), "app.db");
    const { code, stdout } = await retort("--json", "create-all", "examples/community-bot/schema.ts", "--url", `sqlite:${file}`);
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as { action: string; tables: string[] };
    expect(result.action).toBe("create");
    expect(result.tables.sort()).toEqual(["guilds", "members", "moderation_cases", "reminders", "snippets", "starboard_entries"]);
    expect((await retort("ping", "--url", `sqlite:${file}`)).stdout).toMatch(/answers \(sqlite/);
  });

  it("drop-all on a SQLite file that does not exist says so and creates nothing", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "retort-cli-")), "missing.db");
    const { code, stderr } = await retort("drop-all", "examples/community-bot/schema.ts", "--url", `sqlite:${file}`);
    expect(code).toBe(1);
    expect(stderr).toContain("RETORT_DATABASE_NOT_FOUND");
    expect(existsSync(file)).toBe(false);
  });

  it("a bad URL is a user error (exit 1) with the accepted forms and no password", async () => {
    const { code, stderr } = await retort("ping", "--url", "mysql://root:hunter2@db/app");
    expect(code).toBe(1);
    expect(stderr).toContain("RETORT_BAD_URL");
    expect(stderr).toContain("pglite:memory");
    expect(stderr).not.toContain("hunter2");
  });

  it("an unreachable server is exit 1, naming host and port but not the password", async () => {
    const { code, stderr } = await retort("--json", "ping", "--url", "postgres://postgres:s3cret@127.0.0.1:1/app");
    expect(code).toBe(1);
    const error = JSON.parse(stderr).error;
    expect(error.code).toBe("RETORT_CONNECTION_FAILED");
    expect(error.message).toContain("127.0.0.1:1");
    expect(stderr).not.toContain("s3cret");
  });

  // main() registers the migration and schema commands itself and loads the other commands'
  // modules only for a command line naming none of those: each command `--help` lists must
  // still answer, with the program's own options (and their values) before its name.
  it("every command retort --help lists answers its own --help, after global options with values", async () => {
    const help = await retort("--help");
    expect(help.code).toBe(0);
    const names = [...help.stdout.split("Commands:")[1]!.matchAll(/^  ([a-z][a-z-]*)/gm)].map((match) => match[1]!).filter((name) => name !== "help");
    expect(names).toEqual(expect.arrayContaining(["upgrade", "current", "check", "db", "seed", "backup", "lint", "env", "adopt", "release", "rehash"]));
    const failures: string[] = [];
    const queue = [...names];
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
          // The options' values are the names of commands main() registers itself: read as the
          // command, they would leave the others unloaded.
          const { code, stdout } = await retort("--config", "upgrade", "--env", "current", "--quiet", name, "--help");
          if (code !== 0 || !stdout.startsWith(`Usage: retort ${name} `)) failures.push(`${name}: exit ${code}, ${stdout.split("\n")[0]}`);
        }
      }),
    );
    expect(failures).toEqual([]);
  }, 180_000);

  it("usage errors exit 2", async () => {
    expect((await retort("bogus")).code).toBe(2);
    expect((await retort("sql", "x.ts", "--dialect", "oracle")).code).toBe(2);
  });

  it("upgrade prints a progress line per revision (n of m) on stderr, without colours in a pipe even on CI; --quiet prints none", async () => {
    const project = createProject();
    project.add({ id: "prog00000001", message: "first", up: `op.createTable("p1", { id: t.integer().primaryKey() });` });
    project.add({ id: "prog00000002", parents: ["prog00000001"], message: "second", up: `op.createTable("p2", { id: t.integer().primaryKey() });` });
    const config = join(project.root, "retort.config.mjs");
    writeFileSync(config, `export default ${JSON.stringify(project.config.config)};\n`);
    const url = `sqlite:${join(project.root, "app.db")}`;
    const { code, stderr } = await retortWith({ CI: "true" }, "--config", config, "--url", url, "upgrade", "head");
    expect(code).toBe(0);
    expect(stderr.split("\n").filter((line) => line.startsWith("["))).toEqual(["[1/2] upgrade prog00000001 first", "[2/2] upgrade prog00000002 second"]);
    const quiet = await retort("--config", config, "--url", url, "--quiet", "downgrade", "base");
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).not.toContain("[1/2]");
    // FORCE_COLOR asks for them anyway.
    const forced = await retortWith({ FORCE_COLOR: "1" }, "--config", config, "--url", url, "upgrade", "+1");
    expect(forced.stderr).toContain("\x1b[2m[1/1]\x1b[22m upgrade prog00000001");
  });
});
