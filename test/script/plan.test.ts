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

  it("keeps a revision that merely depends on the target: only what stands above it through parents goes", () => {
    // c2 (on branch "two") depends on c1; c1 stays, so c2 stays. d1, above c1, goes.
    const graph = graphOf(
      header("c10000000001", [], { branchLabels: ["one"] }),
      header("c20000000001", [], { branchLabels: ["two"] }),
      header("c20000000002", ["c20000000001"], { dependsOn: ["c10000000001"] }),
      header("d10000000001", ["c10000000001"]),
    );
    expect(downgrade(graph, ["c20000000002", "d10000000001"], "c10000000001")).toEqual({ run: ["d10000000001"], heads: ["c20000000002"] }); // c1 stays, implied by c2
    // ...but whatever depends on a reverted revision goes with it.
    expect(downgrade(graph, ["c20000000002", "d10000000001"], "base")).toEqual({ run: ["d10000000001", "c20000000002", "c20000000001", "c10000000001"], heads: [] });
  });

  it("Alembic's DependsOnBranchTest cases", () => {
    // Two: three merges, and d1 depending on a3, b2 and c1.
    const two = graphOf(
      ...["a1", "a2", "a3", "b1", "b2", "c1", "c2", "c3"].map((id) => header(`${id}0000000000`)),
      header("am0000000000", ["a10000000000", "a20000000000", "a30000000000"]),
      header("bm0000000000", ["b10000000000", "b20000000000"]),
      header("cm0000000000", ["c10000000000", "c20000000000", "c30000000000"]),
      header("d10000000000", [], { dependsOn: ["a30000000000", "b20000000000", "c10000000000"] }),
    );
    const r = (id: string) => `${id}0000000000`;
    expect(downgrade(two, [r("am"), r("bm"), r("cm"), r("d1")], r("b2"))).toEqual({ run: [r("bm")], heads: [r("b1"), r("am"), r("cm"), r("d1")] });
    // d1@base reverts d1 alone; b2, implied by d1 until now, gets its row back.
    expect(downgrade(two, [r("am"), r("d1"), r("b1"), r("cm")], `${r("d1")}@base`)).toEqual({ run: [r("d1")], heads: [r("b1"), r("b2"), r("am"), r("cm")] });

    // Three (criss-cross): a3 depends on b1, b2 on a2; downgrading to b1 removes b2 only.
    const three = graphOf(
      header(r("a1")),
      header(r("a2"), [r("a1")]),
      header(r("b1")),
      header(r("b2"), [r("b1")], { dependsOn: [r("a2")] }),
      header(r("b3"), [r("b2")]),
      header(r("a3"), [r("a2")], { dependsOn: [r("b1")] }),
    );
    expect(downgrade(three, [r("a3"), r("b2")], r("b1"))).toEqual({ run: [r("b2")], heads: [r("a3")] });

    // Four: b2 and b4 both depend on a3; downgrading to b3 leaves b3 (which still implies a3).
    const four = graphOf(
      header(r("a1")),
      header(r("a2"), [r("a1")]),
      header(r("a3"), [r("a2")]),
      header(r("b1")),
      header(r("b2"), [r("b1")], { dependsOn: [r("a3")] }),
      header(r("b3"), [r("b2")]),
      header(r("b4"), [r("b3")], { dependsOn: [r("a3")] }),
    );
    expect(downgrade(four, [r("b4")], r("b3"))).toEqual({ run: [r("b4")], heads: [r("b3")] });
  });

  it("Alembic's branched-path cases: relative and branch-scoped targets", () => {
    // a → b → c1 (c1branch) → d1;  b → c2 (c2branch) → d2
    const r = (id: string) => `${id}0000000000`.slice(0, 12);
    const graph = graphOf(
      header(r("a")),
      header(r("b"), [r("a")]),
      header(r("c1"), [r("b")], { branchLabels: ["c1branch"] }),
      header(r("c2"), [r("b")], { branchLabels: ["c2branch"] }),
      header(r("d1"), [r("c1")]),
      header(r("d2"), [r("c2")]),
    );
    const down = (current: string[], target: string) => downgrade(graph, current.map(r), target);
    const up = (current: string[], target: string) => upgrade(graph, current.map(r), target);
    const rows = (...ids: string[]) => ids.map(r).sort();
    const sorted = (result: { run: string[]; heads: string[] }) => ({ run: result.run, heads: [...result.heads].sort() });

    expect(sorted(down(["d1", "d2"], "c1branch@-1"))).toEqual({ run: [r("d1")], heads: rows("c1", "d2") });
    expect(sorted(down(["d1", "d2"], "c1branch@head-1"))).toEqual({ run: [r("d1")], heads: rows("c1", "d2") });
    expect(sorted(down(["d2", "c1"], `${r("d2")}-1`))).toEqual({ run: [r("d2")], heads: rows("c1", "c2") });
    expect(sorted(down(["c1", "d2"], `c1branch@${r("b")}`))).toEqual({ run: [r("c1")], heads: rows("d2") });
    expect(sorted(down(["c1", "d2"], `c2branch@${r("b")}`))).toEqual({ run: [r("d2"), r("c2")], heads: rows("c1") });
    expect(sorted(down(["d1", "d2"], `${r("c2")}@${r("b")}`))).toEqual({ run: [r("d2"), r("c2")], heads: rows("d1") });
    expect(sorted(down(["d1", "d2"], `${r("d1")}@${r("b")}`))).toEqual({ run: [r("d1"), r("c1")], heads: rows("d2") });
    expect(down(["d1", "c2"], r("c2")).run).toEqual([]);
    expect(sorted(up(["c1"], "c2branch@+1"))).toEqual({ run: [r("c2")], heads: rows("c1", "c2") });
    expect(sorted(up(["c1", "c2"], "c2branch@+1"))).toEqual({ run: [r("d2")], heads: rows("c1", "d2") });
    expect(up([], "base+1")).toEqual({ run: [r("a")], heads: [r("a")] });
    retortError("RETORT_MULTIPLE_HEADS", () => upgradePlan(graph, rows("c1", "c2"), "+1"));
    retortError("RETORT_BELOW_BASE", () => downgradePlan(graph, [], "-1"));
  });

  it("<label>@-N reverts on that branch only, even below a branch point", () => {
    // b1-1 is the shared root: as an unscoped target it reverts both branches; billing@-1 only billing's.
    expect(downgrade(twoBranches(), [ID.a1, ID.b1], `${ID.b1}-1`).run).toEqual([ID.b1, ID.a1]);
    expect(downgrade(twoBranches(), [ID.a1, ID.b1], "billing@-1")).toEqual({ run: [ID.b1], heads: [ID.a1] });
    expect(downgrade(twoBranches(), [ID.a2, ID.b2], "billing@-2")).toEqual({ run: [ID.b2, ID.b1], heads: [ID.a2] });
    expect(downgrade(twoBranches(), [ID.a2, ID.b2], `billing@${ID.root}`)).toEqual({ run: [ID.b2, ID.b1], heads: [ID.a2] });
  });

  it("refuses targets that point the wrong way", () => {
    retortError("RETORT_INVALID_TARGET", () => downgradePlan(chain(3), [chainId(1)], "+1"));
    retortError("RETORT_INVALID_TARGET", () => downgradePlan(chain(3), [chainId(1)], "1"));
    retortError("RETORT_INVALID_TARGET", () => upgradePlan(chain(3), [chainId(1)], "-1"));
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
