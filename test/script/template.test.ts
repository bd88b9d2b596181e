import { describe, expect, it } from "vitest";
import { parseHeader } from "../../src/script/header.js";
import { migrationFileName, newRevisionId, renderMigration } from "../../src/script/template.js";

describe("renderMigration", () => {
  it("writes the documented format", () => {
    const text = renderMigration({
      revision: "0c3f9a2b7d1e",
      parents: ["9b2e4d1a0f3c"],
      message: "add user preferences",
      createdAt: new Date("2026-11-21T14:30:00.000Z"),
      branchLabels: ["billing"],
      dependsOn: ["5d8e7f6a1b2c"],
    });
    expect(text).toBe(`import { defineMigration } from "retort-db";

export default defineMigration({
  revision: "0c3f9a2b7d1e",
  parents: ["9b2e4d1a0f3c"],
  message: "add user preferences",
  createdAt: "2026-11-21T14:30:00.000Z",
  branchLabels: ["billing"],
  dependsOn: ["5d8e7f6a1b2c"],

  async upgrade(op) {
    // write the upgrade here
  },

  async downgrade(op) {
    // write the downgrade here
  },
});
`);
  });

  it("takes bodies, extra imports, a module specifier and transactional: false", () => {
    const text = renderMigration({
      revision: "aaaa00000001",
      parents: [],
      message: "create users",
      createdAt: "2026-01-01T00:00:00.000Z",
      transactional: false,
      moduleSpecifier: "../../src/index.js",
      imports: [`import { sql } from "kysely";`],
      upgradeBody: `await op.createTable("users", {});\n\nif (x) {\n  y();\n}`,
      downgradeBody: `await op.dropTable("users");`,
    });
    expect(text).toContain(`import { defineMigration } from "../../src/index.js";\nimport { sql } from "kysely";\n`);
    expect(text).toContain(`  transactional: false,\n`);
    expect(text).toContain(`  async upgrade(op) {\n    await op.createTable("users", {});\n\n    if (x) {\n      y();\n    }\n  },`);
    expect(text).toContain(`  async downgrade(op) {\n    await op.dropTable("users");\n  },`);
  });

  it("round-trips through readHeader, whatever the message contains", () => {
    const messages = ["plain", `quotes " and ' and \` and \\`, "newline\nand\ttab", "unicode é ✓ \u2028", "*/ not a comment end", ""];
    for (const message of messages) {
      const template = {
        revision: newRevisionId(),
        parents: [newRevisionId(), newRevisionId()],
        message,
        createdAt: "2026-11-21T14:30:00.000Z",
        branchLabels: ["feature-x"],
        dependsOn: [newRevisionId()],
        transactional: false,
      };
      expect(parseHeader(renderMigration(template), "x.ts")).toEqual(template);
    }
  });
});

describe("newRevisionId", () => {
  it("is 12 random lowercase hex characters", () => {
    const ids = new Set(Array.from({ length: 1000 }, newRevisionId));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{12}$/);
  });
});

describe("migrationFileName", () => {
  const at = new Date("2026-03-04T05:06:07.890Z");

  it("is <yyyymmddHHMMSS>_<slug>.ts in UTC", () => {
    expect(migrationFileName(at, "Add user preferences")).toBe("20260304050607_add_user_preferences.ts");
  });

  it("slugs to lowercase a-z, 0-9 and _, without accents or edge underscores", () => {
    expect(migrationFileName(at, "  Café: add \"orders\" (v2)!! ")).toBe("20260304050607_cafe_add_orders_v2.ts");
  });

  it("caps the slug at 40 characters", () => {
    const name = migrationFileName(at, "a very long message that goes on and on about what this migration does");
    const slug = name.slice("20260304050607_".length, -".ts".length);
    expect(slug).toBe("a_very_long_message_that_goes_on_and_on");
    expect(slug.length).toBeLessThanOrEqual(40);
  });

  it('falls back to "migration"', () => {
    expect(migrationFileName(at, "")).toBe("20260304050607_migration.ts");
    expect(migrationFileName(at, "¿?!")).toBe("20260304050607_migration.ts");
  });
});
