/**
 * Small CLI answers: `show base` says what base is; a revision needs a non-blank message (usage
 * error, exit 2); a pasted blob as a target is not echoed back whole.
 */
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { revision } from "../../src/index.js";
import { createProject, failure, runCli, type Project } from "./project.js";

function withConfig(project: Project): string {
  const config = join(project.root, "retort.config.mjs");
  writeFileSync(config, `export default ${JSON.stringify({ migrations: { ...project.config.config.migrations, directory: project.dir } })};\n`);
  return config;
}

describe("targets and messages from the CLI", () => {
  it.concurrent("show base (and a target that resolves to base) says what base is and names the first revision; show current is a usage error", async () => {
    const project = createProject();
    project.add({ id: "aaaa00000001", message: "guilds", up: "" });
    const config = withConfig(project);
    const base = await runCli(config, ["show", "base"]);
    expect(base.code).toBe(0);
    expect(base.out).toMatch(/^base: the empty database, before any revision; it has no file\. The first revision\(s\): aaaa00000001 \("guilds", .*\)\.$/m);
    const below = await runCli(config, ["show", "aaaa-1"]);
    expect(below.out).toContain('base ("aaaa-1" resolves to base): the empty database');
    const json = await runCli(config, ["--json", "show", "base"]);
    expect(JSON.parse(json.out)).toMatchObject({ revisions: [], base: true, bases: [{ revision: "aaaa00000001" }] });
    const currentShown = await runCli(config, ["show", "current"]);
    expect(currentShown.code).toBe(2);
    expect(currentShown.err).toContain("RETORT_USAGE");
    expect(currentShown.err).toContain("retort current");
  }, 60_000);

  it.concurrent("an empty or blank -m is refused with RETORT_USAGE (exit 2) and writes no file", async () => {
    const project = createProject();
    const config = withConfig(project);
    for (const message of ["", "   "]) {
      const result = await runCli(config, ["revision", "-m", message]);
      expect(result.code).toBe(2);
      expect(result.err).toContain("RETORT_USAGE");
      expect(result.err).toContain("retort revision needs a message");
    }
    expect((await failure(revision({ message: "\t" }, { config: project.config }))).code).toBe("RETORT_USAGE");
    const merge = await runCli(config, ["merge", "-m", "", "heads"]);
    expect(merge.code).toBe(2);
    expect(merge.err).toContain("retort merge needs a message: -m is empty");
    expect(readdirSync(project.dir)).toEqual([]);
  }, 60_000);

  it.concurrent("a 10,000-character target is cut in the message and the --json details, with its length", async () => {
    const project = createProject();
    project.add({ id: "aaaa00000001", message: "guilds", up: "" });
    const config = withConfig(project);
    const long = "x".repeat(10_000);
    const url = `sqlite:${join(project.root, "app.db")}`;
    const digits = "9".repeat(10_000);
    const cases = [["upgrade", long], ["show", long], ["history", "-r", `${long}:head`], ["revision", "-m", "next", "--rev-id", long], ["upgrade", `-${digits}`], ["upgrade", digits]];
    for (const args of cases) {
      const result = await runCli(config, ["--url", url, ...args]);
      expect(result.code).not.toBe(0);
      expect(result.err).toMatch(/… \(1000[01] characters\)/);
      expect(result.err.length).toBeLessThan(1_500);
    }
    const json = await runCli(config, ["--json", "--url", url, "upgrade", `${long}+1`]);
    expect(json.err.length).toBeLessThan(1_500);
    expect(JSON.parse(json.err.slice(json.err.indexOf("{"))).error.target).toBe(`${"x".repeat(60)}… (10000 characters)`);
  }, 60_000);
});
