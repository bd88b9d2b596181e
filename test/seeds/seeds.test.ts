import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { runSeeds } from "../../src/dev/seeds.js";
import { reset, setup } from "../../src/dev/workflow.js";
import { upgrade } from "../../src/runtime/api.js";
import { seededRandom } from "../../src/index.js";
import { failure, query, sqliteFileUrl } from "../runtime/project.js";
import { createTempDatabase, postgresReachable } from "../support/postgres.js";
import { BROKEN_SEED, checksums, DUPLICATE_SEED, seedProject, USERS_SEED } from "./project.js";

const exec = promisify(execFile);
const CLI = resolve("src/cli/main.ts");
const TSX = resolve("node_modules/.bin/tsx");
const postgresUp = await postgresReachable();
const pgliteUrl = () => `pglite:${join(mkdtempSync(join(tmpdir(), "retort-seed-pglite-")), "db")}`;

/** `retort …` in its own process, with no database variables from this one. */
async function retort(cwd: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/DATABASE_URL$|^NODE_ENV$|^RETORT_/.test(k)));
  try {
    const { stdout, stderr } = await exec(TSX, [CLI, ...args], { cwd, env: { ...env, RETORT_BRANCH_DATABASES: "0" }, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe("the random generator", () => {
  it("gives the same values for the same seed, other values for another, and forks without disturbing", () => {
    const draw = (seed: string) => {
      const r = seededRandom(seed);
      return [r.int(1, 100), r.float(0, 1), r.bool(), r.pick(["a", "b", "c"]), r.shuffle([1, 2, 3, 4, 5]), r.uuid(), r.string(8), r.words(3), r.name(), r.email(), r.date(new Date(0), new Date(1e12)).toISOString()];
    };
    expect(draw("01_users")).toEqual(draw("01_users"));
    expect(draw("01_users")).not.toEqual(draw("02_posts"));
    const a = seededRandom("x");
    const b = seededRandom("x");
    a.fork("other").int(0, 1000);
    expect(a.int(0, 1_000_000)).toBe(b.int(0, 1_000_000));
    const uuid = seededRandom("u").uuid();
    expect(uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const ints = Array.from({ length: 2000 }, () => a.int(1, 6));
    expect(new Set(ints)).toEqual(new Set([1, 2, 3, 4, 5, 6]));
    expect(() => a.pick([])).toThrow(/empty/);
  });
});

const backends: Array<[string, () => Promise<{ url: string; drop(): Promise<void> }>]> = [
  ["sqlite", async () => ({ url: sqliteFileUrl(), drop: async () => {} })],
  ["pglite", async () => ({ url: pgliteUrl(), drop: async () => {} })],
  ["postgres", () => createTempDatabase("retort_seeds")],
];

for (const [name, open] of backends) {
  describe.skipIf(name === "postgres" && !postgresUp)(`seeds [${name}]`, () => {
    it("run in name order, development ones only; a second run changes nothing (row checksums equal)", async () => {
      const project = seedProject();
      const database = await open();
      try {
        await upgrade("heads", { config: project.config, url: database.url });
        const first = await runSeeds({ config: project.config, url: database.url, env: "development" });
        expect(first!.seeds.map((s) => [s.name, s.ran])).toEqual([["01_users", true], ["02_posts", true], ["03_fixtures", false]]);
        expect(first!.seeds[0]!.rows).toEqual({ created: 6, updated: 0, unchanged: 0 });
        const once = await checksums(database.url);
        expect(once.users.rows).toBe(6);
        expect(once.posts.rows).toBe(12);
        await new Promise((r) => setTimeout(r, 20)); // a bumped updatedAt would show
        const second = await runSeeds({ config: project.config, url: database.url, env: "development" });
        expect(second!.seeds[0]!.rows).toEqual({ created: 0, updated: 0, unchanged: 6 });
        expect(second!.seeds[1]!.rows).toEqual({ created: 0, updated: 0, unchanged: 12 });
        expect(await checksums(database.url)).toEqual(once);
        // A changed seed updates only what differs.
        writeFileSync(join(project.seeds, "01_users.ts"), USERS_SEED.replace("random.int(18, 90)", "random.int(18, 90) + 1"));
        const third = await runSeeds({ config: project.config, url: database.url, env: "development", names: ["01_users"] });
        expect(third!.seeds.map((s) => s.rows)).toEqual([{ created: 0, updated: 6, unchanged: 0 }]);
      } finally {
        await database.drop();
      }
    });

    it("a failing seed rolls back its own transaction and names its file and line", async () => {
      const project = seedProject({ "01_users.ts": USERS_SEED, "02_broken.ts": BROKEN_SEED });
      const database = await open();
      try {
        await upgrade("heads", { config: project.config, url: database.url });
        const error = await failure(runSeeds({ config: project.config, url: database.url, env: "development" }));
        expect(error.code).toBe("RETORT_SEED_FAILED");
        expect(error.message).toBe("seed seeds/02_broken.ts failed at seeds/02_broken.ts:7:11: the seed found a problem");
        expect(error.hint).toMatch(/rolled back/);
        expect(error.details).toMatchObject({ seed: "02_broken", line: 7 });
        const emails = (await query(database.url, "SELECT email FROM users")).map((row) => row.email);
        expect(emails).toHaveLength(6); // 01_users committed
        expect(emails).not.toContain("broken@example.com");
      } finally {
        await database.drop();
      }
    });
  });
}

describe("a seed failing in the database", () => {
  it("names the seed's line too, with the error's code", async () => {
    const project = seedProject({ "01_twice.ts": DUPLICATE_SEED });
    const url = sqliteFileUrl();
    await upgrade("heads", { config: project.config, url });
    const error = await failure(runSeeds({ config: project.config, url, env: "development" }));
    expect(error.code).toBe("RETORT_SEED_FAILED");
    expect(error.message).toMatch(/^seed seeds\/01_twice\.ts failed at seeds\/01_twice\.ts:7:\d+: .*\(RETORT_UNIQUE_VIOLATION\)$/);
    expect(error.details).toMatchObject({ causeCode: "RETORT_UNIQUE_VIOLATION" });
    expect(await query(url, "SELECT email FROM users")).toEqual([]);
  });
});

describe("seeds and environments", () => {
  it("test fixtures run in test only; production is refused whatever the seeds say", async () => {
    const project = seedProject();
    const url = sqliteFileUrl();
    await upgrade("heads", { config: project.config, url });
    const result = await runSeeds({ config: project.config, url, env: "test" });
    expect(result!.seeds.map((s) => [s.name, s.ran])).toEqual([["01_users", false], ["02_posts", false], ["03_fixtures", true]]);
    expect((await query(url, "SELECT email FROM users")).map((row) => row.email)).toEqual(["fixture@example.com"]);
    const refused = await failure(runSeeds({ config: project.config, url, env: "production" }));
    expect(refused.code).toBe("RETORT_PRODUCTION_GUARD");
    expect(refused.message).toMatch(/^retort seed refuses to run against production/);
    expect(refused.hint).toMatch(/cannot be run against production/);
    writeFileSync(join(project.seeds, "04_prod.ts"), USERS_SEED.replace("run: async", 'environments: ["development", "production"],\n  run: async'));
    const listed = await failure(runSeeds({ config: project.config, url, env: "development" }));
    expect(listed).toMatchObject({ code: "RETORT_INVALID_SEED" });
    expect(listed.message).toMatch(/04_prod\.ts lists "production"/);
    const unknown = await failure(runSeeds({ config: project.config, url, env: "test", names: ["nope"] }));
    expect(unknown.message).toMatch(/no seed named "nope"/);
  });

  it("setup runs the seeds after migrating; reset runs them only with seed", async () => {
    const project = seedProject();
    const url = sqliteFileUrl();
    const done = await setup({ config: project.config, url, env: "development" });
    expect(done.seeds!.seeds.filter((s) => s.ran).map((s) => s.name)).toEqual(["01_users", "02_posts"]);
    const seeded = await checksums(url, ["created_at", "updated_at"]);
    expect(seeded.users.rows).toBe(6);
    const plain = await reset({ config: project.config, url, env: "development" });
    expect(plain.seeds).toBeUndefined();
    expect((await checksums(url)).users.rows).toBe(0);
    const again = await reset({ config: project.config, url, env: "development", seed: true });
    expect(again.seeds!.seeds.filter((s) => s.ran)).toHaveLength(2);
    // The same data as before the reset, but for the timestamps the server set.
    expect(await checksums(url, ["created_at", "updated_at"])).toEqual(seeded);
    const skipped = await setup({ config: project.config, url, env: "development", seed: false });
    expect(skipped.seeds).toBeUndefined();
  });

  it("two processes seed the same data (the CLI: retort seed, then setup and reset --seed)", async () => {
    const project = seedProject();
    const [a, b] = [sqliteFileUrl(), sqliteFileUrl()];
    for (const url of [a, b]) {
      const migrated = await retort(project.root, "--url", url, "upgrade");
      expect(migrated.code, migrated.stderr).toBe(0);
    }
    const seededA = await retort(project.root, "--url", a, "seed");
    expect(seededA.code, seededA.stderr).toBe(0);
    expect(seededA.stdout).toMatch(/seeded 01_users \(6 created, 0 updated, 0 unchanged; \d+ ms\)/);
    expect(seededA.stdout).toMatch(/skipped \(for other environments than development\): 03_fixtures/);
    const seededB = await retort(project.root, "--url", b, "--json", "seed", "01_users", "02_posts.ts");
    expect(seededB.code, seededB.stderr).toBe(0);
    expect(JSON.parse(seededB.stdout).seeds.map((s: { name: string }) => s.name)).toEqual(["01_users", "02_posts"]);
    const serverTime = ["created_at", "updated_at"];
    expect(await checksums(a, serverTime)).toEqual(await checksums(b, serverTime));
    const resetA = await retort(project.root, "--url", a, "reset", "--seed");
    expect(resetA.code, resetA.stderr).toBe(0);
    expect(resetA.stdout).toMatch(/seeded 02_posts/);
    expect(await checksums(a, serverTime)).toEqual(await checksums(b, serverTime));
    const production = await retort(project.root, "--url", a, "--env", "production", "seed");
    expect(production.code).toBe(1);
    expect(production.stderr).toMatch(/RETORT_PRODUCTION_GUARD: retort seed refuses to run against production/);
  });
});
