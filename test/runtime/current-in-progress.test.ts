/** `current` shows a revision whose run stopped part-way, with the steps committed; the rerun resumes after them. */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { connect, current, isRetortError, upgrade } from "../../src/index.js";
import { createProject } from "./project.js";

const exec = promisify(execFile);

describe("a revision without a transaction that fails part-way", () => {
  it("records each committed step, says so truthfully, shows it in `current`, and resumes after it", async () => {
    const project = createProject();
    const file = project.add({
      id: "nont00000001",
      message: "no transaction",
      transactional: false,
      up: `op.createTable("a", { id: t.integer().primaryKey() });\nop.execute("INSERT INTO a VALUES (1)");\nop.execute("INSERT INTO missing VALUES (1)");\nop.createTable("b", { id: t.integer().primaryKey() });`,
    });
    const url = `sqlite:${join(mkdtempSync(join(tmpdir(), "retort-progress-")), "app.db")}`;
    const error = await upgrade("head", { config: project.config, url }).catch((e: unknown) => e);
    expect(isRetortError(error, "RETORT_MIGRATION_FAILED")).toBe(true);
    expect((error as Error).message).toContain("The database is now at base (no revision applied), with steps 1..2 of 4 of revision nont00000001 committed");
    expect((error as { hint: string }).hint).toBe("Steps 1..2 of revision nont00000001 are committed; fix the cause and rerun the same command to resume at step 3.");
    expect((await current({ config: project.config, url })).inProgress).toMatchObject([{ revision: "nont00000001", direction: "up", stepsDone: 2, totalSteps: 4, outcome: "failed" }]);

    const config = join(project.root, "retort.config.mjs");
    writeFileSync(config, `export default ${JSON.stringify(project.config.config)};\n`);
    const { stdout } = await exec("node_modules/.bin/tsx", ["src/cli/main.ts", "--config", config, "--url", url, "current"], { env: { ...process.env, NO_COLOR: "1" } });
    expect(stdout).toMatch(/^failed part-way: upgrade of nont00000001 \(no transaction\), 2 of 4 step\(s\) done, started \S+; fix the cause and run it again: it resumes after the done steps$/m);

    // Fix the cause (a new process loads the edited file); the rerun starts at step 3, so step 2's row is not inserted twice.
    writeFileSync(file, readFileSync(file, "utf8").replace("INSERT INTO missing VALUES (1)", "INSERT INTO a VALUES (2)"));
    writeFileSync(config, `export default ${JSON.stringify({ migrations: { ...project.config.config.migrations, modifiedMigrations: "warn" } })};\n`);
    await exec("node_modules/.bin/tsx", ["src/cli/main.ts", "--config", config, "--url", url, "--quiet", "upgrade", "head"]);
    const db = await connect(url, { schema: {} });
    expect((await db.query("SELECT id FROM a ORDER BY id")).rows).toEqual([{ id: 1 }, { id: 2 }]);
    await db.close();
    expect((await current({ config: project.config, url })).inProgress).toEqual([]);
  }, 60_000);
});
