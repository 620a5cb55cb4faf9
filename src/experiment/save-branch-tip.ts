/**
 * Before `reset` or `rebase` moves the experiment branch: its tip is saved under `ref`, and so
 * is the last keep when the branch no longer holds it (moved by hand, e.g. a `git reset --hard`
 * in the worktree), as `<ref>-last-keep`: the ledger's rows name that commit, and nothing else
 * would keep it from the next gc.
 */
import type { Session } from './open-session.js';

/** The refs written: `ref`, then `<ref>-last-keep` when the tip does not contain the last keep. */
export async function saveBranchTip(session: Session, ref: string, tip: string, lastKeep: string): Promise<string[]> {
  await session.worktree.saveRef(ref, tip);
  // A last keep that is no longer in the repository (gc'd) cannot be saved: nothing more to do.
  const held = lastKeep === tip || (await session.worktree.isAncestor(lastKeep, tip).catch(() => true));
  if (held) return [ref];
  const keepRef = `${ref}-last-keep`;
  await session.worktree.saveRef(keepRef, lastKeep);
  return [ref, keepRef];
}
