/**
 * Loading the user's TypeScript: project files compiled in, packages shared with the process,
 * each file's own import.meta / __dirname / require, fresh reloads, nothing left on disk.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { execFile } from "node:child_process";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileAhead, importModule } from "../../src/env/import-module.js";

const root = mkdtempSync(join(tmpdir(), "retort-import-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function write(path: string, text: string): string {
  const file = join(root, path);
  mkdirSync(join(file, ".."), { recursive: true });
  writeFileSync(file, text);
  return file;
}

/** A package with separate ESM and CommonJS entries, installed only inside `packages/db`. */
write("packages/db/node_modules/dual/package.json", JSON.stringify({ name: "dual", exports: { import: "./esm.mjs", require: "./cjs.cjs" } }));
write("packages/db/node_modules/dual/esm.mjs", `export const flavour = "esm"; export const token = {};\n`);
write("packages/db/node_modules/dual/cjs.cjs", `exports.flavour = "cjs";\n`);
write("packages/db/src/enums.ts", `export enum Level { Low = 1, High = 2 }\nexport const where = import.meta.url;\n`);
write("packages/db/src/helper.mjs", `export const helperDir = import.meta.dirname;\n`);
write(
  "packages/db/src/models.ts",
  [
    `import { flavour, token } from "dual";`,
    `import { Level, where } from "./enums";`,
    `import { helperDir } from "./helper.mjs";`,
    `const required = require("dual").flavour as string;`,
    `export const models = { flavour, token, level: Level.High as number, enumsUrl: where, helperDir, dir: __dirname, file: __filename, required };`,
  ].join("\n"),
);

describe("importModule (TypeScript through esbuild)", () => {
  it("compiles the project's files in and resolves packages from the file that imports them", async () => {
    // The app has no node_modules of its own: "dual" is only found from packages/db.
    const entry = write("apps/api/migrations/0001_init.ts", `import { models } from "../../../packages/db/src/models.ts";\nexport default { models, url: import.meta.url as string };\n`);
    const module = (await importModule(entry, { default: true })) as { models: Record<string, unknown>; url: string };
    expect(module.url).toBe(pathToFileURL(entry).href);
    expect(module.models).toMatchObject({
      flavour: "esm",
      level: 2,
      enumsUrl: pathToFileURL(join(root, "packages/db/src/enums.ts")).href,
      helperDir: join(root, "packages/db/src"),
      dir: join(root, "packages/db/src"),
      file: join(root, "packages/db/src/models.ts"),
      required: "cjs",
    });
    // The package is the process's own instance, not a copy compiled into the module.
    const direct = (await import(pathToFileURL(join(root, "packages/db/node_modules/dual/esm.mjs")).href)) as { token: object };
    expect(module.models.token).toBe(direct.token);
  });

  it("follows tsconfig paths to the project's TypeScript", async () => {
    write("aliased/tsconfig.json", JSON.stringify({ compilerOptions: { baseUrl: ".", paths: { "@/*": ["src/*"] } } }));
    write("aliased/src/db/models.ts", `export const answer: number = 42;\n`);
    const config = write("aliased/retort.config.ts", `import { answer } from "@/db/models";\nexport default { answer };\n`);
    expect(await importModule(config, { default: true })).toEqual({ answer: 42 });
  });

  it("compiles again when a tsconfig.json it was built with changes", async () => {
    mkdirSync(join(root, "settings/node_modules"), { recursive: true });
    const tsconfig = write("settings/tsconfig.json", JSON.stringify({ compilerOptions: { baseUrl: ".", paths: { "@/*": ["one/*"] } } }));
    write("settings/one/value.ts", `export const value: number = 1;\n`);
    write("settings/two/value.ts", `export const value: number = 2;\n`);
    const entry = write("settings/models.ts", `export { value } from "@/value";\n`);
    expect(await importModule(entry, { fresh: true })).toMatchObject({ value: 1 });
    // Make the entry trusted at once (the racy rule would otherwise refuse it for two seconds).
    const folder = join(root, "settings/node_modules/.cache/retort");
    const cacheFile = join(folder, readdirSync(folder)[0]!);
    const cached = JSON.parse(readFileSync(cacheFile, "utf8")) as { writtenAt: number; inputs: Record<string, unknown> };
    expect(Object.keys(cached.inputs)).toContain(tsconfig);
    writeFileSync(cacheFile, JSON.stringify({ ...cached, writtenAt: Date.now() + 60_000 }));
    expect(await importModule(entry, { fresh: true })).toMatchObject({ value: 1 });
    writeFileSync(tsconfig, JSON.stringify({ compilerOptions: { baseUrl: ".", paths: { "@/*": ["two/*"] } } }));
    expect(await importModule(entry, { fresh: true })).toMatchObject({ value: 2 });
  });

  it("writes nothing next to the user's files", async () => {
    const entry = write("clean/config.ts", `export default { ok: true as boolean };\n`);
    expect(await importModule(entry, { default: true })).toEqual({ ok: true });
    expect(readdirSync(join(root, "clean"))).toEqual(["config.ts"]);
  });

  it("loads a file once per process unless fresh, and fresh re-reads the files it imports", async () => {
    const part = write("fresh/part.ts", `export const n: number = 1;\n`);
    const entry = write("fresh/models.ts", `import { n } from "./part";\nexport const value = n;\n`);
    expect(await importModule(entry)).toMatchObject({ value: 1 });
    writeFileSync(part, `export const n: number = 2;\n`);
    expect(await importModule(entry)).toMatchObject({ value: 1 });
    expect(await importModule(entry, { fresh: true })).toMatchObject({ value: 2 });
  });

  it("names the file and the problem when it does not compile or a package is missing", async () => {
    const broken = write("broken/models.ts", `export const x = ;\n`);
    await expect(importModule(broken)).rejects.toThrow(`${broken}:1:18: Unexpected ";"`);
    const missing = write("missing/models.ts", `import { z } from "not-installed-anywhere";\nexport const y = z;\n`);
    await expect(importModule(missing)).rejects.toThrow(`${missing}:1:19: Could not resolve "not-installed-anywhere"`);
  });

  it("keeps compiled code in node_modules/.cache/retort while the files it was built from are unchanged", async () => {
    mkdirSync(join(root, "cached/node_modules"), { recursive: true });
    symlinkSync(join(root, "packages/db/node_modules/dual"), join(root, "cached/node_modules/dual"));
    const part = write("cached/src/part.ts", `export const n: number = 1;\n`);
    const entry = write("cached/src/models.ts", `import { n } from "./part";\nimport { flavour } from "dual";\nexport const value = n;\nexport { flavour };\n`);
    expect(await importModule(entry, { fresh: true })).toMatchObject({ value: 1, flavour: "esm" });

    const folder = join(root, "cached/node_modules/.cache/retort");
    const [name, ...others] = readdirSync(folder);
    expect(others).toEqual([]);
    const cacheFile = join(folder, name!);
    const cached = JSON.parse(readFileSync(cacheFile, "utf8")) as { writtenAt: number; inputs: Record<string, unknown>; code: string };
    expect(Object.keys(cached.inputs).sort()).toEqual([entry, join(root, "packages/db/node_modules/dual/package.json"), part].sort());
    // Written right after the files changed, the entry is not trusted yet (racy rule): compiled again.
    writeFileSync(cacheFile, JSON.stringify({ ...cached, code: "export const value = 42;" }));
    expect(await importModule(entry, { fresh: true })).toMatchObject({ value: 1 });
    // Written well after: used as it is.
    writeFileSync(cacheFile, JSON.stringify({ ...cached, writtenAt: Date.now() + 60_000, code: "export const value = 42;" }));
    expect(await importModule(entry, { fresh: true })).toMatchObject({ value: 42 });
    // A file it was built from changed: compiled again.
    writeFileSync(part, `export const n: number = 3;\n`);
    expect(await importModule(entry, { fresh: true })).toMatchObject({ value: 3 });
  });

  it("compiles many files in one go, each with its own meta, and leaves a broken one to be reported on import", async () => {
    mkdirSync(join(root, "many/node_modules"), { recursive: true });
    const files = [1, 2, 3].map((i) => write(`many/versions/${i}.ts`, `export default { n: ${i} as number, url: import.meta.url, dir: __dirname };\n`));
    const broken = write("many/versions/4.ts", `export default { n: };\n`);
    await compileAhead([...files, broken]);
    // The broken file fails the pass; the others are compiled in a second one.
    expect(readdirSync(join(root, "many/node_modules/.cache/retort"))).toHaveLength(3);
    for (const [i, file] of files.entries()) {
      expect(await importModule(file, { default: true })).toEqual({ n: i + 1, url: pathToFileURL(file).href, dir: join(root, "many/versions") });
    }
    await expect(importModule(broken)).rejects.toThrow(`${broken}:1:21: Unexpected "}"`);
  });

  it("stack traces name the source file (lines are those of the compiled module)", async () => {
    // In a plain Node process, as the CLI runs (the test runner rewrites stack traces its own way).
    const entry = write("stack/migration.ts", `export function fail(): never {\n  throw new Error("boom");\n}\n`);
    const script = write(
      "stack/run.mts",
      `import { importModule } from ${JSON.stringify(resolve("src/env/import-module.ts"))};\n` +
        `const module = (await importModule(${JSON.stringify(entry)})) as { fail(): never };\n` +
        `try { module.fail(); } catch (error) { console.log((error as Error).stack); }\n`,
    );
    const { stdout } = await promisify(execFile)(resolve("node_modules/.bin/tsx"), [script]);
    expect(stdout).toContain(`at Module.fail (${pathToFileURL(entry).href}:`);
    expect(stdout).not.toContain("data:");
  });
});

describe("importModule (JavaScript, straight to Node)", () => {
  type Runner = "node" | "tsx";
  /** This folder's import-module.ts built for plain Node, as it runs from dist/ (with its require probe). */
  const built = join(root, "built");
  beforeAll(async () => {
    const esbuild = await import("esbuild");
    await esbuild.build({
      entryPoints: { "import-module": resolve("src/env/import-module.ts"), "require-probe": resolve("src/env/require-probe.ts") },
      outdir: built,
      bundle: true,
      packages: "external",
      format: "esm",
      platform: "node",
      logLevel: "silent",
    });
    write("built/package.json", JSON.stringify({ type: "module" }));
    symlinkSync(resolve("node_modules"), join(built, "node_modules"));
  });

  /**
   * Runs `body` (JavaScript; importModule and requireCache in scope) in a child process, as the
   * CLI runs (the test runner loads modules its own way): plain Node, or under tsx, whose
   * require() compiles ES modules to CommonJS.
   */
  async function run(runner: Runner, name: string, body: string): Promise<unknown> {
    const entry = runner === "node" ? join(built, "import-module.js") : resolve("src/env/import-module.ts");
    const script = write(
      `js/run-${name}-${runner}.mjs`,
      `import { createRequire } from "node:module";\nimport { importModule } from ${JSON.stringify(pathToFileURL(entry).href)};\n` +
        `const requireCache = createRequire(import.meta.url).cache;\nconsole.log(JSON.stringify(await (async () => { ${body} })()));\n`,
    );
    const { stdout } = await promisify(execFile)(runner === "node" ? process.execPath : resolve("node_modules/.bin/tsx"), [script]);
    return JSON.parse(stdout) as unknown;
  }

  it.each<Runner>(["node", "tsx"])("loads ES modules (.mjs, .js of a package with type module) as one instance each, top-level await included (%s)", async (runner) => {
    const shared = write(`js/${runner}/shared.mjs`, `export const token = {};\n`);
    const mjs = write(`js/${runner}/plain.mjs`, `import { token } from "./shared.mjs";\nexport default { token, url: import.meta.url };\n`);
    write(`js/${runner}/esm-package/package.json`, JSON.stringify({ type: "module" }));
    const js = write(`js/${runner}/esm-package/module.js`, `import { token } from "../shared.mjs";\nexport default { token };\n`);
    const awaiting = write(`js/${runner}/awaits.mjs`, `import { token } from "./shared.mjs";\nconst later = await Promise.resolve(token);\nexport default { token: later };\n`);
    const result = await run(
      runner,
      "instances",
      `const [a, b, c] = await Promise.all(${JSON.stringify([mjs, js, awaiting])}.map((file) => importModule(file, { default: true })));
       const shared = await import(${JSON.stringify(pathToFileURL(shared).href)});
       return { url: a.url, same: [a.token, b.token, c.token].every((token) => token === shared.token), viaRequire: ${JSON.stringify(mjs)} in requireCache };`,
    );
    // Plain Node takes the faster require() path where it has one; under tsx that would load second copies, so import() it is.
    const nodeRequiresEsm = (process.features as { require_module?: boolean }).require_module === true;
    expect(result).toEqual({ url: pathToFileURL(mjs).href, same: true, viaRequire: runner === "node" && nodeRequiresEsm });
  });

  it("gives a CommonJS file the namespace import() gives: module.exports as its default", async () => {
    write("cjs/package.json", JSON.stringify({ name: "plain-cjs" }));
    const file = write("cjs/config.js", `exports.default = { kind: "wrapped" };\nexports.named = 1;\n`);
    const result = await run("node", "cjs", `const namespace = await importModule(${JSON.stringify(file)}); return { default: namespace.default, named: namespace.named };`);
    expect(result).toEqual({ default: { default: { kind: "wrapped" }, named: 1 }, named: 1 });
  });

  it("reports a syntax error in a .mjs file with its place", async () => {
    const file = write("js/broken.mjs", `export default {\n  a: 1,,\n};\n`);
    const message = await run("node", "broken", `return importModule(${JSON.stringify(file)}).then(() => "loaded", (error) => error.message);`);
    expect(message).toBe(`${file}:2:8: Expected identifier but found ","`);
  });
});
