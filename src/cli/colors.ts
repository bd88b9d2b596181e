/**
 * Colours only on a terminal. picocolors on its own also colours output piped to a file or a CI
 * log (it turns them on whenever CI is set), which leaves escape codes in logs and in what
 * scripts parse. NO_COLOR turns them off, FORCE_COLOR (not "0") on.
 */
import pc from "picocolors";

function wanted(stream: NodeJS.WriteStream): boolean {
  const { NO_COLOR, FORCE_COLOR, TERM } = process.env;
  if (NO_COLOR) return false;
  if (FORCE_COLOR !== undefined) return FORCE_COLOR !== "0";
  return stream.isTTY === true && TERM !== "dumb";
}

/** For results on stdout. */
export const stdoutColors = pc.createColors(wanted(process.stdout));
/** For warnings, errors and progress on stderr. */
export const stderrColors = pc.createColors(wanted(process.stderr));
