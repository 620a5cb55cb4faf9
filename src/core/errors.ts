/**
 * Typed errors with stable codes. Everything the user can cause (bad config, bad input,
 * an experiment in a state that refuses to run) is an AutoresearchError; the CLI's single
 * top-level catch maps the code to an exit code (SPEC §8). Anything else is a bug.
 */

export type ErrorCode =
  | 'CONFIG_INVALID' // config.cfg has errors: see `issues`
  | 'BAD_INPUT' // a command-line argument is wrong
  | 'NOT_A_GIT_REPO'
  | 'NO_COMMIT' // the project has no commit to branch from
  | 'EXPERIMENT_NOT_FOUND'
  | 'EXPERIMENT_EXISTS'
  | 'LEDGER_CORRUPT' // results.tsv has an unparseable line that is not a torn tail
  | 'STATE_CORRUPT' // state.json cannot be read: never silently start fresh
  | 'LOCKED' // another runner holds the experiment
  | 'DURABILITY' // fsync or write failed: the loop stops, never retries
  | 'GIT_FAILED'
  | 'EXHAUSTED' // exit 2
  | 'TRIPPED' // exit 3
  | 'PAUSED' // exit 3
  | 'BLOCKED'; // exit 3

export const EXIT = {
  ok: 0,
  error: 1,
  exhausted: 2,
  stopped: 3, // tripped, paused or blocked
  interrupted: 130,
} as const;

export class AutoresearchError extends Error {
  override readonly name = 'AutoresearchError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  get exitCode(): number {
    switch (this.code) {
      case 'EXHAUSTED':
        return EXIT.exhausted;
      case 'TRIPPED':
      case 'PAUSED':
      case 'BLOCKED':
        return EXIT.stopped;
      default:
        return EXIT.error;
    }
  }
}

/** One problem in a config file: where, which key, what was expected, what was found. */
export interface ConfigIssue {
  file: string;
  line?: number;
  key?: string;
  expected: string;
  found: string;
  hint?: string; // e.g. "did you mean `metric_direction`?"
}

export function formatConfigIssue(issue: ConfigIssue): string {
  const where = issue.line === undefined ? issue.file : `${issue.file}:${issue.line}`;
  const key = issue.key === undefined ? '' : ` ${issue.key}:`;
  const hint = issue.hint === undefined ? '' : ` (${issue.hint})`;
  return `${where}:${key} expected ${issue.expected}, found ${issue.found}${hint}`;
}

/** Every problem of a config file at once, so the user fixes them in one pass. */
export class ConfigError extends AutoresearchError {
  constructor(readonly issues: readonly ConfigIssue[]) {
    super(
      'CONFIG_INVALID',
      [`invalid config (${issues.length} problem${issues.length === 1 ? '' : 's'}); nothing was run:`, ...issues.map((i) => `  ${formatConfigIssue(i)}`)].join('\n'),
    );
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
