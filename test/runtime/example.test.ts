import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { applyOperations } from "../../src/operations/apply.js";
import { loadConfig } from "../../src/env/config.js";
import { revisionGraph } from "../../src/runtime/api.js";
import { recordOperations } from "../../src/runtime/plan.js";
import { EMPTY_SCHEMA } from "../../src/schema/snapshot.js";
import { schemaFromModels } from "../../src/schema/from-models.js";
import { sorted } from "../support/schema.js";
import * as models from "../../examples/community-bot/schema.js";


describe("the example project's migrations", () => {
  it("fold to exactly the schema its models describe", async () => {
    const config = await loadConfig(resolve("examples/community-bot/retort.config.ts"));
    const graph = await revisionGraph({ config });
    let schema = EMPTY_SCHEMA;
    for (const revision of graph.revisions) schema = applyOperations(schema, await recordOperations(revision, "up"));
    expect(sorted(schema)).toEqual(sorted(schemaFromModels(models)));
  });
});
