/**
 * The experiment's worktree deleted from outside while the loop runs (by hand, a cleanup job).
 * Every git step in it then fails (git cannot even start in a missing directory). Instead of
 * stopping, the loop treats it like a restart after a kill: the worktree is re-created on the
 * experiment's branch, the cut iteration is recovered from its recorded intent (rolled back,
 * no row, its number reused; or finished when its row was written), the worktree is reset to
 * the recorded last keep, and setup runs again. A worktree that keeps vanishing stops the
 * experiment with a clear error instead of looping.
 */
import fs from 'node:fs';
import path from 'node:path';
import { AutoresearchError, errorMessage } from '../core/errors.js';
import type { LoopDeps, Session } from '../experiment/open-session.js';
import { recoverInterruptedIteration } from './recovery.js';

/** Re-creations in a row (no row recorded in between) before the experiment is stopped. */
export const MAX_WORKTREE_RECREATIONS = 3;

/** The worktree's directory or its `.git` file is gone. */
export function worktreeMissing(session: Session): boolean {
  return !fs.existsSync(path.join(session.worktree.path, '.git'));
}

/**
 * Re-creates the missing worktree and recovers the iteration that `error` cut short.
 * `recreations` counts the previous ones without a row in between.
 */
export async function recreateMissingWorktree(session: Session, deps: LoopDeps, error: unknown, recreations: number): Promise<void> {
  const { branch, lastKept } = session.store.current;
  const where = session.worktree.path;
  const iteration = session.store.current.intent?.iteration ?? session.ledger.nextIteration();
  if (recreations >= MAX_WORKTREE_RECREATIONS) {
    throw new AutoresearchError(
      'GIT_FAILED',
      `experiment ${session.config.id.key}: its worktree ${where} was deleted ${recreations + 1} times in a row (last during iteration ${iteration}); ` +
        `expected it to stay while the experiment runs: something removes it (a cleanup job, another tool?). Last error: ${errorMessage(error)}`,
    );
  }
  // A directory left without its .git file may hold someone's files: ensureWorktree refuses to
  // touch it, with a message saying so.
  await session.project.ensureWorktree({ path: where, branch, startPoint: lastKept.commit });
  if (session.store.current.setupDone) await session.store.update({ setupDone: false }); // a fresh worktree needs its setup again
  await recoverInterruptedIteration(session, deps); // the cut iteration: rolled back (no row) or finished
  await session.worktree.restore(session.store.current.lastKept.commit, branch);
  deps.report({
    kind: 'warning',
    message: `the worktree ${where} was deleted during iteration ${iteration}; re-created on ${branch} at the last keep ${session.store.current.lastKept.commit.slice(0, 7)} (iteration ${iteration} is run again)`,
  });
}
