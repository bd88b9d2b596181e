/**
 * backup → restore gives back every row of every table, on Postgres, PGlite and SQLite; the
 * manifest's checksums match a fresh restore (verify passes); a non-empty target is refused
 * unless --clean; the production guard stops a restore into production.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backup, restore, verifyBackup, type BackupResult } from "../../src/backup/commands.js";
import { parseBackupName } from "../../src/backup/names.js";
import { connect } from "../../src/index.js";
import { failure, query } from "../runtime/project.js";
import { HEAD, allRows, backends, backupProject, seed } from "./support.js";

const list = await backends();
const project = backupProject();
afterAll(async () => {
  for (const b of list) await b.cleanup();
});

describe.each(list.map((b) => [b.name, b] as const))("%s", (name, backend) => {
  let source: string;
  let out: string;
  let taken: BackupResult;
  let target: string;
  const progress: string[] = [];
  const restoreInto = (url: string, extra: { clean?: boolean; environment?: string } = {}) =>
    restore({ source: taken.file!, url, root: project.root, environment: "development", config: project.config, ...extra });

  beforeAll(async () => {
    source = await backend.fresh();
    await seed(project, source, 60);
    out = mkdtempSync(join(tmpdir(), "retort-backups-"));
    taken = await backup({ url: source, out, root: project.root, onProgress: (line) => progress.push(line) });
  });

  it("names the file after the database, revision and UTC time, with the manifest beside it", () => {
    const parsed = parseBackupName(taken.manifest.file)!;
    expect(parsed.revision).toBe(HEAD);
    expect(Math.abs(parsed.takenAt.getTime() - Date.now())).toBeLessThan(300_000);
    expect(readdirSync(out).sort()).toEqual([taken.manifest.file, `${taken.manifest.file}.manifest.json`].sort());
    const manifest = JSON.parse(readFileSync(join(out, `${taken.manifest.file}.manifest.json`), "utf8"));
    expect(manifest).toMatchObject({ dialect: name, revision: [HEAD], size: statSync(taken.file!).size, sha256: expect.stringMatching(/^[0-9a-f]{64}$/), durationMs: expect.any(Number) });
    const tables = Object.fromEntries((manifest.tables as Array<{ table: string; rows: number }>).map((t) => [t.table.replace(/^public\./, ""), t.rows]));
    expect(tables).toEqual({ users: 60, events: 60, retort_version: 1, retort_migrations: 2 });
    // What a terminal shows for a large database (the CLI prints these on stderr after a second).
    expect(progress).toContain(`checksums: table 4/4 ${name === "sqlite" ? "users" : "public.users"}`);
  });

  // The naming and the final rename are the same for every backend; SQLite is the quick one.
  it.runIf(name === "sqlite")("two backups within one second keep two files; one at the same millisecond is refused and replaces nothing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "retort-backups-same-second-"));
    const first = await backup({ url: source, out: dir, root: project.root, now: new Date("2026-12-03T10:24:34.100Z") });
    const second = await backup({ url: source, out: dir, root: project.root, now: new Date("2026-12-03T10:24:34.900Z") });
    expect(first.manifest.file).not.toBe(second.manifest.file);
    expect(readdirSync(dir).sort()).toEqual([first.manifest.file, `${first.manifest.file}.manifest.json`, second.manifest.file, `${second.manifest.file}.manifest.json`].sort());
    expect(parseBackupName(second.manifest.file)!.takenAt.toISOString()).toBe("2026-12-03T10:24:34.900Z");
    const manifestBefore = readFileSync(join(dir, `${first.manifest.file}.manifest.json`), "utf8");
    const again = await failure(backup({ url: source, out: dir, root: project.root, now: new Date("2026-12-03T10:24:34.100Z") }));
    expect(again.code).toBe("RETORT_FILE_EXISTS");
    expect(readdirSync(dir)).toHaveLength(4); // no .partial left behind
    expect(readFileSync(join(dir, `${first.manifest.file}.manifest.json`), "utf8")).toBe(manifestBefore);
  });

  it("restores every row of every table, and the restore drill passes", async () => {
    target = await backend.fresh();
    const restored = await restoreInto(target);
    expect(restored.revision).toEqual([HEAD]);
    const [before, after] = [await allRows(source), await allRows(target)];
    expect(Object.keys(after).sort()).toEqual(["events", "retort_migrations", "retort_version", "users"]);
    expect(after.users).toHaveLength(60);
    expect(after).toEqual(before);

    const verdict = await verifyBackup({ source: "latest", location: out, root: project.root, config: project.config, ...(name === "postgres" ? { url: source } : {}) });
    expect(verdict.checks.filter((c) => !c.ok)).toEqual([]);
    expect(verdict.ok).toBe(true);
    expect(verdict.checks.map((c) => c.check)).toEqual(["file", "restore", "tables", "revision", "drift"]);
    expect(verdict.checks.some((c) => c.skipped)).toBe(false);
  });

  it("refuses a non-empty target unless --clean, then replaces its contents", async () => {
    await query(target, "UPDATE users SET name = 'only in the target'");
    const refused = await failure(restoreInto(target));
    expect(refused.code).toBe("RETORT_RESTORE_REFUSED");
    expect(refused.message).toContain("is not empty");
    expect(refused.hint).toContain("--clean");
    expect((await query(target, "SELECT DISTINCT name FROM users")).map((r) => r.name)).toEqual(["only in the target"]); // untouched

    await restoreInto(target, { clean: true });
    expect(await allRows(target)).toEqual(await allRows(source));
  });

  it.runIf(name === "postgres")("--clean drops the schemas and tables the backup does not have", async () => {
    const other = await backend.fresh();
    await query(other, "CREATE SCHEMA app; CREATE TABLE app.stale (id integer); CREATE TABLE public.stale (id integer)");
    await restoreInto(other, { clean: true });
    expect(await query(other, "SELECT nspname FROM pg_namespace WHERE nspname = 'app'")).toEqual([]);
    expect(Object.keys(await allRows(other)).sort()).toEqual(["events", "retort_migrations", "retort_version", "users"]);
    expect(await allRows(other)).toEqual(await allRows(source));
  });

  it.runIf(name === "pglite")("waits for, then names, a process that has the PGlite directory open", async () => {
    const open = await connect(source);
    try {
      const busy = await failure(backup({ url: source, out: mkdtempSync(join(tmpdir(), "retort-busy-")), root: project.root }));
      expect(busy.code).toBe("RETORT_DATABASE_BUSY");
      expect(busy.message).toMatch(/is open in another process: pid \d+ .*; waited 5(\.\d)? s/);
    } finally {
      await open.close();
    }
  });

  it("refuses to restore into production, by environment and by URL", async () => {
    const fresh = await backend.fresh();
    const byEnv = await failure(restoreInto(fresh, { environment: "production" }));
    expect(byEnv.code).toBe("RETORT_PRODUCTION_GUARD");
    expect(byEnv.message).toContain("retort restore refuses to run against production");
    process.env.PROD_DATABASE_URL = fresh;
    try {
      const byUrl = await failure(restoreInto(fresh, { environment: "staging" }));
      expect(byUrl.code).toBe("RETORT_PRODUCTION_GUARD");
      expect(byUrl.message).toContain("its URL is the production database's");
    } finally {
      delete process.env.PROD_DATABASE_URL;
    }
    if (name !== "postgres") expect(existsSync(fresh.replace(/^\w+:/, ""))).toBe(false); // nothing was created
  });
});
