/**
 * The ledger, not state.json, is the truth for the last keep. The seed skill (or another
 * tool) may append a keep row after our last run, about a commit it made: starting from
 * state.lastKept would reset that keep away. So on start, after recovery: when the ledger's
 * last keep is newer than state.lastKept (a higher iteration) and names a commit that
 * resolves, it becomes the last kept commit, and the log says so. A keep whose commit is
 * not in the repository is reported and left alone (we cannot start from it). A keep that is
 * not a descendant of the branch's tip (the skill committed on the user's branch) moves the
 * branch off our kept commits: the old tip is saved under refs/autoresearch/ first.
 */
import type { LoopDeps, Session } from '../experiment/open-session.js';
import { replacedBranchRef } from '../experiment/paths.js';
import { keepChainOf } from '../ledger/keep-chain.js';
import { setAsideExternalChange } from './set-aside-external-change.js';

export async function adoptNewerLedgerKeep(session: Session, deps: LoopDeps): Promise<void> {
  const { lastKept, branch } = session.store.current;
  const rows = session.ledger.rows();
  // The keep in effect: a revalidation row undoes the keeps after it (ledger/keep-chain.ts).
  const lastKeep = keepChainOf(rows).best;
  if (lastKeep === null) return;
  if (lastKept.iteration !== null && lastKeep.iteration <= lastKept.iteration) return;
  // A rebase killed before its baseline: the new base is newer than every keep it saw.
  if (lastKept.iteration === null && lastKept.rebasedAfter !== undefined && lastKeep.iteration <= lastKept.rebasedAfter) return;
  if (lastKept.commit.startsWith(lastKeep.commit) && lastKept.metric === lastKeep.metric) return;
  const where = `${session.paths.results} (iteration ${lastKeep.iteration}, commit ${lastKeep.commit}, ${session.config.metric} ${lastKeep.metric})`;
  const commit = await session.project.resolveCommit(lastKeep.commit);
  if (commit === null) {
    deps.report({ kind: 'warning', message: `the last keep in ${where} is not in this repository; continuing from ${lastKept.commit.slice(0, 7)} as state.json says` });
    return;
  }
  // An external agent's work may sit in the worktree: keep it reachable before moving on.
  await setAsideExternalChange(session, deps, 'for a newer keep');
  const tip = await session.project.resolveCommit(`refs/heads/${branch}`);
  if (tip !== null && !(await session.worktree.isAncestor(tip, commit))) {
    // Our kept commits are reachable only from the branch: keep them so when it moves away.
    const ref = replacedBranchRef(session.config.id.key, lastKeep.iteration, deps.clock.now());
    await session.worktree.saveRef(ref, tip);
    deps.report({ kind: 'warning', message: `the newer keep ${lastKeep.commit} is not on ${branch}: its previous tip ${tip.slice(0, 7)} (the experiment's earlier keeps) is saved as ${ref}` });
  }
  await session.store.update({ lastKept: { commit, metric: lastKeep.metric, iteration: lastKeep.iteration } });
  await session.worktree.restore(commit, branch);
  deps.report({
    kind: 'warning',
    message: `adopted the last keep recorded in ${where}: it is newer than state.json's (${lastKept.commit.slice(0, 7)}, iteration ${lastKept.iteration ?? 'none'}); the experiment continues from it`,
  });
}
