/**
 * `retort-db/testing`: a private database per test file in milliseconds, at the migrations'
 * head (and the test seeds), on a Postgres server, PGlite or SQLite; `withRollback` for a
 * transaction per test; a throwaway Postgres cluster for the run. Vitest fixtures are in
 * `retort-db/testing/vitest`.
 *
 * How each backend copies the template is in postgres.ts (CREATE DATABASE … TEMPLATE) and
 * embedded.ts (a PGlite data-directory snapshot, a SQLite file copy); what a template is made of
 * and its fingerprint in template-source.ts; the guard in guard.ts.
 */
import { join } from "node:path";
import { connect, type ConnectOptions, type Database } from "../db/database.js";
import { parseDatabaseUrl, redactUrl } from "../env/url.js";
import { schemaFromModels } from "../schema/from-models.js";
import { copySqliteTemplate, keepPglite, keepSqlite, openPgliteClone, pgliteSnapshotFile, removeSqliteFiles, sqliteTemplateFile, sweepSqliteCopies } from "./embedded.js";
import { guardTestUrl, testUrl } from "./guard.js";
import { ownedName, stemOf } from "./owner.js";
import { clonePostgres, databaseUrl, dropClone, keepClone, preparePostgresTemplate, projectKey, sweepPostgres, templateName, type CloneRequest } from "./postgres.js";
import { buildFromSource, templateSource, type TemplateOptions, type TemplateSource } from "./template-source.js";

export { withRollback } from "./rollback.js";
export { startTestCluster, removeLeftoverClusters, type TestCluster, type TestClusterOptions } from "./cluster.js";
export { forgetTemplateSources, type TemplateOptions } from "./template-source.js";

export interface TestDatabaseOptions<S> extends TemplateOptions<S>, Pick<ConnectOptions<S>, "onQuery" | "poolSize"> {
  /**
   * Where test databases are made: a Postgres server (the URL's database names the test
   * databases, `<app>_test` → `<app>_r…_test`, and need not exist), `pglite:…` or `sqlite:…`.
   * Default: $TEST_DATABASE_URL, else the test environment's URL.
   */
  url?: string;
  /** Accept a Postgres URL whose database name does not end in `_test`. */
  allowAnyName?: boolean;
}

export interface TestDatabaseHandle {
  /** The test database's own URL (what `keep()` prints, password masked). */
  readonly url: string;
  /** Close it and remove it. */
  drop(): Promise<void>;
  /** Close it and leave it in place for a look (removed by a run a day later); returns its URL. */
  keep(): Promise<string>;
}

export type TestDatabase<S = Record<string, unknown>> = Database<S> & TestDatabaseHandle;

interface Prepared {
  source: TemplateSource;
  url: string;
}

async function prepare<S>(options: TestDatabaseOptions<S>): Promise<Prepared> {
  const source = await templateSource(options);
  const url = testUrl(source.loaded, options.url);
  guardTestUrl(url, source.loaded, options);
  return { source, url };
}

function cloneRequest({ source, url }: Prepared): CloneRequest {
  const target = parseDatabaseUrl(url);
  const stem = stemOf(target.dialect === "postgres" ? target.connection.database : "test");
  return { serverUrl: url, stem, fingerprint: source.fingerprint, project: projectKey(source.loaded.root, stem), build: (buildUrl) => buildFromSource(source, { url: buildUrl }) };
}

/**
 * A new database at the migrations' head (then the seeds), private to the caller: a clone of a
 * template built once per fingerprint. `drop()` it when done (a vitest fixture does).
 */
export async function createTestDatabase<S extends Record<string, unknown> = Record<string, unknown>>(options: TestDatabaseOptions<S> = {}): Promise<TestDatabase<S>> {
  const prepared = await prepare(options);
  const { source, url } = prepared;
  const models = (options.schema ?? source.models) as S;
  const connectOptions: ConnectOptions<S> = { schema: models, ...(options.onQuery ? { onQuery: options.onQuery } : {}), ...(options.poolSize ? { poolSize: options.poolSize } : {}) };
  const target = parseDatabaseUrl(url);
  if (target.dialect === "postgres") {
    const name = await clonePostgres(cloneRequest(prepared));
    const cloneUrl = databaseUrl(url, name);
    const db = await connect(cloneUrl, connectOptions);
    return attach(db, cloneUrl, {
      drop: () => dropClone(url, name),
      keep: async () => {
        await keepClone(url, name);
        return cloneUrl;
      },
    });
  }
  if (target.dialect === "pglite") {
    const db = await openPgliteClone(source, schemaFromModels(models), connectOptions);
    const name = ownedName("pglite");
    return attach(db, "pglite:memory", {
      drop: async () => {},
      // In memory: written to a folder under .retort/kept before it closes.
      keep: () => keepPglite(db, join(source.loaded.root, ".retort", "kept", name)),
      beforeClose: true,
    });
  }
  const file = await copySqliteTemplate(source);
  const db = await connect(`sqlite:${file}`, connectOptions);
  return attach(db, `sqlite:${file}`, { drop: async () => removeSqliteFiles(file), keep: async () => keepSqlite(file) });
}

/** Give the Database its url, drop() and keep(). */
function attach<S>(db: Database<S>, url: string, how: { drop(): Promise<void>; keep(): Promise<string>; beforeClose?: boolean }): TestDatabase<S> {
  let done = false;
  const finish = async (action: () => Promise<string | void>): Promise<string | void> => {
    if (done) return;
    done = true;
    if (how.beforeClose) {
      try {
        return await action();
      } finally {
        await db.close();
      }
    }
    await db.close();
    return action();
  };
  Object.defineProperties(db, {
    // Not enumerable: a logged database must not show a password.
    url: { value: url, enumerable: false },
    drop: { value: async () => void (await finish(how.drop)), enumerable: false },
    keep: {
      value: async () => {
        const kept = (await finish(how.keep)) ?? url;
        console.error(`[retort] kept the test database for a look: ${redactUrl(kept)}`);
        return kept;
      },
      enumerable: false,
    },
  });
  return db as TestDatabase<S>;
}

export interface PreparedTemplate {
  /** The test URL the template serves. */
  url: string;
  /** The template database (Postgres) or file (PGlite snapshot, SQLite template). */
  template: string;
  /** false: it was there already. */
  built: boolean;
}

/**
 * Build the template now when missing and remove leftovers of crashed runs: what a test
 * runner's global setup calls once, so workers only clone.
 */
export async function prepareTestTemplate<S>(options: TestDatabaseOptions<S> = {}): Promise<PreparedTemplate> {
  const prepared = await prepare(options);
  const { source, url } = prepared;
  const target = parseDatabaseUrl(url);
  if (target.dialect === "postgres") {
    const request = cloneRequest(prepared);
    await sweepPostgres(url, request.stem);
    const built = (await preparePostgresTemplate(request)) === "built";
    return { url, template: templateName(source.fingerprint), built };
  }
  if (target.dialect === "pglite") {
    const { file, built } = await pgliteSnapshotFile(source);
    return { url, template: file, built };
  }
  sweepSqliteCopies();
  const { file, built } = await sqliteTemplateFile(source);
  return { url, template: file, built };
}
