/**
 * The test guard: test databases are made and dropped freely, so the URL they are made from must
 * not be the development or the production database, and on a Postgres server its name must end
 * in `_test` (unless `allowAnyName`), so a URL meant for something else is refused before any
 * database is created on its server.
 */
import { environmentUrlVariables, generalUrlVariables, productionUrls, resolveDatabaseUrl, type LoadedConfig } from "../env/config.js";
import { databaseIdentity } from "../env/guard.js";
import { parseDatabaseUrl, redactUrl } from "../env/url.js";
import { RetortError } from "../errors.js";

export function guardTestUrl(url: string, loaded: LoadedConfig, options: { allowAnyName?: boolean } = {}): void {
  const identity = databaseIdentity(url);
  if (identity !== undefined) {
    const production = productionUrls({ config: loaded }).find((other) => databaseIdentity(other) === identity);
    if (production !== undefined) refuse(url, "it is the production database ($PROD_DATABASE_URL or the config's production variable)");
    const development = developmentUrl(loaded);
    if (databaseIdentity(development) === identity) refuse(url, "it is the development database");
  }
  const target = parseDatabaseUrl(url);
  if (target.dialect !== "postgres" || options.allowAnyName) return;
  const name = target.connection.database ?? "";
  if (!name.endsWith("_test")) {
    refuse(url, `its database name "${name}" does not end in _test`, "Name the test database <app>_test in TEST_DATABASE_URL (it need not exist: test databases are made beside it), or pass allowAnyName: true.");
  }
}

function refuse(url: string, why: string, hint = "Point TEST_DATABASE_URL (or the url option) at a database of its own, e.g. postgres://…/<app>_test."): never {
  throw new RetortError("RETORT_TEST_GUARD", `refusing to make test databases from ${redactUrl(url)}: ${why}`, { hint, details: { url: redactUrl(url) } });
}

/**
 * The development database: its own variable (DEV_DATABASE_URL), the config's url or the embedded
 * default. $DATABASE_URL is left out: read in every environment, it is often the test database in CI.
 */
function developmentUrl(loaded: LoadedConfig): string {
  const environment = { ...process.env };
  for (const name of generalUrlVariables(loaded)) delete environment[name];
  return resolveDatabaseUrl({ config: loaded, env: "development", environment });
}

/** The URL test databases are made from: the option, else $TEST_DATABASE_URL (the config's name for it), else the test environment's URL. */
export function testUrl(loaded: LoadedConfig, url?: string): string {
  if (url) return url;
  for (const name of environmentUrlVariables(loaded, "test")) if (process.env[name]) return process.env[name]!;
  return resolveDatabaseUrl({ config: loaded, env: "test" });
}
