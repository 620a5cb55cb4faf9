/**
 * worktreeTampering follows the worktree's `.git` file as git does. A `..` after a symlink
 * goes up from where the symlink leads, not from where its name is: collapsed by text, a
 * gitdir like `<wt>/s/../../../<admin>` reads as our worktree's admin dir while git uses
 * whatever the agent made `<elsewhere>/<admin>` (here: the user's own git dir).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { worktreeTampering } from '../../src/git/worktree-identity.js';
import { git, writeFiles } from '../helpers/git-repo.js';
import { setupExperiment, type Experiment } from './fixture.js';

/** The agent's `.git`: a symlink three levels deep elsewhere, then `../../../` + the admin dir's path, which leads to the user's git dir there. */
async function pointAtUserGitDirThroughDotDot({ wtPath, repo }: Experiment): Promise<void> {
  const admin = await git(wtPath, 'rev-parse', '--absolute-git-dir');
  const userGitDir = await git(repo, 'rev-parse', '--absolute-git-dir');
  const elsewhere = await fs.mkdtemp(path.join(path.dirname(wtPath), 'elsewhere-'));
  const up = path.relative(path.dirname(path.dirname(wtPath)), admin); // the admin dir, from two levels above the worktree
  await fs.mkdir(path.join(elsewhere, path.dirname(up)), { recursive: true });
  await fs.symlink(userGitDir, path.join(elsewhere, up));
  await fs.mkdir(path.join(elsewhere, 'x', 'y', 'z'), { recursive: true });
  await fs.symlink(path.join(elsewhere, 'x', 'y', 'z'), path.join(wtPath, 's'));
  await fs.writeFile(path.join(wtPath, '.git'), `gitdir: ${path.join(wtPath, 's')}/../../../${up}\n`);
}

describe('worktreeTampering and `..` through a symlink', () => {
  it('sees a .git whose gitdir leads git to the user\'s git dir', async () => {
    const experiment = await setupExperiment({ 'a.txt': 'a\n' });
    const { project, wtPath, branch, repo } = experiment;
    await pointAtUserGitDirThroughDotDot(experiment);

    // What git in the worktree now uses: the user's repository.
    expect(await git(wtPath, 'rev-parse', '--absolute-git-dir')).toBe(await fs.realpath(await git(repo, 'rev-parse', '--absolute-git-dir')));
    expect(worktreeTampering(wtPath, project.gitCommonDir, branch)).toMatchObject({ kind: 'dotgit', reason: expect.stringMatching(/not at a worktree of/) });
  });

  it('so capture runs no git step there: the user\'s HEAD and branch stay', async () => {
    const experiment = await setupExperiment({ 'a.txt': 'a\n' });
    const { wt, wtPath, branch, repo, base } = experiment;
    const userBranch = await git(repo, 'rev-parse', '--abbrev-ref', 'HEAD');
    await pointAtUserGitDirThroughDotDot(experiment);
    await writeFiles(wtPath, { 'a.txt': 'agent\n' });

    await expect(wt.captureCandidate(base, branch, { fallbackDescription: 'iteration 1' })).rejects.toMatchObject({ code: 'GIT_FAILED', message: expect.stringMatching(/^worktree_tampered: /) });

    expect(await git(repo, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe(userBranch);
    expect(await git(repo, 'rev-parse', `refs/heads/${userBranch}`)).toBe(base);
    expect(await fs.readFile(path.join(repo, 'a.txt'), 'utf8')).toBe('a\n');
  });

  it('still accepts the worktree as git made it, and a gitdir reached through a symlinked directory without `..`', async () => {
    const { project, wtPath, branch } = await setupExperiment({ 'a.txt': 'a\n' });
    expect(worktreeTampering(wtPath, project.gitCommonDir, branch)).toBeNull();
    const admin = await git(wtPath, 'rev-parse', '--absolute-git-dir');
    const link = path.join(path.dirname(wtPath), 'link-to-worktrees');
    await fs.symlink(path.dirname(admin), link);
    await fs.writeFile(path.join(wtPath, '.git'), `gitdir: ${path.join(link, path.basename(admin))}\n`);
    expect(worktreeTampering(wtPath, project.gitCommonDir, branch)).toBeNull();
  });
});
