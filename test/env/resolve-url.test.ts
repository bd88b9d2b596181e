import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { explainDatabaseUrl, resolveDatabaseUrl, type LoadedConfig, type ResolveUrlOptions } from "../../src/index.js";
import { isRetortError, type RetortError } from "../../src/errors.js";

const root = "/app";
const bare: LoadedConfig = { root, config: {} };
const withUrl: LoadedConfig = { root, config: { url: "sqlite:from-config.db" }, file: "/app/retort.config.ts" };
const renamed: LoadedConfig = { root, config: { url: "sqlite:from-config.db", env: { url: "POSTGRES_URL", production: ["PROD_PG_URL", "PRIMARY_URL"], environments: { staging: "STAGE_URL" } } } };

const all = {
  DATABASE_URL: "sqlite:database-url.db",
  DEV_DATABASE_URL: "sqlite:dev.db",
  TEST_DATABASE_URL: "sqlite:test.db",
  PROD_DATABASE_URL: "postgres://app:hunter2@prod/app",
  STAGING_DATABASE_URL: "sqlite:staging.db",
};
const { DATABASE_URL: _ignored, ...perEnvironment } = all;

// [case, options, expected URL, expected source]
const table: Array<[string, ResolveUrlOptions, string, string]> = [
  ["--url wins over everything", { url: "sqlite:flag.db", env: "production", environment: all, config: withUrl }, "sqlite:flag.db", "--url"],
  ["DATABASE_URL wins over the environment's variable", { env: "production", environment: all, config: withUrl }, "sqlite:database-url.db", "$DATABASE_URL"],
  ["development (the default) reads DEV_DATABASE_URL", { environment: perEnvironment, config: withUrl }, "sqlite:dev.db", "$DEV_DATABASE_URL"],
  ["--env wins over RETORT_ENV and NODE_ENV", { env: "test", environment: { ...perEnvironment, RETORT_ENV: "production", NODE_ENV: "production" } }, "sqlite:test.db", "$TEST_DATABASE_URL"],
  ["RETORT_ENV wins over NODE_ENV", { environment: { ...perEnvironment, RETORT_ENV: "production", NODE_ENV: "development" } }, "postgres://app:hunter2@prod/app", "$PROD_DATABASE_URL"],
  ["NODE_ENV when nothing else names the environment", { environment: { ...perEnvironment, NODE_ENV: "test" } }, "sqlite:test.db", "$TEST_DATABASE_URL"],
  ["prod and dev are aliases", { env: "prod", environment: perEnvironment }, "postgres://app:hunter2@prod/app", "$PROD_DATABASE_URL"],
  ["another environment reads <NAME>_DATABASE_URL", { env: "staging", environment: perEnvironment }, "sqlite:staging.db", "$STAGING_DATABASE_URL"],
  ["the config's url when no variable is set", { env: "production", environment: {}, config: withUrl }, "sqlite:from-config.db", "config url"],
  ["a config object (not loaded) works too", { env: "production", environment: {}, config: { url: "sqlite:object.db" } }, "sqlite:object.db", "config url"],
  ["the embedded default in development", { environment: {}, config: bare }, `pglite:${join(root, ".retort", "dev")}`, "embedded default"],
  ["a separate embedded database for test", { env: "test", environment: {}, config: bare }, `pglite:${join(root, ".retort", "test")}`, "embedded default"],
  ["empty variables count as unset", { environment: { DATABASE_URL: "", NODE_ENV: "", DEV_DATABASE_URL: "sqlite:dev.db" } }, "sqlite:dev.db", "$DEV_DATABASE_URL"],
  ["renamed: the config's env.url replaces DATABASE_URL", { environment: { DATABASE_URL: "sqlite:ignored.db", POSTGRES_URL: "sqlite:pg.db" }, config: renamed }, "sqlite:pg.db", "$POSTGRES_URL"],
  ["renamed: per environment, the first set variable", { env: "production", environment: { PROD_DATABASE_URL: "sqlite:ignored.db", PRIMARY_URL: "sqlite:primary.db" }, config: renamed }, "sqlite:primary.db", "$PRIMARY_URL"],
  ["renamed: other environments by name", { env: "staging", environment: { STAGE_URL: "sqlite:stage.db" }, config: renamed }, "sqlite:stage.db", "$STAGE_URL"],
];

describe("which database: one resolver, one order", () => {
  for (const [name, options, url, source] of table) {
    it(name, () => {
      expect(resolveDatabaseUrl(options)).toBe(url);
      expect(explainDatabaseUrl(options)).toMatchObject({ source, url: url.replace("hunter2", "***") });
    });
  }

  it("says where the environment came from, and masks the password", () => {
    expect(explainDatabaseUrl({ environment: { RETORT_ENV: "Production", PROD_DATABASE_URL: all.PROD_DATABASE_URL } })).toEqual({
      environment: "production",
      environmentSource: "$RETORT_ENV",
      source: "$PROD_DATABASE_URL",
      url: "postgres://app:***@prod/app",
    });
    expect(explainDatabaseUrl({ environment: {}, config: bare })).toMatchObject({ environment: "development", environmentSource: "default" });
  });
});

describe("no silent fallback outside development and test", () => {
  function failure(options: ResolveUrlOptions): RetortError {
    try {
      resolveDatabaseUrl(options);
    } catch (error) {
      if (isRetortError(error)) return error;
      throw error;
    }
    throw new Error("expected RETORT_NO_DATABASE_URL");
  }

  it("NODE_ENV=production with PROD_DATABASE_URL unset: RETORT_NO_DATABASE_URL naming everything looked at", () => {
    const error = failure({ environment: { NODE_ENV: "production", DEV_DATABASE_URL: "sqlite:dev.db" }, config: { ...bare, file: "/app/retort.config.ts" } });
    expect(error.code).toBe("RETORT_NO_DATABASE_URL");
    expect(error.message).toBe(
      'No database URL for environment "production" (from $NODE_ENV): looked at --url, $DATABASE_URL, $PROD_DATABASE_URL, the config\'s url (/app/retort.config.ts); none is set. The embedded PGlite database serves development only.',
    );
    expect(error.hint).toBe("Set PROD_DATABASE_URL (or DATABASE_URL), pass --url, or set url in the config. For the local embedded database, run with --env development.");
  });

  it("RETORT_ENV=staging, and renamed variables are the ones named", () => {
    expect(failure({ environment: { RETORT_ENV: "staging" } }).message).toContain("looked at --url, $DATABASE_URL, $STAGING_DATABASE_URL, the config's url;");
    expect(failure({ env: "production", environment: {}, config: { env: { url: ["POSTGRES_URL", "DATABASE_URL"], production: "PROD_PG_URL" } } }).message).toContain(
      "looked at --url, $POSTGRES_URL, $DATABASE_URL, $PROD_PG_URL, the config's url;",
    );
  });
});
