import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { maskPostgresUrl, parsePostgresUrl, postgresPassword } from "../../src/env/postgres-url.js";
import { isRetortError, type RetortError } from "../../src/errors.js";

const noEnv = {};

function failure(fn: () => unknown): RetortError {
  try {
    fn();
  } catch (error) {
    if (isRetortError(error)) return error;
    throw error;
  }
  throw new Error("expected a RetortError");
}

describe("libpq connection URIs", () => {
  it("reads user, password, host, port and database, percent-decoded", () => {
    const connection = parsePostgresUrl("postgresql://app%40team:p%40ss%2Fw0rd@db.example.com:6543/my%20db", noEnv);
    expect(connection).toEqual({
      host: "db.example.com",
      port: 6543,
      user: "app@team",
      database: "my db",
      sslmode: "prefer",
      pooler: "none",
      url: "postgresql://app%40team:***@db.example.com:6543/my%20db",
    });
    expect(postgresPassword(connection)).toBe("p@ss/w0rd");
  });

  it("takes a Unix socket directory from ?host= or from a percent-encoded host", () => {
    expect(parsePostgresUrl("postgresql://app@/appdb?host=/var/run/postgresql", noEnv)).toMatchObject({ host: "/var/run/postgresql", port: 5432, user: "app", database: "appdb" });
    expect(parsePostgresUrl("postgresql://app@%2Fvar%2Frun%2Fpostgresql:5433/appdb", noEnv)).toMatchObject({ host: "/var/run/postgresql", port: 5433, database: "appdb" });
    expect(parsePostgresUrl("postgres:///appdb?host=%2Ftmp&port=5444&user=me", noEnv)).toMatchObject({ host: "/tmp", port: 5444, user: "me", database: "appdb" });
  });

  it("reads IPv6 hosts, sslmode, sslrootcert, application_name, options and connect_timeout", () => {
    expect(
      parsePostgresUrl("postgres://u@[::1]:5433/d?sslmode=verify-full&sslrootcert=/etc/ca.pem&application_name=my+app&options=-c%20search_path%3Dapp&connect_timeout=3", noEnv),
    ).toEqual({
      host: "::1",
      port: 5433,
      user: "u",
      database: "d",
      sslmode: "verify-full",
      sslrootcert: "/etc/ca.pem",
      applicationName: "my app",
      options: "-c search_path=app",
      connectTimeoutSeconds: 3,
      pooler: "none",
      url: "postgres://u@[::1]:5433/d?sslmode=verify-full&sslrootcert=/etc/ca.pem&application_name=my+app&options=-c%20search_path%3Dapp&connect_timeout=3",
    });
    expect(parsePostgresUrl("postgres://u@h/d?ssl=true", noEnv).sslmode).toBe("require");
  });

  it("fills what the URL leaves out from the PG* variables, and the URL wins over them", () => {
    const env = { PGHOST: "/run/pg", PGPORT: "5499", PGUSER: "envuser", PGPASSWORD: "envpass", PGDATABASE: "envdb", PGSSLMODE: "disable", PGAPPNAME: "worker", PGOPTIONS: "-c statement_timeout=5s", PGSSLROOTCERT: "/ca.pem", PGCONNECT_TIMEOUT: "7" };
    const fromEnv = parsePostgresUrl("postgres://", env);
    expect(fromEnv).toEqual({
      host: "/run/pg",
      port: 5499,
      user: "envuser",
      database: "envdb",
      sslmode: "disable",
      sslrootcert: "/ca.pem",
      applicationName: "worker",
      options: "-c statement_timeout=5s",
      connectTimeoutSeconds: 7,
      pooler: "none",
      url: "postgres://",
    });
    expect(postgresPassword(fromEnv)).toBe("envpass");
    const explicit = parsePostgresUrl("postgres://u:p@h:1/d?sslmode=require&application_name=web", env);
    expect(explicit).toMatchObject({ host: "h", port: 1, user: "u", database: "d", sslmode: "require", applicationName: "web" });
    expect(postgresPassword(explicit)).toBe("p");
    // The database defaults to the user name, as in libpq.
    expect(parsePostgresUrl("postgres://alice@h", noEnv).database).toBe("alice");
  });

  it("turns on unnamed statements for a transaction pooler: ?pooler=transaction or Prisma's ?pgbouncer=true", () => {
    expect(parsePostgresUrl("postgres://u@h/d?pooler=transaction", noEnv).pooler).toBe("transaction");
    expect(parsePostgresUrl("postgres://u@h/d?pgbouncer=true", noEnv).pooler).toBe("transaction");
    expect(parsePostgresUrl("postgres://u@h/d", noEnv).pooler).toBe("none");
    expect(failure(() => parsePostgresUrl("postgres://u@h/d?pooler=session", noEnv)).message).toBe('Cannot use database URL "postgres://u@h/d?pooler=session": pooler "session" is not "transaction" or "none".');
  });

  it("rejects unknown parameters, bad sslmodes, ports and several hosts, never echoing the password", () => {
    const cases: Array<[string, string]> = [
      ["postgres://u:hunter2@h/d?sslmod=require", 'Cannot use database URL "postgres://u:***@h/d?sslmod=require": the query parameter "sslmod" is not one Retort knows.'],
      ["postgres://u:hunter2@h/d?sslmode=always", 'Cannot use database URL "postgres://u:***@h/d?sslmode=always": sslmode "always" is not one of disable, allow, prefer, require, verify-ca, verify-full.'],
      ["postgres://u:hunter2@h:99999/d", 'Cannot use database URL "postgres://u:***@h:99999/d": the port "99999" is not a number from 1 to 65535.'],
      ["postgres://u:hunter2@h1:5432,h2:5432/d", 'Cannot use database URL "postgres://u:***@h1:5432,h2:5432/d": several hosts (libpq\'s failover list) are not supported.'],
      ["postgres://u:hunter2@h/d?password=hunter2&sslmode=x", 'Cannot use database URL "postgres://u:***@h/d?password=***&sslmode=x": sslmode "x" is not one of disable, allow, prefer, require, verify-ca, verify-full.'],
    ];
    for (const [url, message] of cases) {
      const error = failure(() => parsePostgresUrl(url, noEnv));
      expect(error.code).toBe("RETORT_BAD_URL");
      expect(error.message).toBe(message);
      expect(error.hint).toBeTruthy();
      expect(JSON.stringify(error) + inspect(error) + error.hint).not.toContain("hunter2");
    }
  });

  it("masks passwords holding unencoded @, / and ?", () => {
    expect(maskPostgresUrl("postgres://u:p@ss@h/d")).toBe("postgres://u:***@h/d");
    expect(maskPostgresUrl("postgres://u:pa/ss@h/d?sslmode=require")).toBe("postgres://u:***@h/d?sslmode=require");
    expect(maskPostgresUrl("postgres://u:pa?ss@h")).toBe("postgres://u:***@h");
    expect(maskPostgresUrl("postgres://h/d?application_name=a@b")).toBe("postgres://h/d?application_name=a@b");
    // Parsing agrees with masking about where the password ends.
    const connection = parsePostgresUrl("postgres://u:pa/ss@h/d", noEnv);
    expect([connection.host, connection.database, postgresPassword(connection)]).toEqual(["h", "d", "pa/ss"]);
  });

  it("keeps the password out of every property, inspect and JSON of a parsed connection", () => {
    const connection = parsePostgresUrl("postgres://u:hunter2@h/d", noEnv);
    expect(JSON.stringify(connection)).not.toContain("hunter2");
    expect(inspect(connection, { showHidden: true, depth: 10 })).not.toContain("hunter2");
    expect(Object.values(connection).join(" ")).not.toContain("hunter2");
    expect(Object.isFrozen(connection)).toBe(true);
  });
});
