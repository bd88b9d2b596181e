/**
 * `retort pull` (issue 12): a live database → a models file whose models describe that database
 * exactly. The round trip is the proof: pull, load the written module, build its snapshot, and
 * compare it with the database introspected again (what `check --url` does): no operation, no
 * question. On every backend, for the example app's schema, a hand-made adopted schema and
 * random schemas from the property-test arbitraries.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import fc from "fast-check";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import * as communityBot from "../examples/community-bot/schema.js";
import { compareSchemas } from "../src/autogenerate/compare.js";
import { downgradeOperations } from "../src/autogenerate/render.js";
import { createPostgresDriver } from "../src/dialects/postgres/driver.js";
import { introspectPostgres } from "../src/dialects/postgres/introspect.js";
import { compileOperations } from "../src/operations/compile.js";
import { renderModels } from "../src/autogenerate/render-models.js";
import { Op } from "../src/operations/types.js";
import { pull } from "../src/runtime/pull.js";
import { schemaFromModels } from "../src/schema/from-models.js";
import { loadModels } from "../src/schema/load-models.js";
import { EMPTY_SCHEMA, familyOf, type Dialect, type Schema } from "../src/schema/snapshot.js";
import { schemaArbitrary } from "./autogenerate/arbitraries.js";
import { type Backend, createOnBackend, introspectBackend, openBackend, postgresUp, runSteps } from "./operations/support.js";
import { createTempDatabase, schemaDump, type TempDatabase } from "./support/postgres.js";

const DIALECTS: Dialect[] = ["sqlite", "pglite", "postgres"];
const RUNS = Number(process.env.RETORT_PULL_RUNS ?? 25);
const SEED = Number(process.env.RETORT_PROPERTY_SEED ?? 20261203);
const INDEX = resolve(import.meta.dirname, "../src/index.ts");
const dir = mkdtempSync(join(tmpdir(), "retort-pull-"));
let files = 0;

/** Render the models for `live`, load the module as a user's, and return its snapshot and text. */
async function pulled(live: Schema): Promise<{ schema: Schema; text: string }> {
  const text = renderModels(live, { importFrom: INDEX });
  const path = join(dir, `models${files++}.ts`);
  writeFileSync(path, text);
  return { schema: schemaFromModels(await loadModels(path)), text };
}

/** What still separates the database from the pulled models (empty: they describe it exactly). */
function differences(live: Schema, models: Schema, dialect: Dialect): string[] {
  const result = compareSchemas(live, models, { dialect });
  return [...result.ops.map((op) => Op.describe(op)), ...result.decisions.map((d) => `undecided ${d.kind} ${d.from} -> ${d.to}`)];
}

for (const dialect of DIALECTS) {
  describe.skipIf(dialect === "postgres" && !postgresUp)(`pull round trip [${dialect}]`, () => {
    let backend: Backend;
    beforeAll(async () => {
      backend = await openBackend(dialect);
    });
    afterAll(async () => backend?.close());
    beforeEach(async () => backend.reset());

    it("the example app's schema: the pulled models match the database, names and relations included", async () => {
      await createOnBackend(backend, schemaFromModels(communityBot));
      const live = await introspectBackend(backend);
      const { schema, text } = await pulled(live);
      expect(differences(live, schema, dialect)).toEqual([]);
      expect(text).toContain(`guildId: t.bigint().references(() => guilds.id, { onDelete: "cascade" }),`);
      expect(text).toContain(`unique(c.guildId, c.nickname).where(sql\`deleted_at IS NULL\`)`);
      expect(text).toContain(`moderator: one(members, { via: moderationCases.moderatorId }),`);
      expect(text).toContain(`export const guildRole = enumType("guild_role", ["owner", "admin", "member"]);`);
      // The file is a module a user keeps: its relations load, its tables are the database's.
      const module = await loadModels(join(dir, `models${files - 1}.ts`));
      expect(Object.keys(module)).toEqual(expect.arrayContaining(["guilds", "members", "membersRelations", "guildsRelations"]));
    });

    it(`random schemas from the property arbitraries (${RUNS} runs)`, async () => {
      const schemas = fc.sample(schemaArbitrary({ dialect: familyOf(dialect) === "postgres" ? "postgres" : "sqlite" }), { numRuns: RUNS, seed: SEED });
      for (const [i, schema] of schemas.entries()) {
        if (i > 0) await backend.reset();
        await createOnBackend(backend, schema);
        const live = await introspectBackend(backend);
        const { schema: models, text } = await pulled(live);
        const diff = differences(live, models, dialect);
        if (diff.length > 0) throw new Error(`run ${i}: the pulled models differ from the database:\n${diff.join("\n")}\n--- models:\n${text}`);
      }
    });
  });
}

/** A schema built by raw SQL the way another tool (Alembic, Prisma) would. */
const ADOPTED_SQL = `
            CREATE TYPE order_status AS ENUM ('new', 'paid', 'shipped');
            CREATE TABLE customers (
              id serial PRIMARY KEY,
              email varchar(200) NOT NULL,
              created timestamp without time zone NOT NULL DEFAULT CURRENT_TIMESTAMP,
              meta json,
              prefs jsonb NOT NULL DEFAULT '{}'::jsonb,
              CONSTRAINT customers_email_check CHECK (email LIKE '%@%')
            );
            CREATE UNIQUE INDEX customers_email_lower_idx ON customers (lower(email));
            CREATE TABLE customer_profiles (
              customer_id integer PRIMARY KEY REFERENCES customers(id) ON DELETE CASCADE,
              bio text
            );
            CREATE TABLE orders (
              id bigserial,
              customer_id integer NOT NULL,
              status order_status NOT NULL DEFAULT 'new',
              total numeric(12, 2) NOT NULL,
              CONSTRAINT orders_pkey PRIMARY KEY (id),
              CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers(id) ON UPDATE CASCADE,
              CONSTRAINT orders_total_positive CHECK (total >= 0)
            );
            CREATE UNIQUE INDEX orders_one_open_per_customer ON orders (customer_id) WHERE status = 'new';
            CREATE INDEX orders_customer_idx ON orders (customer_id);
            CREATE TABLE order_lines (
              order_id bigint NOT NULL REFERENCES orders(id),
              line smallint NOT NULL,
              sku text NOT NULL,
              CONSTRAINT order_lines_pkey PRIMARY KEY (order_id, line),
              CONSTRAINT order_lines_sku_key UNIQUE (order_id, sku)
            );
            COMMENT ON TABLE orders IS 'Customer orders';
            COMMENT ON COLUMN orders.total IS 'In the shop currency';
`;

/** What Prisma Migrate writes for a small schema: quoted PascalCase names, TIMESTAMP(3), DECIMAL(65,30). */
const PRISMA_SQL = `
CREATE TYPE "Role" AS ENUM ('USER', 'ADMIN');
CREATE TABLE "User" (
    "id" SERIAL NOT NULL,
    "email" TEXT NOT NULL,
    "name" TEXT,
    "role" "Role" NOT NULL DEFAULT 'USER',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);
CREATE TABLE "Post" (
    "id" TEXT NOT NULL,
    "title" VARCHAR(255) NOT NULL,
    "published" BOOLEAN NOT NULL DEFAULT false,
    "price" DECIMAL(65,30),
    "authorId" INTEGER NOT NULL,
    "publishedAt" TIMESTAMPTZ(6),
    CONSTRAINT "Post_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");
CREATE INDEX "Post_authorId_idx" ON "Post"("authorId");
ALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
`;

/** What Rails' structure.sql holds for a small app: unlimited character varying, timestamp(6), owned sequences, array columns. */
const RAILS_SQL = `
CREATE TABLE public.users (
    id bigint NOT NULL,
    email character varying DEFAULT ''::character varying NOT NULL,
    encrypted_password character varying DEFAULT ''::character varying NOT NULL,
    reset_password_token character varying,
    remember_created_at timestamp(6) without time zone,
    opens_at time(0) without time zone,
    tags character varying[] DEFAULT '{}'::character varying[],
    favorite_ids integer[],
    nicknames character varying(30)[] DEFAULT '{"a,b",NULL}'::character varying[] NOT NULL,
    scores numeric(10,2)[] DEFAULT '{1.5,2}'::numeric[],
    big_ids bigint[] DEFAULT '{9007199254740993}'::bigint[],
    created_at timestamp(6) without time zone NOT NULL,
    updated_at timestamp(6) without time zone NOT NULL
);
CREATE SEQUENCE public.users_id_seq START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
ALTER SEQUENCE public.users_id_seq OWNED BY public.users.id;
ALTER TABLE ONLY public.users ALTER COLUMN id SET DEFAULT nextval('public.users_id_seq'::regclass);
ALTER TABLE ONLY public.users ADD CONSTRAINT users_pkey PRIMARY KEY (id);
CREATE UNIQUE INDEX index_users_on_email ON public.users USING btree (email);
CREATE UNIQUE INDEX index_users_on_reset_password_token ON public.users USING btree (reset_password_token);
`;

/** The schemas other tools build, pulled and rebuilt below. */
const OTHER_TOOLS_SQL = { adopted: ADOPTED_SQL, prisma: PRISMA_SQL, rails: RAILS_SQL };

describe.skipIf(!postgresUp)("pull of an adopted database [postgres]", () => {
  let temp: TempDatabase;
  beforeAll(async () => {
    temp = await createTempDatabase("retort_pull");
  });
  afterAll(async () => temp?.drop());

  it("keeps every name, sequence ids, partial unique indexes, a primary key that is a foreign key", async () => {
    const backend = await openBackend("postgres");
    try {
      await runSteps(backend.driver, [{ description: "another tool's schema", sql: ADOPTED_SQL }]);
      const live = await introspectBackend(backend);
      const { schema, text } = await pulled(live);
      expect(differences(live, schema, "postgres")).toEqual([]);
      expect(text).toContain(`created: t.timestamp().default(sql\`CURRENT_TIMESTAMP\`),`);
      expect(text).toContain(`id: t.serial().primaryKey({ name: "customers_pkey" }),`);
      expect(text).toContain(`id: t.bigserial().primaryKey({ name: "orders_pkey" }),`);
      expect(text).toContain(`customerId: t.integer().primaryKey({ name: "customer_profiles_pkey" }).references(() => customers.id, { onDelete: "cascade", name: "customer_profiles_customer_id_fkey" }),`);
      expect(text).toContain(`unique(c.customerId).where(sql\`status = 'new'::order_status\`).name("orders_one_open_per_customer")`);
      expect(text).toContain(`unique(c.orderId, c.sku).name("order_lines_sku_key")`);
      expect(text).toContain(`.check(sql\`total >= 0::numeric\`, "orders_total_positive")`);
      expect(text).toContain(`{ comment: "Customer orders" }`);
    } finally {
      await backend.close();
    }
  });

  it("Prisma's and Rails' schemas: TIMESTAMP(3), unlimited character varying and timestamp(6) are kept as written; their version tables are left out", async () => {
    const backend = await openBackend("postgres");
    try {
      const versionTables = `CREATE TABLE _prisma_migrations (id varchar(36) PRIMARY KEY, checksum varchar(64) NOT NULL);
        CREATE TABLE schema_migrations (version character varying NOT NULL PRIMARY KEY);
        CREATE TABLE ar_internal_metadata (key character varying NOT NULL PRIMARY KEY, value character varying, created_at timestamp(6) NOT NULL, updated_at timestamp(6) NOT NULL);`;
      await runSteps(backend.driver, [{ description: "Prisma's and Rails' schemas", sql: PRISMA_SQL + RAILS_SQL + versionTables }]);
      const live = await introspectBackend(backend);
      expect(live.tables.map((table) => table.name).sort()).toEqual(["Post", "User", "users"]);
      const { schema, text } = await pulled(live);
      expect(differences(live, schema, "postgres")).toEqual([]);
      expect(text).toContain(`createdAt: t.timestamp(3).default(sql\`CURRENT_TIMESTAMP\`).name("createdAt"),`);
      expect(text).toContain(`updatedAt: t.timestamp(3).name("updatedAt"),`);
      expect(text).toContain(`publishedAt: t.timestamptz(6).nullable().name("publishedAt"),`);
      expect(text).toContain(`title: t.varchar(255),`);
      expect(text).toContain(`email: t.varchar().default(""),`);
      expect(text).toContain(`opensAt: t.time(0).nullable(),`);
      expect(text).toContain(`createdAt: t.timestamp(6),`);
      expect(text).toContain(`tags: t.array(t.varchar()).nullable().default([]),`);
      expect(text).toContain(`favoriteIds: t.array(t.integer()).nullable(),`);
      // A NULL element is no model default: the database's SQL is kept.
      expect(text).toContain(`nicknames: t.array(t.varchar(30)).default(sql\`'{"a,b",NULL}'::character varying[]\`),`);
      expect(text).toContain(`scores: t.array(t.numeric(10, 2)).nullable().default(["1.5", "2"]),`);
      expect(text).toContain(`bigIds: t.array(t.bigint()).nullable().default([9007199254740993n]),`);
    } finally {
      await backend.close();
    }
  });

  it.each(Object.entries(OTHER_TOOLS_SQL))("%s: the pulled models, autogenerated onto an empty database, give the same pg_dump; the downgrade leaves nothing", async (_name, sql) => {
    const original = await createTempDatabase("retort_pull_a");
    const rebuilt = await createTempDatabase("retort_pull_b");
    const a = createPostgresDriver(original.url, { schema: EMPTY_SCHEMA });
    const b = createPostgresDriver(rebuilt.url, { schema: EMPTY_SCHEMA });
    try {
      await runSteps(a, [{ description: "another tool's schema", sql }]);
      const conn = await a.acquire();
      const live = await introspectPostgres(conn).finally(() => conn.release());
      const { schema: models } = await pulled(live);
      const up = compareSchemas(EMPTY_SCHEMA, models, { dialect: "postgres" });
      expect(up.decisions).toEqual([]);
      await runSteps(b, compileOperations(up.ops, "postgres", EMPTY_SCHEMA).steps);
      expect(schemaDump(rebuilt.url)).toEqual(schemaDump(original.url));

      await runSteps(b, compileOperations(downgradeOperations(up.ops, { from: EMPTY_SCHEMA, dialect: "postgres" }), "postgres", models).steps);
      const { rows } = await b.query<{ kind: string; name: string }>(
        "SELECT c.relkind::text AS kind, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' " +
          "UNION ALL SELECT 'type', t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = 'public' AND t.typtype = 'e'",
      );
      expect(rows).toEqual([]);
    } finally {
      await a.close();
      await b.close();
      await original.drop();
      await rebuilt.drop();
    }
  });
});

describe("retort pull (the command)", () => {
  const exec = promisify(execFile);
  const TSX = join("node_modules", ".bin", "tsx");
  const retort = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await exec(TSX, ["src/cli/main.ts", ...args], { timeout: 60_000 });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  it("writes the models file, refuses to overwrite it without --force, and reports as JSON", async () => {
    const work = mkdtempSync(join(tmpdir(), "retort-pull-cli-"));
    const db = join(work, "app.db");
    const out = join(work, "src", "db", "schema.ts");
    expect((await retort("create-all", "examples/community-bot/schema.ts", "--url", `sqlite:${db}`)).code).toBe(0);

    const first = await retort("--json", "pull", "--url", `sqlite:${db}`, "--out", out);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ path: out, dialect: "sqlite", tables: ["guilds", "members", "moderation_cases", "reminders", "snippets", "starboard_entries"], enums: ["case_kind", "guild_role"] });
    const text = readFileSync(out, "utf8");
    expect(text).toContain(`import { check, enumType, index, primaryKey, relations, sql, t, table, unique } from "retort-db";`);

    writeFileSync(out, "// mine\n");
    const refused = await retort("pull", "--url", `sqlite:${db}`, "--out", out);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("RETORT_FILE_EXISTS");
    expect(refused.stderr).toContain("--force");
    expect(readFileSync(out, "utf8")).toBe("// mine\n");

    const forced = await retort("pull", "--url", `sqlite:${db}`, "--out", out, "--force");
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain("6 table(s), 2 enum(s)");
    expect(readFileSync(out, "utf8")).toBe(text);
  });

  it("needs a database URL", async () => {
    const result = await pull({ url: "nope://x", out: join(mkdtempSync(join(tmpdir(), "retort-pull-")), "s.ts") }).catch((error: unknown) => error);
    expect(result).toMatchObject({ code: "RETORT_BAD_URL" });
  });
});
