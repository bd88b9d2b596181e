/** retort.config.* is validated when loaded: every problem with its key path, "did you mean", and what is accepted. */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/env/config.js";
import { isRetortError, type RetortError } from "../../src/errors.js";
import { current, revision, revisionGraph } from "../../src/runtime/api.js";
import { check } from "../../src/runtime/schema-commands.js";

const folder = () => mkdtempSync(join(tmpdir(), "retort-config-"));

/** A config module in a new folder; returns the folder. */
function project(source: string): string {
  const dir = folder();
  writeFileSync(join(dir, "retort.config.mjs"), source);
  return dir;
}

async function configError(promise: Promise<unknown>): Promise<RetortError> {
  try {
    await promise;
  } catch (error) {
    if (isRetortError(error, "RETORT_CONFIG")) return error;
    throw error;
  }
  throw new Error("expected RETORT_CONFIG");
}

const TOP_KEYS = ["models", "url", "env", "pooler", "migrations", "autogenerate", "tables", "schemas", "branchDatabases", "localServer", "services", "lint", "seeds"];

describe("config validation", () => {
  it("every key RetortConfig has is accepted", async () => {
    const config = {
      models: "./schema.ts",
      url: "postgres://localhost/app",
      env: { url: "POSTGRES_URL", production: ["PROD_PG_URL", "PRIMARY_URL"], environments: { staging: "STAGING_PG" } },
      pooler: "transaction",
      migrations: { directory: "m", transaction: "each", lockTimeoutMs: 1000, modifiedMigrations: "warn", importFrom: "retort-db", released: ["a1b2c3"], linear: true },
      autogenerate: { safe: false, lockTimeout: "3s" },
      tables: { include: ["app_*"], exclude: ["app_tmp"] },
      schemas: ["public"],
      branchDatabases: false,
      localServer: { port: 5499, version: 15, database: "app", durable: false, osUser: "postgres", settings: { log_statement: "all", shared_buffers: "64MB" } },
      services: { redis: { start: "redis-server --port 6390", stop: "redis-cli -p 6390 shutdown", ready: { tcp: 6390 }, status: "redis-cli -p 6390 ping", timeoutMs: 5000, cwd: ".", env: { A: "1" } } },
      lint: {
        postgresVersion: 15,
        rules: { "prefer-text-field": "off", "ban-drop-column": "warning" },
        budgets: { accessExclusiveRows: 100000, blockingWritesRows: 1000000, lockSeconds: 5 },
        throughput: { scanMBps: 300, rewriteMBps: 60, indexMBps: 45 },
        smallTableRows: 5000,
        longTransactionSeconds: 30,
      },
      seeds: { directory: "db/seeds" },
    };
    const dir = project(`export default ${JSON.stringify(config)};\n`);
    expect(Object.keys(config)).toEqual(TOP_KEYS);
    const loaded = await loadConfig(undefined, dir);
    expect({ ...loaded.config, url: loaded.config.url }).toEqual(config);
  });

  it("a config with no default export is an error, not silent defaults", async () => {
    const dir = project(`export const config = { migrations: { transaction: "all" } };\n`);
    const error = await configError(loadConfig(undefined, dir));
    expect(error.message).toBe(`${join(dir, "retort.config.mjs")} has no default export (it exports \`config\`), so Retort would run with silent defaults.`);
    expect(error.hint).toBe("Export the config as the default: `export default defineConfig({ … })`.");
  });

  it("unknown keys are reported with their key path and 'did you mean'", async () => {
    const dir = project(`export default { modles: "./schema.ts", migrations: { directory: "m", transacton: "all" } };\n`);
    const error = await configError(loadConfig(undefined, dir));
    expect(error.message).toBe(
      `${join(dir, "retort.config.mjs")} is not a valid config (2 problems):\n` +
        `  migrations.transacton: unknown key (did you mean "transaction"?); accepted here: "directory", "transaction", "lockTimeoutMs", "modifiedMigrations", "importFrom", "linear", "released"\n` +
        `  modles: unknown key (did you mean "models"?); accepted here: ${TOP_KEYS.map((k) => `"${k}"`).join(", ")}`,
    );
    expect(error.hint).toMatch(/^Fix these keys in the config file/);
    expect(error.details.problems).toEqual([
      { path: "migrations.transacton", problem: expect.any(String), accepted: ["directory", "transaction", "lockTimeoutMs", "modifiedMigrations", "importFrom", "linear", "released"] },
      { path: "modles", problem: expect.any(String), accepted: TOP_KEYS },
    ]);
  });

  it("invalid values report the key path and the accepted values or type", async () => {
    const dir = project(`export default { migrations: { transaction: "sometimes", lockTimeoutMs: "10", modifiedMigrations: "ignore" }, url: "" };\n`);
    const error = await configError(loadConfig(undefined, dir));
    expect(error.message.split("\n").slice(1)).toEqual([
      `  url: must not be empty`,
      `  migrations.transaction: "sometimes" is not accepted; expected one of "each", "all"`,
      `  migrations.lockTimeoutMs: expected a number, got "10"`,
      `  migrations.modifiedMigrations: "ignore" is not accepted; expected one of "error", "warn"`,
    ]);
    expect(error.details.problems).toContainEqual({ path: "migrations.transaction", problem: expect.any(String), accepted: ["each", "all"] });
  });

  it("autogenerate and migrations.released are checked: a lock_timeout duration, a boolean, a list, \"all\" or a function", async () => {
    const dir = project(`export default { autogenerate: { safe: "yes", lockTimeout: "5 seconds" }, migrations: { released: 3 } };\n`);
    const error = await configError(loadConfig(undefined, dir));
    expect(error.message.split("\n").slice(1)).toEqual([
      `  migrations.released: expected "all", a list of revisions or a function`,
      `  autogenerate.safe: expected a boolean, got "yes"`,
      `  autogenerate.lockTimeout: expected a duration such as "5s", "500ms" or "1min"`,
    ]);
    const fn = project(`export default { migrations: { released: (rev) => rev === "x" }, autogenerate: { lockTimeout: "1500ms" } };\n`);
    const loaded = await loadConfig(undefined, fn);
    expect(typeof loaded.config.migrations?.released).toBe("function");
  });

  it("every section of the config is checked: env names, pooler, tables, schemas, localServer, services", async () => {
    const valid = {
      env: { url: "POSTGRES_URL", production: ["PROD_PG_URL", "PRIMARY_URL"], environments: { staging: "STAGING_PG" } },
      pooler: "transaction",
      localServer: { port: 5433, durable: false, settings: { log_statement: "all" } },
      services: { cache: { start: "redis-server", ready: { tcp: 6379 } } },
      tables: { include: ["app_*"], exclude: ["app_tmp"] },
      schemas: ["public"],
    };
    expect((await loadConfig(undefined, project(`export default ${JSON.stringify(valid)};\n`))).config).toMatchObject(valid);
    const dir = project(`export default { pooler: "session", localServer: { prot: 5433 }, services: { cache: { strat: "redis-server" } } };\n`);
    const error = await configError(loadConfig(undefined, dir));
    expect(error.message.split("\n").slice(1)).toEqual([
      `  pooler: "session" is not accepted; expected one of "none", "transaction"`,
      `  localServer.prot: unknown key (did you mean "port"?); accepted here: "port", "version", "database", "durable", "osUser", "settings"`,
      `  services.cache.start: expected a string, got nothing`,
      `  services.cache.strat: unknown key (did you mean "start"?); accepted here: "start", "stop", "ready", "status", "timeoutMs", "cwd", "env"`,
    ]);
  });

  it("a valid config loads; a later edit is checked again", async () => {
    const dir = project(`export default { models: "./schema.ts", migrations: { transaction: "all", lockTimeoutMs: 5000 } };\n`);
    mkdirSync(join(dir, "node_modules"));
    expect((await loadConfig(undefined, dir)).config).toEqual({ models: "./schema.ts", migrations: { transaction: "all", lockTimeoutMs: 5000 } });
    // Marked as checked beside the compiled-code cache, not in the project.
    expect(readdirSync(join(dir, "node_modules", ".cache", "retort")).filter((name) => name.endsWith(".checked"))).toHaveLength(1);
    expect(existsSync(join(dir, ".retort"))).toBe(false);
    // Same folder, another file (a module is loaded once per process): the remembered check does not cover it.
    writeFileSync(join(dir, "other.config.mjs"), `export default { models: "./schema.ts", migrations: { transaction: "sometimes" } };\n`);
    await configError(loadConfig("other.config.mjs", dir));
    // Values JSON cannot show are always checked.
    writeFileSync(join(dir, "fn.config.mjs"), `export default { models: () => "./schema.ts" };\n`);
    expect((await configError(loadConfig("fn.config.mjs", dir))).message).toContain(`models: expected a string, got a function`);
  });
});

describe("no config file", () => {
  it("commands that need one say so and point at retort init", async () => {
    const dir = folder();
    mkdirSync(join(dir, "migrations", "versions"), { recursive: true });
    const error = await configError(revision({ message: "first" }, { cwd: dir }));
    expect(error.message).toBe(`\`retort revision\` needs a config file, and there is no retort.config.ts, retort.config.mts, retort.config.js, retort.config.mjs in ${dir}.`);
    expect(error.hint).toBe("Run `retort init` to create retort.config.ts and migrations/versions/, or pass --config <file>.");
    expect((await configError(check({ cwd: dir }))).message).toMatch(/^`retort check` needs a config file/);
  });

  it("migration commands run on defaults when migrations/versions is there, and say what is missing when not", async () => {
    const dir = folder();
    const error = await configError(current({ cwd: dir, url: "sqlite::memory:" }));
    expect(error.message).toBe(`No config file (retort.config.ts, retort.config.mts, retort.config.js, retort.config.mjs) and no migrations folder ${join(dir, "migrations", "versions")} in ${dir}.`);
    expect(error.hint).toMatch(/^Run `retort init`/);
    mkdirSync(join(dir, "migrations", "versions"), { recursive: true });
    expect((await revisionGraph({ cwd: dir })).size).toBe(0);
    expect((await current({ cwd: dir, url: "sqlite::memory:" })).heads).toEqual([]);
  });
});

describe("retort-db/config stays light", () => {
  it("no static import from src/config.ts reaches zod or the config schema (validation loads them when it runs)", () => {
    const seen = new Set<string>();
    const packages = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      // Static imports and re-exports (not type-only ones, which are erased); `await import(…)` is what keeps the entry light.
      for (const [, specifier] of readFileSync(file, "utf8").matchAll(/^(?:import|export)\s(?!type\s)[^;]*?\sfrom\s+"([^"]+)"/gm)) {
        if (specifier!.startsWith(".")) visit(resolve(dirname(file), specifier!.replace(/\.js$/, ".ts")));
        else packages.add(specifier!);
      }
    };
    visit(resolve("src/config.ts"));
    expect([...packages].filter((name) => !name.startsWith("node:"))).toEqual([]);
    expect([...seen].map((file) => file.slice(resolve("src").length + 1)).sort()).not.toContain("env/config-schema.ts");
    expect(seen.has(resolve("src/env/config.ts"))).toBe(true);
  });
});
