/** `retort release <rev>`: let `upgrade` run the contract of an expand/contract pair (see runtime/release.ts). */
import type { Command } from "commander";
import type { Output } from "./commands.js";
import { commandOptions, type GlobalOptions } from "./options.js";

export function registerReleaseCommands(program: Command, output: () => Output): void {
  program
    .command("release")
    .description("record an expand revision as deployed, so `upgrade` may run its contract revision")
    .argument("<revision>", "the expand revision (applied on the database)")
    .action(async (target: string) => {
      const { release } = await import("../runtime/api.js");
      const out = output();
      const result = await release(target, commandOptions(program.opts<GlobalOptions>(), out));
      out.say(
        result.recorded
          ? `released ${result.revision} on ${result.url}: \`retort upgrade\` may now run its contract`
          : `${result.revision} was already released on ${result.url} (${result.releasedAt}${result.releasedBy ? ` by ${result.releasedBy}` : ""})`,
      );
      out.result({ ...result });
    });
}
