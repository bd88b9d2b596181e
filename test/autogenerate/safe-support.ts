/**
 * A project whose models change between autogenerate runs: `generate(models)` writes the models
 * file and runs `revision --autogenerate`, returning the file it wrote. Shared by the safe-* tests.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AutogenerateSettings, MigrationSettings } from "../../src/index.js";
import { autogenerate, type AutogenerateResult, type AutogenerateSpec } from "../../src/runtime/schema-commands.js";
import type { Dialect } from "../../src/schema/snapshot.js";
import { SOURCE_INDEX, createProject, type Project } from "../runtime/project.js";

export interface ModelProject extends Project {
  options: { config: Project["config"]; dialect?: Dialect; url?: string };
  /** Write the models: the body of a module importing t, table, index, unique, check, sql. */
  writeModels(models: string): void;
  /** Write the models, autogenerate, return the result and the file text. */
  generate(models: string, spec?: Partial<AutogenerateSpec>): Promise<AutogenerateResult & { text: string; contractText?: string }>;
}

export function modelProject(settings: { dialect?: Dialect; url?: string; autogenerate?: AutogenerateSettings; migrations?: MigrationSettings } = {}): ModelProject {
  const project = createProject(settings.migrations ?? {});
  const config = { ...project.config, config: { ...project.config.config, models: "./schema.ts", ...(settings.autogenerate ? { autogenerate: settings.autogenerate } : {}) } };
  const options = { config, ...(settings.dialect ? { dialect: settings.dialect } : {}), ...(settings.url ? { url: settings.url } : {}) };
  let step = 0;
  const writeModels = (models: string) => writeFileSync(join(project.root, "schema.ts"), `import { t, table, index, unique, check, sql } from ${JSON.stringify(SOURCE_INDEX)};\n${models}\n`);
  return {
    ...project,
    config,
    options,
    writeModels,
    async generate(models, spec = {}) {
      writeModels(models);
      const result = await autogenerate({ message: `step ${++step}`, ...spec }, options);
      const read = (path: string) => readFileSync(join(project.root, path.replace(/^.*migrations/, "migrations")), "utf8");
      return { ...result, text: result.path ? read(result.path) : "", ...(result.contract ? { contractText: read(result.contract.path) } : {}) };
    },
  };
}

/** The upgrade(op) body of a migration file, unindented. */
export function upgradeBody(text: string): string {
  const start = text.indexOf("async upgrade(op) {\n") + "async upgrade(op) {\n".length;
  const end = text.indexOf("\n  },\n\n  async downgrade");
  return text
    .slice(start, end)
    .split("\n")
    .map((line) => line.replace(/^ {4}/, ""))
    .join("\n");
}

/** The header lines of a migration file between createdAt and upgrade (transactional, lockTimeout…). */
export function headerExtras(text: string): string[] {
  const lines = text.split("\n");
  const from = lines.findIndex((line) => line.startsWith("  createdAt:")) + 1;
  const to = lines.findIndex((line) => line.startsWith("  async upgrade"));
  return lines.slice(from, to).filter((line) => line.trim() !== "").map((line) => line.trim());
}
