/**
 * Retort as users install it: `npm pack` (which builds), the tarball installed from the registry's
 * packages into a fresh app that `npm init -y` made (CommonJS), with an ES-module folder inside it,
 * then used through require(), import, tsx and the `retort` bin. better-sqlite3 is left out on
 * purpose: it is an optional peer, so sqlite: must say how to get it.
 *
 * One `npm install` for the whole file (prefer the local npm cache); slow on a busy machine.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";

const exec = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "../..");
const LONG = 600_000;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(command: string, args: string[], cwd: string): Promise<Run> {
  // The app's own environment, not the test runner's (no NODE_OPTIONS loaders, no vitest flags).
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: "1" };
  try {
    const { stdout, stderr } = await exec(command, args, { cwd, env, timeout: LONG, maxBuffer: 32 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string; message: string };
    return { code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "", stderr: e.stderr ?? e.message };
  }
}

let app: string;
let tarball: string;
let bin: string;

beforeAll(async () => {
  app = mkdtempSync(join(tmpdir(), "retort-packed-"));
  const packed = await run("npm", ["pack", "--json", "--pack-destination", app], ROOT);
  expect(packed.code, packed.stderr).toBe(0);
  const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf("["))) as Array<{ filename: string; files: Array<{ path: string }> }>;
  tarball = join(app, info!.filename);
  packedFiles = info!.files.map((file) => file.path);
  expect((await run("npm", ["init", "-y"], app)).code).toBe(0);
  const installed = await run("npm", ["install", tarball, "tsx", "--prefer-offline", "--no-audit", "--no-fund"], app);
  expect(installed.code, installed.stderr).toBe(0);
  bin = join(app, "node_modules", ".bin", "retort");
}, LONG);

let packedFiles: string[] = [];

describe("the npm tarball", () => {
  it("ships the build, LICENSE and README, and no source map pointing at unshipped sources", () => {
    expect(packedFiles).toEqual(expect.arrayContaining(["LICENSE", "README.md", "package.json", "dist/index.js", "dist/index.d.ts", "dist/cli/main.js"]));
    expect(packedFiles.filter((file) => file.endsWith(".map"))).toEqual([]);
    expect(packedFiles.filter((file) => file.startsWith("src/") || file.startsWith("test/"))).toEqual([]);
    expect(readFileSync(join(app, "node_modules", "retort-db", "LICENSE"), "utf8")).toContain("Retort contributors");
  });

  it("installs without better-sqlite3 or the AWS SDK (optional peers) and with PGlite (the zero-setup default)", () => {
    const modules = readdirSync(join(app, "node_modules"));
    expect(modules).not.toContain("better-sqlite3");
    expect(modules).not.toContain("@aws-sdk");
    expect(modules).toContain("@electric-sql");
    const manifest = JSON.parse(readFileSync(join(app, "node_modules", "retort-db", "package.json"), "utf8")) as Record<string, Record<string, unknown>>;
    expect(manifest.peerDependenciesMeta).toEqual({ "better-sqlite3": { optional: true }, "@aws-sdk/client-s3": { optional: true }, vitest: { optional: true } });
  });
});

describe("a CommonJS app (npm init -y)", () => {
  it("require()s retort-db, retort-db/config and retort-db/testing and queries PGlite", async () => {
    expect(JSON.parse(readFileSync(join(app, "package.json"), "utf8")).type).toBe("commonjs");
    writeFileSync(
      join(app, "app.js"),
      `const { connect, createAll, table, t } = require("retort-db");
const { defineConfig } = require("retort-db/config");
const { createTestDatabase } = require("retort-db/testing");
const notes = table("notes", { id: t.integer().primaryKey().identity(), body: t.text() });
(async () => {
  const db = await connect("pglite:memory", { schema: { notes } });
  await createAll(db);
  await db.models.notes.create({ body: "from require" });
  const rows = await db.models.notes.find({});
  await db.close();
  console.log(JSON.stringify({ rows, defineConfig: typeof defineConfig, createTestDatabase: typeof createTestDatabase }));
})();
`,
    );
    const result = await run("node", ["app.js"], app);
    expect(result.stderr).toBe("");
    expect(JSON.parse(result.stdout)).toEqual({ rows: [{ id: 1, body: "from require" }], defineConfig: "function", createTestDatabase: "function" });
  }, LONG);

  it("runs TypeScript under tsx (compiled to require calls), and sqlite: without the driver is RETORT_DRIVER_MISSING", async () => {
    writeFileSync(
      join(app, "app.ts"),
      `import { connect, isRetortError } from "retort-db";
import { defineConfig } from "retort-db/config";
connect("sqlite::memory:", { schema: {} }).then(
  () => console.log("connected?"),
  (error: unknown) => console.log(JSON.stringify({ retort: isRetortError(error), code: (error as any).code, message: (error as any).message, hint: (error as any).hint, config: typeof defineConfig })),
);
`,
    );
    const result = await run(join(app, "node_modules", ".bin", "tsx"), ["app.ts"], app);
    expect(result.stderr).toBe("");
    expect(JSON.parse(result.stdout)).toEqual({
      retort: true,
      code: "RETORT_DRIVER_MISSING",
      message: 'The sqlite: URL needs the "better-sqlite3" package, which is not installed.',
      hint: expect.stringContaining("npm install better-sqlite3"),
      config: "function",
    });
  }, LONG);

  it("runs the retort bin: --version, init, a migration upgraded on PGlite, current; sqlite: names the install command", async () => {
    expect((await run(bin, ["--version"], app)).stdout.trim()).toBe(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version);
    expect((await run(bin, ["init"], app)).stdout).toContain("created retort.config.ts");
    writeMigration(app);
    const upgraded = await run(bin, ["upgrade", "--url", "pglite:./db"], app);
    expect(upgraded.code, upgraded.stderr).toBe(0);
    expect(upgraded.stdout).toContain("base -> 0000000000a1");
    expect((await run(bin, ["current", "--url", "pglite:./db"], app)).stdout).toContain("0000000000a1 (head) notes");
    const sqlite = await run(bin, ["upgrade", "--url", "sqlite:./app.db"], app);
    expect(sqlite.code).toBe(1);
    expect(sqlite.stderr).toContain("RETORT_DRIVER_MISSING");
    expect(sqlite.stderr).toContain("npm install better-sqlite3");
    expect(sqlite.stderr).not.toMatch(/\n\s+at /); // no stack trace
  }, LONG);
});

describe("an ES-module app", () => {
  it("imports retort-db and its subpaths", async () => {
    const esm = join(app, "esm");
    mkdirSync(esm, { recursive: true });
    writeFileSync(join(esm, "package.json"), JSON.stringify({ name: "esm-app", type: "module" }));
    writeFileSync(
      join(esm, "app.js"),
      `import { schemaFromModels, table, t, RetortError } from "retort-db";
import { defineConfig } from "retort-db/config";
import { createTestDatabase } from "retort-db/testing";
const users = table("users", { id: t.uuid().primaryKey(), email: t.text().unique() });
const schema = schemaFromModels({ users });
console.log(JSON.stringify({ tables: schema.tables.map((table) => table.name), error: typeof RetortError, config: typeof defineConfig, testing: typeof createTestDatabase }));
`,
    );
    const result = await run("node", ["app.js"], esm);
    expect(result.stderr).toBe("");
    expect(JSON.parse(result.stdout)).toEqual({ tables: ["users"], error: "function", config: "function", testing: "function" });
  }, LONG);
});

describe("npx retort-db in a folder without retort-db installed", () => {
  it("init, revision, offline SQL: its imports of retort-db resolve to the running CLI", async () => {
    const empty = mkdtempSync(join(tmpdir(), "retort-npx-"));
    expect((await run(bin, ["init"], empty)).code).toBe(0);
    writeMigration(empty);
    const sql = await run(bin, ["upgrade", "base:head", "--sql", "--dialect", "postgres"], empty);
    expect(sql.code, sql.stderr).toBe(0);
    expect(sql.stdout).toContain('CREATE TABLE "notes"');
    const revision = await run(bin, ["revision", "-m", "second"], empty);
    expect(revision.code, revision.stderr).toBe(0);
    const second = /\(revision ([0-9a-f]{12})\)/.exec(revision.stdout)![1]!;
    // The new file imports retort-db too, and loads: history lists both revisions.
    const history = await run(bin, ["history"], empty);
    expect(history.code, history.stderr).toBe(0);
    expect(history.stdout).toContain(`0000000000a1 -> ${second} (head), second`);
  }, LONG);
});

/** A first revision creating "notes", as a user writes it (TypeScript importing retort-db). */
function writeMigration(project: string): void {
  const dir = join(project, "migrations", "versions");
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "20260101000000_notes.ts"),
    `import { defineMigration, t } from "retort-db";

export default defineMigration({
  revision: "0000000000a1",
  parents: [],
  message: "notes",
  createdAt: "2026-01-01T00:00:00.000Z",
  async upgrade(op) {
    op.createTable("notes", { id: t.integer().primaryKey(), body: t.text() });
  },
  async downgrade(op) {
    op.dropTable("notes");
  },
});
`,
  );
}
