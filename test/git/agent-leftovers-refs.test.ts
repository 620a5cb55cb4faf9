/** More attacks: reflog symlinks into the user's stash log, ref directories symlinked. A failing test = a successful attack. */
import fs from 'node:fs/promises';
import fsSync from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { git, writeFiles } from '../helpers/git-repo.js';
import { setupExperiment } from './fixture.js';

const FALLBACK = { fallbackDescription: 'autoresearch: iteration 1' };

describe('more attacks', () => {
  it('B1: the experiment branch\'s reflog a symlink to the user\'s logs/refs/stash: our commit adds a stash entry', async () => {
    const { repo, project, wt, wtPath, branch, base } = await setupExperiment({ 'a.txt': 'a\n' });
    await writeFiles(repo, { 'a.txt': 'user wip\n' });
    await git(repo, 'stash', 'push', '-q', '-m', 'user wip');
    const stashBefore = await git(repo, 'stash', 'list');
    const log = path.join(project.gitCommonDir, 'logs', 'refs', 'heads', branch);
    await fs.rm(log, { force: true });
    await fs.symlink(path.join(project.gitCommonDir, 'logs', 'refs', 'stash'), log);
    await writeFiles(wtPath, { 'a.txt': 'agent\n' });
    // Refused (worktree_tampered: a crash row), then the restore rebuilds the worktree.
    await expect(wt.captureCandidate(base, branch, FALLBACK)).rejects.toMatchObject({ message: expect.stringMatching(/^worktree_tampered: .*is a symlink/) });
    await wt.restore(base, branch);
    expect(fsSync.lstatSync(log, { throwIfNoEntry: false })?.isSymbolicLink() ?? false).toBe(false);
    const stashAfter = await git(repo, 'stash', 'list');
    expect(stashAfter).toBe(stashBefore);
  });

  it('B2: refs/heads/autoresearch/eng replaced by a symlink to refs/heads: our checkout -B writes the user\'s branch `x`', async () => {
    const { repo, project, wt, wtPath, branch, base } = await setupExperiment({ 'a.txt': 'a\n' });
    await writeFiles(repo, { 'u.txt': 'user\n' });
    await git(repo, 'add', '-A');
    await git(repo, 'commit', '-q', '-m', 'user commit');
    await git(repo, 'branch', 'x'); // the user's branch named like the experiment id's last part
    const xBefore = await git(repo, 'rev-parse', 'refs/heads/x');
    const engDir = path.join(project.gitCommonDir, 'refs', 'heads', 'autoresearch', 'eng');
    await fs.rm(engDir, { recursive: true, force: true });
    await fs.symlink(path.join(project.gitCommonDir, 'refs', 'heads'), engDir);
    await writeFiles(wtPath, { 'a.txt': 'agent\n' });
    await wt.captureCandidate(base, branch, FALLBACK).catch(() => null); // refused or not: what counts is the user's side
    await wt.restore(base, branch).catch(() => undefined);
    const xAfter = await git(repo, 'rev-parse', 'refs/heads/x');
    expect(xAfter).toBe(xBefore);
  });

  it("saveRef under refs/autoresearch/<domain> made a symlink to refs/heads: the link goes, no user branch is written", async () => {
    const { repo, project, wt, base } = await setupExperiment({ 'a.txt': 'a\n' });
    const domain = path.join(project.gitCommonDir, 'refs', 'autoresearch', 'eng');
    await fs.mkdir(path.dirname(domain), { recursive: true });
    await fs.rm(domain, { recursive: true, force: true });
    await fs.symlink(path.join(project.gitCommonDir, 'refs', 'heads'), domain);

    await wt.saveRef('refs/autoresearch/eng/x/1', base);

    expect(fsSync.lstatSync(domain).isSymbolicLink()).toBe(false);
    expect(await git(repo, 'rev-parse', 'refs/autoresearch/eng/x/1')).toBe(base);
    expect(await git(repo, 'for-each-ref', '--format=%(refname)', 'refs/heads/')).not.toMatch(/refs\/heads\/x\//);
  });
});
