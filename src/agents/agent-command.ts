/**
 * The shell command line that runs one agent turn. The prompt always arrives on stdin
 * (and in $AUTORESEARCH_PROMPT_FILE); built-in agents run non-interactively with
 * machine-readable output and permissions for unattended work.
 */
import type { AgentSpec, BuiltinAgentName } from '../config/types.js';
import { shellQuote } from '../core/shell-quote.js';

const BUILTIN_ARGS: Record<BuiltinAgentName, readonly string[]> = {
  // -p reads the prompt from stdin. stream-json (which needs --verbose) also carries the
  // rate_limit_event that says a quota window was rejected; the last line is the result
  // with cost and tokens. acceptEdits + these tools: unattended edits and commits, and it
  // works as root (unlike --dangerously-skip-permissions).
  claude: ['-p', '--output-format', 'stream-json', '--verbose', '--permission-mode', 'acceptEdits', '--allowedTools', 'Bash,Read,Edit,Write,Glob,Grep'],
  // `-` reads the prompt from stdin; --json prints JSONL events (turn.completed has usage,
  // turn.failed the usage-limit message). The worktree's git dir lives outside it, so the
  // workspace-write sandbox would refuse `git commit`: full access.
  codex: ['exec', '--json', '--sandbox', 'danger-full-access', '-'],
  // gemini appends stdin to the -p prompt; --yolo approves its tool calls.
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
export function agentLabel(spec: AgentSpec, role: 'primary' | 'fallback' = 'primary'): string {
  const name = spec.kind === 'builtin' ? spec.name : spec.kind === 'none' ? 'external' : 'command';
  return role === 'fallback' && spec.kind === 'command' ? 'fallback-command' : name;
}

