/**
 * worktreeTampering reads the worktree's `.git` file as git reads it and follows it as git
 * follows it. Each attack below names our worktree's admin dir to a lenient reader and the
 * user's own git dir to git:
 *  - a `..` after a symlink goes up from where the symlink leads, not from where its name is;
 *  - git takes every byte after `gitdir: ` but the trailing CR/LF (spaces, inner line breaks,
 *    bytes that are not UTF-8), not the first line trimmed.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { gitdirOf } from '../../src/git/gitfile.js';
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

/**
 * A symlink `L` in the worktree to our admin dir (what a lenient reader of `body` follows), and
 * one named as git reads the path (`gitsName`) to the user's git dir.
 */
async function splitReading(body: Buffer | string, gitsName: Buffer | string): Promise<Experiment & { userGitDir: string }> {
  const experiment = await setupExperiment({ 'a.txt': 'a\n' });
  const { wtPath, repo } = experiment;
  const admin = await git(wtPath, 'rev-parse', '--absolute-git-dir');
  const userGitDir = await fs.realpath(await git(repo, 'rev-parse', '--absolute-git-dir'));
  await fs.symlink(admin, path.join(wtPath, 'L'));
  await fs.symlink(userGitDir, Buffer.concat([Buffer.from(`${wtPath}/`), Buffer.from(gitsName)]));
  // A lenient UTF-8 reading of `L\xff` is `L\uFFFD`: that name leads to our admin dir too.
  await fs.symlink(admin, path.join(wtPath, 'L\uFFFD'));
  await fs.writeFile(path.join(wtPath, '.git'), body);
  return { ...experiment, userGitDir };
}

describe('worktreeTampering reads .git as git does', () => {
  const cases: [string, Buffer | string, Buffer | string][] = [
    ['a trailing space', 'gitdir: L \n', 'L '],
    ['a second space after the colon', 'gitdir:  L\n', ' L'],
    ['a second line', 'gitdir: L\nX\n', 'L\nX'],
    ['a bare CR inside', 'gitdir: L\rX\n', 'L\rX'],
    ['bytes that are not UTF-8', Buffer.from('gitdir: L\xff\n', 'latin1'), Buffer.from('L\xff', 'latin1')],
  ];
  for (const [what, body, gitsName] of cases) {
    it(`sees a .git with ${what} as tampering (git reads it as the user's git dir)`, async () => {
      const { project, wtPath, branch, userGitDir } = await splitReading(body, gitsName);
      expect(await git(wtPath, 'rev-parse', '--absolute-git-dir')).toBe(userGitDir);
      expect(worktreeTampering(wtPath, project.gitCommonDir, branch)).toMatchObject({ kind: 'dotgit', reason: expect.stringMatching(/does not name a git dir as git writes it/) });
    });
  }

  it("so capture runs no git step there: the user's HEAD and branch stay", async () => {
    const { wt, wtPath, repo, branch, base } = await splitReading('gitdir: L \n', 'L ');
    const userHead = await git(repo, 'symbolic-ref', 'HEAD');
    await writeFiles(wtPath, { 'a.txt': 'agent\n' });
    await expect(wt.captureCandidate(base, branch, { fallbackDescription: 'iteration 1' })).rejects.toMatchObject({ code: 'GIT_FAILED', message: expect.stringMatching(/^worktree_tampered: /) });
    expect(await git(repo, 'symbolic-ref', 'HEAD')).toBe(userHead);
    expect(await git(repo, 'rev-parse', 'HEAD')).toBe(base);
  });

  it('accepts what git writes: `gitdir: <path>` with LF or CRLF, relative or absolute', async () => {
    const { project, wtPath, branch } = await setupExperiment({ 'a.txt': 'a\n' });
    const admin = await fs.realpath(await git(wtPath, 'rev-parse', '--absolute-git-dir'));
    const realWorktree = await fs.realpath(wtPath);
    for (const body of [`gitdir: ${admin}\n`, `gitdir: ${admin}\r\n`, `gitdir: ${admin}`, `gitdir: ${path.relative(realWorktree, admin)}\n`]) {
      await fs.writeFile(path.join(wtPath, '.git'), body);
      expect(await fs.realpath(await git(wtPath, 'rev-parse', '--absolute-git-dir'))).toBe(admin);
      expect(worktreeTampering(wtPath, project.gitCommonDir, branch), JSON.stringify(body)).toBeNull();
    }
  });

  it('gitdirOf: the path as git reads it, or null for a file git would read otherwise', () => {
    expect(gitdirOf(Buffer.from('gitdir: /a/b\n'))).toBe('/a/b');
    expect(gitdirOf(Buffer.from('gitdir: /a/b\r\n\n'))).toBe('/a/b');
    expect(gitdirOf(Buffer.from('gitdir: ../x'))).toBe('../x');
    for (const bad of ['gitdir:/a\n', ' gitdir: /a\n', 'gitdir: \n', 'gitdir: /a\0b\n', 'gitdir: /a\tb \n', 'GITDIR: /a\n', '']) {
      expect(gitdirOf(Buffer.from(bad)), JSON.stringify(bad)).toBeNull();
    }
  });
});
