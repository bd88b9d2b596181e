/**
 * The PGlite backend: the shared Postgres-family suite on one in-memory instance (starting one
 * takes seconds, so the file shares it), plus what only an embedded database does: opening a
 * directory, persisting to it, and serialising statements behind a held connection.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createPgliteDriver } from "../../src/dialects/pglite/driver.js";
import { isRetortError, type RetortError } from "../../src/errors.js";
import { describePostgresFamily, fixtureSchema } from "./postgres-family.js";

const emptySchema = { tables: [], enums: [] };
const scratch = mkdtempSync(join(tmpdir(), "retort-pglite-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describePostgresFamily("pglite (in memory)", async () => {
  const driver = await createPgliteDriver({}, { schema: fixtureSchema });
  return { driver, cleanup: () => driver.close() };
});

describe("pglite data directories", () => {
  it("fails with RETORT_CONNECTION_FAILED naming a directory it cannot open", async () => {
    const file = join(scratch, "not-a-directory");
    writeFileSync(file, "x");
    const dataDir = join(file, "db");
    const error = await createPgliteDriver({ dataDir }, { schema: emptySchema }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isRetortError(error, "RETORT_CONNECTION_FAILED")).toBe(true);
    expect((error as RetortError).message).toContain(`"${dataDir}"`);
    expect((error as RetortError).details).toEqual({ dataDir });
  });

  it("keeps data in a directory across instances, and refuses use after close", async () => {
    const dataDir = join(scratch, "db");
    const first = await createPgliteDriver({ dataDir }, { schema: emptySchema });
    await first.query("CREATE TABLE kept (v text)");
    await first.query("INSERT INTO kept VALUES ($1)", ["still here"]);
    await first.close();
    await first.close();
    await expect(first.query("SELECT 1")).rejects.toMatchObject({ code: "RETORT_CLOSED" });

    const second = await createPgliteDriver({ dataDir }, { schema: emptySchema });
    try {
      expect((await second.query("SELECT v FROM kept")).rows).toEqual([{ v: "still here" }]);
    } finally {
      await second.close();
    }
  });
});
