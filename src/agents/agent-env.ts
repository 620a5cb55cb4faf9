/**
 * What a built-in agent CLI may see of our environment. Some variables silently switch a
 * CLI from the user's subscription to pay-per-use API billing (claude-code #14102: an
 * ANTHROPIC_API_KEY in the environment of `claude -p` bills the API and fails with "Credit
 * balance too low"). They are removed unless the config lists them in `agent_pass_env`.
 * A user's own shell command gets the environment unchanged: it decides for itself.
 */
import type { AgentSpec } from '../config/types.js';

const BILLING_VARIABLES: Record<'claude' | 'codex' | 'gemini', readonly string[]> = {
  claude: ['ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN'],
  codex: ['OPENAI_API_KEY', 'CODEX_API_KEY'],
  gemini: ['GEMINI_API_KEY', 'GOOGLE_API_KEY'],
};

export function agentEnvironment(
  spec: Exclude<AgentSpec, { kind: 'none' }>,
  env: Record<string, string | undefined>,
  passEnv: readonly string[],
): Record<string, string | undefined> {
  if (spec.kind !== 'builtin') return env;
  const out = { ...env };
  for (const name of BILLING_VARIABLES[spec.name]) if (!passEnv.includes(name)) delete out[name];
  return out;
}
