/**
 * The shell command line that runs one agent turn. The prompt always arrives on stdin
 * (and in $AUTORESEARCH_PROMPT_FILE); built-in agents run non-interactively with
 * machine-readable output and permissions for unattended work.
 */
import type { AgentSpec, BuiltinAgentName } from '../config/types.js';

const BUILTIN_ARGS: Record<BuiltinAgentName, readonly string[]> = {
  // -p reads the prompt from stdin when no prompt argument is given.
  claude: ['-p', '--output-format', 'json', '--dangerously-skip-permissions'],
  // `-` makes codex read the prompt from stdin.
  codex: ['exec', '--json', '--dangerously-bypass-approvals-and-sandbox', '-'],
  // gemini appends stdin to the -p prompt.
  gemini: ['-p', 'Follow the instructions given on standard input.', '--output-format', 'json', '--yolo'],
};

/** null for `agent: none` (an external agent drives `run --single`). */
export function agentCommandLine(spec: AgentSpec): string | null {
  switch (spec.kind) {
    case 'none':
      return null;
    case 'command':
      return spec.command;
    case 'builtin': {
      const args = [...BUILTIN_ARGS[spec.name], ...spec.args];
      return [spec.name, ...args].map(shellQuote).join(' ');
    }
    default: {
      const unreachable: never = spec;
      return unreachable;
    }
  }
}

/** How a row names the agent that produced it. */
export function agentLabel(spec: AgentSpec): string {
  return spec.kind === 'builtin' ? spec.name : spec.kind === 'none' ? 'external' : 'command';
}

export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_\-.,:/=@%+]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
