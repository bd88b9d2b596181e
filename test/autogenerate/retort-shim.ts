/**
 * What rendered migrations import as "retort-db" in these tests: the public API, plus `serverDefault`
 * (used by rendered alterColumn defaults; see the autogenerate report — it should be exported from
 * src/index.ts).
 */
export * from "../../src/index.js";
export { serverDefault } from "../../src/operations/api.js";
