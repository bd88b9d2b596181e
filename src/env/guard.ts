/**
 * The production guard: commands that destroy data (reset, wipe, teardown, downgrade base,
 * stamp --purge) refuse to run in production, or against a URL that is the production database
 * whatever the environment says. Only reset and wipe can be forced, and only by a person: with
 * --force-production AND the database's name typed on a terminal. No flag alone passes it.
 */
import { createInterface } from "node:readline/promises";
import { resolve } from "node:path";
import { RetortError } from "../errors.js";
import { parseDatabaseUrl, redactUrl } from "./url.js";

export interface GuardedRun {
  /** What is about to run, for the message ("retort reset"). */
  action: string;
  /** The environment the command runs in. */
  environment: string;
  /** The database URL it would touch. */
  url: string;
  /** URLs known to be production (e.g. $PROD_DATABASE_URL): touching one is production whatever the environment. */
  productionUrls?: readonly string[];
  /** reset and wipe only: the person asked to override the guard. */
  forceProduction?: boolean;
  /** Whether this command may be forced at all. */
  overridable?: boolean;
}

/** Where a URL points, ignoring credentials and parameters: host, port and database, or a file. */
export function databaseIdentity(url: string): string | undefined {
  try {
    const target = parseDatabaseUrl(url);
    if (target.dialect === "sqlite") return target.filename === ":memory:" ? undefined : `sqlite:${resolve(target.filename)}`;
    if (target.dialect === "pglite") return target.dataDir === undefined ? undefined : `pglite:${resolve(target.dataDir)}`;
    const parsed = new URL(target.url.replace(/^postgres(ql)?:/, "http:"));
    const host = parsed.hostname === "localhost" ? "127.0.0.1" : parsed.hostname;
    return `postgres://${host}:${parsed.port || "5432"}/${decodeURIComponent(parsed.pathname.slice(1))}`;
  } catch {
    return undefined;
  }
}

/** Why this run touches production, or undefined when it does not. */
function productionReason(run: GuardedRun): string | undefined {
  if (run.environment === "production") return 'the environment is "production"';
  const identity = databaseIdentity(run.url);
  if (identity !== undefined && (run.productionUrls ?? []).some((url) => databaseIdentity(url) === identity)) return "its URL is the production database's";
  return undefined;
}

/** The name a person must type to force the guard: the database name, or the file/folder's. */
function confirmationName(url: string): string {
  const identity = databaseIdentity(url) ?? url;
  return identity.slice(identity.lastIndexOf("/") + 1);
}

/**
 * Throws RETORT_PRODUCTION_GUARD unless the run is not production, or (reset/wipe) a person at a
 * terminal forces it and types the database's name. `ask` is the terminal prompt (tests pass one).
 */
export async function guardProduction(run: GuardedRun, ask: (question: string) => Promise<string> = terminalQuestion): Promise<void> {
  const reason = productionReason(run);
  if (reason === undefined) return;
  const where = `${redactUrl(run.url)} (${reason})`;
  if (!run.overridable || !run.forceProduction) {
    throw new RetortError("RETORT_PRODUCTION_GUARD", `${run.action} refuses to run against production: ${where}.`, {
      hint: run.overridable
        ? "If you really mean to destroy production data, run it yourself at a terminal with --force-production and type the database's name when asked."
        : "This command cannot be run against production. Point it at another database (--url, --env).",
      details: { action: run.action, environment: run.environment },
    });
  }
  if (!process.stdin.isTTY && ask === terminalQuestion) {
    throw new RetortError("RETORT_PRODUCTION_GUARD", `${run.action} --force-production needs a person at a terminal to confirm: ${where}.`, {
      hint: "No flag alone passes the production guard; run it from an interactive terminal.",
    });
  }
  const expected = confirmationName(run.url);
  const answer = (await ask(`${run.action} will destroy data in PRODUCTION: ${where}.\nType the database name (${expected}) to go on: `)).trim();
  if (answer !== expected) {
    throw new RetortError("RETORT_PRODUCTION_GUARD", `${run.action} cancelled: the name typed does not match "${expected}".`, { hint: "Nothing was changed." });
  }
}

async function terminalQuestion(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
}
