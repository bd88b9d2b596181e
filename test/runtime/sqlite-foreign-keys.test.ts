/**
 * SQLite foreign keys are off only around a revision that rebuilds a table: the other revisions of
 * the same run cascade as declared, and a revision (or a one-transaction run) that ran with them
 * off is checked as a whole before it commits.
 */
import { describe, expect, it } from "vitest";
import { current, isRetortError, upgrade, type CommandOptions } from "../../src/index.js";
import { type Project, createProject, query, sqliteFileUrl } from "./project.js";

const SETUP = [
  `op.createTable("parents", { id: t.integer().primaryKey(), name: t.varchar(50) });`,
  `op.createTable("children", { id: t.integer().primaryKey(), parent_id: t.integer().references("parents.id", { onDelete: "cascade" }) });`,
  `op.execute("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30) INSERT INTO parents SELECT i, 'p' || i FROM n");`,
  `op.execute("INSERT INTO children SELECT id * 2 - 1, id FROM parents UNION ALL SELECT id * 2, id FROM parents");`,
].join("\n");
const REBUILD = `op.alterColumn("parents", "name", { nullable: true });`;
const DELETE = `op.execute("DELETE FROM parents WHERE id <= 10");`;

function chain(project: Project, bodies: string[]): void {
  let parents: string[] = [];
  for (const [i, up] of bodies.entries()) {
    const id = `fkey0000000${i + 1}`;
    project.add({ id, parents, message: `step ${i + 1}`, up });
    parents = [id];
  }
}

async function state(url: string) {
  return {
    heads: (await query(url, "SELECT version_num FROM retort_version")).map((row) => row.version_num),
    parents: (await query(url, "SELECT count(*) AS n FROM parents"))[0]!.n,
    children: (await query(url, "SELECT count(*) AS n FROM children"))[0]!.n,
    orphans: (await query(url, "SELECT count(*) AS n FROM pragma_foreign_key_check"))[0]!.n,
  };
}

describe("SQLite foreign keys during a run with a table rebuild", () => {
  it("[setup, rebuild, DELETE] in one run: the DELETE after the rebuild cascades", async () => {
    const project = createProject();
    chain(project, [SETUP, REBUILD, DELETE]);
    const url = sqliteFileUrl();
    await upgrade("head", { config: project.config, url });
    expect(await state(url)).toEqual({ heads: ["fkey00000003"], parents: 20, children: 40, orphans: 0 });
  });

  it("[setup, DELETE, rebuild] in one run: the DELETE before the rebuild cascades, and the run reaches head", async () => {
    const project = createProject();
    chain(project, [SETUP, DELETE, REBUILD]);
    const url = sqliteFileUrl();
    await upgrade("head", { config: project.config, url });
    expect(await state(url)).toEqual({ heads: ["fkey00000003"], parents: 20, children: 40, orphans: 0 });
    expect((await query(url, "PRAGMA integrity_check"))[0]).toEqual({ integrity_check: "ok" });
  });

  it("a DELETE in the same revision as a rebuild would orphan rows: the revision fails, names them, commits nothing", async () => {
    const project = createProject();
    chain(project, [SETUP, `${REBUILD}\n${DELETE}`]);
    const url = sqliteFileUrl();
    const options: CommandOptions = { config: project.config, url };
    const error = await upgrade("head", options).catch((e: unknown) => e);
    expect(isRetortError(error, "RETORT_MIGRATION_FAILED")).toBe(true);
    const { message, hint, details } = error as { message: string; hint: string; details: Record<string, unknown> };
    expect(message).toContain("revision fkey00000002 ran with foreign keys off (a SQLite table rebuild) and would leave 20 row(s) with a dangling foreign key: children → parents: 20 row(s) (rowid 1, 2, 3, 4, 5, …)");
    expect(message).toContain("Revision fkey00000002 was rolled back; the database is now at fkey00000001.");
    expect(hint).toContain("put data changes (DELETE/UPDATE of referenced rows) in their own revision");
    expect(details).toMatchObject({ causeCode: "RETORT_FOREIGN_KEY_VIOLATION", currentHeads: ["fkey00000001"] });
    expect(await state(url)).toEqual({ heads: ["fkey00000001"], parents: 30, children: 60, orphans: 0 });
    // Foreign keys are on again for whatever the connection does next.
    expect((await current(options)).heads.map((head) => head.revision)).toEqual(["fkey00000001"]);
  });

  it('transaction "all": foreign keys are off for the run, and the whole database is checked before the one commit', async () => {
    const project = createProject({ transaction: "all" });
    chain(project, [SETUP, REBUILD, DELETE]);
    const url = sqliteFileUrl();
    const error = await upgrade("head", { config: project.config, url }).catch((e: unknown) => e);
    expect(isRetortError(error, "RETORT_FOREIGN_KEY_VIOLATION")).toBe(true);
    expect((error as Error).message).toContain("this run ran with foreign keys off (a SQLite table rebuild) and would leave 20 row(s) with a dangling foreign key");
    expect((error as Error).message).toContain("The whole run was rolled back; the database is still at base (no revision applied).");
    expect((await query(url, "SELECT name FROM sqlite_master WHERE name = 'parents'")).length).toBe(0);

    // The same run without the DELETE commits.
    const clean = createProject({ transaction: "all" });
    chain(clean, [SETUP, REBUILD]);
    await upgrade("head", { config: clean.config, url });
    expect(await state(url)).toEqual({ heads: ["fkey00000002"], parents: 30, children: 60, orphans: 0 });
  });
});
