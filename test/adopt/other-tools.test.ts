/**
 * `adopt --from prisma|drizzle|alembic` reads each tool's version table, written exactly as the
 * tool writes it, on the Postgres server and on SQLite: the state it reports, the refusals when
 * the database is not at the tool's head, and the take-over (baseline + stamp, tool table kept).
 */
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { isRetortError, type RetortError } from "../../src/index.js";
import { adopt } from "../../src/runtime/adopt.js";
import { drift } from "../../src/runtime/schema-commands.js";
import { createTempDatabase, postgresReachable, type TempDatabase } from "../support/postgres.js";
import { createProject } from "../runtime/project.js";

const postgresUp = await postgresReachable();

type Backend = "postgres" | "sqlite";

/** Each tool's version table as the tool creates it, per backend. */
const TOOL_TABLES: Record<"prisma" | "drizzle" | "alembic", Record<Backend, string[]>> = {
  prisma: {
    postgres: [`CREATE TABLE "_prisma_migrations" ("id" VARCHAR(36) PRIMARY KEY NOT NULL, "checksum" VARCHAR(64) NOT NULL, "finished_at" TIMESTAMPTZ, "migration_name" VARCHAR(255) NOT NULL, "logs" TEXT, "rolled_back_at" TIMESTAMPTZ, "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(), "applied_steps_count" INTEGER NOT NULL DEFAULT 0)`],
    sqlite: [`CREATE TABLE "_prisma_migrations" ("id" TEXT PRIMARY KEY NOT NULL, "checksum" TEXT NOT NULL, "finished_at" DATETIME, "migration_name" TEXT NOT NULL, "logs" TEXT, "rolled_back_at" DATETIME, "started_at" DATETIME NOT NULL DEFAULT current_timestamp, "applied_steps_count" INTEGER UNSIGNED NOT NULL DEFAULT 0)`],
  },
  drizzle: {
    postgres: [`CREATE SCHEMA IF NOT EXISTS "drizzle"`, `CREATE TABLE IF NOT EXISTS "drizzle"."__drizzle_migrations" (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint)`],
    sqlite: [`CREATE TABLE IF NOT EXISTS "__drizzle_migrations" (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric)`],
  },
  alembic: {
    postgres: ["CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"],
    sqlite: ["CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"],
  },
};

const APP_TABLE = "CREATE TABLE notes (id INTEGER NOT NULL, body TEXT NOT NULL, CONSTRAINT notes_pkey PRIMARY KEY (id))";
const DRIZZLE_TABLE = (backend: Backend) => (backend === "postgres" ? `"drizzle"."__drizzle_migrations"` : `"__drizzle_migrations"`);

interface Scenario {
  url: string;
  run(statements: string[]): Promise<void>;
  rows(query: string): Promise<unknown[]>;
}

const databases: TempDatabase[] = [];
afterAll(async () => {
  for (const database of databases) await database.drop();
});

async function scenario(backend: Backend, root: string, name: string): Promise<Scenario> {
  if (backend === "sqlite") {
    const file = join(root, `${name}.db`);
    const open = () => new Database(file);
    return {
      url: `sqlite:${file}`,
      async run(statements) {
        const db = open();
        for (const statement of statements) db.exec(statement);
        db.close();
      },
      async rows(query) {
        const db = open();
        try {
          return db.prepare(query).all();
        } finally {
          db.close();
        }
      },
    };
  }
  const database = await createTempDatabase(`retort_${name}`);
  databases.push(database);
  const client = async <T>(fn: (c: pg.Client) => Promise<T>) => {
    const c = new pg.Client({ connectionString: database.url });
    await c.connect();
    try {
      return await fn(c);
    } finally {
      await c.end();
    }
  };
  return {
    url: database.url,
    run: (statements) => client(async (c) => {
      for (const statement of statements) await c.query(statement);
    }),
    rows: (query) => client(async (c) => (await c.query(query)).rows),
  };
}

async function refusal(promise: Promise<unknown>): Promise<RetortError> {
  const error = await promise.catch((e: unknown) => e);
  if (!isRetortError(error, "RETORT_ADOPT_REFUSED")) throw new Error(`expected RETORT_ADOPT_REFUSED, got ${String(error)}`);
  return error;
}

for (const backend of ["postgres", "sqlite"] as const) {
  describe.skipIf(backend === "postgres" && !postgresUp)(`adopt on ${backend}`, () => {
    it("prisma: refuses a failed migration and pending folders; adopts at the latest applied migration", async () => {
      const project = createProject();
      const db = await scenario(backend, project.root, "prisma");
      const now = backend === "postgres" ? "now()" : "current_timestamp";
      await db.run([APP_TABLE, ...TOOL_TABLES.prisma[backend]]);
      await db.run([
        `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, started_at, applied_steps_count) VALUES ('a', 'c1', ${now}, '20240101000000_init', ${now}, 1)`,
        `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, started_at, applied_steps_count) VALUES ('b', 'c2', NULL, '20240201000000_notes', ${now}, 0)`,
      ]);
      const options = { config: project.config, url: db.url };
      const failed = await refusal(adopt({ from: "prisma" }, options));
      expect(failed.message).toBe("adopt --from prisma: migration 20240201000000_notes failed or never finished (finished_at and rolled_back_at are empty)");
      expect(failed.hint).toContain("prisma migrate resolve");

      // Resolved the way Prisma does it: the failed attempt rolled back, a new one finished.
      await db.run([
        `UPDATE "_prisma_migrations" SET rolled_back_at = ${now} WHERE id = 'b'`,
        `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, started_at, applied_steps_count) VALUES ('c', 'c2', ${now}, '20240201000000_notes', ${now}, 1)`,
      ]);
      const prismaDir = join(project.root, "prisma", "migrations");
      for (const name of ["20240101000000_init", "20240201000000_notes", "20240301000000_tags"]) {
        mkdirSync(join(prismaDir, name), { recursive: true });
        writeFileSync(join(prismaDir, name, "migration.sql"), "-- sql\n");
      }
      writeFileSync(join(prismaDir, "migration_lock.toml"), 'provider = "postgresql"\n');
      const pending = await refusal(adopt({ from: "prisma", migrationsDir: prismaDir }, options));
      expect(pending.message).toBe(`adopt --from prisma: 1 migration(s) in ${prismaDir} are not applied: 20240301000000_tags`);
      expect(readdirSync(project.dir)).toEqual([]);

      const adopted = await adopt({ from: "prisma" }, options);
      expect(adopted.from).toEqual({ tool: "prisma", table: "_prisma_migrations", at: "20240201000000_notes", checkedAgainstFiles: false });
      expect(adopted.tables).toBe(1);
      expect(await db.rows("SELECT version_num FROM retort_version")).toEqual([{ version_num: adopted.revision }]);
      expect(await db.rows(`SELECT count(*) AS n FROM "_prisma_migrations"`)).toEqual([{ n: backend === "postgres" ? "3" : 3 }]);
      expect((await drift(options)).changes).toEqual([]);
    }, 60_000);

    it("drizzle: reads hash and created_at, checks the journal, adopts at the last journal tag", async () => {
      const project = createProject();
      const db = await scenario(backend, project.root, "drizzle");
      await db.run([APP_TABLE, ...TOOL_TABLES.drizzle[backend], `INSERT INTO ${DRIZZLE_TABLE(backend)} (id, hash, created_at) VALUES (1, '563f0bc57d87e284c71533a5f67e1b525de720cf6727eed140f6c384ef06c995', 1734221536864)`]);
      const out = join(project.root, "drizzle");
      mkdirSync(join(out, "meta"), { recursive: true });
      const journal = (entries: Array<[number, string]>) =>
        writeFileSync(join(out, "meta", "_journal.json"), JSON.stringify({ version: "7", dialect: backend === "postgres" ? "postgresql" : "sqlite", entries: entries.map(([when, tag], idx) => ({ idx, version: "7", when, tag, breakpoints: true })) }));
      journal([[1734221536864, "0000_init"], [1734300000000, "0001_notes"]]);
      const options = { config: project.config, url: db.url };
      const pending = await refusal(adopt({ from: "drizzle", migrationsDir: out }, options));
      expect(pending.message).toBe(`adopt --from drizzle: 1 migration(s) in ${out} are not applied: 0001_notes`);

      journal([[1734221536864, "0000_init"]]);
      const adopted = await adopt({ from: "drizzle", migrationsDir: out }, options);
      expect(adopted.from).toEqual({ tool: "drizzle", table: backend === "postgres" ? "drizzle.__drizzle_migrations" : "__drizzle_migrations", at: "0000_init", checkedAgainstFiles: true });
      expect(await db.rows("SELECT version_num FROM retort_version")).toEqual([{ version_num: adopted.revision }]);
      expect((await drift(options)).changes).toEqual([]);
    }, 60_000);

    it("alembic: an empty version table, several heads and a missing table are refused with what to do", async () => {
      const project = createProject();
      const db = await scenario(backend, project.root, "alembic");
      const options = { config: project.config, url: db.url };
      // An existing database without the tool's table (adopt reads; it creates no SQLite file).
      if (db.url.startsWith("sqlite:")) new Database(db.url.slice("sqlite:".length)).close();
      const missing = await refusal(adopt({ from: "alembic" }, options));
      expect(missing.message).toBe("adopt --from alembic: the database has no alembic_version table: it was not migrated with alembic (or with another schema/URL)");
      await db.run([APP_TABLE, ...TOOL_TABLES.alembic[backend]]);
      expect((await refusal(adopt({ from: "alembic" }, options))).message).toContain("alembic_version is empty");
      await db.run(["INSERT INTO alembic_version VALUES ('aaa111'), ('bbb222')"]);
      const heads = await refusal(adopt({ from: "alembic" }, options));
      expect(heads.message).toBe("adopt --from alembic: alembic_version records 2 heads (aaa111, bbb222)");
      expect(heads.hint).toContain("alembic merge heads");
      await db.run(["DELETE FROM alembic_version WHERE version_num = 'aaa111'"]);
      const adopted = await adopt({ from: "alembic" }, options);
      expect(adopted.from.at).toBe("bbb222");
      // The database is unchanged but for Retort's tables; alembic_version is where it was.
      expect(await db.rows("SELECT version_num FROM alembic_version")).toEqual([{ version_num: "bbb222" }]);
    }, 60_000);
  });
}

describe("the retort command", () => {
  it("retort adopt and retort baseline: exit codes, messages, --json", async () => {
    const { execFile } = await import("node:child_process");
    const { promisify } = await import("node:util");
    const exec = promisify(execFile);
    const project = createProject();
    const configFile = join(project.root, "retort.config.mjs");
    writeFileSync(configFile, `export default ${JSON.stringify(project.config.config)};\n`);
    const file = join(project.root, "app.db");
    const db = new Database(file);
    db.exec(APP_TABLE);
    db.close();
    const run = (...args: string[]) =>
      exec("node_modules/.bin/tsx", ["src/cli/main.ts", "--config", configFile, "--url", `sqlite:${file}`, ...args]).then(
        (r) => ({ code: 0, out: r.stdout, err: r.stderr }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout, err: e.stderr }),
      );
    const refused = await run("adopt", "--from", "alembic");
    expect(refused.code).toBe(1);
    expect(refused.err).toContain("RETORT_ADOPT_REFUSED: adopt --from alembic: the database has no alembic_version table");
    expect(refused.err).toContain("hint: Check --url; for a database no tool migrated, use `retort baseline`.");
    expect((await run("adopt", "--from", "flyway")).code).toBe(2);

    const done = await run("--json", "baseline", "-m", "baseline", "--rev-id", "0000baseline");
    expect(done.code).toBe(0);
    expect(JSON.parse(done.out)).toMatchObject({ revision: "0000baseline", tables: 1, enums: 0, sequences: 0 });
    const again = await run("baseline");
    expect(again.code).toBe(1);
    expect(again.err).toContain("RETORT_BASELINE_REFUSED");
    expect((await run("current")).out).toContain("0000baseline");
  }, 60_000);
});
