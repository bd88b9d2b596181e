/**
 * Many processes migrating one database at once, on each backend: every process succeeds (the
 * later ones wait their turn), each revision is applied exactly once, and the database is intact.
 * And read-only commands while a migration runs: `current` takes no lock and shows the run.
 * RETORT_RACE_PROCS sets the number of racing processes (default 8; e.g. 32 for a long run).
 */
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { current, isRetortError, upgrade, type RetortError } from "../../src/index.js";
import { createTempDatabase, postgresReachable } from "../support/postgres.js";
import { type Project, createProject, query } from "./project.js";
import Sqlite from "better-sqlite3";

const PROCS = Number(process.env.RETORT_RACE_PROCS ?? 8);
/** PGlite processes open the directory one after another, seconds each on a loaded machine. */
const RACE_TIMEOUT_MS = Math.max(900_000, PROCS * 40_000);
const postgresUp = await postgresReachable();
const CLI = resolve("src/cli/main.ts");

interface Backend {
  name: string;
  skip?: boolean;
  /** A fresh database URL and how to drop it. */
  create(): Promise<{ url: string; drop(): Promise<void> }>;
}

const backends: Backend[] = [
  { name: "postgres server", skip: !postgresUp, create: () => createTempDatabase() },
  { name: "sqlite file", create: async () => ({ url: `sqlite:${join(mkdtempSync(join(tmpdir(), "retort-race-")), "app.db")}`, drop: async () => {} }) },
  { name: "pglite directory", create: async () => ({ url: `pglite:${join(mkdtempSync(join(tmpdir(), "retort-race-")), "db")}`, drop: async () => {} }) },
];

function writeConfig(project: Project): string {
  const config = join(project.root, "retort.config.mjs");
  writeFileSync(config, `export default ${JSON.stringify(project.config.config)};\n`);
  return config;
}

/** The CLI as a child process (tsx as a loader, so the pid is the CLI's own). */
function cli(config: string, url: string, args: string[]) {
  const proc = spawn(process.execPath, ["--import", "tsx", CLI, "--config", config, "--url", url, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  proc.stdout.on("data", (chunk) => (stdout += chunk));
  proc.stderr.on("data", (chunk) => (stderr += chunk));
  const done = new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((finish) =>
    proc.on("exit", (code, signal) => finish({ code, signal, stdout, stderr })),
  );
  return { pid: proc.pid!, kill: (signal: NodeJS.Signals) => proc.kill(signal), done };
}

async function waitForFile(path: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${path}`);
    await sleep(25);
  }
}

describe.each(backends)("$name: racing `retort upgrade head` processes", (backend) => {
  it.skipIf(backend.skip)(`${PROCS} processes at once: all exit 0, each revision applied once, the database intact`, async () => {
    const database = await backend.create();
    try {
      // Waiting is the expected outcome here, so the lock timeout covers every process's turn.
      const project = createProject({ lockTimeoutMs: RACE_TIMEOUT_MS });
      const ids = [1, 2, 3, 4].map((i) => `race0000000${i}`);
      ids.forEach((id, i) =>
        project.add({
          id,
          parents: i === 0 ? [] : [ids[i - 1]!],
          message: `table ${i + 1}`,
          up: [
            `op.createTable("t${i + 1}", { id: t.integer().primaryKey() });`,
            `op.run("pause", async () => { await new Promise((r) => setTimeout(r, 50)); });`,
            `op.bulkInsert("t${i + 1}", [{ id: ${i + 1} }]);`,
          ].join("\n"),
        }),
      );
      const config = writeConfig(project);
      const runs = await Promise.all(Array.from({ length: PROCS }, () => cli(config, database.url, ["--quiet", "upgrade", "head"]).done));
      const failures = runs.filter((run) => run.code !== 0).map((run) => `${run.code ?? run.signal}: ${run.stderr}`);
      expect(failures).toEqual([]);

      const history = await query(database.url, "SELECT revision, direction, outcome FROM retort_migrations ORDER BY id");
      expect(history).toEqual(ids.map((revision) => ({ revision, direction: "up", outcome: "applied" })));
      expect(await query(database.url, "SELECT version_num FROM retort_version")).toEqual([{ version_num: "race00000004" }]);
      for (const [i] of ids.entries()) expect(await query(database.url, `SELECT id FROM t${i + 1}`)).toEqual([{ id: i + 1 }]);
      if (backend.name === "sqlite file") expect(await query(database.url, "PRAGMA integrity_check")).toEqual([{ integrity_check: "ok" }]);
      else expect(Number((await query(database.url, "SELECT count(*) AS n FROM pg_class"))[0]!.n)).toBeGreaterThan(100);
    } finally {
      await database.drop();
    }
  }, RACE_TIMEOUT_MS);
});

/** r1 plain; r2 records progress as it goes, and its first step waits for a "go" file. */
function pausedChain(dir: string): Project {
  const project = createProject({ lockTimeoutMs: 120_000 });
  project.add({ id: "curr00000001", message: "first table", up: `op.createTable("first", { id: t.integer().primaryKey() });` });
  project.add({
    id: "curr00000002",
    parents: ["curr00000001"],
    message: "second table, slowly",
    transactional: false,
    up: [
      `op.run("wait for the test", async () => {`,
      `  const { existsSync, writeFileSync } = await import("node:fs");`,
      `  writeFileSync(${JSON.stringify(join(dir, "reached"))}, "");`,
      `  while (!existsSync(${JSON.stringify(join(dir, "go"))})) await new Promise((r) => setTimeout(r, 20));`,
      `});`,
      `op.createTable("second", { id: t.integer().primaryKey() });`,
    ].join("\n"),
  });
  return project;
}

describe("read-only commands while an upgrade runs", () => {
  for (const backend of backends.filter((b) => b.name !== "pglite directory")) {
    it.skipIf(backend.skip)(`${backend.name}: current answers at once, shows the run in progress, then the interrupted revision after a kill`, async () => {
      const database = await backend.create();
      try {
        const dir = mkdtempSync(join(tmpdir(), "retort-current-"));
        const project = pausedChain(dir);
        const config = writeConfig(project);
        const options = { config: project.config, url: database.url };
        const run = cli(config, database.url, ["--quiet", "upgrade", "head"]);
        await waitForFile(join(dir, "reached"));

        const during = await current(options);
        expect(during.heads).toEqual([{ revision: "curr00000001", message: "first table", isHead: false }]);
        expect(during.inProgress).toEqual([
          { revision: "curr00000002", direction: "up", outcome: "running", stepsDone: 0, totalSteps: 2, startedAt: expect.any(String), message: "second table, slowly" },
        ]);
        expect(during.migrationRunning).toMatch(backend.name === "sqlite file" ? new RegExp(`^pid ${run.pid} \\(migrations: .*main\\.ts .*upgrade head`) : /^server backend pid \d+/);

        // The text form says the same.
        const text = await new Promise<string>((done, fail) =>
          execFile(process.execPath, ["--import", "tsx", CLI, "--config", config, "--url", database.url, "current"], (error, stdout) => (error ? fail(error) : done(stdout))),
        );
        expect(text).toContain("curr00000001 first table");
        expect(text).toContain("in progress: upgrade of curr00000002 (second table, slowly), 0 of 2 step(s) done, started ");
        expect(text).toContain("a migration run is in progress: ");

        // Killed mid-revision: the lock is gone with the process, the row says where it stopped.
        run.kill("SIGKILL");
        expect((await run.done).signal).toBe("SIGKILL");
        const after = await current(options);
        expect(after.migrationRunning).toBeUndefined();
        expect(after.inProgress.map((row) => [row.revision, row.outcome])).toEqual([["curr00000002", "running"]]);

        // A rerun finishes it.
        writeFileSync(join(dir, "go"), "");
        await upgrade("head", options);
        const done = await current(options);
        expect(done.heads.map((head) => head.revision)).toEqual(["curr00000002"]);
        expect(done.inProgress).toEqual([]);
      } finally {
        await database.drop();
      }
    }, 180_000);
  }

  it("current on a database Retort never migrated says base and creates nothing", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "retort-current-")), "app.db");
    const project = createProject();
    // A database that exists but Retort never touched (a missing file is RETORT_DATABASE_NOT_FOUND).
    new Sqlite(file).close();
    const result = await current({ config: project.config, url: `sqlite:${file}` });
    expect(result.heads).toEqual([]);
    expect(result.inProgress).toEqual([]);
    expect(await query(`sqlite:${file}`, "SELECT name FROM sqlite_master")).toEqual([]);
  });

  it("pglite directory: current cannot read while an upgrade has it open, and names that process", async () => {
    const dir = mkdtempSync(join(tmpdir(), "retort-current-"));
    const url = `pglite:${join(dir, "db")}`;
    const project = pausedChain(dir);
    const config = writeConfig(project);
    const run = cli(config, url, ["--quiet", "upgrade", "head"]);
    try {
      await waitForFile(join(dir, "reached"));
      const error = await current({ config: project.config, url }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isRetortError(error, "RETORT_DATABASE_BUSY")).toBe(true);
      expect((error as RetortError).message).toMatch(new RegExp(`is open in another process: pid ${run.pid} \\(has the PGlite database open: .*upgrade head`));
    } finally {
      writeFileSync(join(dir, "go"), "");
    }
    expect((await run.done).code).toBe(0);
    expect((await current({ config: project.config, url })).heads.map((head) => head.revision)).toEqual(["curr00000002"]);
  }, 180_000);
});
