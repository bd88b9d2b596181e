import { execFile } from "node:child_process";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { connect, isRetortError, upgrade } from "../../src/index.js";
import { autogenerate, check, drift } from "../../src/runtime/schema-commands.js";
import { SOURCE_INDEX, createProject } from "./project.js";

const exec = promisify(execFile);

function models(body: string): string {
  return `import { t, table, index, enumType } from ${JSON.stringify(SOURCE_INDEX)};\n${body}\n`;
}

describe("autogenerate, check and drift (no database needed to author)", () => {
  it("writes the migration that closes the gap, then check passes; renames need a decision; drift sees live changes", async () => {
    const project = createProject();
    const modelsFile = join(project.root, "schema.ts");
    writeFileSync(modelsFile, models(`export const users = table("users", { id: t.bigint().primaryKey(), nick: t.text().nullable(), score: t.integer().default(0) }, (u) => [index(u.nick)]);`));
    const config = { ...project.config, config: { ...project.config.config, models: "./schema.ts" } };
    const url = `sqlite:${join(project.root, "app.db")}`;
    const options = { config, url };

    const before = await check(options);
    expect(before.ok).toBe(false);
    expect(before.changes).toEqual(["createTable users"]);

    const first = await autogenerate({ message: "users" }, options);
    expect(first.path).toMatch(/_users\.ts$/);
    const text = readFileSync(join(project.root, first.path!.replace(/^.*migrations/, "migrations")), "utf8");
    expect(text).toContain('op.createTable("users"');
    expect(text).toContain('op.dropTable("users")');
    expect((await check(options)).changes).toEqual([]);
    // Nothing changed: nothing written.
    const none = await autogenerate({ message: "nothing" }, options);
    expect(none.path).toBeUndefined();
    expect(readdirSync(project.dir)).toHaveLength(1);

    // A drop and an add that could be a rename stops with the decision to make.
    writeFileSync(modelsFile, models(`export const users = table("users", { id: t.bigint().primaryKey(), nickname: t.text().nullable(), score: t.integer().default(0) }, (u) => [index(u.nickname)]);`));
    const undecided = await autogenerate({ message: "rename" }, options).catch((e: unknown) => e);
    expect(isRetortError(undecided, "RETORT_DECISIONS_NEEDED")).toBe(true);
    expect((undecided as Error).message).toContain("--rename-column users.nick=nickname");
    expect(readdirSync(project.dir)).toHaveLength(1);
    const renamed = await autogenerate({ message: "rename nick" }, { ...options, renames: { columns: { "users.nick": "nickname" } } });
    expect(renamed.changes[0]).toMatch(/renameColumn users\.nick/);
    expect((await check(options)).ok).toBe(true);

    // The generated files run: apply them, then the live database shows no drift...
    await upgrade("head", options);
    expect((await drift(options)).ok).toBe(true);
    // ...until someone changes it by hand.
    const db = await connect(url, { schema: {} });
    await db.query('ALTER TABLE "users" ADD COLUMN "hotfix" TEXT');
    await db.close();
    const drifted = await drift(options);
    expect(drifted.ok).toBe(false);
    // Reported as what happened to the database outside the migrations.
    expect(drifted.changes).toEqual(["addColumn users.hotfix"]);
  }, 60_000);

  it("retort check is the CI gate: exit 1 listing the pending operations, exit 0 when models match", async () => {
    const project = createProject();
    writeFileSync(join(project.root, "schema.ts"), models(`export const notes = table("notes", { id: t.integer().primaryKey(), body: t.text() });`));
    const configFile = join(project.root, "retort.config.mjs");
    writeFileSync(configFile, `export default ${JSON.stringify({ ...project.config.config, models: "./schema.ts" })};\n`);
    const run = (...args: string[]) =>
      exec("node_modules/.bin/tsx", ["src/cli/main.ts", "--config", configFile, ...args, ...(args.includes("--url") ? [] : ["--dialect", "sqlite"])]).then(
        (r) => ({ code: 0, out: r.stdout, err: r.stderr }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout, err: e.stderr }),
      );
    const failing = await run("check");
    expect(failing.code).toBe(1);
    expect(failing.err).toContain("RETORT_SCHEMA_MISMATCH");
    expect(failing.err).toContain("createTable notes");
    expect((await run("revision", "--autogenerate", "-m", "notes")).code).toBe(0);
    const passing = await run("--json", "check");
    expect(passing.code).toBe(0);
    expect(JSON.parse(passing.out).ok).toBe(true);
    // With --url, check compares with that live database, which must be at migrations head first.
    await (await connect(`sqlite:${join(project.root, "app.db")}`, { schema: {} })).close(); // an empty database
    const behind = await run("--json", "--url", `sqlite:${join(project.root, "app.db")}`, "check");
    expect(behind.code).toBe(1);
    expect(JSON.parse(behind.err.slice(behind.err.indexOf("{"))).error.code).toBe("RETORT_NOT_UP_TO_DATE");

    // Many changes: the first twenty, then a count by kind; --json still has every one.
    const extra = Array.from({ length: 30 }, (_, i) => `export const t${i} = table("t${i}", { id: t.integer().primaryKey() });`);
    writeFileSync(join(project.root, "schema.ts"), models([`export const notes = table("notes", { id: t.integer().primaryKey(), body: t.text() });`, ...extra].join("\n")));
    const many = await run("check");
    expect(many.code).toBe(1);
    const listed = many.err.split("\n").filter((line) => line.startsWith("  createTable "));
    expect(listed).toHaveLength(20);
    expect(many.err).toContain("(30 operation(s) pending)");
    expect(many.err).toContain("… and 10 more: createTable ×10 (--json lists them all)");
    const json = await run("--json", "check");
    expect((JSON.parse(json.err.slice(json.err.indexOf("{"))) as { error: { changes: string[] } }).error.changes).toHaveLength(30);
  }, 60_000);

  it("against a live database: refused unless it is at migrations head; then the live schema is what is compared", async () => {
    const project = createProject();
    const usersFile = project.add({ id: "user00000001", message: "users", up: `op.createTable("users", { id: t.bigint().primaryKey() });`, down: `op.dropTable("users");` });
    writeFileSync(join(project.root, "schema.ts"), models(`export const users = table("users", { id: t.bigint().primaryKey() });\nexport const notes = table("notes", { id: t.integer().primaryKey() });`));
    const config = { ...project.config, config: { ...project.config.config, models: "./schema.ts" } };
    const url = `sqlite:${join(project.root, "app.db")}`;
    const live = { config, url, against: "database" as const };
    await (await connect(url, { schema: {} })).close(); // an empty database: nothing applied yet

    // One revision behind: autogenerate would write a duplicate of it (Alembic refuses too).
    for (const [command, attempt] of [["revision --autogenerate", () => autogenerate({ message: "notes" }, live)], ["check", () => check(live)]] as const) {
      const error = await (attempt() as Promise<unknown>).catch((e: unknown) => e);
      expect(isRetortError(error, "RETORT_NOT_UP_TO_DATE")).toBe(true);
      expect((error as Error).message).toBe("The database is not up to date: it is at base, the migrations head is user00000001 (1 revision not applied).");
      expect((error as { hint: string }).hint).toBe(
        `Upgrade it first (\`retort upgrade head\` with the same --url), then run \`retort ${command}\` again; or leave out --url to compare the models with the migrations head.`,
      );
    }
    expect(readdirSync(project.dir)).toHaveLength(1);

    await upgrade("head", { config, url });
    const db = await connect(url, { schema: {} });
    await db.query('CREATE TABLE "legacy" ("code" TEXT PRIMARY KEY, "payload" BLOB)');
    await db.close();
    // Against the database, the hand-made table shows; against migrations head, it cannot.
    expect((await check(live)).changes).toEqual(["dropTable legacy", "createTable notes"]);
    expect((await check(live)).source).toBe(`database ${url}`);
    expect((await check({ config, url })).changes).toEqual(["createTable notes"]);
    // An applied migration edited since it ran: a warning naming file and revision; --strict makes it an error.
    writeFileSync(usersFile, `${readFileSync(usersFile, "utf8")}// edited after it ran\n`);
    const warnings: string[] = [];
    expect((await check({ ...live, onWarning: (w) => warnings.push(w) })).ok).toBe(false);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`${usersFile} (user00000001)`);
    const strict = await check({ ...live, strict: true }).catch((e: unknown) => e);
    expect(isRetortError(strict, "RETORT_MODIFIED_MIGRATION")).toBe(true);
    const written = await autogenerate({ message: "notes" }, live);
    expect(written.changes).toEqual(["dropTable legacy", "createTable notes"]);
  }, 60_000);
});
