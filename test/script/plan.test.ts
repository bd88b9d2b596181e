import { describe, expect, it } from "vitest";
import { headsAfter } from "../../src/script/heads.js";
import { appliedRevisions, downgradePlan, upgradePlan } from "../../src/script/plan.js";
import { resolveRange } from "../../src/script/targets.js";
import { ID, chain, chainId, diamond, graphOf, header, ids, retortError, twoBranches } from "./helpers.js";

type Graph = ReturnType<typeof diamond>;

/** Plans a run and returns what it runs and the version-table rows afterwards. */
function upgrade(graph: Graph, current: string[], target: string) {
  const plan = upgradePlan(graph, current, target);
  return { run: ids(plan), heads: headsAfter(graph, current, plan, "up") };
}
function downgrade(graph: Graph, current: string[], target: string) {
  const plan = downgradePlan(graph, current, target);
  return { run: ids(plan), heads: headsAfter(graph, current, plan, "down") };
}

describe("upgradePlan", () => {
  it("from an empty database to head: everything, parents first", () => {
    expect(upgrade(diamond(), [], "head")).toEqual({
      run: [ID.root, ID.a1, ID.b1, ID.a2, ID.b2, ID.merge, ID.top],
      heads: [ID.top],
    });
  });

  it("to a merge: both branches, then the merge", () => {
    expect(upgrade(diamond(), [ID.root], ID.merge)).toEqual({ run: [ID.a1, ID.b1, ID.a2, ID.b2, ID.merge], heads: [ID.merge] });
  });

  it("from one branch to head: the other branch, the merge and what follows", () => {
    expect(upgrade(diamond(), [ID.a2], "head")).toEqual({ run: [ID.b1, ID.b2, ID.merge, ID.top], heads: [ID.top] });
    expect(upgrade(diamond(), [ID.a2], "+1")).toEqual({ run: [ID.b1, ID.b2, ID.merge], heads: [ID.merge] });
  });

  it("one branch at a time: a new branch adds a row", () => {
    const graph = twoBranches();
    const first = upgrade(graph, [], "accounts@head");
    expect(first).toEqual({ run: [ID.root, ID.a1, ID.a2], heads: [ID.a2] });
    expect(upgrade(graph, first.heads, "billing@head")).toEqual({ run: [ID.b1, ID.b2], heads: [ID.a2, ID.b2] });
    expect(upgrade(graph, [], "heads")).toEqual({ run: [ID.root, ID.a1, ID.b1, ID.a2, ID.b2], heads: [ID.a2, ID.b2] });
  });

  it("nothing to do at or below the current revision", () => {
    expect(upgradePlan(diamond(), [ID.top], "head")).toEqual([]);
    expect(upgradePlan(diamond(), [ID.top], ID.a1)).toEqual([]);
    expect(upgradePlan(diamond(), [], "base")).toEqual([]);
  });

  it("accepts resolved revisions or ids as the target", () => {
    const graph = diamond();
    expect(ids(upgradePlan(graph, [ID.a2], [graph.get(ID.b1)!]))).toEqual([ID.b1]);
    expect(ids(upgradePlan(graph, [], [ID.a1, ID.b1]))).toEqual([ID.root, ID.a1, ID.b1]);
  });

  it("a range for offline SQL: from its start to its end", () => {
    const graph = diamond();
    const up = resolveRange(graph, `${ID.a2}:${ID.merge}`, []);
    expect(ids(upgradePlan(graph, up.start, up.end))).toEqual([ID.b1, ID.b2, ID.merge]);
    const down = resolveRange(graph, `head:${ID.a2}`, []);
    expect(ids(downgradePlan(graph, down.start, down.end))).toEqual([ID.top, ID.merge]);
    const fromBase = resolveRange(graph, `:${ID.a1}`, []);
    expect(ids(upgradePlan(graph, fromBase.start, fromBase.end))).toEqual([ID.root, ID.a1]);
  });

  it("depends-on pulls the other branch's revisions in, as Alembic does", () => {
    const graph = graphOf(
      header(ID.root),
      header(ID.a1, [ID.root]),
      header(ID.a2, [ID.a1]),
      header("7e0000000001", [], { branchLabels: ["reports"] }),
      header("7e0000000002", ["7e0000000001"], { dependsOn: [ID.a1] }),
    );
    const run = upgrade(graph, [], "reports@head");
    expect(run.run).toEqual([ID.root, ID.a1, "7e0000000001", "7e0000000002"]);
    expect(run.heads).toEqual(["7e0000000002"]); // a1 is covered by its dependent
    expect([...appliedRevisions(graph, run.heads)].sort()).toEqual([ID.root, ID.a1, "7e0000000001", "7e0000000002"].sort());
    expect(upgrade(graph, run.heads, ID.a2)).toEqual({ run: [ID.a2], heads: [ID.a2, "7e0000000002"] });
  });

  it("a 10,000-revision chain from the middle", () => {
    const graph = chain(10_000);
    const plan = upgradePlan(graph, [chainId(5_000)], "head");
    expect(plan).toHaveLength(4_999);
    expect(plan[0]!.revision).toBe(chainId(5_001));
    expect(headsAfter(graph, [chainId(5_000)], plan, "up")).toEqual([chainId(9_999)]);
  });
});

describe("downgradePlan", () => {
  it("from the merge to one branch's revision keeps the other branch", () => {
    expect(downgrade(diamond(), [ID.merge], ID.a2)).toEqual({ run: [ID.merge], heads: [ID.a2, ID.b2] });
    expect(downgrade(diamond(), [ID.top], ID.a1)).toEqual({ run: [ID.top, ID.merge, ID.a2], heads: [ID.a1, ID.b2] });
  });

  it("-1 from a merge removes only the merge", () => {
    expect(downgrade(diamond(), [ID.merge], "-1")).toEqual({ run: [ID.merge], heads: [ID.a2, ID.b2] });
  });

  it("a branch downgrade leaves the other branch alone", () => {
    expect(downgrade(twoBranches(), [ID.a2, ID.b2], ID.a1)).toEqual({ run: [ID.a2], heads: [ID.a1, ID.b2] });
    expect(downgrade(twoBranches(), [ID.a2, ID.b2], `${ID.b2}-1`)).toEqual({ run: [ID.b2], heads: [ID.b1, ID.a2] });
    expect(downgrade(twoBranches(), [ID.a2, ID.b2], "billing@head-1")).toEqual({ run: [ID.b2], heads: [ID.b1, ID.a2] });
  });

  it("to a branch point removes both branches above it, newest first", () => {
    expect(downgrade(twoBranches(), [ID.a2, ID.b2], ID.root)).toEqual({ run: [ID.b2, ID.a2, ID.b1, ID.a1], heads: [ID.root] });
  });

  it("to base removes everything", () => {
    expect(downgrade(diamond(), [ID.top], "base")).toEqual({
      run: [ID.top, ID.merge, ID.b2, ID.a2, ID.b1, ID.a1, ID.root],
      heads: [],
    });
  });

  it("relative -N", () => {
    expect(downgrade(chain(4), [chainId(3)], "-2")).toEqual({ run: [chainId(3), chainId(2)], heads: [chainId(1)] });
    retortError("RETORT_BELOW_BASE", () => downgradePlan(chain(4), [chainId(3)], "-5"));
  });

  it("removes revisions that depend on the target", () => {
    const graph = graphOf(
      header(ID.root),
      header(ID.a1, [ID.root]),
      header("7e0000000001", [], { dependsOn: [ID.a1] }),
      header("7e0000000002", ["7e0000000001"]),
    );
    expect(downgrade(graph, ["7e0000000002"], ID.root)).toEqual({ run: ["7e0000000002", "7e0000000001", ID.a1], heads: [ID.root] });
  });

  it("to the current revision: nothing to do", () => {
    expect(downgradePlan(diamond(), [ID.top], "head")).toEqual([]);
  });

  it("to a revision the database does not have", () => {
    const error = retortError("RETORT_UNKNOWN_REVISION", () => downgradePlan(twoBranches(), [ID.a2], ID.b1));
    expect(error.message).toBe(`Cannot downgrade to ${ID.b1} ("message of ${ID.b1}", versions/${ID.b1}.ts): the database does not have it (it is at ${ID.a2}).`);
    expect(error.hint).toMatch(/^A downgrade target must be at or below the current revisions/);
    expect(retortError("RETORT_UNKNOWN_REVISION", () => downgradePlan(twoBranches(), [], ID.b1)).message).toContain("(it is at base (nothing applied))");
  });
});
