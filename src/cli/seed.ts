/** `retort seed [name…]`: the project's seed files, in name order. */
import type { Command } from "commander";
import type { Output } from "./commands.js";
import type { GlobalOptions } from "./options.js";

export function registerSeedCommands(program: Command, output: () => Output): void {
  program
    .command("seed")
    .description("run the seed files (seeds/*.ts, in name order), each in its own transaction; development by default, never production")
    .argument("[names...]", "only these seeds (file names, with or without the extension)")
    .action(async (names: string[]) => {
      const { configOf } = await import("../runtime/api.js");
      const { runSeeds } = await import("../dev/seeds.js");
      const globals = program.opts<GlobalOptions>();
      const out = output();
      const result = (await runSeeds({
        config: await configOf(globals.config ? { config: globals.config } : {}),
        ...(globals.url ? { url: globals.url } : {}),
        ...(globals.env ? { env: globals.env } : {}),
        names,
        onStep: (line) => out.say(line),
      }))!;
      const skipped = result.seeds.filter((seed) => !seed.ran);
      if (skipped.length > 0) out.say(`skipped (for other environments than ${result.environment}): ${skipped.map((seed) => seed.name).join(", ")}`);
      if (result.seeds.every((seed) => !seed.ran)) out.say(`no seed ran in ${result.environment} (${result.directory})`);
      out.result({ ...result });
    });
}
