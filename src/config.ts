/**
 * `retort-db/config`: what a retort.config.ts imports. Every command reads the config first, and this
 * entry loads none of the rest of Retort (the models layer and zod cost ~90 ms a process).
 */
export { defineConfig, type RetortConfig, type MigrationSettings, type AutogenerateSettings, type SeedSettings } from "./env/config.js";
// Seed files may import it from here too: it loads nothing (types only).
export { defineSeed, type SeedDefinition, type SeedContext } from "./dev/seed-definition.js";
