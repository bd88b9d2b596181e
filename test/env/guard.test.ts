/** The production guard: by environment, by URL, forced only by a person typing the database's name. */
import { describe, expect, it } from "vitest";
import { databaseIdentity, guardProduction } from "../../src/env/guard.js";
import { isRetortError } from "../../src/errors.js";

const PROD = "postgres://admin:s3cret@db.example.com:5432/shop";

async function refused(promise: Promise<unknown>): Promise<Error & { hint?: string }> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(isRetortError(error, "RETORT_PRODUCTION_GUARD")).toBe(true);
  return error as Error & { hint?: string };
}

describe("production guard", () => {
  it("passes outside production for another database", async () => {
    await guardProduction({ action: "retort reset", environment: "development", url: "postgres://localhost/shop_dev", productionUrls: [PROD] });
    await guardProduction({ action: "retort wipe", environment: "test", url: "sqlite:app.db" });
  });

  it.each(["retort reset", "retort wipe", "retort teardown", "retort downgrade base", "retort stamp --purge"])("%s refuses in production, without showing the password", async (action) => {
    const error = await refused(guardProduction({ action, environment: "production", url: PROD }));
    expect(error.message).toContain(`${action} refuses to run against production`);
    expect(error.message).not.toContain("s3cret");
  });

  it("refuses the production URL in any environment (other credentials, localhost spelling and parameters do not matter)", async () => {
    const error = await refused(guardProduction({ action: "retort reset", environment: "development", url: "postgresql://other:pw@db.example.com/shop?sslmode=require", productionUrls: [PROD] }));
    expect(error.message).toContain("its URL is the production database's");
    expect(databaseIdentity("postgres://u@localhost/app")).toBe(databaseIdentity("postgres://x:y@127.0.0.1:5432/app"));
    expect(databaseIdentity("postgres://u@localhost/app")).not.toBe(databaseIdentity("postgres://u@localhost/app_test"));
  });

  it("reset and wipe can be forced only by typing the database's name; a flag alone never passes", async () => {
    const run = { action: "retort reset", environment: "production", url: PROD, forceProduction: true, overridable: true };
    const asked: string[] = [];
    await guardProduction(run, async (question) => {
      asked.push(question);
      return "shop\n";
    });
    expect(asked[0]).toContain("Type the database name (shop)");
    const wrong = await refused(guardProduction(run, async () => "prod"));
    expect(wrong.message).toContain("cancelled");
    // No terminal: refused even with the flag (the test runner has no TTY on stdin).
    const noTty = await refused(guardProduction(run));
    expect(noTty.message).toContain("needs a person at a terminal");
    // Not overridable: the flag changes nothing.
    await refused(guardProduction({ ...run, action: "retort teardown", overridable: false }, async () => "shop"));
  });
});
