/**
 * A throwaway Retort project for the autogenerate benchmark, written the way a user writes one:
 * `retort.config.ts` (importing `<libraryEntry>/config`, as `retort init` writes it) and a
 * TypeScript models module (`schema.ts`) importing `libraryEntry`: the package name "retort-db" when
 * the project has it in node_modules.
 *
 * The schema is the issue's: 300 tables × 8 columns (2,400: identity, bigint, varchar, enum,
 * numeric, jsonb, timestamptz, boolean), 480 indexes of which 180 partial, 300 foreign keys
 * (each table to the previous one, the first to the last), 300 checks, 5 enums.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface ModelsProject {
  dir: string;
  config: string;
  models: string;
  versions: string;
  tables: number;
}

const tableName = (i: number) => `t${String(i).padStart(3, "0")}`;

/** The models module; `extraColumn` adds one nullable column to the middle table (the "one-column change"). */
export function modelsSource(libraryEntry: string, tables: number, options: { extraColumn?: boolean; stamp?: string } = {}): string {
  const lib = JSON.stringify(libraryEntry);
  const lines: string[] = [`import { desc, enumType, index, sql, t, table } from ${lib};`, ""];
  for (let e = 0; e < 5; e++) lines.push(`export const state${e} = enumType("state_${e}", ["draft", "active", "archived", "extra_${e}"]);`);
  lines.push("");
  for (let i = 0; i < tables; i++) {
    const name = tableName(i);
    const previous = tableName((i + tables - 1) % tables);
    const indexes = [`index(x.prevId)`];
    if (i % 5 < 3) indexes.push(`index(x.state, desc(x.createdAt)).where(sql\`hidden = false\`)`);
    lines.push(
      `export const ${name} = table(`,
      `  "${name}",`,
      `  {`,
      `    id: t.bigint().identity().primaryKey(),`,
      `    prevId: t.bigint().nullable().references(() => ${previous}.id, { onDelete: "set null" }),`,
      `    name: t.varchar(100),`,
      `    state: state${i % 5}.column().default("draft"),`,
      `    amount: t.numeric(12, 2).default("0.00").check("amount >= 0"),`,
      `    data: t.jsonb().default({}),`,
      `    createdAt: t.timestamptz().defaultNow(),`,
      `    hidden: t.boolean().default(false),`,
      ...(options.extraColumn && i === Math.floor(tables / 2) ? [`    note: t.text().nullable(),`] : []),
      `  },`,
      `  (x) => [${indexes.join(", ")}],`,
      `);`,
      "",
    );
  }
  if (options.stamp) lines.push(`// ${options.stamp}`);
  return lines.join("\n");
}

export function writeModelsProject(dir: string, tables: number, libraryEntry: string): ModelsProject {
  const versions = join(dir, "migrations", "versions");
  mkdirSync(versions, { recursive: true });
  const lib = JSON.stringify(libraryEntry);
  const config = join(dir, "retort.config.ts");
  writeFileSync(
    config,
    `import { defineConfig } from ${JSON.stringify(`${libraryEntry}/config`)};\n\n` +
      `export default defineConfig({\n  models: "./schema.ts",\n  migrations: { directory: "migrations/versions", importFrom: ${lib} },\n});\n`,
  );
  const models = join(dir, "schema.ts");
  writeFileSync(models, modelsSource(libraryEntry, tables));
  return { dir, config, models, versions, tables };
}
