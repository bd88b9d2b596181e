import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { applyOperations } from "../../src/operations/apply.js";
import { loadConfig } from "../../src/env/config.js";
import { revisionGraph } from "../../src/runtime/api.js";
import { recordOperations, EMPTY_SCHEMA } from "../../src/runtime/plan.js";
import { schemaFromModels } from "../../src/schema/from-models.js";
import type { Schema } from "../../src/schema/snapshot.js";
import * as models from "../../examples/community-bot/schema.js";

const byName = <T extends { name: string }>(items: T[]) => [...items].sort((a, b) => a.name.localeCompare(b.name));
const normalized = (schema: Schema) => ({ tables: byName(schema.tables), enums: byName(schema.enums) });

describe("the example project's migrations", () => {
  it("fold to exactly the schema its models describe", async () => {
    const config = await loadConfig(resolve("examples/community-bot/retort.config.ts"));
    const graph = await revisionGraph({ config });
    let schema = EMPTY_SCHEMA;
    for (const revision of graph.revisions) schema = applyOperations(schema, await recordOperations(revision, "up"));
    expect(normalized(schema)).toEqual(normalized(schemaFromModels(models)));
  });
});
