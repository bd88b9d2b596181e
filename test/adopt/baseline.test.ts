/**
 * Taking over a database another tool built: the proof fixture (test/fixtures/adopted/schema.sql)
 * adopted from Alembic; the generated baseline rebuilds the same schema on an empty database
 * (pg_dump --schema-only equal), and its downgrade leaves nothing behind.
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { downgrade, isRetortError, upgrade, type LoadedConfig } from "../../src/index.js";
import { adopt } from "../../src/runtime/adopt.js";
import { baseline } from "../../src/runtime/baseline.js";
import { drift } from "../../src/runtime/schema-commands.js";
import { createTempDatabase, postgresReachable, runSql, schemaDump, type TempDatabase } from "../support/postgres.js";
import { createProject } from "../runtime/project.js";

const postgresUp = await postgresReachable();
const FIXTURE = readFileSync("test/fixtures/adopted/schema.sql", "utf8");

function writeAlembicVersions(dir: string, revisions: Array<[revision: string, down: string | null]>): void {
  mkdirSync(dir, { recursive: true });
  for (const [revision, down] of revisions) {
    writeFileSync(
      join(dir, `${revision}_step.py`),
      `"""step\n\nRevision ID: ${revision}\nRevises: ${down ?? ""}\n"""\nfrom alembic import op\nimport sqlalchemy as sa\n\nrevision = '${revision}'\ndown_revision = ${down ? `'${down}'` : "None"}\nbranch_labels = None\ndepends_on = None\n\n\ndef upgrade():\n    pass\n`,
    );
  }
}

describe.skipIf(!postgresUp)("baseline and adopt on the Postgres server", () => {
  let source: TempDatabase;
  let target: TempDatabase;
  beforeAll(async () => {
    [source, target] = await Promise.all([createTempDatabase("retort_adopt_src"), createTempDatabase("retort_adopt_dst")]);
    await runSql(source.url, FIXTURE);
    // Alembic's own table, exactly as Alembic creates it, at revision b2c3d4e5f6a7.
    await runSql(source.url, "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)); INSERT INTO alembic_version (version_num) VALUES ('b2c3d4e5f6a7')");
  }, 60_000);
  afterAll(async () => {
    await source?.drop();
    await target?.drop();
  });

  it("adopt --from alembic: checks the head, writes the baseline, stamps it; the baseline rebuilds the same schema and its downgrade leaves nothing", async () => {
    const project = createProject();
    const config: LoadedConfig = project.config;
    const alembicDir = join(project.root, "alembic", "versions");

    // Alembic's files have a newer head than the database: refused, nothing written.
    writeAlembicVersions(alembicDir, [["a1b2c3d4e5f6", null], ["b2c3d4e5f6a7", "a1b2c3d4e5f6"], ["c3d4e5f6a7b8", "b2c3d4e5f6a7"]]);
    const behind = await adopt({ from: "alembic", migrationsDir: alembicDir }, { config, url: source.url }).catch((e: unknown) => e);
    expect(isRetortError(behind, "RETORT_ADOPT_REFUSED")).toBe(true);
    expect((behind as Error).message).toBe(`adopt --from alembic: the database is at b2c3d4e5f6a7 but the Alembic head in ${alembicDir} is c3d4e5f6a7b8`);
    expect((behind as { hint: string }).hint).toContain("alembic upgrade head");
    expect(readdirSync(project.dir)).toEqual([]);

    writeAlembicVersions(join(project.root, "alembic2"), [["a1b2c3d4e5f6", null], ["b2c3d4e5f6a7", "a1b2c3d4e5f6"]]);
    const adopted = await adopt({ from: "alembic", migrationsDir: join(project.root, "alembic2"), revId: "0000baseline" }, { config, url: source.url });
    expect(adopted.from).toEqual({ tool: "alembic", table: "alembic_version", at: "b2c3d4e5f6a7", checkedAgainstFiles: true });
    expect(adopted).toMatchObject({ revision: "0000baseline", tables: 5, enums: 2, sequences: 2 });
    const text = readFileSync(join(project.dir, readdirSync(project.dir)[0]!), "utf8");
    expect(text).toContain("baseline: adopted from alembic at b2c3d4e5f6a7");
    expect(text).not.toContain("alembic_version");

    // Stamped, not run; Alembic's table is still there as it was.
    const [version] = await runSql(source.url, "SELECT version_num FROM retort_version");
    expect(version!.rows).toEqual([{ version_num: "0000baseline" }]);
    const [alembicRows] = await runSql(source.url, "SELECT version_num FROM alembic_version");
    expect(alembicRows!.rows).toEqual([{ version_num: "b2c3d4e5f6a7" }]);
    // From now on Retort sees no difference between the database and its (one) revision.
    const drifted = await drift({ config, url: source.url });
    expect(drifted.changes).toEqual([]);

    // A second baseline is refused: the folder has a history now.
    const again = await baseline({ message: "again" }, { config, url: source.url }).catch((e: unknown) => e);
    expect(isRetortError(again, "RETORT_BASELINE_REFUSED")).toBe(true);
    expect((again as Error).message).toContain("already has 1 revision(s) (head 0000baseline)");

    // The revision applied to an empty database gives the same schema, name for name.
    await upgrade("head", { config, url: target.url });
    expect(schemaDump(target.url, ["alembic_version"])).toEqual(schemaDump(source.url, ["alembic_version"]));
    expect((await drift({ config, url: target.url })).changes).toEqual([]);

    // downgrade base leaves nothing: no tables but Retort's, no types, no sequences.
    await downgrade("base", { config, url: target.url });
    const [left] = await runSql(
      target.url,
      `SELECT c.relkind::text AS kind, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND c.relkind IN ('r', 'S', 'p', 'v', 'm') AND c.relname NOT LIKE 'retort\\_%'
       UNION ALL SELECT 't', t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
       WHERE n.nspname = 'public' AND t.typtype IN ('e', 'c', 'd') AND t.typrelid = 0`,
    );
    expect(left!.rows).toEqual([]);
  }, 120_000);

  it("a database already at a Retort revision is not baselined again from another folder", async () => {
    const project = createProject();
    // Stamped by the test above.
    const refused = await baseline({ message: "baseline" }, { config: project.config, url: source.url }).catch((e: unknown) => e);
    expect(isRetortError(refused, "RETORT_BASELINE_REFUSED")).toBe(true);
    expect((refused as Error).message).toContain("already at Retort revision 0000baseline");
    expect(readdirSync(project.dir)).toEqual([]);
  });
});
