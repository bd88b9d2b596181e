/**
 * Postgres allows enum labels Retort's enumType() refuses (an empty one): pull and baseline stop
 * before writing a models file or a revision that could not load, and stamp nothing.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { baseline } from "../../src/runtime/baseline.js";
import { pull } from "../../src/runtime/pull.js";
import { createTempDatabase, postgresReachable, type TempDatabase } from "../support/postgres.js";

const postgresUp = await postgresReachable();

async function query(url: string, text: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(text);
  } finally {
    await client.end();
  }
}

describe.skipIf(!postgresUp)("an enum with an empty label", () => {
  let database: TempDatabase;
  beforeAll(async () => {
    database = await createTempDatabase("retort_enum_label");
    await query(database.url, `CREATE TYPE "Mood" AS ENUM ('happy', ''); CREATE TABLE people (id int PRIMARY KEY, mood "Mood")`);
  }, 60_000);
  afterAll(async () => database?.drop());

  it("pull and baseline refuse it, naming the type and its column; nothing written or stamped", async () => {
    const root = mkdtempSync(join(tmpdir(), "retort-enum-label-"));
    const versions = join(root, "migrations", "versions");
    mkdirSync(versions, { recursive: true });
    writeFileSync(join(root, "retort.config.ts"), `export default { models: "./schema.ts" };\n`);
    const expected = {
      code: "RETORT_UNSUPPORTED",
      message: expect.stringMatching(/enum type "Mood": a label is empty in the database \(used by "people"\."mood"\)/),
      hint: expect.stringContaining(`ALTER TYPE "Mood" RENAME VALUE ''`),
    };

    expect(await pull({ cwd: root, url: database.url }).catch((e: unknown) => e)).toMatchObject(expected);
    expect(existsSync(join(root, "schema.ts"))).toBe(false);

    expect(await baseline({ message: "baseline" }, { cwd: root, url: database.url }).catch((e: unknown) => e)).toMatchObject(expected);
    expect(readdirSync(versions)).toEqual([]);
    expect((await query(database.url, "SELECT to_regclass('retort_version') AS t")).rows[0].t).toBeNull();
  }, 60_000);
});
