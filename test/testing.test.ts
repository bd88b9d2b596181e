import { expect, it } from "vitest";
import { createTestDatabase } from "../src/testing/index.js";
import * as schema from "../examples/community-bot/schema.js";

it("createTestDatabase gives a connected database with the schema created", async () => {
  const db = await createTestDatabase({ schema });
  try {
    expect(db.dialect).toBe("sqlite");
    await db.models.guilds.create({ id: 1n, name: "g" });
    expect(await db.models.guilds.count()).toBe(1);
  } finally {
    await db.close();
  }
});
