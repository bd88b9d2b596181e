import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fileChecksum, HEADER_SHAPE, parseHeader, readHeader } from "../../src/script/header.js";
import { renderMigration } from "../../src/script/template.js";
import { retortError, tempDir } from "./helpers.js";

const FULL = {
  revision: "0c3f9a2b7d1e",
  parents: ["9b2e4d1a0f3c", "5d8e7f6a1b2c"],
  message: `add "user" preferences, it's \\ tricky\nsecond line`,
  createdAt: "2026-11-21T14:30:00.000Z",
  branchLabels: ["billing", "ops"],
  dependsOn: ["77aa88bb99cc"],
  transactional: false,
};

const parse = (source: string) => parseHeader(source, "versions/x.ts");
const badFile = (source: string) => retortError("RETORT_BAD_MIGRATION_FILE", () => parse(source));

describe("readHeader", () => {
  it("reads back what renderMigration wrote, with its path and checksum", () => {
    const file = join(tempDir(), "20261121143000_add_user_preferences.ts");
    const text = renderMigration(FULL);
    writeFileSync(file, text);
    expect(readHeader(file)).toEqual({ ...FULL, path: file, checksum: createHash("sha256").update(text).digest("hex") });
  });

  it("defaults the optional fields", () => {
    const header = parse(renderMigration({ revision: "aaaa11112222", parents: [], message: "init", createdAt: "2026-01-01T00:00:00.000Z" }));
    expect(header).toEqual({
      revision: "aaaa11112222",
      parents: [],
      message: "init",
      createdAt: "2026-01-01T00:00:00.000Z",
      branchLabels: [],
      dependsOn: [],
      transactional: true,
    });
  });

  it("accepts a hand-edited header: single quotes, comments, any order, trailing commas, escapes, type arguments", () => {
    const source = `
      // A comment that mentions defineMigration({ revision: "fake" }) does not count.
      /* neither does this: defineMigration({ revision: 'nope' }) */
      import { defineMigration } from 'retort-db';
      import type { Op } from "../ops";
      const note = "defineMigration({ revision: 'in a string' })";

      export default defineMigration<Op>(
        {
          // the id
          message: 'say \\'hi\\' and "bye" \\u00e9\\x41',
          createdAt: '2026-11-21T14:30:00Z', /* trailing */
          parents: [
            '9b2e4d1a0f3c', // first parent
            "5d8e7f6a1b2c",
          ] as const,
          "revision": "0c3f9a2b7d1e",
          owner: { team: "data", tags: ["a", "b"] }, // a field the header does not use
          transactional: true,
          dependsOn: [],
          async upgrade(op) {
            await op.execute("revision: 'not this'");
          },
          async downgrade(op) {},
        },
      );
    `;
    expect(parse(source)).toEqual({
      revision: "0c3f9a2b7d1e",
      parents: ["9b2e4d1a0f3c", "5d8e7f6a1b2c"],
      message: `say 'hi' and "bye" éA`,
      createdAt: "2026-11-21T14:30:00Z",
      branchLabels: [],
      dependsOn: [],
      transactional: true,
    });
  });

  it("stops at upgrade/downgrade in any style, so later fields are not read", () => {
    const header = (upgrade: string) => `
      export default defineMigration({
        revision: "aaaa00000001", parents: [], message: "m", createdAt: "2026-01-01T00:00:00Z",
        ${upgrade}
        branchLabels: ["after"],
      });`;
    for (const upgrade of ["upgrade: async (op) => {},", "async upgrade(op) {},", "upgrade(op) {},", "downgrade,", "async downgrade(op) {},"]) {
      expect(parse(header(upgrade)).branchLabels).toEqual([]);
    }
  });

  it("checksum: sha256 of the content with CRLF normalised, so a Windows checkout is not 'modified'", () => {
    const dir = tempDir();
    const text = renderMigration(FULL);
    writeFileSync(join(dir, "lf.ts"), text);
    writeFileSync(join(dir, "crlf.ts"), text.replace(/\n/g, "\r\n"));
    writeFileSync(join(dir, "edited.ts"), text.replace("write the upgrade here", "changed"));
    const lf = readHeader(join(dir, "lf.ts"));
    const crlf = readHeader(join(dir, "crlf.ts"));
    expect(crlf.checksum).toBe(lf.checksum);
    expect(crlf.message).toBe(FULL.message);
    expect(readHeader(join(dir, "edited.ts")).checksum).not.toBe(lf.checksum);
    expect(fileChecksum(text)).toBe(lf.checksum);
    expect(lf.checksum).toMatch(/^[0-9a-f]{64}$/);
  });

  it("never runs the file", () => {
    const file = join(tempDir(), "x.ts");
    writeFileSync(file, `throw new Error("loaded!");\n${renderMigration({ revision: "abcd12345678", parents: [], message: "m", createdAt: "2026-01-01T00:00:00Z" })}`);
    expect(readHeader(file).revision).toBe("abcd12345678");
  });
});

describe("readHeader errors name the file, the field, and show the expected shape", () => {
  const valid = { revision: `"aaaa00000001"`, parents: `[]`, message: `"m"`, createdAt: `"2026-01-01T00:00:00Z"` };
  const withFields = (fields: Record<string, string>) =>
    `import { defineMigration } from "retort-db";\nexport default defineMigration({\n${Object.entries(fields)
      .map(([k, v]) => `  ${k}: ${v},`)
      .join("\n")}\n  async upgrade(op) {},\n  async downgrade(op) {},\n});\n`;

  it("a file without defineMigration({ ... })", () => {
    const error = badFile(`export default { revision: "x" };`);
    expect(error.message).toBe("versions/x.ts:1:1: no `export default defineMigration({ ... })` call found");
    expect(error.hint).toContain(HEADER_SHAPE);
    expect(error.details).toMatchObject({ file: "versions/x.ts" });
  });

  for (const field of ["revision", "parents", "message", "createdAt"] as const) {
    it(`a missing ${field}`, () => {
      const fields: Record<string, string> = { ...valid };
      delete fields[field];
      const error = badFile(withFields(fields));
      expect(error.message).toMatch(new RegExp(`^versions/x\\.ts:\\d+:\\d+: the header has no \`${field}\` field; expected ${field}: `));
      expect(error.details).toMatchObject({ file: "versions/x.ts", field });
      expect(error.hint).toContain("export default defineMigration({");
    });
  }

  const cases: Array<[string, Record<string, string>, RegExp]> = [
    ["a computed revision", { revision: "newId()" }, /`revision` must be a literal value \(headers are read without running the file\); expected revision: "0c3f9a2b7d1e"/],
    ["a template with substitutions", { message: "`v${1}`" }, /a template literal with \$\{…\} is not a literal/],
    ["parents as a string", { parents: `"aaaa00000000"` }, /`parents` must be an array of strings; expected parents: \["9b2e4d1a0f3c"\] \(or \[\] for a base revision\)/],
    ["parents: null", { parents: "null" }, /`parents` cannot be null \(write \[\] for a base revision\)/],
    ["a number in parents", { parents: "[1]" }, /`parents` must be an array of strings/],
    ["a revision id with target syntax", { revision: `"ab:cd"` }, /`revision` contains a character not allowed in a revision id \(whitespace @ : , \+ -\): "ab:cd"/],
    ["an empty revision", { revision: `""` }, /`revision` cannot be empty/],
    ["a reserved revision", { revision: `"head"` }, /`revision` cannot be "head", which is a reserved target name/],
    ["a bad createdAt", { createdAt: `"yesterday"` }, /`createdAt` is not an ISO 8601 timestamp: "yesterday"/],
    ["transactional as a string", { transactional: `"no"` }, /`transactional` must be true or false; expected transactional: false/],
    ["a label with a space", { branchLabels: `["my branch"]` }, /`branchLabels` contains a character not allowed in a branch label/],
    ["a reserved label", { branchLabels: `["heads"]` }, /`branchLabels` cannot use "heads"/],
    ["an unterminated string", { message: `"oops` }, /unterminated string literal/],
  ];
  for (const [name, change, pattern] of cases) {
    it(name, () => {
      const error = badFile(withFields({ ...valid, ...change }));
      expect(error.message).toMatch(/^versions\/x\.ts:\d+:\d+: /);
      expect(error.message).toMatch(pattern);
    });
  }

  it("points at the line and column of the bad value", () => {
    const error = badFile(withFields({ ...valid, parents: `"aaaa00000000"` }));
    expect(error.message).toMatch(/^versions\/x\.ts:4:12: /);
    expect(error.details).toMatchObject({ line: 4, column: 12, field: "parents" });
  });

  it("a field given twice", () => {
    const source = withFields(valid).replace(`message: "m",`, `message: "m",\n  message: "again",`);
    expect(badFile(source).message).toMatch(/`message` is given twice/);
  });

  it("a shorthand header field", () => {
    const source = withFields(valid).replace(`revision: "aaaa00000001",`, `revision,`);
    expect(badFile(source).message).toMatch(/`revision` must be written as a literal value/);
  });

  it("an unreadable file", () => {
    const error = retortError("RETORT_BAD_MIGRATION_FILE", () => readHeader("/nonexistent/dir/x.ts"));
    expect(error.message).toMatch(/^Cannot read migration file \/nonexistent\/dir\/x\.ts: ENOENT/);
  });
});
