/** .env files: never override what is set; .env.<environment> wins over .env; the environment may come from .env. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { environmentName, loadEnvFiles } from "../../src/env/dotenv.js";

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "dotenv-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe(".env files", () => {
  it.each([
    // [variables already set, .env, .env.<env>, expected DATABASE_URL, expected source]
    [{}, "DATABASE_URL=from-dotenv\n", undefined, "from-dotenv", ".env"],
    [{}, "DATABASE_URL=from-dotenv\n", "DATABASE_URL=from-env-file\n", "from-env-file", ".env.development"],
    [{ DATABASE_URL: "from-shell" }, "DATABASE_URL=from-dotenv\n", "DATABASE_URL=from-env-file\n", "from-shell", undefined],
    [{ DATABASE_URL: "" }, "DATABASE_URL=from-dotenv\n", undefined, "", undefined],
  ] as const)("set %j, .env %j, .env.development %j → %j", (set, dotenv, envFile, expected, source) => {
    const dir = folder({ ".env": dotenv, ...(envFile ? { ".env.development": envFile } : {}) });
    const variables: NodeJS.ProcessEnv = { ...set };
    const result = loadEnvFiles(dir, { variables });
    expect(variables.DATABASE_URL).toBe(expected);
    expect(result.loaded.find((v) => v.name === "DATABASE_URL")?.file).toBe(source === undefined ? undefined : join(dir, source));
  });

  it("the environment named in .env picks the second file; --env wins over it", () => {
    const dir = folder({ ".env": "NODE_ENV=production\nA=1\n", ".env.production": "PROD_DATABASE_URL=postgres://db/prod\nA=2\n", ".env.staging": "A=3\n" });
    const variables: NodeJS.ProcessEnv = {};
    const result = loadEnvFiles(dir, { variables });
    expect(variables).toEqual({ NODE_ENV: "production", A: "2", PROD_DATABASE_URL: "postgres://db/prod" });
    expect(result.files).toEqual([join(dir, ".env"), join(dir, ".env.production")]);
    const staging: NodeJS.ProcessEnv = {};
    loadEnvFiles(dir, { env: "staging", variables: staging });
    expect(staging.A).toBe("3");
    expect(Object.keys(staging).sort()).toEqual(["A", "NODE_ENV"]);
  });

  it("quotes, comments, export and multi-line values", () => {
    const dir = folder({ ".env": 'export TOKEN="a b"\n# comment\nKEY=\'single\'\nCERT="line1\nline2"\n' });
    const variables: NodeJS.ProcessEnv = {};
    loadEnvFiles(dir, { variables });
    expect(variables).toEqual({ TOKEN: "a b", KEY: "single", CERT: "line1\nline2" });
  });

  it("no files: nothing happens", () => {
    const variables: NodeJS.ProcessEnv = { X: "1" };
    expect(loadEnvFiles(folder({}), { variables })).toEqual({ files: [], loaded: [] });
    expect(variables).toEqual({ X: "1" });
  });

  it.each([
    [undefined, {}, "development"],
    [undefined, { NODE_ENV: "production" }, "production"],
    [undefined, { NODE_ENV: "production", RETORT_ENV: "staging" }, "staging"],
    ["prod", { RETORT_ENV: "staging" }, "production"],
    [undefined, { NODE_ENV: "" }, "development"],
    [undefined, { RETORT_ENV: "Dev" }, "development"],
  ] as const)("environment: --env %s with %j → %s", (explicit, variables, expected) => {
    expect(environmentName(explicit, variables)).toBe(expected);
  });
});
