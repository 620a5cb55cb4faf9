/**
 * With `agent: none` an external agent edits the worktree between runs: its uncommitted work
 * is not ours to wipe when the experiment moves to another commit (a newer keep adopted from
 * the ledger, `reset --to`, `rebase`). It is committed on the current keep and kept under
 * refs/autoresearch/<id>/interrupted/ first, and the user is told where.
 */
import type { LoopDeps, Session } from '../experiment/open-session.js';
import { interruptedCandidateRef } from '../experiment/paths.js';

/** Returns the ref the change was saved as, or null when the worktree held none (or an agent CLI edits it). */
export async function setAsideExternalChange(session: Session, deps: LoopDeps, why: string): Promise<string | null> {
  if (session.config.agent.kind !== 'none') return null;
  const { lastKept, branch } = session.store.current;
  const capture = await session.worktree.captureCandidate(lastKept.commit, branch, { fallbackDescription: `external change set aside ${why}` });
  if (capture.kind !== 'candidate') return null;
  const ref = interruptedCandidateRef(session.config.id.key, session.ledger.nextIteration(), deps.clock.now());
  await session.worktree.saveRef(ref, capture.commit);
  deps.report({ kind: 'warning', message: `the change in the worktree was based on ${lastKept.commit.slice(0, 7)}; set aside ${why}: saved as ${ref}` });
  return ref;
}
