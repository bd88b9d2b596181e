/**
 * The backup commands as a user runs them: exit codes, the verdict, refusals, the binaries
 * check, and what never appears in output (a database password, the S3 secret is in s3.test.ts).
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import Sqlite from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { restore } from "../../src/backup/commands.js";
import { findDumpTools } from "../../src/backup/pg-tools.js";
import { listPostgresBinaries } from "../../src/dev/postgres-binaries.js";
import { failure } from "../runtime/project.js";
import { createTempDatabase, postgresReachable, type TempDatabase } from "../support/postgres.js";
import { backupProject, seed } from "./support.js";

const exec = promisify(execFile);
const CLI = resolve("src/cli/main.ts");
const TSX = resolve("node_modules/.bin/tsx");
const postgresUp = await postgresReachable();
const project = backupProject();
const temps: TempDatabase[] = [];
afterAll(async () => {
  for (const t of temps) await t.drop();
});

async function retort(cwd: string, env: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/DATABASE_URL$|^NODE_ENV$|^RETORT_|^AWS_/.test(k)));
  try {
    const { stdout, stderr } = await exec(TSX, [CLI, ...args], { cwd, env: { ...clean, ...env }, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe("retort backup / restore / backup verify", () => {
  it("backs up, refuses a non-empty target, restores with --clean, and fails the drill (exit 1) on a truncated copy", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "retort-backup-cli-"));
    const url = `sqlite:${join(cwd, "app.db")}`;
    await seed(project, url, 5);
    const taken = await retort(cwd, {}, "backup", "--url", url);
    expect(taken.code).toBe(0);
    expect(taken.stdout).toMatch(/backed up app \(sqlite, at bk0000000002\): 4 tables, 13 rows/);
    const [file] = readdirSync(join(cwd, "backups")).filter((f) => f.endsWith(".sqlite"));

    const refused = await retort(cwd, {}, "restore", join("backups", file!), "--url", url);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("RETORT_RESTORE_REFUSED");
    const production = await retort(cwd, {}, "--env", "production", "restore", "latest", "--url", `sqlite:${join(cwd, "new.db")}`);
    expect(production.code).toBe(1);
    expect(production.stderr).toContain("RETORT_PRODUCTION_GUARD: retort restore refuses to run against production");
    const cleaned = await retort(cwd, {}, "restore", "latest", "--url", url, "--clean");
    expect(cleaned.stdout).toContain("(emptied first): at bk0000000002");
    expect(cleaned.code).toBe(0);

    const good = await retort(cwd, {}, "backup", "verify", "latest");
    expect(good.stdout).toContain("verdict: PASS");
    expect(good.code).toBe(0);
    const copy = join(mkdtempSync(join(tmpdir(), "retort-cut-")), file!);
    writeFileSync(copy, readFileSync(join(cwd, "backups", file!)));
    writeFileSync(`${copy}.manifest.json`, readFileSync(join(cwd, "backups", `${file!}.manifest.json`)));
    truncateSync(copy, 4096);
    const bad = await retort(cwd, {}, "backup", "verify", copy);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain("FAIL file");
    expect(bad.stdout).toContain("verdict: FAIL");
  });

  it("refuses to restore over a SQLite file another connection is writing to", async () => {
    const dir = mkdtempSync(join(tmpdir(), "retort-busy-"));
    const source = `sqlite:${join(dir, "a.db")}`;
    const target = `sqlite:${join(dir, "b.db")}`;
    await seed(project, source, 2);
    await seed(project, target, 2);
    const out = join(dir, "backups");
    const { backup } = await import("../../src/backup/commands.js");
    const taken = await backup({ url: source, out, root: project.root });
    const holder = new Sqlite(join(dir, "b.db"));
    holder.exec("BEGIN IMMEDIATE; UPDATE users SET name = 'mid-transaction'");
    try {
      const busy = await failure(restore({ source: taken.file!, url: target, clean: true, root: project.root, environment: "development", config: project.config }));
      expect(busy.code).toBe("RETORT_DATABASE_BUSY");
      expect(busy.message).toContain("is in use by another process");
    } finally {
      holder.exec("ROLLBACK");
      holder.close();
    }
  });
});

describe.runIf(postgresUp)("Postgres", () => {
  it("never prints the database password, nor writes it into the backup or its manifest", async () => {
    const temp = await createTempDatabase("retort_backup_cli");
    temps.push(temp);
    const password = `pw-${Math.random().toString(36).slice(2)}-secret`;
    const url = temp.url.replace("postgres@", `postgres:${password}@`);
    await seed(project, url, 3);
    const cwd = mkdtempSync(join(tmpdir(), "retort-backup-pg-"));
    const runs = [await retort(cwd, {}, "backup", "--url", url), await retort(cwd, {}, "--json", "backup", "--url", url), await retort(cwd, {}, "backup", "verify", "latest", "--url", url)];
    for (const run of runs) {
      expect(run.code).toBe(0);
      expect(run.stdout + run.stderr).not.toContain(password);
    }
    for (const f of readdirSync(join(cwd, "backups"))) expect(readFileSync(join(cwd, "backups", f)).includes(password)).toBe(false);
    expect(runs[2]!.stdout).toContain("verdict: PASS");
  });

  it("says which pg_dump versions exist when none matches the server", () => {
    const installed = listPostgresBinaries(process.cwd(), ["pg_dump", "pg_restore"]);
    expect(installed.length).toBeGreaterThan(0);
    expect(findDumpTools(process.cwd(), installed[0]!.major).bindir).toBe(installed[0]!.bindir);
    let error: unknown;
    try {
      findDumpTools(process.cwd(), 99);
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({
      code: "RETORT_POSTGRES_NOT_FOUND",
      message: expect.stringContaining(`No pg_dump/pg_restore of version 99 (the server's major version) on this machine. Found only: version ${installed[0]!.major} in ${installed[0]!.bindir}`),
      hint: expect.stringContaining("apt install postgresql-client-99"),
    });
  });
});

describe("object storage without the AWS SDK", () => {
  it("names the package and the command that installs it", async () => {
    // A resolve hook makes @aws-sdk/client-s3 missing, as in a project that did not install it.
    const dir = mkdtempSync(join(tmpdir(), "retort-nosdk-"));
    writeFileSync(
      join(dir, "hooks.mjs"),
      `export async function resolve(specifier, context, next) {
        if (specifier === "@aws-sdk/client-s3") { const e = new Error("Cannot find package '@aws-sdk/client-s3' imported from x"); e.code = "ERR_MODULE_NOT_FOUND"; throw e; }
        return next(specifier, context);
      }\n`,
    );
    writeFileSync(join(dir, "register.mjs"), `import { register } from "node:module"; register(${JSON.stringify(`file://${join(dir, "hooks.mjs")}`)});\n`);
    const url = `sqlite:${join(dir, "app.db")}`;
    new Sqlite(join(dir, "app.db")).exec("CREATE TABLE t (id integer primary key)");
    const run = await retort(dir, { NODE_OPTIONS: `--import ${join(dir, "register.mjs")}` }, "backup", "--url", url, "--to", "s3://bucket/x");
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('RETORT_DRIVER_MISSING: An s3:// location needs the "@aws-sdk/client-s3" package, which is not installed.');
    expect(run.stderr).toContain("npm install @aws-sdk/client-s3");
    expect(existsSync(join(dir, "backups"))).toBe(false);
  });

  it("reports an --out path it cannot create as RETORT_FILE_ACCESS, without a stack trace, ends where Node's own mkdir would not, and never overwrites an --out file", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "retort-backup-out-"));
    const url = `sqlite:${join(cwd, "app.db")}`;
    await seed(project, url, 1);
    // A file where a folder should be.
    const underFile = await retort(cwd, {}, "backup", "--url", url, "--out", join(cwd, "app.db", "backups"));
    expect(underFile.code).toBe(1);
    expect(underFile.stderr).toContain(`RETORT_FILE_ACCESS: Cannot create the folder ${join(cwd, "app.db", "backups")}: a part of the path is a file, not a folder (ENOTDIR).`);
    expect(underFile.stderr).not.toMatch(/^\s+at /m);
    // /proc answers ENOENT under a folder that exists, where Node's recursive mkdir retries forever.
    if (existsSync("/proc/self")) {
      const underProc = await retort(cwd, {}, "--json", "backup", "--url", url, "--out", "/proc/retort-no-such/backups");
      expect(underProc.code).toBe(1);
      expect(JSON.parse(underProc.stderr).error).toMatchObject({ code: "RETORT_FILE_ACCESS", path: "/proc/retort-no-such", errno: "ENOENT" });
    }
    // A file named by --out that exists (here the database itself) is never overwritten.
    const before = readFileSync(join(cwd, "app.db"));
    const onItself = await retort(cwd, {}, "backup", "--url", url, "--out", join(cwd, "app.db"));
    expect(onItself.code).toBe(1);
    expect(onItself.stderr).toContain(`RETORT_FILE_EXISTS: ${join(cwd, "app.db")} already exists; retort backup does not overwrite a file named by --out.`);
    expect(readFileSync(join(cwd, "app.db")).equals(before)).toBe(true);
    expect(readdirSync(cwd).sort()).toEqual(["app.db"]);
  });

  it.runIf(existsSync("/proc/self"))("a folder that exists but cannot be written (/proc), for a backup or a restore, and a .env that is a folder, are RETORT_FILE_ACCESS naming the path", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "retort-backup-unwritable-"));
    const url = `sqlite:${join(cwd, "app.db")}`;
    await seed(project, url, 1);
    const backupThere = await retort(cwd, {}, "--json", "backup", "--url", url, "--out", "/proc");
    expect(backupThere.code).toBe(1);
    expect(JSON.parse(backupThere.stderr).error).toMatchObject({ code: "RETORT_FILE_ACCESS", path: expect.stringMatching(/^\/proc\/\.retort-backup-/) });
    const taken = await retort(cwd, {}, "--json", "backup", "--url", url, "--out", join(cwd, "backups"));
    const file = (JSON.parse(taken.stdout) as { file: string }).file;
    const restoreThere = await retort(cwd, {}, "--json", "restore", file, "--url", "sqlite:/proc/retort-restored.db");
    expect(restoreThere.code).toBe(1);
    expect(JSON.parse(restoreThere.stderr).error).toMatchObject({ code: "RETORT_FILE_ACCESS", path: "/proc/retort-restored.db" });
    mkdirSync(join(cwd, ".env"));
    const envFolder = await retort(cwd, {}, "current", "--url", url);
    expect(envFolder.code).toBe(1);
    expect(envFolder.stderr).toContain(`RETORT_FILE_ACCESS: Cannot read ${join(cwd, ".env")}: it is a folder (EISDIR).`);
    expect(envFolder.stderr).not.toMatch(/^\s+at /m);
  });
});
