/**
 * The environment of agent and evaluation processes: the daemon's environment (without the
 * variables that would point their git at the user's repository), a git identity where the
 * machine has none, and AUTORESEARCH_* variables describing the
 * experiment and this iteration.
 */
import type { Session } from '../experiment/open-session.js';
import { withoutRepositoryLocation } from '../git/git-client.js';
import type { EnvTag } from '../process/escapees.js';

/**
 * The tag every child of the experiment carries: escapees (processes that left their
 * group) and leftovers of a killed run are found by it (process/escapees.ts).
 */
export function worktreeTag(worktree: string): EnvTag {
  return { name: 'AUTORESEARCH_WORKTREE', value: worktree };
}

export function childEnv(
  session: Session,
  base: NodeJS.ProcessEnv,
  iteration: { number: number; runDir: string; baseline: boolean; best: number | null },
  extra: Record<string, string> = {},
): Record<string, string | undefined> {
  const { config } = session;
  const budgetSeconds = config.timeBudgetMs / 1000;
  return {
    ...withoutRepositoryLocation(base),
    ...session.gitIdentity,
    AUTORESEARCH_EXPERIMENT: config.id.key,
    AUTORESEARCH_DOMAIN: config.id.domain,
    AUTORESEARCH_NAME: config.id.name,
    AUTORESEARCH_EXPERIMENT_DIR: config.dir,
    AUTORESEARCH_PROJECT: session.project.root,
    AUTORESEARCH_WORKTREE: session.store.current.worktree,
    AUTORESEARCH_BRANCH: session.store.current.branch,
    AUTORESEARCH_ITERATION: String(iteration.number),
    AUTORESEARCH_BASELINE: iteration.baseline ? '1' : '0',
    AUTORESEARCH_RUN_DIR: iteration.runDir,
    AUTORESEARCH_METRIC: config.metric,
    AUTORESEARCH_DIRECTION: config.direction,
    AUTORESEARCH_BEST: iteration.best === null ? '' : String(iteration.best),
    AUTORESEARCH_TARGET: config.target.join(','),
    AUTORESEARCH_SCOPE: config.allowedPaths.join(','),
    AUTORESEARCH_TIME_BUDGET_SECONDS: String(budgetSeconds),
    AUTORESEARCH_TIME_BUDGET_MINUTES: String(budgetSeconds / 60),
    ...extra,
  };
}
