/**
 * Which environment a command or an app runs in: --env, else $RETORT_ENV, else $NODE_ENV, else
 * development. Common short names are read as the long ones (dev, prod, testing).
 */
const ALIASES: Record<string, string> = { dev: "development", develop: "development", prod: "production", testing: "test" };

export interface EnvironmentChoice {
  /** development, test, production, or the name given (staging…). */
  environment: string;
  /** Where it came from: "--env", "$RETORT_ENV", "$NODE_ENV" or "default". */
  source: string;
}

export function environmentOf(explicit?: string, variables: NodeJS.ProcessEnv = process.env): EnvironmentChoice {
  const [given, source] =
    explicit !== undefined ? [explicit, "--env"] : variables.RETORT_ENV ? [variables.RETORT_ENV, "$RETORT_ENV"] : variables.NODE_ENV ? [variables.NODE_ENV, "$NODE_ENV"] : ["development", "default"];
  const lowered = given.trim().toLowerCase();
  return { environment: ALIASES[lowered] ?? lowered, source };
}

/** The environment's name alone. */
export function environmentName(explicit?: string, variables: NodeJS.ProcessEnv = process.env): string {
  return environmentOf(explicit, variables).environment;
}
