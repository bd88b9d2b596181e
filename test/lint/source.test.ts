/** Reading a migration file's text: op calls of upgrade/downgrade with their lines, comments; strings and comments never taken for calls. */
import { describe, expect, it } from "vitest";
import { callLines, readMigrationSource } from "../../src/lint/source.js";

describe("migration source", () => {
  it("finds the op calls of each function, whatever the parameter is called and however the function is written", () => {
    const source = readMigrationSource(
      [
        "export default defineMigration({",
        '  revision: "a",',
        "  upgrade: async m => {",
        '    // m.dropTable("x") in a comment',
        '    m.execute("op.dropTable(\\"y\\") in a string");',
        '    m.createIndex(null, "t", ["a"]);',
        "  },",
        '  downgrade: async (m) => { m.dropIndex("ix") },',
        "});",
      ].join("\n"),
    );
    expect(source.upgradeCalls.map((c) => [c.method, c.line])).toEqual([
      ["execute", 5],
      ["createIndex", 6],
    ]);
    expect(source.downgradeCalls.map((c) => [c.method, c.line])).toEqual([["dropIndex", 8]]);
    expect(source.comments.map((c) => [c.line, c.text, c.own])).toEqual([[4, 'm.dropTable("x") in a comment', true]]);
  });

  it("template literals with ${…} inside, block comments and trailing comments", () => {
    const source = readMigrationSource(
      [
        "  async upgrade(op) {",
        "    const table = `orders`;",
        "    op.execute(`ALTER TABLE ${table} ADD COLUMN ${`x`} int; -- op.dropTable(`);",
        "    /* op.dropColumn(\"a\", \"b\")",
        "       retort-lint-disable ban-drop-table: a reason */",
        "    op.addColumn(table, \"n\", t.text()); // trailing",
        "  },",
        "  async downgrade(op) {},",
      ].join("\n"),
    );
    expect(source.upgradeCalls.map((c) => [c.method, c.line])).toEqual([
      ["execute", 3],
      ["addColumn", 6],
    ]);
    expect(source.comments.map((c) => [c.line, c.own])).toEqual([
      [4, true],
      [6, false],
    ]);
    expect(source.comments[0]!.text).toContain("retort-lint-disable ban-drop-table: a reason");
  });

  it("calls recorded more often than written (a loop) take the line of the last matched call site", () => {
    const sites = [
      { method: "createTable", line: 3, offset: 0 },
      { method: "createIndex", line: 4, offset: 10 },
    ];
    expect(callLines(["createTable", "createTable", "createIndex"], sites).map((s) => s?.line)).toEqual([3, 3, 4]);
  });
});
