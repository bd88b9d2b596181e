/**
 * Extensions as part of the schema: the extension() declaration, the createExtension /
 * dropExtension operations (fold, reverse, SQL per dialect, rendering), compare's order, the
 * introspection of Postgres and PGlite and the raw-SQL fold (the lint rule is in
 * test/lint/dangerous.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compareSchemas, renderMigrationBodies } from "../../src/autogenerate/index.js";
import { renderModels } from "../../src/autogenerate/render-models.js";
import { foldPostgresSql } from "../../src/dialects/postgres/fold-sql.js";
import { enumType, extension, isRetortError, sql, t, table } from "../../src/index.js";
import { createOpRecorder } from "../../src/operations/api.js";
import { applyOperations } from "../../src/operations/apply.js";
import { compileOperations, renderOfflineSql } from "../../src/operations/compile.js";
import { reverseOperations } from "../../src/operations/reverse.js";
import { Op } from "../../src/operations/types.js";
import { schemaFromModels } from "../../src/schema/from-models.js";
import { EMPTY_SCHEMA, type Dialect, type Schema } from "../../src/schema/snapshot.js";
import { loadPostgresParser } from "../../src/sql/parser.js";
import { type Backend, introspectBackend, openBackend, postgresUp, runSteps } from "./support.js";

const users = table("users", {
  id: t.uuid().primaryKey().default(sql`uuid_generate_v4()`),
  name: t.text(),
});
const models = { uuidOssp: extension("uuid-ossp"), trgm: extension("pg_trgm"), role: enumType("role", ["a", "b"]), users };

describe("extension() in models", () => {
  it("gives the snapshot the sorted, distinct extension names; none leaves the field out", () => {
    const schema = schemaFromModels({ ...models, again: extension("pg_trgm") });
    expect(schema.extensions).toEqual(["pg_trgm", "uuid-ossp"]);
    expect("extensions" in schemaFromModels({ users })).toBe(false);
  });

  it("refuses an empty name and one longer than Postgres keeps", () => {
    for (const name of ["", "x".repeat(64)]) {
      const error = (() => {
        try {
          extension(name);
        } catch (e) {
          return e;
        }
      })();
      expect(isRetortError(error, "RETORT_INVALID_MODEL")).toBe(true);
    }
  });
});

describe("createExtension / dropExtension operations", () => {
  const record = (body: (op: ReturnType<typeof createOpRecorder>["op"]) => void): Op[] => {
    const { op, ops } = createOpRecorder();
    body(op);
    return ops;
  };

  it("fold into the snapshot, refuse a second create or a drop of what is not there, and reverse into each other", () => {
    const ops = record((op) => {
      op.createExtension("uuid-ossp");
      op.createExtension("citext");
    });
    const after = applyOperations(EMPTY_SCHEMA, ops);
    expect(after.extensions).toEqual(["citext", "uuid-ossp"]);
    expect(() => applyOperations(after, record((op) => op.createExtension("citext")))).toThrow('createExtension citext: extension "citext" is already created by an earlier operation');
    expect(() => applyOperations(after, record((op) => op.dropExtension("hstore")))).toThrow('dropExtension hstore: extension "hstore" was not created by the migrations');
    const back = reverseOperations(ops, EMPTY_SCHEMA);
    expect(back).toEqual([
      { kind: "dropExtension", name: "citext" },
      { kind: "dropExtension", name: "uuid-ossp" },
    ]);
    expect(applyOperations(after, back)).toEqual(EMPTY_SCHEMA);
    expect(() => record((op) => op.createExtension(""))).toThrow("op.createExtension(): the extension name must be a non-empty string");
  });

  it("compile to CREATE EXTENSION IF NOT EXISTS / DROP EXTENSION IF EXISTS (no CASCADE) on Postgres and to nothing on SQLite", () => {
    const ops = record((op) => {
      op.createExtension("uuid-ossp");
      op.dropExtension("uuid-ossp");
    });
    for (const dialect of ["postgres", "pglite"] as Dialect[]) {
      expect(renderOfflineSql(compileOperations(ops, dialect, EMPTY_SCHEMA).steps, dialect)).toBe(
        '-- createExtension uuid-ossp\nCREATE EXTENSION IF NOT EXISTS "uuid-ossp";\n-- dropExtension uuid-ossp\nDROP EXTENSION IF EXISTS "uuid-ossp";\n',
      );
    }
    expect(compileOperations(ops, "sqlite", EMPTY_SCHEMA).steps).toEqual([]);
  });

  it("render as op.createExtension / op.dropExtension, the downgrade the other way round", () => {
    const bodies = renderMigrationBodies([{ kind: "createExtension", name: "pg_trgm" }], { from: EMPTY_SCHEMA, dialect: "postgres" });
    expect(bodies.upgrade).toContain('op.createExtension("pg_trgm");');
    expect(bodies.downgrade).toContain('op.dropExtension("pg_trgm");');
  });
});

describe("compare", () => {
  it("creates extensions before enums and tables, and drops them after everything else; the downgrade does the reverse", () => {
    const target = schemaFromModels(models);
    const up = compareSchemas(EMPTY_SCHEMA, target, { dialect: "postgres" });
    expect(up.ops.map((op) => Op.describe(op))).toEqual(["createExtension pg_trgm", "createExtension uuid-ossp", "createEnum role", "createTable users"]);
    const down = compareSchemas(target, EMPTY_SCHEMA, { dialect: "postgres" });
    expect(down.ops.map((op) => Op.describe(op))).toEqual(["dropTable users", "dropEnum role", "dropExtension uuid-ossp", "dropExtension pg_trgm"]);
    expect(down.destructive.map((warning) => warning.message)).toContain('drops extension "uuid-ossp": what it provides (functions, types, operator classes) goes away');
  });

  it("on SQLite extensions are not compared (there are none)", () => {
    const target = schemaFromModels(models);
    expect(compareSchemas(EMPTY_SCHEMA, target, { dialect: "sqlite" }).ops.some((op) => op.kind === "createExtension")).toBe(false);
    expect(compareSchemas(target, { tables: target.tables, enums: target.enums }, { dialect: "sqlite" }).ops).toEqual([]);
  });
});

describe("pull renders extension()", () => {
  it("one export per extension, before the enums; a hyphen becomes a word break", () => {
    const text = renderModels(schemaFromModels(models));
    expect(text).toContain('import { enumType, extension, sql, t, table } from "retort-db";');
    expect(text).toContain('export const pgTrgm = extension("pg_trgm");\nexport const uuidOssp = extension("uuid-ossp");\n\nexport const role = enumType(');
  });
});

describe("fold of raw SQL", async () => {
  const parser = await loadPostgresParser();
  const fold = (text: string, from: Schema = EMPTY_SCHEMA) => foldPostgresSql(from, text, parser);

  it("CREATE EXTENSION [IF NOT EXISTS] name [WITH] [SCHEMA public] [VERSION v] is the schema's; another schema's is not", () => {
    expect(fold(`CREATE EXTENSION "uuid-ossp"; CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public VERSION '1.6'; CREATE EXTENSION IF NOT EXISTS "uuid-ossp"`)).toEqual({
      schema: { ...EMPTY_SCHEMA, extensions: ["pg_trgm", "uuid-ossp"] },
    });
    expect(fold("CREATE EXTENSION citext SCHEMA extensions")).toEqual({ schema: EMPTY_SCHEMA });
  });

  it("DROP EXTENSION [IF EXISTS] a, b; CASCADE and a second CREATE without IF NOT EXISTS are left to a real database", () => {
    const from: Schema = { ...EMPTY_SCHEMA, extensions: ["citext", "hstore", "pg_trgm"] };
    expect(fold("DROP EXTENSION citext, hstore; DROP EXTENSION IF EXISTS postgis", from)).toEqual({ schema: { ...EMPTY_SCHEMA, extensions: ["pg_trgm"] } });
    expect(fold("DROP EXTENSION pg_trgm CASCADE", from)).toEqual({ unfoldable: "DropStmt: DROP EXTENSION … CASCADE drops what uses it" });
    expect(fold("DROP EXTENSION postgis", from)).toEqual({ unfoldable: 'DropStmt: extension "postgis" is not in the schema' });
    expect(fold("CREATE EXTENSION earthdistance CASCADE")).toMatchObject({ unfoldable: expect.stringContaining("CASCADE also creates the extensions it requires") });
    expect(fold("CREATE EXTENSION citext", from)).toMatchObject({ unfoldable: expect.stringContaining('extension "citext" is already created') });
  });

  it.skipIf(!postgresUp)("what it folds is what the server has afterwards", async () => {
    const backend = await openBackend("postgres");
    try {
      const text = `CREATE EXTENSION IF NOT EXISTS "uuid-ossp"; CREATE EXTENSION pg_trgm WITH SCHEMA public; CREATE EXTENSION citext; DROP EXTENSION citext`;
      await runSteps(backend.driver, [{ description: "raw", sql: text }]);
      const folded = fold(text);
      expect("schema" in folded && folded.schema).toEqual(await introspectBackend(backend));
    } finally {
      await backend.close();
    }
  });
});

for (const dialect of ["postgres", "pglite"] as Dialect[]) {
  describe.skipIf(dialect === "postgres" && !postgresUp)(`introspection [${dialect}]`, () => {
    let backend: Backend;
    beforeAll(async () => {
      backend = await openBackend(dialect);
      // plpgsql (pg_catalog) is never the schema's; neither is an extension in another schema.
      const other = dialect === "postgres" ? "CREATE SCHEMA ext; CREATE EXTENSION citext WITH SCHEMA ext;" : "";
      if (dialect === "pglite") await backend.driver.loadExtensions!(["pg_trgm", "citext"]);
      await runSteps(backend.driver, [{ description: "setup", sql: `${other} CREATE EXTENSION pg_trgm; CREATE TABLE docs (body text); CREATE INDEX docs_body_trgm ON docs USING gin (body gin_trgm_ops)` }]);
    }, 60_000);
    afterAll(async () => backend?.close());

    it("reads the extensions of the schema, not plpgsql nor another schema's, and a pg_trgm operator class", async () => {
      const live = await introspectBackend(backend);
      expect(live.extensions).toEqual(["pg_trgm"]);
      expect(live.tables[0]!.indexes).toEqual([{ name: "docs_body_trgm", elements: [{ column: "body", opclass: "gin_trgm_ops" }], unique: false, using: "gin" }]);
      // The pulled models rebuild it: the extension comes first.
      const up = compareSchemas(EMPTY_SCHEMA, live, { dialect });
      expect(up.ops.map((op) => op.kind)).toEqual(["createExtension", "createTable"]);
    });
  });
}
