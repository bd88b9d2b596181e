/** `check` on migrations whose raw SQL the parser folds: no ephemeral database, and --verify agrees. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { LoadedConfig } from "../../src/index.js";
import { check } from "../../src/runtime/schema-commands.js";
import { SOURCE_INDEX, createProject } from "../runtime/project.js";

describe("check with op.execute DDL", () => {
  it("folds the raw SQL in memory; --verify's ephemeral PGlite agrees; a model change is still seen", async () => {
    const project = createProject();
    project.add({
      id: "aaaa00000001",
      message: "raw ddl",
      up: `op.execute(\`CREATE TYPE mood AS ENUM ('calm', 'busy');
CREATE SEQUENCE note_ids START 1000;
CREATE TABLE notes (id bigint NOT NULL DEFAULT nextval('note_ids'), body text NOT NULL, mood mood DEFAULT 'calm', CONSTRAINT notes_pkey PRIMARY KEY (id));
CREATE INDEX notes_body_idx ON notes (lower(body)) WHERE mood = 'busy';
INSERT INTO notes (body) VALUES ('hello')\`);`,
    });
    project.add({ id: "bbbb00000002", parents: ["aaaa00000001"], message: "typed op", up: `op.addColumn("notes", "pinned", t.boolean().default(false));` });
    const model = (extra: string) =>
      writeFileSync(
        join(project.root, "schema.ts"),
        `import { enumType, index, primaryKey, sql, t, table } from ${JSON.stringify(SOURCE_INDEX)};
export const mood = enumType("mood", ["calm", "busy"]);
export const notes = table("notes", {
  id: t.bigint().default(sql\`nextval('note_ids'::regclass)\`),
  body: t.text(),
  mood: mood.column().nullable().default("calm"),
  pinned: t.boolean().default(false),${extra}
}, (n) => [primaryKey(n.id).name("notes_pkey"), index(sql\`lower(body)\`).where(sql\`mood = 'busy'\`).name("notes_body_idx")]);
`,
      );
    model("");
    const config: LoadedConfig = { ...project.config, config: { ...project.config.config, models: "./schema.ts" } };
    const folded = await check({ config, dialect: "postgres" });
    expect(folded.source).toBe("fold");
    expect(folded.changes).toEqual([]);
    const verified = await check({ config, dialect: "postgres", verify: true });
    expect(verified.changes).toEqual([]);

    model("\n  archived: t.boolean().default(false),");
    const changed = await check({ config, dialect: "postgres" });
    expect(changed.source).toBe("fold");
    expect(changed.changes).toEqual(["addColumn notes.archived"]);
  }, 60_000);
});
