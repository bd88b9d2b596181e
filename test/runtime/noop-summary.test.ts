/**
 * `current` and a no-op `upgrade` answer from the header cache's graph summary when no migration
 * file changed (src/script/folder-graph.ts): no graph is built. The summary is only trusted with
 * the database's checksum list agreeing, so what the database says always wins. A marker put into
 * the cached summary shows which path answered. A stamped database, whose history holds no
 * checksums, is settled by the summary too once the graph found it in agreement.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { current, downgrade, stamp, upgrade } from "../../src/index.js";
import { HISTORY_TABLE } from "../../src/runtime/version-table.js";
import { postgresUp } from "../operations/support.js";
import { createTempDatabase, type TempDatabase } from "../support/postgres.js";
import { renderMigration } from "../../src/script/index.js";
import { createProject, failure, query, SOURCE_INDEX, sqliteFileUrl, type Project } from "./project.js";

const MARKER = "(from the cached summary)";

/** Trust the cache (as if written long after the files) and mark its summary's head message. */
function ageAndMarkSummary(project: Project): void {
  const folder = join(project.root, ".retort", "cache");
  const file = join(folder, readdirSync(folder).find((name) => name.startsWith("headers-"))!);
  const [index, columns] = readFileSync(file, "utf8").split("\n");
  const parsed = JSON.parse(index!) as { writtenAt: number; summary: { heads: Array<{ message: string }> } | null };
  expect(parsed.summary).not.toBeNull();
  parsed.writtenAt = Date.now() + 60_000;
  for (const head of parsed.summary!.heads) head.message = MARKER;
  writeFileSync(file, `${JSON.stringify(parsed)}\n${columns}`);
}

const temps: TempDatabase[] = [];
afterAll(async () => {
  for (const temp of temps) await temp.drop();
});

const backends = [
  { name: "sqlite", available: true, url: async () => sqliteFileUrl() },
  { name: "pglite", available: true, url: async () => `pglite:${join(createProject().root, "db")}` },
  {
    name: "postgres",
    available: postgresUp,
    url: async () => {
      const temp = await createTempDatabase("retort_noop");
      temps.push(temp);
      return temp.url;
    },
  },
] as const;

describe("no-op commands answered from the cached graph summary", () => {
  for (const backend of backends) {
    it.skipIf(!backend.available)(`agrees with the database, and falls back to the graph on any difference (${backend.name})`, async () => {
      const project = createProject();
      // Ids whose byte order differs from a natural-language collation's ("B" < "a" in bytes).
      project.add({ id: "a00000000001", message: "first", up: `op.createTable("items", { id: t.integer().primaryKey() });`, down: `op.dropTable("items");` });
      project.add({ id: "B00000000002", parents: ["a00000000001"], message: "second", up: `op.execute("INSERT INTO items VALUES (1)");`, down: `op.execute("DELETE FROM items");` });
      project.add({ id: "c00000000003", parents: ["B00000000002"], message: "third", up: `op.execute("INSERT INTO items VALUES (2)");`, down: `op.execute("DELETE FROM items WHERE id = 2");` });
      const url = await backend.url();
      const options = { config: project.config, url };
      expect((await upgrade("head", options)).revisions).toHaveLength(3);
      if (backend.name === "postgres") {
        // A database whose default collation is not byte order: the history is still compared in byte order.
        await query(url, `ALTER TABLE ${HISTORY_TABLE} ALTER COLUMN revision TYPE VARCHAR(64) COLLATE "en-x-icu"`);
      }

      ageAndMarkSummary(project);
      expect(await current(options)).toMatchObject({ heads: [{ revision: "c00000000003", message: MARKER, isHead: true }], inProgress: [], modified: [] });
      expect(await upgrade("head", options)).toMatchObject({ from: ["c00000000003"], to: ["c00000000003"], revisions: [] });

      // The database recorded another checksum for an applied revision: the full path names it.
      const { checksum } = (await query(url, `SELECT checksum FROM ${HISTORY_TABLE} WHERE revision = 'B00000000002'`))[0] as { checksum: string };
      await query(url, `UPDATE ${HISTORY_TABLE} SET checksum = 'edited' WHERE revision = 'B00000000002'`);
      const warnings: string[] = [];
      const edited = await current({ ...options, onWarning: (message) => warnings.push(message) });
      expect(edited.heads).toEqual([{ revision: "c00000000003", message: "third", isHead: true }]);
      expect(edited.modified).toEqual([{ revision: "B00000000002", file: expect.stringContaining("second") }]);
      expect(warnings.join("\n")).toContain("B00000000002");
      expect((await failure(upgrade("head", options))).code).toBe("RETORT_MODIFIED_MIGRATION");
      await query(url, `UPDATE ${HISTORY_TABLE} SET checksum = '${checksum}' WHERE revision = 'B00000000002'`);

      // Behind the heads: the summary does not settle it; upgrade runs what is pending.
      await downgrade("-1", options);
      expect((await current(options)).heads).toEqual([{ revision: "B00000000002", message: "second", isHead: false }]);
      expect((await upgrade("head", options)).revisions).toEqual([{ revision: "c00000000003", message: "third" }]);
      expect(await query(url, "SELECT id FROM items ORDER BY id")).toEqual([{ id: 1 }, { id: 2 }]);

      // A new file: the folder changed, so the summary is not used (and a pending revision is found).
      ageAndMarkSummary(project);
      project.add({ id: "d00000000004", parents: ["c00000000003"], message: "fourth", up: `op.execute("INSERT INTO items VALUES (4)");` });
      expect((await current(options)).heads).toEqual([{ revision: "c00000000003", message: "third", isHead: false }]);
      expect((await upgrade("head", options)).revisions).toEqual([{ revision: "d00000000004", message: "fourth" }]);

      // A broken file is reported before anything runs, even right after a cached no-op.
      ageAndMarkSummary(project);
      expect((await current(options)).heads[0]!.message).toBe(MARKER);
      const broken = project.add({ id: "e00000000005", parents: ["missing00001"], message: "fifth", up: "" });
      expect((await failure(upgrade("head", options))).code).toBe("RETORT_MISSING_PARENT");
      expect((await failure(current(options))).code).toBe("RETORT_MISSING_PARENT");
      // Nor is anything created in a database the broken folder is pointed at.
      rmSync(broken);
      await current(options); // the graph again, and its summary in the cache
      ageAndMarkSummary(project);
      expect((await current(options)).heads[0]!.message).toBe(MARKER);
      writeFileSync(broken, renderMigration({ revision: "e00000000005", parents: ["missing00001"], message: "fifth", createdAt: new Date(), upgradeBody: "", downgradeBody: "", moduleSpecifier: SOURCE_INDEX }));
      const fresh = await backend.url();
      expect((await failure(upgrade("head", { config: project.config, url: fresh }))).code).toBe("RETORT_MISSING_PARENT");
      if (backend.name === "postgres") expect(await query(fresh, `SELECT to_regclass('${HISTORY_TABLE}') AS found`)).toEqual([{ found: null }]);
      else expect(existsSync(fresh.replace(/^\w+:/, ""))).toBe(false);
      rmSync(broken);
      expect((await upgrade("head", options)).revisions).toEqual([]);
    }, 120_000);
  }

  for (const backend of backends) {
    it.skipIf(!backend.available)(`settles a stamped database from the summary once the graph found it in agreement (${backend.name})`, async () => {
      const project = createProject();
      project.add({ id: "a00000000001", message: "first", up: `op.createTable("items", { id: t.integer().primaryKey() });`, down: `op.dropTable("items");` });
      project.add({ id: "B00000000002", parents: ["a00000000001"], message: "second", up: `op.execute("SELECT 1");` });
      const url = await backend.url();
      const options = { config: project.config, url };
      await stamp("head", options);
      expect(Number((await query(url, `SELECT count(*) AS n FROM ${HISTORY_TABLE}`))[0]!.n)).toBe(0);

      // Its history records no checksum, so its list is not every file's: the graph answers first…
      ageAndMarkSummary(project);
      expect((await current(options)).heads).toEqual([{ revision: "B00000000002", message: "second", isHead: true }]);
      // …and remembers the database as agreeing: then the summary answers, for upgrade too (which
      // would otherwise rebuild the graph and write its messages back over the marker).
      ageAndMarkSummary(project);
      expect((await current(options)).heads).toEqual([{ revision: "B00000000002", message: MARKER, isHead: true }]);
      expect(await upgrade("head", options)).toMatchObject({ from: ["B00000000002"], to: ["B00000000002"], revisions: [] });
      expect((await current(options)).heads[0]!.message).toBe(MARKER);

      // A checksum recorded since (here a different one for an applied revision): the graph again, which names it.
      await query(url, `INSERT INTO ${HISTORY_TABLE} (revision, direction, checksum, started_at, outcome) VALUES ('a00000000001', 'up', 'edited', '2026-01-01T00:00:00Z', 'applied')`);
      const changed = await current(options);
      expect(changed.heads).toEqual([{ revision: "B00000000002", message: "second", isHead: true }]);
      expect(changed.modified).toEqual([{ revision: "a00000000001", file: expect.stringContaining("first") }]);
      expect((await failure(upgrade("head", options))).code).toBe("RETORT_MODIFIED_MIGRATION");
    }, 120_000);
  }
});
