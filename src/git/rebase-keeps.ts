/**
 * `autoresearch rebase`'s git step: the experiment's kept commits replayed onto the project's
 * HEAD, in the experiment's own worktree, on a detached HEAD: the experiment branch moves only
 * when the caller decides (after the re-measured baseline), and a conflict is aborted with the
 * branch, the worktree and every other ref as they were.
 *
 * The user's repository configuration must not reach into this: their hooks do not run
 * (core.hooksPath), `rebase.updateRefs` never moves a branch of theirs that points into the
 * replayed range, no autostash, no signing prompt. Commits already in HEAD (a keep the user
 * merged) are dropped by git's own patch-id check.
 */
import { AutoresearchError } from '../core/errors.js';
import { GitClient } from './git-client.js';

export type RebaseKeepsResult =
  | { kind: 'rebased'; tip: string; carried: number }
  | { kind: 'conflict'; files: string[]; keep: string };

/** Own settings for the replay: nothing of the user's config that runs code or moves their refs. */
const SAFE_REBASE = [
  '-c', 'core.hooksPath=/dev/null',
  '-c', 'rebase.updateRefs=false',
  '-c', 'rebase.autoStash=false',
  '-c', 'rebase.autoSquash=false',
  '-c', 'commit.gpgSign=false',
  '-c', 'rerere.enabled=false',
] as const;

/**
 * Replay `from`'s commits since its merge base with `onto` on top of `onto`. The worktree
 * must be clean (restored by the caller); it is left detached at the result, or at `from`
 * after a conflict.
 */
export async function rebaseKeeps(worktree: string, identityEnv: Record<string, string>, from: string, onto: string): Promise<RebaseKeepsResult> {
  const git = new GitClient(worktree, identityEnv);
  const base = await git.run(['merge-base', onto, from], [1]);
  if (base.exitCode !== 0) {
    throw new AutoresearchError('BAD_INPUT', `rebase: the experiment's last keep ${from.slice(0, 7)} and HEAD ${onto.slice(0, 7)} share no history; nothing changed (--onto-head-only starts from HEAD without the keeps)`);
  }
  const mergeBase = base.stdout.trim();
  await git.run(['checkout', '--detach', '--force', '-q', from, '--']);
  const rebase = await git.run([...SAFE_REBASE, 'rebase', '-q', '--no-autosquash', '--onto', onto, mergeBase], [1]);
  if (rebase.exitCode !== 0) {
    const files = (await git.out(['diff', '--name-only', '--diff-filter=U', '-z'])).split('\0').filter(Boolean);
    const stopped = await git.run(['log', '-1', '--format=%h %s', 'REBASE_HEAD', '--'], [128]);
    await git.run([...SAFE_REBASE, 'rebase', '--abort'], [128]);
    return { kind: 'conflict', files, keep: stopped.exitCode === 0 ? stopped.stdout.trim() : rebase.stderr.trim().split('\n')[0] ?? 'unknown' };
  }
  const tip = (await git.out(['rev-parse', 'HEAD'])).trim();
  const carried = Number((await git.out(['rev-list', '--count', `${onto}..${tip}`])).trim());
  return { kind: 'rebased', tip, carried };
}
