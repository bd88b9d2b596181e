/** A downgrade that re-adds a dropped column (or table) says, when it runs, that the data is not restored. */
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { downgrade, upgrade } from "../../src/index.js";
import { createProject } from "./project.js";

const exec = promisify(execFile);

function project() {
  const project = createProject();
  project.add({ id: "base00000001", message: "members", up: `op.createTable("members", { id: t.integer().primaryKey(), nickname: t.text().nullable(), xp: t.integer().default(0) });`, down: `op.dropTable("members");` });
  project.add({
    id: "drop00000002",
    parents: ["base00000001"],
    message: "drop nickname and xp",
    up: `op.dropColumn("members", "nickname");\nop.dropColumn("members", "xp");`,
    down: `op.addColumn("members", "nickname", t.text().nullable());\nop.addColumn("members", "xp", t.integer().default(0));`,
  });
  return project;
}

describe("a downgrade that re-adds a dropped column", () => {
  it("warns through onWarning, naming table.column and the revision, once the revision is reverted; upgrades say nothing", async () => {
    const p = project();
    const url = `sqlite:${join(mkdtempSync(join(tmpdir(), "retort-warn-")), "app.db")}`;
    const warnings: string[] = [];
    await upgrade("head", { config: p.config, url, onWarning: (message) => warnings.push(message) });
    expect(warnings).toEqual([]);
    await downgrade("-1", { config: p.config, url, onWarning: (message) => warnings.push(message) });
    expect(warnings).toEqual([
      "downgrade of drop00000002 re-added column members.nickname: its data is not restored (every row has NULL)",
      "downgrade of drop00000002 re-added column members.xp: its data is not restored (every row has the column default)",
    ]);
    await downgrade("base", { config: p.config, url, onWarning: (message) => warnings.push(message) });
    expect(warnings).toHaveLength(2);
  });

  it("the CLI prints it as a warning line", async () => {
    const p = project();
    const url = `sqlite:${join(mkdtempSync(join(tmpdir(), "retort-warn-")), "app.db")}`;
    const config = join(p.root, "retort.config.mjs");
    writeFileSync(config, `export default ${JSON.stringify(p.config.config)};\n`);
    await upgrade("head", { config: p.config, url });
    const { stderr } = await exec("node_modules/.bin/tsx", ["src/cli/main.ts", "--config", config, "--url", url, "--quiet", "downgrade", "-1"], { env: { ...process.env, NO_COLOR: "1" } });
    expect(stderr).toContain("warning downgrade of drop00000002 re-added column members.nickname: its data is not restored (every row has NULL)");
  }, 60_000);
});
