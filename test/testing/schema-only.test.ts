/**
 * A folder without migrations: createTestDatabase builds the tables from the models it is given
 * (createAll), on each backend without a server, and the copy is private to the caller.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { createTestDatabase } from "../../src/testing/index.js";
import * as schema from "../../examples/community-bot/schema.js";

// On SQLite (PGlite takes the same path; its snapshots are covered in embedded.test.ts).
for (const url of ["sqlite::memory:"]) {
  it(`${url}: a database with the models' tables, private to each call`, async () => {
    const cwd = mkdtempSync(join(tmpdir(), "retort-schema-only-"));
    const first = await createTestDatabase({ schema, url, cwd });
    const second = await createTestDatabase({ schema, url, cwd });
    try {
      expect(first.dialect).toBe(url.startsWith("sqlite") ? "sqlite" : "pglite");
      await first.models.guilds.create({ id: 1n, name: "g" });
      expect(await first.models.guilds.count()).toBe(1);
      expect(await second.models.guilds.count()).toBe(0);
    } finally {
      await first.drop();
      await second.drop();
    }
  });
}
