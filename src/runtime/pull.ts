/**
 * `retort pull`: introspect a live database and write a models module for it (see
 * autogenerate/render-models.ts for what the file holds). The file is written only when the
 * database was read and the models rendered; an existing file is kept unless `force` is set.
 */
import { existsSync, renameSync, writeFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { renderModels } from "../autogenerate/render-models.js";
import { resolveDatabaseUrl } from "../env/config.js";
import { parseDatabaseUrl, redactUrl } from "../env/url.js";
import { RetortError } from "../errors.js";
import { extensionsOf, type Dialect } from "../schema/snapshot.js";
import { configOf, withDatabase, type CommandOptions } from "./api.js";
import { refuseUndeclarableEnums } from "../schema/declarable.js";
import { refuseReferencesOutside } from "../schema/table-filter.js";
import { introspectLive, introspectOptions } from "./head-schema.js";
import { makeDirectory } from "../env/make-directory.js";

/** Where pull writes without --out and without a config `models` path. */
export const DEFAULT_PULL_OUT = "src/db/schema.ts";

export interface PullOptions extends CommandOptions {
  /**
   * Where to write the models, relative to `cwd`. Default: the config's `models` (so `check`
   * finds them), else src/db/schema.ts next to the config.
   */
  out?: string;
  /** Postgres schema to read (default: the config's `schemas`, else "public"; SQLite has one). */
  schemaName?: string;
  /** Overwrite an existing file. */
  force?: boolean;
  /** The module the models import from (default "retort-db"). */
  importFrom?: string;
}

export interface PullResult {
  path: string;
  /** The database read, password masked. */
  url: string;
  dialect: Dialect;
  tables: string[];
  enums: string[];
  extensions: string[];
}

/**
 * The database is chosen as for every command (--url, the environment's variables, the config's
 * url), and read as every command reads it: the config's table selection and schema apply.
 */
export async function pull(options: PullOptions = {}): Promise<PullResult> {
  const loaded = await configOf(options);
  const cwd = options.cwd ?? process.cwd();
  const path = options.out !== undefined ? resolve(cwd, options.out) : resolve(loaded.root, loaded.config.models ?? DEFAULT_PULL_OUT);
  if (existsSync(path) && !options.force) {
    throw new RetortError("RETORT_FILE_EXISTS", `${relative(cwd, path) || path} already exists; pull does not overwrite it`, {
      hint: "Pass --force to replace it, or --out <file> to write elsewhere.",
      details: { path },
    });
  }
  const url = options.database ? undefined : resolveDatabaseUrl({ ...options, config: loaded });
  if (url !== undefined && parseDatabaseUrl(url).dialect === "sqlite" && options.schemaName !== undefined && options.schemaName !== "main") {
    throw new RetortError("RETORT_UNSUPPORTED", `--schema ${options.schemaName}: a SQLite database has one schema ("main")`, { hint: "Leave --schema out for SQLite." });
  }
  const schemaName = options.schemaName ?? loaded.config.schemas?.[0];
  const { schema, dialect } = await withDatabase(loaded, options, async (conn, dialect) => ({
    schema: await introspectLive(loaded, conn, dialect, dialect === "sqlite" || schemaName === undefined ? {} : { schemaName }),
    dialect,
  }));
  refuseReferencesOutside(schema, introspectOptions(loaded).tables);
  refuseUndeclarableEnums(schema);
  const shown = url === undefined ? "the given database" : redactUrl(url);
  const text = renderModels(schema, {
    ...(options.importFrom === undefined ? {} : { importFrom: options.importFrom }),
    header: `Models pulled from ${shown} (${dialect}${schemaName && dialect !== "sqlite" ? `, schema ${schemaName}` : ""}) by \`retort pull\`.\nEdit freely: this file is yours now; \`retort check\` compares it with your migrations.`,
  });
  makeDirectory(dirname(path));
  // Write beside it and rename, so an interrupted pull never leaves half a file.
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, text);
  renameSync(temporary, path);
  return { path, url: shown, dialect, tables: schema.tables.map((table) => table.name), enums: schema.enums.map((e) => e.name), extensions: [...extensionsOf(schema)] };
}
