/**
 * A module with one object, loaded once with require() and once with import() to learn whether
 * the two share module instances in this process (import-module.ts, sharesModules).
 */
export const probe = {};
