/**
 * An experiment branch that already holds work when its experiment starts afresh (its
 * directory, state.json and results.tsv deleted, then `init` and `run` again): the new run
 * starts from HEAD and its first restore would point the branch there, leaving the old kept
 * commits only in the reflog. We never move a branch that holds kept work without saying so:
 * its tip is saved first under refs/autoresearch/<id>/backup/<ms> (once per tip) and the
 * caller prints where.
 */
import { GitClient } from './git-client.js';

export interface BranchBackup {
  /** The ref that holds the old tip, e.g. refs/autoresearch/eng/x/backup/1764390000000. */
  ref: string;
  tip: string;
  /** false when an earlier backup (init's, then run's) already held this tip. */
  created: boolean;
}

/**
 * Save `branch`'s tip under refs/autoresearch/<idKey>/backup/<now> when it has commits that
 * `startPoint` does not contain; null when there is no such branch or nothing to lose.
 */
export async function backUpBranchWork(projectRoot: string, idKey: string, branch: string, startPoint: string, now: number): Promise<BranchBackup | null> {
  const git = new GitClient(projectRoot, { GIT_OPTIONAL_LOCKS: '0' });
  const found = await git.run(['rev-parse', '-q', '--verify', `refs/heads/${branch}^{commit}`], [1]);
  if (found.exitCode !== 0) return null;
  const tip = found.stdout.trim();
  const contained = await git.run(['merge-base', '--is-ancestor', tip, startPoint], [1]);
  if (contained.exitCode === 0) return null; // every commit of the branch is in the start point: moving it loses nothing
  const prefix = `refs/autoresearch/${idKey}/backup/`;
  for (const line of (await git.out(['for-each-ref', '--format=%(objectname) %(refname)', prefix])).split('\n')) {
    const [commit, ref] = line.split(' ');
    if (commit === tip && ref !== undefined) return { ref, tip, created: false };
  }
  const ref = `${prefix}${now}`;
  await git.run(['update-ref', '--no-deref', '-m', `autoresearch: ${branch} held work when ${idKey} started afresh`, ref, tip]);
  return { ref, tip, created: true };
}

/** One line for the user: what was saved, and how to look at it. */
export function describeBackup(branch: string, backup: BranchBackup): string {
  return (
    `the existing branch ${branch} holds commits that HEAD does not (an earlier run of this experiment?); ` +
    `its tip ${backup.tip.slice(0, 7)} is kept as ${backup.ref} before the new run moves the branch (see: git log ${backup.ref})`
  );
}
