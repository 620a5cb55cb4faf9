/**
 * Recovery on start, before anything else touches git: an intent left in state.json means
 * the previous incarnation died mid-iteration (kill -9, power loss).
 *  - Its child process group is killed, but only if pid, start time and boot id all still
 *    match: a reused pid or another boot must never get a signal.
 *  - If the ledger already has the iteration's row, the decision was made: finish it
 *    (state update), never write a second row.
 *  - Otherwise the iteration never finished: roll back, no row, not a crash.
 */
import type { LoopDeps, Session } from '../experiment/open-session.js';
import { interruptedCandidateRef } from '../experiment/paths.js';
import type { ChildRecord, Intent } from '../experiment/state.js';
import { isSameProcessAlive } from '../process/process-identity.js';

export async function recoverInterruptedIteration(session: Session, deps: LoopDeps): Promise<void> {
  const { intent } = session.store.current;
  if (intent === null) return;
  if (intent.child !== null) await killLeftoverGroup(intent.child, deps);
  const row = session.ledger.rows().find((r) => r.iteration === intent.iteration);
  if (row === undefined) {
    if (intent.phase === 'eval' && intent.candidate !== intent.base) {
      // The interrupted candidate stays reachable (its iteration number will be reused).
      await session.worktree.saveRef(interruptedCandidateRef(session.config.id.key, intent.iteration, deps.clock.now()), intent.candidate);
    }
    await session.worktree.restore(session.store.current.lastKept.commit, session.store.current.branch);
    await session.store.update({ intent: null });
    deps.report({ kind: 'recovered', iteration: intent.iteration, action: 'rolled-back', detail: `interrupted during ${intent.phase}; no row written` });
    return;
  }
  const candidate = candidateOf(intent);
  await session.store.update((s) => ({
    ...s,
    lastKept: row.status === 'keep' && candidate !== null ? { commit: candidate, metric: row.metric, iteration: row.iteration } : s.lastKept,
    consecutiveCrashes: row.status === 'crash' ? s.consecutiveCrashes + 1 : 0,
    intent: null,
  }));
  await session.worktree.restore(session.store.current.lastKept.commit, session.store.current.branch);
  deps.report({ kind: 'recovered', iteration: intent.iteration, action: 'completed', detail: `row ${row.status} was written; finished its git step` });
}

function candidateOf(intent: Intent): string | null {
  return intent.phase === 'eval' ? intent.candidate : null;
}

async function killLeftoverGroup(child: ChildRecord, deps: LoopDeps): Promise<void> {
  if (!isSameProcessAlive(child)) return;
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    try {
      process.kill(-child.pgid, signal);
    } catch {
      return; // the group is gone
    }
    await deps.clock.sleep(signal === 'SIGTERM' ? 1000 : 0);
  }
}
