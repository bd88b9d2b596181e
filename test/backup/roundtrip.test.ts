/**
 * backup → restore gives back every row of every table, on Postgres, PGlite and SQLite; the
 * manifest's checksums match a fresh restore (verify passes); a non-empty target is refused
 * unless --clean; the production guard stops a restore into production.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { backup, restore, verifyBackup } from "../../src/backup/commands.js";
import { parseBackupName } from "../../src/backup/names.js";
import { failure, query } from "../runtime/project.js";
import { HEAD, allRows, backends, backupProject, seed } from "./support.js";

const list = await backends();
const project = backupProject();
afterAll(async () => {
  for (const b of list) await b.cleanup();
});

describe.each(list.map((b) => [b.name, b] as const))("%s", (name, backend) => {
  it("backs up, restores every row of every table, and the restore drill passes", async () => {
    const source = await backend.fresh();
    await seed(project, source, 60);
    const out = mkdtempSync(join(tmpdir(), "retort-backups-"));
    const taken = await backup({ url: source, out, root: project.root });

    // The name carries the database, the revision and the UTC time; the manifest is beside it.
    const parsed = parseBackupName(taken.manifest.file)!;
    expect(parsed.revision).toBe(HEAD);
    expect(Math.abs(parsed.takenAt.getTime() - Date.now())).toBeLessThan(120_000);
    expect(readdirSync(out).sort()).toEqual([taken.manifest.file, `${taken.manifest.file}.manifest.json`].sort());
    const manifest = JSON.parse(readFileSync(join(out, `${taken.manifest.file}.manifest.json`), "utf8"));
    expect(manifest).toMatchObject({ dialect: name, revision: [HEAD], size: expect.any(Number), sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const tables = Object.fromEntries((manifest.tables as Array<{ table: string; rows: number }>).map((t) => [t.table.replace(/^public\./, ""), t.rows]));
    expect(tables).toMatchObject({ users: 60, events: 60, retort_version: 1 });

    const target = await backend.fresh();
    const restored = await restore({ source: taken.file!, url: target, root: project.root, environment: "development", config: project.config });
    expect(restored.revision).toEqual([HEAD]);
    const [before, after] = [await allRows(source), await allRows(target)];
    expect(Object.keys(after).sort()).toEqual(expect.arrayContaining(["events", "retort_version", "users"]));
    expect((after.users as unknown[]).length).toBe(60);
    expect(after).toEqual(before);

    const verdict = await verifyBackup({ source: "latest", location: out, root: project.root, config: project.config, ...(name === "postgres" ? { url: source } : {}) });
    expect(verdict.checks.filter((c) => !c.ok)).toEqual([]);
    expect(verdict.ok).toBe(true);
    expect(verdict.checks.map((c) => c.check)).toEqual(["file", "restore", "tables", "revision", "drift"]);
    expect(verdict.checks.find((c) => c.check === "drift")?.skipped).toBeUndefined();
  });

  it("refuses a non-empty target unless --clean, then replaces its contents", async () => {
    const source = await backend.fresh();
    await seed(project, source, 5);
    const out = mkdtempSync(join(tmpdir(), "retort-backups-"));
    const taken = await backup({ url: source, out, root: project.root });

    const target = await backend.fresh();
    await seed(project, target, 9);
    await query(target, "UPDATE users SET name = 'only in the target'");
    const refused = await failure(restore({ source: taken.file!, url: target, root: project.root, environment: "development", config: project.config }));
    expect(refused.code).toBe("RETORT_RESTORE_REFUSED");
    expect(refused.message).toContain("is not empty");
    expect(refused.hint).toContain("--clean");
    expect((await allRows(target)).users).toHaveLength(9); // untouched

    await restore({ source: taken.file!, url: target, clean: true, root: project.root, environment: "development", config: project.config });
    expect(await allRows(target)).toEqual(await allRows(source));
  });

  it("refuses to restore into production, by environment and by URL", async () => {
    const source = await backend.fresh();
    await seed(project, source, 2);
    const out = mkdtempSync(join(tmpdir(), "retort-backups-"));
    const taken = await backup({ url: source, out, root: project.root });
    const target = await backend.fresh();
    const byEnv = await failure(restore({ source: taken.file!, url: target, root: project.root, environment: "production", config: project.config }));
    expect(byEnv.code).toBe("RETORT_PRODUCTION_GUARD");
    expect(byEnv.message).toContain("retort restore refuses to run against production");
    process.env.PROD_DATABASE_URL = target;
    try {
      const byUrl = await failure(restore({ source: taken.file!, url: target, root: project.root, environment: "staging", config: project.config }));
      expect(byUrl.code).toBe("RETORT_PRODUCTION_GUARD");
      expect(byUrl.message).toContain("its URL is the production database's");
    } finally {
      delete process.env.PROD_DATABASE_URL;
    }
    if (name !== "postgres") expect(existsSync(target.replace(/^\w+:/, ""))).toBe(false); // nothing was created
  });
});
