/**
 * One function per command; the argument parsing in main.ts stays thin. What a command needs
 * (models, DDL, the database layer) is imported when it runs, so `retort --version` and the
 * migration commands do not load it.
 */
import { parseDatabaseUrl, redactUrl } from "../env/url.js";
import type { DdlCompiler } from "../dialects/ddl.js";
import { familyOf, type Dialect } from "../schema/snapshot.js";

export interface Output {
  /** Human-readable line (suppressed by --quiet and --json). */
  say(line: string): void;
  /** Machine-readable result (printed as JSON with --json). */
  result(value: Record<string, unknown>): void;
  /** A warning, on stderr (kept with --quiet). */
  warn(message: string): void;
}

/** Check that a database answers. */
export async function ping(url: string, out: Output): Promise<void> {
  const { connect } = await import("../db/database.js");
  const started = performance.now();
  const db = await connect(url, { schema: {} });
  try {
    await db.ping();
  } finally {
    await db.close();
  }
  const ms = Math.round(performance.now() - started);
  out.say(`${redactUrl(url)} answers (${db.dialect}, ${ms} ms)`);
  out.result({ ok: true, url: redactUrl(url), dialect: db.dialect, ms });
}

/** Print the CREATE statements for the models, for a dialect, without connecting. */
export async function printSql(modelsPath: string, dialect: Dialect, out: Output): Promise<void> {
  const { schemaFromModels } = await import("../schema/from-models.js");
  const { loadModels } = await import("../schema/load-models.js");
  const schema = schemaFromModels(await loadModels(modelsPath));
  const ddl: DdlCompiler =
    familyOf(dialect) === "postgres" ? (await import("../dialects/postgres/ddl.js")).postgresDdl : (await import("../dialects/sqlite/ddl.js")).sqliteDdl;
  const statements = ddl.createSchema(schema);
  for (const statement of statements) out.say(`${statement};\n`);
  out.result({ dialect, statements });
}

/** createAll / dropAll against a database (experiments and tests; not migrations). */
export async function applyAll(action: "create" | "drop", modelsPath: string, url: string, out: Output): Promise<void> {
  parseDatabaseUrl(url);
  const { connect, createAll, dropAll } = await import("../db/database.js");
  const { loadModels } = await import("../schema/load-models.js");
  const schema = await loadModels(modelsPath);
  // Dropping from a database that is not there must not create it first.
  const db = await connect(url, { schema, ...(action === "drop" ? { mustExist: true } : {}) });
  try {
    await (action === "create" ? createAll(db) : dropAll(db));
  } finally {
    await db.close();
  }
  const tables = db.schema.tables.map((t) => t.name);
  out.say(`${action === "create" ? "created" : "dropped"} ${tables.length} tables on ${redactUrl(url)}: ${tables.join(", ")}`);
  out.result({ action, url: redactUrl(url), tables });
}
