/**
 * Array columns through autogenerate, upgrade, check and drift on every backend: adding an
 * integer[] column, text[] → varchar(40)[] (a cast Postgres does by itself), text[] → integer[]
 * (USING on Postgres, the table rebuild's element conversion on SQLite), with rows kept.
 */
import { readFileSync } from "node:fs";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { connect, downgrade, upgrade } from "../../src/index.js";
import { autogenerate, check, drift } from "../../src/runtime/schema-commands.js";
import { createTempDatabase, postgresReachable, type TempDatabase } from "../support/postgres.js";
import { SOURCE_INDEX, createProject } from "./project.js";

const postgresUp = await postgresReachable();

function models(columns: string): string {
  return `import { t, table } from ${JSON.stringify(SOURCE_INDEX)};\nexport const items = table("items", { id: t.integer().primaryKey(), ${columns} });\n`;
}

const temps: TempDatabase[] = [];
afterAll(async () => {
  for (const temp of temps) await temp.drop();
});

describe.each(["sqlite", "pglite", "postgres"] as const)("array columns through autogenerate [%s]", (backend) => {
  it.skipIf(backend === "postgres" && !postgresUp)(
    "adds an integer[] column, changes text[] → varchar(40)[] and text[] → integer[]; upgrade keeps the rows; check and drift find nothing",
    async () => {
      const project = createProject();
      const modelsFile = join(project.root, "schema.ts");
      const config = { ...project.config, config: { ...project.config.config, models: "./schema.ts" } };
      let url = backend === "sqlite" ? `sqlite:${join(project.root, "app.db")}` : `pglite:${join(project.root, "pglite")}`;
      if (backend === "postgres") {
        const temp = await createTempDatabase("retort_arrays");
        temps.push(temp);
        url = temp.url;
      }
      const options = { config, url };
      const migration = (path: string) => readFileSync(join(project.root, path.replace(/^.*migrations/, "migrations")), "utf8");

      writeFileSync(modelsFile, models(`tags: t.textArray().default([]), codes: t.array(t.text()).nullable()`));
      expect((await autogenerate({ message: "items" }, options)).path).toBeDefined();
      await upgrade("head", options);
      const db = await connect(url, { schema: {} });
      try {
        await db.query(`INSERT INTO items (id, tags, codes) VALUES (1, ${backend === "sqlite" ? `'["a,b","it''s"]', '["1","-2",null]'` : `'{"a,b","it''s"}', '{1,-2,NULL}'`})`);
      } finally {
        await db.close();
      }

      writeFileSync(modelsFile, models(`tags: t.array(t.varchar(40)).default([]), codes: t.array(t.integer().nullable()).nullable(), counts: t.array(t.integer()).default([1, 2])`));
      const second = await autogenerate({ message: "arrays" }, options);
      const text = migration(second.path!);
      expect(text).toContain(`op.addColumn("items", "counts", t.array(t.integer()).default([1, 2]))`);
      expect(text).toContain(`op.alterColumn("items", "tags", { type: t.array(t.varchar(40)) })`);
      // text → integer has no assignment cast: Postgres needs USING; SQLite's rebuild converts each element.
      if (backend === "sqlite") expect(text).toContain(`op.alterColumn("items", "codes", { type: t.array(t.integer()) })`);
      else expect(text).toContain(`op.alterColumn("items", "codes", { type: t.array(t.integer()), using: "codes::integer[]" })`);
      // The downgrade turns them back.
      expect(text).toContain(`op.alterColumn("items", "tags", { type: t.textArray(), using: "\\"tags\\"::text[]" })`);
      expect(text).toContain(`op.dropColumn("items", "counts")`);
      expect((await check(options)).changes).toEqual([]);

      await upgrade("head", options);
      expect((await drift(options)).changes).toEqual([]);
      const typed = await connect(url, { schema: { items: (await import(modelsFile)).items } });
      try {
        expect(await typed.models.items.find()).toEqual([{ id: 1, tags: ["a,b", "it's"], codes: [1, -2, null], counts: [1, 2] }]);
        await typed.models.items.create({ id: 2, tags: ["x"], codes: [3], counts: [] });
        expect(await typed.models.items.getOrThrow(2)).toEqual({ id: 2, tags: ["x"], codes: [3], counts: [] });
      } finally {
        await typed.close();
      }

      // The downgrade converts the elements back to text.
      await downgrade("-1", options);
      const back = await connect(url, { schema: {} });
      try {
        const { rows } = await back.query<{ codes: unknown }>("SELECT codes FROM items ORDER BY id");
        expect(rows.map((row) => (typeof row.codes === "string" ? JSON.parse(row.codes) : row.codes))).toEqual([["1", "-2", null], ["3"]]);
      } finally {
        await back.close();
      }
    },
    120_000,
  );
});
