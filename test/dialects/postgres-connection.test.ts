/**
 * libpq's URL forms against the local Postgres server (no SSL, a socket in /var/run/postgresql):
 * what the session really got (database, user, application_name, options, socket or TCP), and
 * the failures a user makes, each a RETORT_CONNECTION_FAILED with a hint.
 */
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "../../src/index.js";
import { isRetortError, type RetortError } from "../../src/errors.js";
import { createTempDatabase, postgresReachable, serverUrl, type TempDatabase } from "../support/postgres.js";

const serverUp = await postgresReachable();
const SOCKET_DIR = "/var/run/postgresql";
const socketThere = existsSync(`${SOCKET_DIR}/.s.PGSQL.5432`);
if (!socketThere) console.warn(`\n[retort tests] NOTICE: no Postgres socket in ${SOCKET_DIR}; the Unix-socket cases are SKIPPED.\n`);

interface Session {
  database: string;
  user: string;
  application_name: string;
  search_path: string;
  over_socket: boolean;
  ssl: boolean;
}

async function session(url: string): Promise<Session> {
  const db = await connect(url, { schema: {} });
  try {
    const { rows } = await db.query<Session>(
      `SELECT current_database() AS database, current_user AS "user", current_setting('application_name') AS application_name,
              current_setting('search_path') AS search_path, inet_server_addr() IS NULL AS over_socket,
              coalesce((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false) AS ssl`,
    );
    return rows[0]!;
  } finally {
    await db.close();
  }
}

async function failure(url: string): Promise<RetortError> {
  try {
    await session(url);
  } catch (error) {
    if (isRetortError(error)) return error;
    throw error;
  }
  throw new Error(`expected ${url} to fail`);
}

describe.skipIf(!serverUp)("libpq URL forms on the Postgres server", () => {
  const server = new URL(serverUrl);
  const user = decodeURIComponent(server.username) || "postgres";
  let temp: TempDatabase;
  let name: string;

  beforeAll(async () => {
    temp = await createTempDatabase("retort_urls");
    name = new URL(temp.url).pathname.slice(1);
  });
  afterAll(async () => temp?.drop());

  it.skipIf(!socketThere)("connects over the Unix socket: ?host=/dir and a percent-encoded host", async () => {
    for (const url of [`postgresql://${user}@/${name}?host=${SOCKET_DIR}`, `postgresql://${user}@${encodeURIComponent(SOCKET_DIR)}/${name}`, `postgres:///${name}?host=${encodeURIComponent(SOCKET_DIR)}&user=${user}`]) {
      expect(await session(url), url).toMatchObject({ database: name, user, over_socket: true, ssl: false });
    }
  });

  it("sends application_name and options, over TCP", async () => {
    const url = `postgres://${user}@${server.host}/${name}?application_name=retort+test&options=-c%20search_path%3Dapp_schema`;
    expect(await session(url)).toMatchObject({ database: name, application_name: "retort test", search_path: "app_schema", over_socket: false });
  });

  it("sslmode prefer (libpq's default) and allow fall back to plain connections on a server without SSL; disable never asks", async () => {
    for (const mode of ["", "?sslmode=prefer", "?sslmode=allow", "?sslmode=disable"]) {
      expect(await session(`postgres://${user}@${server.host}/${name}${mode}`), mode).toMatchObject({ database: name, ssl: false });
    }
  });

  it("sslmode prefer and allow: several first connections at once all fall back, not only the first to fail", async () => {
    for (const mode of ["", "?sslmode=allow"]) {
      const db = await connect(`postgres://${user}@${server.host}/${name}${mode}`, { schema: {}, poolSize: 6 });
      try {
        const results = await Promise.all(Array.from({ length: 6 }, () => db.query<{ backend: number }>("SELECT pg_backend_pid() AS backend, pg_sleep(0.05)")));
        // Six queries at once on a new pool: six connections opened together.
        expect(new Set(results.map((r) => r.rows[0]!.backend)).size, mode).toBe(6);
      } finally {
        await db.close();
      }
    }
  });

  it("sslmode require / verify-ca / verify-full on a server without SSL, or without a CA: RETORT_CONNECTION_FAILED with a hint", async () => {
    const base = `postgres://${user}@${server.host}/${name}`;
    const require = await failure(`${base}?sslmode=require`);
    expect(require.code).toBe("RETORT_CONNECTION_FAILED");
    expect(require.message).toContain("the server does not accept SSL connections, and sslmode=require requires SSL");
    expect(require.hint).toContain("sslmode=prefer");
    const noCa = await failure(`${base}?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem`);
    expect(noCa.code).toBe("RETORT_CONNECTION_FAILED");
    expect(noCa.message).toBe('Cannot read the sslrootcert file "/nonexistent/ca.pem": ENOENT');
    const verifyCa = await failure(`${base}?sslmode=verify-ca&sslrootcert=system`);
    expect(verifyCa.message).toContain("sslmode=verify-ca requires SSL");
  });

  it.skipIf(!socketThere)("require over a socket is refused before connecting: libpq never uses SSL on a socket", async () => {
    const error = await failure(`postgresql://${user}@/${name}?host=${SOCKET_DIR}&sslmode=require`);
    expect(error.code).toBe("RETORT_BAD_URL");
    expect(error.message).toBe(`sslmode=require cannot be met over socket ${SOCKET_DIR}/.s.PGSQL.5432: SSL is never used on a socket`);
  });

  it("a socket directory with no server: RETORT_CONNECTION_FAILED naming the socket file", async () => {
    const error = await failure(`postgresql://${user}@/${name}?host=/tmp/retort-no-server-here&port=5999`);
    expect(error.code).toBe("RETORT_CONNECTION_FAILED");
    expect(error.message).toBe(`Could not connect to Postgres at socket /tmp/retort-no-server-here/.s.PGSQL.5999 (database "${name}", user "${user}"): no server socket there (ENOENT)`);
    expect(error.hint).toContain("/tmp/retort-no-server-here/.s.PGSQL.5999");
  });

  describe("the PG* variables, as libpq reads them", () => {
    const saved: Record<string, string | undefined> = {};
    const set = (values: Record<string, string>) => {
      for (const [key, value] of Object.entries(values)) {
        if (!(key in saved)) saved[key] = process.env[key];
        process.env[key] = value;
      }
    };
    afterAll(() => {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    });

    it("fill what the URL leaves out; the URL wins", async () => {
      set({ PGHOST: socketThere ? SOCKET_DIR : server.hostname, PGPORT: server.port || "5432", PGUSER: user, PGDATABASE: name, PGAPPNAME: "from-env", PGOPTIONS: "-c search_path=env_schema", PGSSLMODE: "disable" });
      expect(await session("postgres://")).toMatchObject({ database: name, user, application_name: "from-env", search_path: "env_schema", over_socket: socketThere });
      expect(await session(`postgres://${user}@${server.host}/${name}?application_name=from-url`)).toMatchObject({ application_name: "from-url", over_socket: false });
      set({ PGSSLMODE: "require" });
      expect((await failure(`postgres://${user}@${server.host}/${name}`)).message).toContain("sslmode=require requires SSL");
    });
  });
});
