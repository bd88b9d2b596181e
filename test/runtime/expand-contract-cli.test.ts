/**
 * The command line of safe autogenerate and expand/contract: `revision --autogenerate --backfill`
 * (with and without a column), the warning for a backfill stub, `upgrade` held before a contract
 * (exit 1, the code and the `retort release` hint), `release --json`.
 */
import { readFileSync, readdirSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTempDatabase, postgresReachable, type TempDatabase } from "../support/postgres.js";
import { SOURCE_INDEX, createProject, runCli } from "./project.js";

const postgresUp = await postgresReachable();
if (!postgresUp) console.warn("[retort tests] NOTICE: Postgres server unreachable; the expand/contract CLI case is SKIPPED.");

describe.skipIf(!postgresUp)("retort revision --backfill / --expand-contract, retort release", () => {
  let temp: TempDatabase;
  beforeAll(async () => void (temp = await createTempDatabase()));
  afterAll(async () => temp?.drop());

  it("writes the backfill, warns about a stub, holds the contract until release", async () => {
    const project = createProject();
    const config = join(project.root, "retort.config.mjs");
    writeFileSync(config, `export default ${JSON.stringify({ ...project.config.config, models: "./schema.ts" })};\n`);
    const models = (body: string) => writeFileSync(join(project.root, "schema.ts"), `import { t, table } from ${JSON.stringify(SOURCE_INDEX)};\nexport const users = table("users", { id: t.bigint().primaryKey(), ${body} });\n`);
    // Autogenerate compares with the migrations head (no --url); the other commands run on the database.
    const retort = (...args: string[]) => runCli(config, args[0] === "revision" ? [...args, "--dialect", "postgres"] : ["--url", temp.url, ...args]);
    const newest = () => readFileSync(join(project.dir, readdirSync(project.dir).sort().at(-1)!), "utf8");

    models(`name: t.text()`);
    expect((await retort("revision", "--autogenerate", "-m", "users", "--rev-id", "users_v1")).code).toBe(0);
    expect((await retort("upgrade")).code).toBe(0);

    models(`name: t.text(), slug: t.text(), nick: t.text()`);
    const generated = await retort("revision", "--autogenerate", "-m", "slug and nick", "--rev-id", "slug_nick", "--backfill", "users.slug=lower(name)");
    expect(generated.code).toBe(0);
    expect(generated.err).toContain(`warning: users.nick is NOT NULL without a server default on an existing table: the migration has an op.run stub that fails ("fill in the backfill for users.nick") until you write it`);
    expect(newest()).toContain("op.execute(sql`UPDATE users SET slug = (lower(name)) WHERE slug IS NULL`);");
    expect(newest()).toContain('throw new Error("fill in the backfill for users.nick");');

    // That file is set aside (its stub would stop the upgrade); a rename next, as an expand/contract pair.
    unlinkSync(join(project.dir, readdirSync(project.dir).sort().at(-1)!));
    models(`fullName: t.text().renamedFrom("name")`);
    const pair = await retort("revision", "--autogenerate", "-m", "full name", "--rev-id", "expand_name", "--expand-contract");
    expect(pair.code).toBe(0);
    expect(pair.out).toMatch(/created .*_full_name_contract\.ts \(revision \w+\), the contract: `retort upgrade` runs it after `retort release expand_name`/);

    const held = await retort("upgrade");
    expect(held.code).toBe(1);
    expect(held.err).toContain("RETORT_CONTRACT_NOT_RELEASED");
    expect(held.err).toContain("run `retort release expand_name`");

    const released = await retort("--json", "release", "expand_name");
    expect(released.code).toBe(0);
    expect(JSON.parse(released.out)).toMatchObject({ revision: "expand_name", recorded: true });
    expect((await retort("upgrade")).code).toBe(0);
  }, 120_000);
});
