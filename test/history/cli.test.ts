/** The history commands through the `retort` CLI: output, --json and exit codes. */
import { execFile } from "node:child_process";
import { appendFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { upgrade } from "../../src/index.js";
import { createProject, sqliteFileUrl } from "../runtime/project.js";

const exec = promisify(execFile);

async function retort(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  // The project's own database, as on a developer's machine (vitest sets NODE_ENV=test, and CI a TEST_DATABASE_URL).
  return exec("node_modules/.bin/tsx", ["src/cli/main.ts", ...args], { timeout: 120_000, env: { ...process.env, RETORT_ENV: "development" } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (f: { code: number; stdout: string; stderr: string }) => f,
  );
}

describe("retort test-migrations / verify / rehash (CLI)", () => {
  it("reports the stairway, then verify fails on an edited file until rehash accepts it", async () => {
    const project = createProject({});
    const models = join(project.root, "models.ts");
    writeFileSync(models, `import { t, table } from ${JSON.stringify(join(process.cwd(), "src/index.ts"))};\nexport const users = table("users", { id: t.integer().primaryKey(), name: t.text() });\n`);
    const first = project.add({ id: "cli000000001", message: "users", up: `op.createTable("users", { id: t.integer().primaryKey(), name: t.text() });`, down: `op.dropTable("users");` });
    const url = sqliteFileUrl();
    const config = join(project.root, "retort.config.mjs");
    writeFileSync(config, `export default ${JSON.stringify({ ...project.config.config, models, url })};\n`);

    const stair = await retort(["--config", config, "test-migrations"]);
    expect(stair.stderr).toBe("");
    expect(stair.code).toBe(0);
    expect(stair.stdout).toContain("[1/1] cli000000001 users: up, down, up ok");
    expect(stair.stdout).toContain("1 revision(s) passed the stairway on throwaway SQLite file");
    expect(stair.stdout).toContain("models match head");

    await upgrade("head", { config: project.config, url });
    appendFileSync(first, "// edited after it ran\n");
    const failed = await retort(["--config", config, "--json", "verify"]);
    expect(failed.code).toBe(1);
    expect(JSON.parse(failed.stdout)).toMatchObject({ ok: false, problems: [{ revision: "cli000000001", problem: "changed" }] });
    expect(JSON.parse(failed.stderr).error.code).toBe("RETORT_MODIFIED_MIGRATION");

    const rehashed = await retort(["--config", config, "rehash", "cli000000001", "--reason", "comment only"]);
    expect(rehashed.code).toBe(0);
    expect(rehashed.stdout).toMatch(/cli000000001 \(.*\) rehashed on sqlite:.* by .+: comment only/);
    expect((await retort(["--config", config, "verify"])).code).toBe(0);
  }, 180_000);
});
