/**
 * `autoresearch rebase <id> [--onto-head-only]`: the experiment moves onto the project's
 * current HEAD (e.g. the user fixed the evaluator on main) and its baseline is measured again
 * there, so later keeps are judged by the new code (SPEC §8).
 *
 *   last keep ─► replay the kept commits onto HEAD (git/rebase-keeps.ts, detached, in the
 *   │            experiment's worktree; --onto-head-only: HEAD itself, no keeps)
 *   │   conflict ─► aborted: branch, worktree, state, ledger as they were; the files named
 *   ├─► old tip saved as refs/autoresearch/<id>/rebase/<ms>
 *   ├─► state.lastKept = the new tip, no metric: the loop's own baseline iteration
 *   │   (loop/iteration.ts: same eval_timeout, process group, experiment files, env)
 *   │   measures it, its row a keep `baseline after rebase onto main@abc1234 (6 keeps carried)`
 *   └─► the evaluation failed (or was stopped): no row; state, branch and worktree back at
 *       the old keep, the saved ref removed: nothing changed.
 * The user's checkout and refs are only read (HEAD). A kill during the evaluation leaves the
 * experiment on the new tip without a metric: its next run measures the baseline there.
 * The caller holds the experiment's run lock.
 */
import fs from 'node:fs';
import path from 'node:path';
import { AutoresearchError } from '../core/errors.js';
import { GitClient } from '../git/git-client.js';
import { rebaseKeeps } from '../git/rebase-keeps.js';
import type { LedgerRow } from '../ledger/types.js';
import { runIteration } from '../loop/iteration.js';
import { runSetupIfNeeded } from '../loop/setup.js';
import { setAsideExternalChange } from '../loop/set-aside-external-change.js';
import type { LoopDeps, Session } from './open-session.js';
import { iterationPaths, rebaseBackupRef } from './paths.js';
import { saveBranchTip } from './save-branch-tip.js';
import { uncommittedChangesWarning } from './start-warnings.js';
import type { KeptCommit } from './state.js';

export type RebaseOutcome =
  | { kind: 'rebased'; row: LedgerRow; onto: string; carried: number; previous: KeptCommit; previousTip: string; backupRef: string; lastKeepRef: string | null }
  | { kind: 'up-to-date'; onto: string }
  | { kind: 'conflict'; onto: string; files: string[]; keep: string }
  | { kind: 'failed'; onto: string; why: string; evalLog: string | null };

export async function rebaseOntoHead(session: Session, deps: LoopDeps, signal: AbortSignal, opts: { ontoHeadOnly: boolean }): Promise<RebaseOutcome> {
  const { config, store, project } = session;
  await refuseUnfinishedOperation(project.root, config.id.key);
  const head = await project.head();
  const onto = `${await headName(project.root)}@${head.slice(0, 7)}`;
  // The usual slip: the evaluator fixed on main but not committed. The rebase only sees HEAD.
  const dirty = await uncommittedChangesWarning(config, project, head).catch(() => null);
  if (dirty !== null) deps.report({ kind: 'warning', message: `rebase: ${dirty}` });
  const previous = store.current.lastKept;
  const { branch } = store.current;
  if (previous.metric !== null && (opts.ontoHeadOnly ? previous.commit === head : await session.worktree.isAncestor(head, previous.commit))) {
    return { kind: 'up-to-date', onto };
  }

  // The branch as it is, before anything moves it: it may hold more than the last keep (a
  // commit made by hand in the worktree). Saved with the old keeps when the rebase goes
  // through; every way out without a new base puts the branch back exactly there.
  const previousTip = (await project.resolveCommit(`refs/heads/${branch}`)) ?? previous.commit;
  const backupRef = rebaseBackupRef(config.id.key, deps.clock.now());
  // First: a kill from here on loses nothing (the last keep too, when the branch was moved off it by hand).
  const saved = await saveBranchTip(session, backupRef, previousTip, previous.commit);
  const dropBackup = async () => {
    for (const ref of saved) await new GitClient(project.gitCommonDir).run(['update-ref', '-d', ref]);
  };
  await setAsideExternalChange(session, deps, 'before the rebase');
  await session.worktree.restore(previous.commit, branch); // clean, exactly the last keep
  let tip = head;
  let carried = 0;
  if (!opts.ontoHeadOnly) {
    const replayed = await rebaseKeeps(session.worktree.path, { ...session.gitIdentity }, previous.commit, head).catch(async (error: unknown) => {
      // Quits a half-done rebase; the saved tip goes only once the branch is back on it. The error says why.
      await session.worktree.restore(previousTip, branch).then(dropBackup).catch(() => undefined);
      throw error;
    });
    if (replayed.kind === 'conflict') {
      await session.worktree.restore(previousTip, branch);
      await dropBackup();
      return { kind: 'conflict', onto, files: replayed.files, keep: replayed.keep };
    }
    tip = replayed.tip;
    carried = replayed.carried;
  }

  const description = `baseline after rebase onto ${onto} (${opts.ontoHeadOnly ? 'keeps dropped: --onto-head-only' : `${carried} keep${carried === 1 ? '' : 's'} carried`})`;
  const number = session.ledger.nextIteration();
  const putBack = async () => {
    await store.update({ lastKept: previous, intent: null });
    await session.worktree.restore(previousTip, branch);
    await dropBackup();
  };
  let result: Awaited<ReturnType<typeof runIteration>>;
  try {
    // rebasedAfter: the ledger's highest iteration now; a row the seed skill appends later is one past it.
    const rows = session.ledger.rows();
    const rebasedAfter = rows.length === 0 ? {} : { rebasedAfter: rows.reduce((max, r) => Math.max(max, r.iteration), 0) };
    await store.update({ lastKept: { commit: tip, metric: null, iteration: null, ...rebasedAfter } });
    await session.worktree.restore(tip, branch);
    // A worktree created by this command has not had its setup_cmd yet (as at a run's start).
    if ((await runSetupIfNeeded(session, deps, signal)) === 'aborted') {
      await putBack();
      return { kind: 'failed', onto, why: 'stopped during setup', evalLog: null };
    }
    result = await runIteration(session, deps, signal, null, undefined, { description });
  } catch (error) {
    await putBack().catch(() => undefined); // the original error says what went wrong
    throw error;
  }
  if (result.kind === 'recorded') {
    await store.update({ consecutiveCrashes: 0, consecutiveNoChange: 0 });
    return { kind: 'rebased', row: result.row, onto, carried, previous, previousTip, backupRef, lastKeepRef: saved[1] ?? null };
  }

  // Not measured: everything back as it was.
  await putBack();
  const why =
    result.kind === 'not-applicable'
      ? `the evaluation failed: ${result.detail}`
      : result.kind === 'infrastructure'
        ? result.detail
        : result.kind === 'interrupted'
        ? `stopped during ${result.phase}`
        : `the evaluation is out of quota (${result.kind}): ${result.message}`;
  return { kind: 'failed', onto, why, evalLog: result.kind === 'not-applicable' ? setAsideFailedRun(iterationPaths(session.paths, number), deps.clock.now()) : null };
}

/**
 * The failed measurement wrote no row, so the next iteration takes its number and would set
 * its directory aside under a name nobody was told: it goes there now, and that path is printed.
 */
function setAsideFailedRun(files: { dir: string; evalLog: string }, now: number): string {
  const aside = `${files.dir}.interrupted-${now}`;
  try {
    fs.renameSync(files.dir, aside);
  } catch {
    return files.evalLog; // nothing to move (or not movable): the log is where it was written
  }
  return path.join(aside, path.basename(files.evalLog));
}

/** What the user's checkout can be in the middle of, by the file git keeps for it, and how to end it. */
const UNFINISHED = [
  { file: 'rebase-merge', what: 'a rebase', end: 'git rebase --continue, or git rebase --abort' },
  { file: 'rebase-apply', what: 'a rebase or git am', end: 'git rebase --continue (git am --continue), or --abort' },
  { file: 'MERGE_HEAD', what: 'a merge', end: 'git commit, or git merge --abort' },
  { file: 'CHERRY_PICK_HEAD', what: 'a cherry-pick', end: 'git cherry-pick --continue, or --abort' },
  { file: 'REVERT_HEAD', what: 'a revert', end: 'git revert --continue, or --abort' },
  { file: 'BISECT_START', what: 'a bisect', end: 'git bisect reset' },
] as const;

/**
 * Mid-rebase (or merge, bisect...) the user's HEAD is not a commit they chose to build on: an
 * intermediate state, or the commit before the merge they are making. Refused, nothing changed.
 */
async function refuseUnfinishedOperation(root: string, id: string): Promise<void> {
  const git = new GitClient(root);
  const paths = (await git.out(['rev-parse', ...UNFINISHED.flatMap((u) => ['--git-path', u.file])])).split('\n');
  for (const [i, u] of UNFINISHED.entries()) {
    const file = paths[i];
    if (file === undefined || file === '' || !fs.existsSync(path.resolve(root, file))) continue;
    throw new AutoresearchError(
      'BAD_INPUT',
      `rebase ${id}: expected the project's checkout ${root} on a finished commit to move onto, found ${u.what} in progress there ` +
        `(${path.resolve(root, file)}); finish it (${u.end}), then rebase again; nothing changed`,
    );
  }
}

/** `main`, or `HEAD` when the user's checkout is detached. */
async function headName(root: string): Promise<string> {
  const { stdout, exitCode } = await new GitClient(root).run(['symbolic-ref', '--short', '-q', 'HEAD'], [1]);
  return exitCode === 0 ? stdout.trim() : 'HEAD';
}
