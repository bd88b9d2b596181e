/**
 * `.env` files: `.env`, then `.env.<environment>`, next to the config. A variable already set
 * (by the shell, CI, the platform) is never overridden, and `.env.<environment>` wins over `.env`.
 * The environment's name may itself come from `.env` (NODE_ENV=…), so `.env` is read first.
 * Parsing is Node's own (util.parseEnv: quotes, multi-line values, `export`, comments).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseEnv } from "node:util";
import { environmentName } from "./environment.js";

export interface LoadedVariable {
  name: string;
  /** The file it came from. */
  file: string;
}

export interface EnvFiles {
  /** The files read, in order. */
  files: string[];
  /** Variables set from them (those already set are not listed: they were kept). */
  loaded: LoadedVariable[];
}

/** Where each variable set by loadEnvFiles came from, for `retort env`. */
const origins = new Map<string, string>();

/** The .env file that set `name` in this process, if one did. */
export function envFileOf(name: string): string | undefined {
  return origins.get(name);
}

/**
 * Read `.env` and `.env.<environment>` from `dir` into `variables` (process.env by default),
 * never overriding what is already set.
 */
export function loadEnvFiles(dir: string, options: { env?: string; variables?: NodeJS.ProcessEnv } = {}): EnvFiles {
  const variables = options.variables ?? process.env;
  const result: EnvFiles = { files: [], loaded: [] };
  const read = (file: string) => {
    if (!existsSync(file)) return undefined;
    try {
      return parseEnv(readFileSync(file, "utf8"));
    } catch (error) {
      // readFileSync's EISDIR carries no path: give it one, so the CLI names the file.
      (error as NodeJS.ErrnoException).path ??= file;
      throw error;
    }
  };
  const apply = (file: string, parsed: NodeJS.Dict<string> | undefined) => {
    if (parsed === undefined) return;
    result.files.push(file);
    for (const [name, value] of Object.entries(parsed)) {
      if (value === undefined || variables[name] !== undefined) continue;
      variables[name] = value;
      result.loaded.push({ name, file });
      if (variables === process.env) origins.set(name, file);
    }
  };
  const base = join(dir, ".env");
  const baseValues = read(base);
  // .env may name the environment; what is already set still decides first.
  const environment = environmentName(options.env, { ...definedOnly(baseValues ?? {}), ...definedOnly(variables) });
  const specific = join(dir, `.env.${environment}`);
  // The environment's file is applied first, so it wins over .env for variables both set.
  apply(specific, read(specific));
  apply(base, baseValues);
  result.files.reverse();
  return result;
}

function definedOnly(variables: NodeJS.Dict<string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(variables)) if (value !== undefined) out[name] = value;
  return out;
}
