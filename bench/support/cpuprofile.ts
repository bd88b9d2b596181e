/**
 * Summarise a V8 `.cpuprofile` (from `node --cpu-prof`) as text: where the sampled time went by
 * category (module loading, Retort's own code by folder, drivers, GC, idle…), the top
 * functions by self time, and Retort functions by inclusive time.
 *
 * Inclusive time is counted once per sample for every distinct function on the sampled stack, so
 * recursion is not double-counted. For async functions it covers only the synchronous stretches
 * between awaits (V8 stacks after an await start at the resumed function, not its caller).
 */
import { readFileSync } from "node:fs";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const GENERIC = "node internals and native code, no more specific caller";

export interface ProfileSummary {
  /** Sampled span in ms (starts after Node's own bootstrap). */
  totalMs: number;
  categories: Array<{ name: string; ms: number }>;
  selfTop: Array<{ name: string; ms: number }>;
  inclusiveTop: Array<{ name: string; ms: number }>;
}

/**
 * `roots` maps a path prefix to a short label (e.g. the dist folder → "retort", the migrations
 * folder → "migration files"); the first matching prefix wins.
 */
export function summariseProfile(file: string, roots: Array<{ prefix: string; label: string; byFolder?: boolean }>, top = 12): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) byId.set(node.id, node);
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  const clean = (url: string) => url.replace(/^file:\/\//, "");
  const category = (frame: CallFrame): string => {
    const name = frame.functionName;
    if (frame.url === "") {
      if (name === "(garbage collector)") return "GC";
      if (name === "(idle)") return "idle (waiting on I/O: database, disk)";
      if (name === "(program)") return "V8/native (compile, parse, bootstrap)";
      return GENERIC;
    }
    const url = clean(frame.url);
    for (const root of roots) {
      if (url.startsWith(root.prefix)) {
        if (!root.byFolder) return root.label;
        const rest = url.slice(root.prefix.length).replace(/^\//, "");
        const folder = rest.includes("/") ? rest.slice(0, rest.indexOf("/")) : rest;
        return `${root.label}/${folder}`;
      }
    }
    const nm = url.lastIndexOf("/node_modules/");
    if (nm >= 0) {
      const rest = url.slice(nm + "/node_modules/".length).split("/");
      return `node_modules/${rest[0]!.startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0]}`;
    }
    if (url.startsWith("node:internal/modules")) return "node module loader (node:internal/modules)";
    if (url.startsWith("node:")) return GENERIC;
    return "other";
  };
  const label = (frame: CallFrame): string => {
    const url = clean(frame.url);
    let where = url;
    for (const root of roots) if (url.startsWith(root.prefix)) where = `${root.label}${url.slice(root.prefix.length)}`;
    const nm = where.lastIndexOf("/node_modules/");
    if (nm >= 0) where = where.slice(nm + 1);
    return `${frame.functionName || "(anonymous)"} ${where ? `${where}:${frame.lineNumber + 1}` : ""}`.trim();
  };

  const selfByCategory = new Map<string, number>();
  const selfByFunction = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const add = (map: Map<string, number>, key: string, us: number) => map.set(key, (map.get(key) ?? 0) + us);
  const inRetort = roots.filter((r) => r.byFolder).map((r) => r.prefix);

  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i++) {
    // A sample stands for the time until the next one.
    const us = i + 1 < timeDeltas.length ? Math.max(0, timeDeltas[i + 1]!) : 0;
    if (us === 0) continue;
    const leaf = byId.get(samples[i]!)!;
    // Native code (fs bindings, the parser…) and generic Node internals (fs/promises, streams)
    // count for the nearest caller that says more: the module loader, a package, Retort.
    let name = category(leaf.callFrame);
    if (name === GENERIC && !leaf.callFrame.functionName.startsWith("(")) {
      for (let id = parent.get(leaf.id); id !== undefined; id = parent.get(id)) {
        const specific = category(byId.get(id)!.callFrame);
        if (specific !== GENERIC) {
          name = specific;
          break;
        }
      }
    }
    add(selfByCategory, name, us);
    add(selfByFunction, label(leaf.callFrame), us);
    const seen = new Set<string>();
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)!.callFrame;
      const url = clean(frame.url);
      if (!inRetort.some((prefix) => url.startsWith(prefix))) continue;
      const key = label(frame);
      if (seen.has(key)) continue;
      seen.add(key);
      add(inclusive, key, us);
    }
  }
  const sorted = (map: Map<string, number>, n: number) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => ({ name, ms: us / 1000 }));
  return {
    totalMs: (profile.endTime - profile.startTime) / 1000,
    categories: sorted(selfByCategory, 14),
    selfTop: sorted(selfByFunction, top),
    inclusiveTop: sorted(inclusive, top),
  };
}

export function formatProfile(summary: ProfileSummary, indent = "    "): string {
  const pct = (ms: number) => `${((100 * ms) / summary.totalMs).toFixed(1).padStart(5)}%`;
  const row = (r: { name: string; ms: number }) => `${indent}  ${r.ms.toFixed(0).padStart(7)} ms ${pct(r.ms)}  ${r.name}`;
  return [
    `${indent}sampled ${summary.totalMs.toFixed(0)} ms (after Node's bootstrap)`,
    `${indent}self time by category (Node internals and native code counted for their nearest specific caller):`,
    ...summary.categories.map(row),
    `${indent}top functions by self time:`,
    ...summary.selfTop.map(row),
    `${indent}Retort functions by inclusive time (synchronous stretches):`,
    ...summary.inclusiveTop.map(row),
  ].join("\n");
}
