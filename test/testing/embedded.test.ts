/**
 * PGlite and SQLite test databases: the migrated template is built once into .retort/cache/testing
 * (a PGlite data-directory snapshot, a SQLite file), named by the fingerprint; a changed migration
 * replaces it; SQLite copies a crashed run left are removed by the next run.
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { connect } from "../../src/index.js";
import { createTestDatabase, forgetTemplateSources, prepareTestTemplate } from "../../src/testing/index.js";
import { sqliteCopyFolder, sweepSqliteCopies } from "../../src/testing/embedded.js";
import { notesProject, runScript, TESTING_INDEX } from "./support.js";

const cacheFiles = (root: string) => readdirSync(join(root, ".retort", "cache", "testing")).sort();

for (const url of ["pglite:memory", "sqlite::memory:"]) {
  it(`${url}: the template is built once, a changed migration replaces it`, async () => {
    const project = notesProject();
    const first = await prepareTestTemplate({ config: project.config, url });
    expect(first.built).toBe(true);
    expect(await prepareTestTemplate({ config: project.config, url })).toMatchObject({ built: false, template: first.template });
    const db = await createTestDatabase({ config: project.config, url });
    expect((await db.query("SELECT version_num FROM retort_version")).rows).toEqual([{ version_num: "b2" }]);
    await db.drop();

    project.add({ id: "c3", parents: ["b2"], message: "archived", up: `op.addColumn("notes", "archived", t.boolean().default(false));`, down: `op.dropColumn("notes", "archived");` });
    forgetTemplateSources();
    const second = await prepareTestTemplate({ config: project.config, url });
    expect(second.built).toBe(true);
    expect(second.template).not.toBe(first.template);
    expect(cacheFiles(project.root)).toEqual([second.template.split("/").at(-1)]);
    const after = await createTestDatabase({ config: project.config, url });
    expect((await after.query("SELECT version_num FROM retort_version")).rows).toEqual([{ version_num: "c3" }]);
    await after.drop();
  });
}

it("pglite: keep() writes the database to a folder pglite: opens", async () => {
  const project = notesProject();
  const db = await createTestDatabase({ config: project.config, url: "pglite:memory" });
  await db.query("INSERT INTO notes (id, body) VALUES (1, 'look at me')");
  const kept = await db.keep();
  expect(kept).toBe(`pglite:${join(project.root, ".retort", "kept")}/${kept.split("/").at(-1)}`);
  const again = await connect(kept);
  expect((await again.query("SELECT body FROM notes")).rows).toEqual([{ body: "look at me" }]);
  await again.close();
});

it("sqlite: a crashed run's copy is removed by the next run's sweep; drop() removes its own", async () => {
  const project = notesProject();
  const out = await runScript(`
    import { createTestDatabase } from ${JSON.stringify(TESTING_INDEX)};
    const db = await createTestDatabase({ config: { root: ${JSON.stringify(project.root)}, config: ${JSON.stringify(project.config.config)} }, url: "sqlite::memory:" });
    console.log(JSON.stringify({ url: db.url }));
    process.exit(0);
  `);
  const leftover = (JSON.parse(out.trim().split("\n").at(-1)!) as { url: string }).url.slice("sqlite:".length);
  expect(existsSync(leftover)).toBe(true);
  // The sweep a process's first copy (or prepareTestTemplate) runs; copies of live processes stay.
  expect(sweepSqliteCopies(sqliteCopyFolder())).toContain(leftover.split("/").at(-1));
  expect(existsSync(leftover)).toBe(false);
  const db = await createTestDatabase({ config: project.config, url: "sqlite::memory:" });
  const file = db.url.slice("sqlite:".length);
  expect(existsSync(file)).toBe(true);
  await db.drop();
  expect(existsSync(file)).toBe(false);
});

it("sqlite: two processes asking at once build the template file once between them", async () => {
  const project = notesProject();
  const script = `
    import { prepareTestTemplate } from ${JSON.stringify(TESTING_INDEX)};
    const result = await prepareTestTemplate({ config: { root: ${JSON.stringify(project.root)}, config: ${JSON.stringify(project.config.config)} }, url: "sqlite::memory:" });
    console.log(JSON.stringify(result));
  `;
  const outputs = await Promise.all([runScript(script), runScript(script)]);
  const results = outputs.map((out) => JSON.parse(out.trim().split("\n").at(-1)!) as { template: string; built: boolean });
  expect(results[0]!.template).toBe(results[1]!.template);
  expect(results.map((r) => r.built).sort()).toEqual([false, true]);
  expect(cacheFiles(project.root)).toEqual([results[0]!.template.split("/").at(-1)]);
});
