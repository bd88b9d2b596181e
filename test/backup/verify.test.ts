/**
 * The restore drill catches what it is for: a truncated file, a corrupted file, a table missing
 * from the backup, a row that changed. Each case restores for real into a scratch database
 * (dropped after) and must end with a failing verdict naming the difference.
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backup, restore, verifyBackup, type BackupResult } from "../../src/backup/commands.js";
import { fileDigest } from "../../src/backup/manifest.js";
import { createProject, query } from "../runtime/project.js";
import { serverUrl } from "../support/postgres.js";
import { backends, backupProject, seed, type Backend } from "./support.js";

const list = await backends();
const project = backupProject();
afterAll(async () => {
  for (const b of list) await b.cleanup();
});

/** The backup's file and manifest copied into a folder of their own, so one case cannot spoil another. */
function copyOf(taken: BackupResult): { dir: string; file: string; manifestFile: string } {
  const dir = mkdtempSync(join(tmpdir(), "retort-verify-case-"));
  const file = join(dir, taken.manifest.file);
  copyFileSync(taken.file!, file);
  copyFileSync(`${taken.file!}.manifest.json`, `${file}.manifest.json`);
  return { dir, file, manifestFile: `${file}.manifest.json` };
}

/**
 * The manifest of `original` beside the file of `other`, with the file's size and sha256 made to
 * match: only the restored data can tell them apart (a dump that silently lost data).
 */
async function mismatched(original: BackupResult, other: BackupResult): Promise<string> {
  const { file, manifestFile } = copyOf(original);
  copyFileSync(other.file!, file);
  const manifest = JSON.parse(readFileSync(manifestFile, "utf8"));
  Object.assign(manifest, await fileDigest(file));
  writeFileSync(manifestFile, JSON.stringify(manifest));
  return file;
}

async function scratchDatabases(): Promise<string[]> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return (await client.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE 'retort_verify_%'")).rows.map((r) => r.datname);
  } finally {
    await client.end();
  }
}

describe.each(list.map((b) => [b.name, b] as const))("%s", (name, backend: Backend) => {
  let source: string;
  let good: BackupResult;
  const verify = (file: string) => verifyBackup({ source: file, root: project.root, config: project.config, ...(name === "postgres" ? { url: serverUrl } : {}) });

  beforeAll(async () => {
    source = await backend.fresh();
    await seed(project, source, 40);
    good = await backup({ url: source, out: mkdtempSync(join(tmpdir(), "retort-verify-")), root: project.root });
  });

  it("a truncated file: the size and sha256 differ and the restore fails", async () => {
    const { file } = copyOf(good);
    truncateSync(file, Math.floor(good.manifest.size / 2));
    const result = await verify(file);
    expect(result.ok).toBe(false);
    expect(result.checks.find((c) => c.check === "file")).toMatchObject({ ok: false, message: expect.stringContaining("truncated or damaged") });
    expect(result.checks.find((c) => c.check === "restore")).toMatchObject({ ok: false, message: expect.stringContaining("the restore failed") });
    if (name === "postgres") expect(await scratchDatabases()).toEqual([]);
  });

  it("a corrupted file (bytes overwritten in the middle): the verdict fails", async () => {
    const { file } = copyOf(good);
    const bytes = readFileSync(file);
    for (let i = Math.floor(bytes.length / 2); i < Math.floor(bytes.length / 2) + 64 && i < bytes.length; i++) bytes[i] = bytes[i]! ^ 0x5a;
    writeFileSync(file, bytes);
    const result = await verify(file);
    expect(result.ok).toBe(false);
    expect(result.checks.find((c) => c.check === "file")?.ok).toBe(false);
    // A compressed archive cannot be read past the damage; a SQLite file damaged in a page's
    // free space restores the same rows, and the sha256 alone catches it.
    if (name !== "sqlite") expect(result.checks.find((c) => c.check === "restore")?.ok).toBe(false);
  });

  it("a changed row: the table's checksum differs, its row count does not", async () => {
    await query(source, "UPDATE users SET name = 'changed after the backup' WHERE score = '125.00'");
    const changed = await backup({ url: source, out: mkdtempSync(join(tmpdir(), "retort-verify-")), root: project.root });
    await query(source, "UPDATE users SET name = 'user 10 ' WHERE score = '125.00'"); // as seeded (i = 10)
    const result = await verify(await mismatched(good, changed));
    expect(result.ok).toBe(false);
    expect(result.checks.find((c) => c.check === "file")?.ok).toBe(true);
    expect(result.differences).toEqual([{ table: name === "sqlite" ? "users" : "public.users", kind: "checksum", expected: expect.any(String), actual: expect.any(String) }]);
    expect(result.checks.find((c) => c.check === "tables")?.message).toContain("same row count but different data");
  });

  it("a missing table: named, and drift sees it too", async () => {
    // The same data, restored elsewhere, without the events table, backed up again.
    const target = await backend.fresh();
    await restore({ source: good.file!, url: target, root: project.root, environment: "development", config: project.config });
    await query(target, "DROP TABLE events");
    const lacking = await backup({ url: target, out: mkdtempSync(join(tmpdir(), "retort-verify-")), root: project.root });
    const result = await verify(await mismatched(good, lacking));
    expect(result.ok).toBe(false);
    const prefix = name === "sqlite" ? "" : "public.";
    expect(result.differences).toEqual([{ table: `${prefix}events`, kind: "missing", expected: 40 }]);
    expect(result.checks.find((c) => c.check === "tables")?.message).toBe(`table ${prefix}events is missing from the restore (the manifest has it with 40 rows)`);
    expect(result.checks.find((c) => c.check === "drift")).toMatchObject({ ok: false, message: expect.stringContaining("events") });
    if (name === "postgres") expect(await scratchDatabases()).toEqual([]);
  });

  it.runIf(name === "sqlite")("a revision this checkout's migrations do not define fails the revision check", async () => {
    const elsewhere = createProject(); // a checkout without these migrations
    const result = await verifyBackup({ source: copyOf(good).file, root: elsewhere.root, config: elsewhere.config });
    expect(result.ok).toBe(false);
    expect(result.checks.find((c) => c.check === "tables")?.ok).toBe(true);
    expect(result.checks.find((c) => c.check === "revision")).toMatchObject({ ok: false, message: "at bk0000000002, which this checkout's migrations do not define (bk0000000002)" });
  });

  it("the untouched backup passes", async () => {
    const result = await verify(copyOf(good).file);
    expect(result.checks.filter((c) => !c.ok)).toEqual([]);
    // The scratch database is gone: the temp folder, or the server's database.
    if (name === "postgres") expect(await scratchDatabases()).toEqual([]);
    else expect(existsSync(dirname(result.scratch.replace(/^\w+:/, "")))).toBe(false);
  });
});
