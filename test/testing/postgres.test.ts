/**
 * Test databases on a Postgres server: a template per fingerprint built once (also by two
 * processes asking at once), cloned per call at the migrations' head; a changed migration, model
 * or seed gives a new template and removes the old; leftovers of a crashed run are removed by the
 * next; keep() leaves a database in place.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createTestDatabase, forgetTemplateSources, prepareTestTemplate } from "../../src/testing/index.js";
import { sweepPostgres } from "../../src/testing/postgres.js";
import { postgresReachable } from "../support/postgres.js";
import { databasesLike, dropTemplates, notesProject, runScript, testServerUrl, TESTING_INDEX } from "./support.js";

const postgresUp = await postgresReachable();

/** Every template this file made, removed at the end (they are keyed by content, not by run). */
const templates = new Set<string>();
afterAll(async () => {
  if (postgresUp) await dropTemplates(templates);
});

describe.skipIf(!postgresUp)("test databases on a Postgres server", () => {
  it("a clone is at the migrations' head, private to its caller, and gone after drop()", async () => {
    const project = notesProject();
    const url = testServerUrl();
    const first = await createTestDatabase({ config: project.config, url });
    const second = await createTestDatabase({ config: project.config, url });
    const prepared = await prepareTestTemplate({ config: project.config, url });
    templates.add(prepared.template);
    expect(prepared.built).toBe(false);
    try {
      expect(first.url).not.toBe(second.url);
      expect(new URL(first.url).pathname).toMatch(/_test$/);
      expect((await first.query("SELECT version_num FROM retort_version")).rows).toEqual([{ version_num: "b2" }]);
      await first.query("INSERT INTO notes (id, body) VALUES (1, 'only in the first')");
      expect((await second.query("SELECT count(*)::int AS n FROM notes")).rows).toEqual([{ n: 0 }]);
    } finally {
      await first.drop();
      await second.drop();
    }
    const stem = new URL(url).pathname.slice(1).replace(/_test$/, "");
    expect(await databasesLike(`${stem}_r`)).toEqual([]);
    // The template stays, marked a template.
    expect(await databasesLike(prepared.template)).toEqual([expect.objectContaining({ name: prepared.template, template: true })]);
  });

  it("two processes asking at once build the template once between them", async () => {
    const project = notesProject();
    const url = testServerUrl();
    // A build that takes 2 s: the second process asks while the first builds, and waits for it.
    writeFileSync(join(project.root, "slow.sql"), "SELECT pg_sleep(2);");
    const script = `
      import { prepareTestTemplate } from ${JSON.stringify(TESTING_INDEX)};
      const result = await prepareTestTemplate({ config: { root: ${JSON.stringify(project.root)}, config: ${JSON.stringify(project.config.config)} }, url: ${JSON.stringify(url)}, seeds: ["slow.sql"] });
      console.log(JSON.stringify(result));
    `;
    const outputs = await Promise.all([runScript(script), runScript(script)]);
    const results = outputs.map((out) => JSON.parse(out.trim().split("\n").at(-1)!) as { template: string; built: boolean });
    templates.add(results[0]!.template);
    expect(results[0]!.template).toBe(results[1]!.template);
    expect(results.map((r) => r.built).sort()).toEqual([false, true]);
    // One template, and no build database left behind.
    expect((await databasesLike(results[0]!.template)).map((d) => d.name)).toEqual([results[0]!.template]);
  });

  it("a changed migration file, model or seed gives a new template; the project's old one is removed", async () => {
    const project = notesProject();
    project.models();
    const url = testServerUrl();
    const seed = join(project.root, "seed.sql");
    writeFileSync(seed, "INSERT INTO tags (id, name) VALUES (1, 'first');");
    const options = { config: project.config, url, seeds: ["seed.sql"] };
    const names: string[] = [];
    const templateNow = async () => {
      forgetTemplateSources();
      const prepared = await prepareTestTemplate(options);
      templates.add(prepared.template);
      names.push(prepared.template);
      expect(prepared.built).toBe(true);
      // Only the newest template of the project is left.
      expect((await databasesLike("retort_tpl_")).map((d) => d.name).filter((name) => names.includes(name))).toEqual([prepared.template]);
    };
    await templateNow();
    const db = await createTestDatabase(options);
    expect((await db.query("SELECT name FROM tags")).rows).toEqual([{ name: "first" }]);
    await db.drop();

    project.add({ id: "c3", parents: ["b2"], message: "archived", up: `op.addColumn("notes", "archived", t.boolean().default(false));`, down: `op.dropColumn("notes", "archived");` });
    await templateNow();
    project.models(", archived: t.boolean().default(false)");
    await templateNow();
    writeFileSync(seed, "INSERT INTO tags (id, name) VALUES (1, 'second');");
    await templateNow();
    const after = await createTestDatabase(options);
    try {
      expect((await after.query("SELECT name FROM tags")).rows).toEqual([{ name: "second" }]);
      expect((await after.query("SELECT archived FROM notes")).rows).toEqual([]);
    } finally {
      await after.drop();
    }
    expect(new Set(names).size).toBe(4);
  });

  it("a crashed run's databases are removed by the next run; a kept one stays", async () => {
    const project = notesProject();
    const url = testServerUrl();
    const stem = new URL(url).pathname.slice(1).replace(/_test$/, "");
    const crashed = await runScript(`
      import { createTestDatabase } from ${JSON.stringify(TESTING_INDEX)};
      const db = await createTestDatabase({ config: { root: ${JSON.stringify(project.root)}, config: ${JSON.stringify(project.config.config)} }, url: ${JSON.stringify(url)} });
      await db.query("SELECT 1");
      console.log(JSON.stringify({ url: db.url }));
      process.exit(0); // no drop(): what a crash leaves
    `);
    const leftover = new URL(JSON.parse(crashed.trim().split("\n").at(-1)!).url).pathname.slice(1);
    expect((await databasesLike(`${stem}_r`)).map((d) => d.name)).toEqual([leftover]);

    // The next run: its first clone removes the dead process's database.
    const kept = await createTestDatabase({ config: project.config, url });
    templates.add((await prepareTestTemplate({ config: project.config, url })).template);
    const keptName = new URL(kept.url).pathname.slice(1);
    expect((await databasesLike(`${stem}_r`)).map((d) => d.name)).toEqual([keptName]);
    // keep(): the database stays, and a later sweep (globalSetup's, say) leaves it alone.
    expect(await kept.keep()).toBe(kept.url);
    expect(await sweepPostgres(url, stem)).toEqual([]);
    expect((await databasesLike(`${stem}_r`)).map((d) => d.name)).toEqual([keptName]);
    // Kept, but a database of its own still: connect to it and see the migrations.
    const { connect } = await import("../../src/index.js");
    const again = await connect(kept.url);
    expect((await again.query("SELECT version_num FROM retort_version")).rows).toEqual([{ version_num: "b2" }]);
    await again.close();
    const { dropDatabase } = await import("../../src/dev/databases.js");
    await dropDatabase(kept.url);
  });
});
