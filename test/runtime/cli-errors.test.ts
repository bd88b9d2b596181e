import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { createProject, type Project } from "./project.js";

const exec = promisify(execFile);

interface CliResult {
  code: number;
  stdout: string;
  error: { code: string; message: string; hint?: string };
}

/** Run the CLI with --json in a project; errors come back parsed from stderr. */
async function cli(project: Project, ...args: string[]): Promise<CliResult> {
  const config = join(project.root, "retort.config.mjs");
  writeFileSync(config, `export default ${JSON.stringify(project.config.config)};\n`);
  const url = `sqlite:${join(project.root, "app.db")}`;
  try {
    const { stdout } = await exec("node_modules/.bin/tsx", ["src/cli/main.ts", "--json", "--config", config, "--url", url, ...args], { timeout: 60_000 });
    return { code: 0, stdout, error: { code: "", message: "" } };
  } catch (failure) {
    const f = failure as { code: number; stdout: string; stderr: string };
    const json = f.stderr.slice(f.stderr.indexOf("{"));
    return { code: f.code, stdout: f.stdout, error: (JSON.parse(json) as { error: CliResult["error"] }).error };
  }
}

const chain = (project: Project, ids: string[]) => {
  let parents: string[] = [];
  for (const id of ids) {
    project.add({ id, parents, message: `step ${id}`, up: "" });
    parents = [id];
  }
};

describe("migration errors from the CLI: stable code, what, where, what to do; exit 1", () => {
  it.concurrent("duplicate revision id names both files", async () => {
    const project = createProject();
    const a = project.add({ id: "dupe00000001", message: "one", up: "" });
    const b = project.add({ id: "dupe00000001", message: "two", up: "" });
    const { code, error } = await cli(project, "heads");
    expect(code).toBe(1);
    expect(error.code).toBe("RETORT_DUPLICATE_REVISION");
    expect(error.message).toContain(a.split("/").pop()!);
    expect(error.message).toContain(b.split("/").pop()!);
  });

  it.concurrent("missing parent names the file and the missing id", async () => {
    const project = createProject();
    const file = project.add({ id: "kid000000001", parents: ["gone00000000"], message: "orphan", up: "" });
    const { code, error } = await cli(project, "history");
    expect(code).toBe(1);
    expect(error.code).toBe("RETORT_MISSING_PARENT");
    expect(error.message).toContain("gone00000000");
    expect(error.message).toContain(file.split("/").pop()!);
  });

  it.concurrent("a cycle is printed", async () => {
    const project = createProject();
    project.add({ id: "cyca00000001", parents: ["cycb00000002"], message: "a", up: "" });
    project.add({ id: "cycb00000002", parents: ["cyca00000001"], message: "b", up: "" });
    const { code, error } = await cli(project, "heads");
    expect(code).toBe(1);
    expect(error.code).toBe("RETORT_REVISION_CYCLE");
    expect(error.message).toMatch(/cyc[ab]00000001?2? → cyc[ab]0000000[12] → cyc[ab]0000000[12]/);
  });

  it.concurrent("an ambiguous prefix lists the candidates; an unknown target says how to list them", async () => {
    const project = createProject();
    chain(project, ["abcd00000001", "abcd00000002"]);
    const ambiguous = await cli(project, "show", "abcd");
    expect(ambiguous.code).toBe(1);
    expect(ambiguous.error.code).toBe("RETORT_AMBIGUOUS_REVISION");
    expect(ambiguous.error.message).toContain("abcd00000001");
    expect(ambiguous.error.message).toContain("abcd00000002");
    const unknown = await cli(project, "show", "zzzz9");
    expect(unknown.error.code).toBe("RETORT_UNKNOWN_REVISION");
    expect(unknown.error.hint).toContain("retort history");
  });

  it.concurrent("multiple heads lists them and suggests retort merge", async () => {
    const project = createProject();
    project.add({ id: "root00000001", message: "root", up: "" });
    project.add({ id: "left00000002", parents: ["root00000001"], message: "left", up: "" });
    project.add({ id: "rght00000003", parents: ["root00000001"], message: "right", up: "" });
    const { code, error } = await cli(project, "upgrade", "head");
    expect(code).toBe(1);
    expect(error.code).toBe("RETORT_MULTIPLE_HEADS");
    expect(error.message).toContain("left00000002");
    expect(error.message).toContain("rght00000003");
    expect(error.hint).toContain("retort merge");
  });

  it.concurrent("downgrade below base", async () => {
    const project = createProject();
    chain(project, ["base00000001", "next00000002"]);
    expect((await cli(project, "upgrade", "head")).code).toBe(0);
    const { code, error } = await cli(project, "downgrade", "-3");
    expect(code).toBe(1);
    expect(error.code).toBe("RETORT_BELOW_BASE");
  });

  it.concurrent("a modified applied migration names the file", async () => {
    const project = createProject();
    const file = project.add({ id: "edit00000001", message: "edited later", up: `op.createTable("x", { id: t.integer().primaryKey() });` });
    expect((await cli(project, "upgrade", "head")).code).toBe(0);
    writeFileSync(file, readFileSync(file, "utf8").replace('"x"', '"y"'));
    const { code, error } = await cli(project, "upgrade", "head");
    expect(code).toBe(1);
    expect(error.code).toBe("RETORT_MODIFIED_MIGRATION");
    expect(error.message).toContain(file);
    // current warns and exits 0; with --strict it exits 1.
    expect((await cli(project, "current")).code).toBe(0);
    const strict = await cli(project, "current", "--strict");
    expect(strict.code).toBe(1);
    expect(strict.error.code).toBe("RETORT_MODIFIED_MIGRATION");
    expect(strict.error.message).toContain(`${file} (edit00000001)`);
  });

  it.concurrent("a failing migration names the revision, the operation and the SQL", async () => {
    const project = createProject();
    project.add({ id: "fail00000001", message: "fails", up: `op.execute("SELECT * FROM nowhere")` });
    const { code, error } = await cli(project, "upgrade", "head");
    expect(code).toBe(1);
    expect(error.code).toBe("RETORT_MIGRATION_FAILED");
    expect(error.message).toContain("fail00000001");
    expect(error.message).toContain("SQL: SELECT * FROM nowhere");
  });

  it.concurrent("a broken file header names the file and field; usage errors exit 2", async () => {
    const project = createProject();
    const file = project.add({ id: "bad000000001", message: "bad", up: "" });
    writeFileSync(file, readFileSync(file, "utf8").replace(/parents: \[\],/, ""));
    const { code, error } = await cli(project, "heads");
    expect(code).toBe(1);
    expect(error.code).toBe("RETORT_BAD_MIGRATION_FILE");
    expect(error.message).toContain(file.split("/").pop()!);
    expect(error.message).toContain("parents");
    const usage = await exec("node_modules/.bin/tsx", ["src/cli/main.ts", "downgrade"]).catch((e: { code: number }) => e);
    expect((usage as { code: number }).code).toBe(2);
  });

  it.concurrent("--json usage errors are JSON too (exit 2): unknown option, missing argument", async () => {
    const project = createProject();
    const unknown = await cli(project, "upgrade", "--frobnicate");
    expect(unknown.code).toBe(2);
    expect(unknown.error).toEqual({
      code: "RETORT_USAGE",
      message: "unknown option '--frobnicate'",
      hint: "Run `retort --help`, or `retort <command> --help`, for the commands and their options.",
      usage: "commander.unknownOption",
    });
    const missing = await cli(project, "stamp");
    expect(missing.code).toBe(2);
    expect(missing.error.code).toBe("RETORT_USAGE");
    expect(missing.error.message).toBe("missing required argument 'target'");
  });

  it.concurrent("--hints file errors say what is wrong and how to fix it", async () => {
    const project = createProject();
    const missing = await cli(project, "check", "--hints", join(project.root, "nope.json"));
    expect(missing.code).toBe(1);
    expect(missing.error.message).toBe(`the rename hints file ${join(project.root, "nope.json")} does not exist`);
    expect(missing.error.hint).toMatch(/^Check the path given to --hints \(relative to .*\); the file holds \{ "tables"/);
    const file = join(project.root, "hints.json");
    writeFileSync(file, "{ tables: }");
    const bad = await cli(project, "check", "--hints", file);
    expect(bad.error.message).toMatch(/^the rename hints file .*hints\.json is not valid JSON: /);
    expect(bad.error.hint).toMatch(/^Fix the JSON in .*hints\.json; it holds \{/);
    writeFileSync(file, JSON.stringify({ tabels: { a: "b" } }));
    const unknownKey = await cli(project, "check", "--hints", file);
    expect(unknownKey.error.message).toBe(`the rename hints file ${file} has unknown key(s) "tabels" (did you mean "tables"?)`);
    expect(unknownKey.error.hint).toMatch(/^Expected \{ "tables"/);
  });

  it.concurrent("offline SQL prints the script without a database", async () => {
    const project = createProject();
    project.add({ id: "offl00000001", message: "table", up: `op.createTable("x", { id: t.integer().primaryKey() });` });
    const { code, stdout } = await cli(project, "upgrade", "head", "--sql", "--dialect", "postgres");
    expect(code).toBe(0);
    expect(JSON.parse(stdout).sql).toContain(`CREATE TABLE "x"`);
  });
});
