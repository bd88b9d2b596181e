import { it } from "vitest";
import { lintFixture } from "./support.js";
it("scratch", async () => {
  const f = lintFixture();
  f.add({ id: "a1", up: `op.createTable("users", { id: t.integer().primaryKey(), email: t.varchar(200), at: t.timestamp() });`, down: `op.dropTable("users");` });
  f.add({ id: "a2", up: `op.createIndex(null, "users", ["email"]);\n// retort-lint-disable ban-drop-column: gone since v3\nop.dropColumn("users", "at");\nop.execute(\`\n  ALTER TABLE users ADD COLUMN n int NOT NULL;\n  CREATE INDEX CONCURRENTLY ix ON users (n);\n\`);` });
  const r = await f.lint();
  console.log(JSON.stringify(r.findings.map(x => [x.rule, x.severity, x.line, x.message]), null, 1));
});
