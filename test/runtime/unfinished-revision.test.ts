/**
 * A revision whose run stopped part-way (steps outside a transaction committed, the rest not)
 * leaves a schema that matches no revision: only that run, resumed, may follow. A downgrade below
 * it, or an upgrade over a half-reverted one, is refused with both ways out; `retort stamp` after
 * a repair by hand settles the unfinished run, so nothing resumes it.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { current, downgrade, stamp, upgrade } from "../../src/index.js";
import { createProject, failure, query, runCli, sqliteFileUrl, type Project } from "./project.js";

function project(): { project: Project; second: string } {
  const project = createProject();
  project.add({ id: "aaaa00000001", message: "guilds", up: `op.createTable("guilds", { id: t.integer().primaryKey() });`, down: `op.dropTable("guilds");` });
  const second = project.add({
    id: "bbbb00000002",
    parents: ["aaaa00000001"],
    message: "no transaction",
    transactional: false,
    up: `op.createTable("a", { id: t.integer().primaryKey() });\nop.execute("INSERT INTO a VALUES (1)");\nop.execute("INSERT INTO missing VALUES (1)");\nop.createTable("b", { id: t.integer().primaryKey() });`,
    down: `op.dropTable("b");\nop.execute("DELETE FROM missing");\nop.dropTable("a");`,
  });
  return { project, second };
}

const tables = async (url: string) => (await query(url, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'retort_%' ORDER BY name")).map((row) => row.name);

describe("a revision left part-way", () => {
  it("refuses a downgrade below a half-applied upgrade, names the revision and its steps; stamp after a repair by hand settles it", async () => {
    const { project: p, second } = project();
    const url = sqliteFileUrl();
    const options = { config: p.config, url };
    expect((await failure(upgrade("head", options))).code).toBe("RETORT_MIGRATION_FAILED");
    expect(await tables(url)).toEqual(["a", "guilds"]);

    for (const target of ["base", "-1"]) {
      const refused = await failure(downgrade(target, options));
      expect(refused.code).toBe("RETORT_UNFINISHED_REVISION");
      expect(refused.message).toContain(`Cannot run \`retort downgrade ${target}\`: the upgrade of bbbb00000002 (`);
      expect(refused.message).toContain("failed part-way, with steps 1..2 of 4 committed");
      expect(refused.hint).toContain("`retort upgrade bbbb00000002` resumes at step 3");
      expect(refused.hint).toContain("`retort stamp aaaa00000001` (its committed steps undone) or `retort stamp bbbb00000002` (the rest done by hand)");
      expect(refused.details.unfinished).toEqual([expect.objectContaining({ revision: "bbbb00000002", direction: "up", stepsDone: 2, totalSteps: 4 })]);
    }
    // Nothing ran: guilds is still there.
    expect(await tables(url)).toEqual(["a", "guilds"]);

    // The CLI says the same, exit 1.
    const config = join(p.root, "retort.config.mjs");
    writeFileSync(config, `export default ${JSON.stringify(p.config.config)};\n`);
    const cli = await runCli(config, ["--url", url, "downgrade", "base"]);
    expect(cli.code).toBe(1);
    expect(cli.err).toContain("RETORT_UNFINISHED_REVISION");

    // Repaired by hand (step 1's table dropped), then said so: the run is settled and downgrade may go on.
    await query(url, "DROP TABLE a");
    const stamped = await runCli(config, ["--url", url, "stamp", "aaaa00000001"]);
    expect(stamped.code).toBe(0);
    expect(stamped.out).toContain("settled the unfinished upgrade of bbbb00000002 (2 of 4 step(s) were committed): it will not resume");
    expect((await current(options)).inProgress).toEqual([]);
    expect((await downgrade("base", options)).to).toEqual([]);
    expect(await tables(url)).toEqual([]);

    // Fixed (a new process loads the edited file), the revision runs from its first step, not
    // resumed at step 3, which would find no table a.
    writeFileSync(second, readFileSync(second, "utf8").replace("INSERT INTO missing VALUES (1)", "INSERT INTO a VALUES (2)"));
    expect((await runCli(config, ["--url", url, "upgrade", "head"])).code).toBe(0);
    expect(await query(url, "SELECT id FROM a ORDER BY id")).toEqual([{ id: 1 }, { id: 2 }]);
  }, 120_000);

  it("refuses an upgrade over a half-reverted downgrade; finishing the downgrade is allowed", async () => {
    const { project: p, second } = project();
    const url = sqliteFileUrl();
    const warn = { ...p.config, config: { migrations: { ...p.config.config.migrations, modifiedMigrations: "warn" as const } } };
    writeFileSync(second, readFileSync(second, "utf8").replace("INSERT INTO missing VALUES (1)", "INSERT INTO a VALUES (2)"));
    await upgrade("head", { config: warn, url });
    expect((await failure(downgrade("-1", { config: warn, url }))).code).toBe("RETORT_MIGRATION_FAILED");
    expect(await tables(url)).toEqual(["a", "guilds"]);

    const refused = await failure(upgrade("head", { config: warn, url }));
    expect(refused.code).toBe("RETORT_UNFINISHED_REVISION");
    expect(refused.message).toContain("the downgrade of bbbb00000002 (");
    expect(refused.message).toContain("with steps 1..1 of 3 committed");
    expect(refused.hint).toContain("`retort downgrade aaaa00000001` resumes at step 2");
    expect((await failure(stamp("zzzz9999", { config: warn, url }))).code).toBe("RETORT_UNKNOWN_REVISION");

    // The downgrade, fixed (in a new process), resumes and finishes; then upgrade runs again.
    writeFileSync(second, readFileSync(second, "utf8").replace("DELETE FROM missing", "DELETE FROM a"));
    const config = join(p.root, "retort.config.mjs");
    writeFileSync(config, `export default ${JSON.stringify(warn.config)};\n`);
    expect((await runCli(config, ["--url", url, "downgrade", "aaaa00000001"])).code).toBe(0);
    expect(await tables(url)).toEqual(["guilds"]);
    expect((await runCli(config, ["--url", url, "upgrade", "head"])).code).toBe(0);
    expect(await tables(url)).toEqual(["a", "b", "guilds"]);
  }, 120_000);
});
