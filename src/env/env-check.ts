/**
 * `retort env` and `retort env check`: which variables Retort and the config read, where each
 * value came from, and whether the committed `.env.example` lists them all without holding a
 * real secret (a password in a URL, a long random token).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { envFileOf } from "./dotenv.js";
import { environmentUrlVariables, generalUrlVariables, type LoadedConfig } from "./config.js";
import { redactUrl } from "./url.js";

/** Variables Retort reads besides the URL ones. */
const RETORT_VARIABLES = ["RETORT_ENV", "NODE_ENV", "RETORT_BRANCH_DATABASES"];

export interface VariableState {
  name: string;
  /** "unset", "environment" (the shell, CI, the platform) or the .env file that set it. */
  from: string;
  /** The value with any URL password masked; other values are not shown (they may be secrets). */
  value?: string;
}

/** The URL variables for every environment the project names, and those the config file reads. */
export function variablesRead(loaded: LoadedConfig): { retort: string[]; config: string[] } {
  const urls = [...generalUrlVariables(loaded), ...["development", "test", "production"].flatMap((env) => environmentUrlVariables(loaded, env))];
  for (const env of Object.keys(loaded.config.env?.environments ?? {})) urls.push(...environmentUrlVariables(loaded, env));
  return { retort: unique([...urls, ...RETORT_VARIABLES]), config: loaded.file ? configVariables(readFileSync(loaded.file, "utf8")) : [] };
}

/** `process.env.NAME` and `process.env["NAME"]` in the config's source. */
function configVariables(source: string): string[] {
  const names: string[] = [];
  for (const match of source.matchAll(/process\.env(?:\.([A-Za-z_]\w*)|\[\s*["'`]([A-Za-z_]\w*)["'`]\s*\])/g)) names.push((match[1] ?? match[2])!);
  return unique(names);
}

export function variableStates(names: readonly string[], variables: NodeJS.ProcessEnv = process.env): VariableState[] {
  return names.map((name) => {
    const value = variables[name];
    if (value === undefined || value === "") return { name, from: "unset" };
    const shown = /_URL$|^DATABASE_URL$/.test(name) || /^[a-z][a-z0-9+.-]*:/i.test(value) ? redactUrl(value) : undefined;
    return { name, from: envFileOf(name) ?? "environment", ...(shown === undefined ? {} : { value: shown }) };
  });
}

export interface EnvFinding {
  kind: "missing-file" | "missing-variable" | "secret";
  variable?: string;
  line?: number;
  message: string;
}

export interface EnvCheck {
  file: string;
  /** Variables .env.example must list. */
  required: string[];
  findings: EnvFinding[];
}

/** `retort env check`: .env.example next to the config lists every variable read, and no real secret. */
export function checkEnvExample(loaded: LoadedConfig): EnvCheck {
  const file = join(loaded.root, ".env.example");
  const { retort, config } = variablesRead(loaded);
  // RETORT_ENV/NODE_ENV/RETORT_BRANCH_DATABASES have defaults; the URLs and the config's own do not.
  const required = unique([...retort.filter((name) => !RETORT_VARIABLES.includes(name)), ...config]);
  if (!existsSync(file)) {
    return { file, required, findings: [{ kind: "missing-file", message: `${file} does not exist; it should list ${required.join(", ")}` }] };
  }
  const text = readFileSync(file, "utf8");
  // Raw text after "=", quotes off: a "#" inside a real password must not hide it as a comment would.
  // A commented-out `# NAME=value` lists an optional variable (as `retort init` writes them), and
  // its value is committed all the same, so it is checked for secrets too.
  // Every line, a name listed twice included: a real value below `retort init`'s `# NAME=` is committed too.
  const lines: Array<{ name: string; line: number; value: string }> = [];
  text.split("\n").forEach((line, i) => {
    const match = /^\s*(?:#\s*)?(?:export\s+)?([A-Za-z_]\w*)\s*=\s*(.*?)\s*$/.exec(line);
    if (match) lines.push({ name: match[1]!, line: i + 1, value: match[2]!.replace(/^(["'`])(.*)\1$/, "$2") });
  });
  const listed = new Set(lines.map((entry) => entry.name));
  const findings: EnvFinding[] = [];
  for (const name of required) {
    if (!listed.has(name)) findings.push({ kind: "missing-variable", variable: name, message: `${name} is read${config.includes(name) ? " by the config" : " by Retort"} but not listed` });
  }
  for (const { name, line, value } of lines) {
    const why = secretIn(value);
    if (why) findings.push({ kind: "secret", variable: name, line, message: `${name} (line ${line}) looks like a real secret: ${why}; a committed example holds placeholders only` });
  }
  return { file, required, findings };
}

const PLACEHOLDER = /^(?:\*+|x+|\.+|_+|-+|<[^>]*>|\$\{[^}]*\}|\{\{[^}]*\}\}|\[[^\]]*\]|password|passwd|pass|pwd|postgres|root|admin|dev|test|changeme|change[-_]?me|secret|example|placeholder|your[-_]?\w*|my[-_]?\w*)$/i;

/** Why `value` looks like a real secret, or undefined. */
export function secretIn(value: string): string | undefined {
  const url = /^[a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:([^@/\s]+)@/i.exec(value);
  if (url) {
    const password = decodeURIComponent(url[1]!);
    return PLACEHOLDER.test(password) ? undefined : "a password in a URL";
  }
  if (value.length < 20 || /\s/.test(value) || PLACEHOLDER.test(value) || /^[a-z][a-z0-9+.-]*:/i.test(value) || value.includes("/")) return undefined;
  const classes = [/[a-z]/, /[A-Z]/, /\d/].filter((re) => re.test(value)).length;
  return classes >= 2 && entropy(value) >= 3.5 ? "a long random token" : undefined;
}

/** Shannon entropy in bits per character. */
function entropy(text: string): number {
  const counts = new Map<string, number>();
  for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) bits -= (n / text.length) * Math.log2(n / text.length);
  return bits;
}

function unique(names: readonly string[]): string[] {
  return [...new Set(names)];
}
