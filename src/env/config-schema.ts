/**
 * What a retort.config.* may hold, checked with zod when the config is loaded: unknown keys (with
 * "did you mean"), wrong types and values outside the accepted ones are reported with their key
 * path. Kept out of env/config.ts so `retort-db/config` (defineConfig) stays free of zod.
 *
 * A new config key is added here and to RetortConfig in env/config.ts.
 */
import { z } from "zod";
import { RetortError, didYouMean } from "../errors.js";
import { POSTGRES_DURATION, type RetortConfig } from "./config.js";

const nonEmpty = z.string().min(1);

const migrations = z.strictObject({
  directory: nonEmpty.optional(),
  transaction: z.enum(["each", "all"]).optional(),
  lockTimeoutMs: z.number().int().nonnegative().optional(),
  modifiedMigrations: z.enum(["error", "warn"]).optional(),
  importFrom: nonEmpty.optional(),
  linear: z.boolean().optional(),
  released: z
    .custom<"all" | string[] | ((expand: string) => boolean | Promise<boolean>)>(
      (value) => value === "all" || typeof value === "function" || (Array.isArray(value) && value.every((item) => typeof item === "string" && item !== "")),
      'expected "all", a list of revisions or a function',
    )
    .optional(),
});

const duration = z.string().regex(POSTGRES_DURATION, 'expected a duration such as "5s", "500ms" or "1min"');

const autogenerate = z.strictObject({
  safe: z.boolean().optional(),
  lockTimeout: duration.optional(),
});

const variableNames = z.union([nonEmpty, z.array(nonEmpty).min(1)]);

const env = z.strictObject({
  url: variableNames.optional(),
  development: variableNames.optional(),
  test: variableNames.optional(),
  production: variableNames.optional(),
  environments: z.record(z.string(), variableNames).optional(),
});

const localServer = z.strictObject({
  port: z.number().int().min(1).max(65535).optional(),
  version: z.number().int().positive().optional(),
  database: nonEmpty.optional(),
  durable: z.boolean().optional(),
  osUser: nonEmpty.optional(),
  settings: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
});

const service = z.strictObject({
  start: nonEmpty,
  stop: nonEmpty.optional(),
  ready: z.union([z.strictObject({ tcp: z.union([z.number().int().min(1).max(65535), nonEmpty]) }), z.strictObject({ command: nonEmpty })]).optional(),
  status: nonEmpty.optional(),
  timeoutMs: z.number().int().positive().optional(),
  cwd: nonEmpty.optional(),
  env: z.record(z.string(), z.string()).optional(),
});

const level = z.enum(["off", "info", "warning", "error"]);
const positive = z.number().positive().optional();

const lint = z.strictObject({
  postgresVersion: z.number().int().min(9).max(99).optional(),
  rules: z.record(z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, "a rule id is kebab-case"), level).optional(),
  budgets: z.strictObject({ accessExclusiveRows: z.number().int().nonnegative().optional(), blockingWritesRows: z.number().int().nonnegative().optional(), lockSeconds: z.number().nonnegative().optional() }).optional(),
  throughput: z.strictObject({ scanMBps: positive, rewriteMBps: positive, indexMBps: positive }).optional(),
  smallTableRows: z.number().int().nonnegative().optional(),
  longTransactionSeconds: z.number().nonnegative().optional(),
});

export const configSchema = z.strictObject({
  models: nonEmpty.optional(),
  url: nonEmpty.optional(),
  env: env.optional(),
  pooler: z.enum(["none", "transaction"]).optional(),
  migrations: migrations.optional(),
  autogenerate: autogenerate.optional(),
  tables: z.strictObject({ include: z.array(nonEmpty).optional(), exclude: z.array(nonEmpty).optional() }).optional(),
  schemas: z.array(nonEmpty).min(1).optional(),
  branchDatabases: z.boolean().optional(),
  localServer: localServer.optional(),
  services: z.record(z.string().regex(/^[\w.-]+$/, "a service name is letters, digits, '_', '.' or '-'"), service).optional(),
  lint: lint.optional(),
  seeds: z.strictObject({ directory: nonEmpty.optional() }).optional(),
});

export interface ConfigProblem {
  /** Dotted key path, e.g. "migrations.transaction". */
  path: string;
  problem: string;
  /** The accepted values or keys, where there is a fixed list. */
  accepted?: string[];
}

/** The config, or RETORT_CONFIG listing every problem with its key path. */
export function validateConfig(value: unknown, file: string): RetortConfig {
  const result = configSchema.safeParse(value);
  if (result.success) return value as RetortConfig;
  const problems = result.error.issues.flatMap((issue) => describe(issue, value));
  const lines = problems.map((p) => `  ${p.path || "(the config)"}: ${p.problem}`);
  throw new RetortError("RETORT_CONFIG", `${file} is not a valid config (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${lines.join("\n")}`, {
    hint: "Fix these keys in the config file. `defineConfig` from retort-db/config types every key, so an editor lists them as you type.",
    details: { file, problems },
  });
}

function describe(issue: z.core.$ZodIssue, root: unknown): ConfigProblem[] {
  const path = issue.path.map(String);
  const at = path.join(".");
  switch (issue.code) {
    case "unrecognized_keys": {
      const known = keysAt(path);
      return issue.keys.map((key) => {
        const guess = didYouMean(key, known);
        return {
          path: [...path, key].join("."),
          problem: `unknown key${guess ? ` (did you mean "${guess}"?)` : ""}; accepted here: ${known.map((k) => `"${k}"`).join(", ")}`,
          accepted: known,
        };
      });
    }
    case "invalid_value": {
      const accepted = issue.values.map((v) => String(v));
      return [{ path: at, problem: `${show(valueAt(root, path))} is not accepted; expected one of ${accepted.map((v) => JSON.stringify(v)).join(", ")}`, accepted }];
    }
    case "invalid_type":
      return [{ path: at, problem: `expected ${issue.expected === "int" ? "a whole number" : `a ${issue.expected}`}, got ${show(valueAt(root, path))}` }];
    case "too_small":
      return [{ path: at, problem: issue.origin === "string" ? "must not be empty" : `${show(valueAt(root, path))} is too small (at least ${String(issue.minimum)})` }];
    default:
      return [{ path: at, problem: issue.message }];
  }
}

/** The keys the schema accepts at a path of nested objects (through records, e.g. services.<name>). */
function keysAt(path: readonly string[]): string[] {
  let schema: z.ZodType = configSchema;
  for (const key of path) {
    schema = unwrap(schema);
    if (schema instanceof z.ZodRecord) schema = schema.valueType as z.ZodType;
    else if (schema instanceof z.ZodObject) schema = (schema.shape as Record<string, z.ZodType>)[key]!;
    else return [];
  }
  schema = unwrap(schema);
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

const unwrap = (schema: z.ZodType): z.ZodType => (schema instanceof z.ZodOptional ? (schema.unwrap() as z.ZodType) : schema);

function valueAt(root: unknown, path: readonly string[]): unknown {
  let value = root;
  for (const key of path) value = typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined;
  return value;
}

function show(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (typeof value === "function") return "a function";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "an object";
  const text = typeof value === "string" ? JSON.stringify(value) : String(value);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}
