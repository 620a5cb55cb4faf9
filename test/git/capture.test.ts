import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { git, writeFiles } from '../helpers/git-repo.js';
import { headOf, parentsOf, porcelain, setupExperiment, subjectOfCommit } from './fixture.js';

const FALLBACK = { fallbackDescription: 'autoresearch: iteration 3' };

function candidateOf(capture: Awaited<ReturnType<import('../../src/git/worktree.js').Worktree['captureCandidate']>>) {
  if (capture.kind !== 'candidate') throw new Error(`expected a candidate, got ${capture.kind}`);
  return capture;
}

describe('captureCandidate', () => {
  it('commits what the agent left uncommitted (modified + new file) as one commit on base', async () => {
    const { wt, wtPath, branch, base } = await setupExperiment({ 'a.txt': 'a\n', 'b.txt': 'b\n' });
    await writeFiles(wtPath, { 'a.txt': 'changed\n', 'src/new.txt': 'new\n' });

    const c = candidateOf(await wt.captureCandidate(base, branch, FALLBACK));

    expect(c).toMatchObject({ description: 'autoresearch: iteration 3', agentCommits: 0, autoCommitted: true });
    expect(c.changedPaths.sort()).toEqual(['a.txt', 'src/new.txt']);
    expect(await parentsOf(wtPath, c.commit)).toEqual([base]);
    expect(await subjectOfCommit(wtPath, c.commit)).toBe('autoresearch: iteration 3');
    expect(await headOf(wtPath)).toEqual({ branch, commit: c.commit });
    expect(await porcelain(wtPath)).toBe('');
    expect(await git(wtPath, 'show', `${c.commit}:src/new.txt`)).toBe('new');
  });

  it('takes an uncommitted deletion and a file name with spaces through the status-only path', async () => {
    const { wt, wtPath, branch, base } = await setupExperiment({ 'a.txt': 'a\n', 'gone.txt': 'g\n', 'my file.txt': '1\n' });
    await fs.rm(path.join(wtPath, 'gone.txt'));
    await writeFiles(wtPath, { 'my file.txt': '2\n' });

    const c = candidateOf(await wt.captureCandidate(base, branch, FALLBACK));

    expect(c.changedPaths.sort()).toEqual(['gone.txt', 'my file.txt']);
    expect(await parentsOf(wtPath, c.commit)).toEqual([base]);
    expect(await git(wtPath, 'diff', '--name-only', base, c.commit)).toBe('gone.txt\nmy file.txt');
    expect(await headOf(wtPath)).toEqual({ branch, commit: c.commit });
  });

  it('does not trust status alone when the agent staged a change and reverted it in the worktree', async () => {
    const { wt, wtPath, branch, base } = await setupExperiment({ 'a.txt': 'a\n', 'b.txt': 'b\n' });
    await writeFiles(wtPath, { 'b.txt': 'staged\n' });
    await git(wtPath, 'add', 'b.txt');
    await writeFiles(wtPath, { 'b.txt': 'b\n', 'a.txt': 'edited\n' }); // b.txt is back to base in the worktree

    const c = candidateOf(await wt.captureCandidate(base, branch, FALLBACK));

    // add -A stages the worktree: b.txt ends up unchanged, so only a.txt is part of the candidate.
    expect(c.changedPaths).toEqual(['a.txt']);
  });

  it('uses a single agent commit on base as it is', async () => {
    const { wt, wtPath, branch, base } = await setupExperiment({ 'a.txt': 'a\n' });
    await writeFiles(wtPath, { 'a.txt': 'better\n' });
    await git(wtPath, 'commit', '-qam', 'Tune a');
    const agentCommit = await git(wtPath, 'rev-parse', 'HEAD');

    const c = candidateOf(await wt.captureCandidate(base, branch, FALLBACK));

    expect(c).toEqual({ kind: 'candidate', commit: agentCommit, description: 'Tune a', changedPaths: ['a.txt'], agentCommits: 1, autoCommitted: false });
    expect(await headOf(wtPath)).toEqual({ branch, commit: agentCommit });
  });

  it('squashes two agent commits into one candidate on base named after both', async () => {
    const { wt, wtPath, branch, base } = await setupExperiment({ 'a.txt': 'a\n', 'b.txt': 'b\n' });
    await writeFiles(wtPath, { 'a.txt': 'a2\n' });
    await git(wtPath, 'commit', '-qam', 'First idea');
    await writeFiles(wtPath, { 'b.txt': 'b2\n' });
    await git(wtPath, 'commit', '-qam', 'Second idea');
    const agentTree = await git(wtPath, 'rev-parse', 'HEAD^{tree}');

    const c = candidateOf(await wt.captureCandidate(base, branch, FALLBACK));

    expect(c).toMatchObject({ description: 'First idea; Second idea', agentCommits: 2, autoCommitted: false });
    expect(c.changedPaths.sort()).toEqual(['a.txt', 'b.txt']);
    expect(await parentsOf(wtPath, c.commit)).toEqual([base]);
    expect(await git(wtPath, 'rev-parse', `${c.commit}^{tree}`)).toBe(agentTree);
    expect(await headOf(wtPath)).toEqual({ branch, commit: c.commit });
    expect(await porcelain(wtPath)).toBe('');
  });

  it('commits leftovers after agent commits, naming the candidate after the agent commits only', async () => {
    const { wt, wtPath, branch, base } = await setupExperiment({ 'a.txt': 'a\n' });
    await writeFiles(wtPath, { 'a.txt': 'a2\n' });
    await git(wtPath, 'commit', '-qam', 'Faster parser');
    await writeFiles(wtPath, { 'notes.txt': 'forgot to commit\n' });

    const c = candidateOf(await wt.captureCandidate(base, branch, FALLBACK));

    expect(c).toMatchObject({ description: 'Faster parser', agentCommits: 1, autoCommitted: true });
    expect(c.changedPaths.sort()).toEqual(['a.txt', 'notes.txt']);
    expect(await parentsOf(wtPath, c.commit)).toEqual([base]);
  });

  it('turns an amend of the base commit into a candidate on base with the net change', async () => {
    const { wt, wtPath, branch, base } = await setupExperiment({ 'a.txt': 'a\n', 'b.txt': 'b\n' });
    await writeFiles(wtPath, { 'b.txt': 'amended\n' });
    await git(wtPath, 'commit', '-q', '-a', '--amend', '-m', 'Rewrite history');

    const c = candidateOf(await wt.captureCandidate(base, branch, FALLBACK));

    expect(await parentsOf(wtPath, c.commit)).toEqual([base]);
    expect(c.changedPaths).toEqual(['b.txt']);
    expect(c.description).toBe('Rewrite history');
    expect(await git(wtPath, 'show', `${c.commit}:b.txt`)).toBe('amended');
    expect(await git(wtPath, 'show', `${c.commit}:a.txt`)).toBe('a');
  });

  it('brings a commit made on a detached HEAD back onto the branch', async () => {
    const { wt, wtPath, branch, base } = await setupExperiment({ 'a.txt': 'a\n' });
    await git(wtPath, 'checkout', '-q', '--detach');
    await writeFiles(wtPath, { 'a.txt': 'detached work\n' });
    await git(wtPath, 'commit', '-qam', 'Detached work');

    const c = candidateOf(await wt.captureCandidate(base, branch, FALLBACK));

    expect(c).toMatchObject({ description: 'Detached work', agentCommits: 1 });
    expect(await parentsOf(wtPath, c.commit)).toEqual([base]);
    expect(await headOf(wtPath)).toEqual({ branch, commit: c.commit });
    expect(await git(wtPath, 'rev-parse', `refs/heads/${branch}`)).toBe(c.commit);
  });

  it('brings commits made on another branch back onto the experiment branch', async () => {
    const { wt, wtPath, branch, base } = await setupExperiment({ 'a.txt': 'a\n' });
    await git(wtPath, 'checkout', '-q', '-b', 'agent-side');
    await writeFiles(wtPath, { 'a.txt': 'side 1\n' });
    await git(wtPath, 'commit', '-qam', 'Side 1');
    await writeFiles(wtPath, { 'a.txt': 'side 2\n', 'untracked.txt': 'u\n' });

    const c = candidateOf(await wt.captureCandidate(base, branch, FALLBACK));

    expect(c).toMatchObject({ description: 'Side 1', agentCommits: 1, autoCommitted: true });
    expect(c.changedPaths.sort()).toEqual(['a.txt', 'untracked.txt']);
    expect(await parentsOf(wtPath, c.commit)).toEqual([base]);
    expect(await headOf(wtPath)).toEqual({ branch, commit: c.commit });
    expect(await porcelain(wtPath)).toBe('');
  });

  it('reports no_change when the agent committed and then reverted', async () => {
    const { wt, wtPath, branch, base } = await setupExperiment({ 'a.txt': 'a\n' });
    await writeFiles(wtPath, { 'a.txt': 'oops\n' });
    await git(wtPath, 'commit', '-qam', 'Try');
    await git(wtPath, 'revert', '--no-edit', 'HEAD');

    expect(await wt.captureCandidate(base, branch, FALLBACK)).toEqual({ kind: 'no_change' });
    expect(await headOf(wtPath)).toEqual({ branch, commit: base });
    expect(await porcelain(wtPath)).toBe('');
  });

  it('reports no_change when nothing was done, and when the agent only switched branch', async () => {
    const { wt, wtPath, branch, base } = await setupExperiment();
    expect(await wt.captureCandidate(base, branch, FALLBACK)).toEqual({ kind: 'no_change' });
    expect(await headOf(wtPath)).toEqual({ branch, commit: base });

    await git(wtPath, 'checkout', '-q', '-b', 'elsewhere');
    expect(await wt.captureCandidate(base, branch, FALLBACK)).toEqual({ kind: 'no_change' });
    expect(await headOf(wtPath)).toEqual({ branch, commit: base });
  });

  it('reports no_change for staged changes that cancel out (a file added, then deleted)', async () => {
    const { wt, wtPath, branch, base } = await setupExperiment();
    await writeFiles(wtPath, { 'tmp.txt': 'x\n' });
    await git(wtPath, 'add', 'tmp.txt');
    await fs.rm(path.join(wtPath, 'tmp.txt'));

    expect(await wt.captureCandidate(base, branch, FALLBACK)).toEqual({ kind: 'no_change' });
    expect(await headOf(wtPath)).toEqual({ branch, commit: base });
  });

  it('captures an orphan branch with every file deleted as a candidate deleting them', async () => {
    const { wt, wtPath, branch, base } = await setupExperiment({ 'a.txt': 'a\n', 'b.txt': 'b\n' });
    await git(wtPath, 'checkout', '-q', '--orphan', 'scratch');
    await git(wtPath, 'rm', '-q', '-r', '-f', '.');

    const c = candidateOf(await wt.captureCandidate(base, branch, FALLBACK));

    expect(c).toMatchObject({ description: 'autoresearch: iteration 3', agentCommits: 0, autoCommitted: true });
    expect(c.changedPaths.sort()).toEqual(['a.txt', 'b.txt']);
    expect(await parentsOf(wtPath, c.commit)).toEqual([base]);
    expect(await headOf(wtPath)).toEqual({ branch, commit: c.commit });
  });

  it('lists both sides of a rename and paths with spaces or newlines exactly', async () => {
    const { wt, wtPath, branch, base } = await setupExperiment({ 'old name.txt': 'same content\n'.repeat(20) });
    await git(wtPath, 'mv', 'old name.txt', 'new name.txt');
    await writeFiles(wtPath, { 'odd\nname "q".txt': 'x\n' });

    const c = candidateOf(await wt.captureCandidate(base, branch, FALLBACK));

    expect(c.changedPaths.sort()).toEqual(['new name.txt', 'odd\nname "q".txt', 'old name.txt']);
  });

  it('does not run the user hooks for its own commit', async () => {
    const { repo, wt, wtPath, branch, base } = await setupExperiment({ 'a.txt': 'a\n' });
    const hooks = path.join(repo, '.git', 'hooks');
    const marker = path.join(repo, 'hook-ran');
    for (const hook of ['pre-commit', 'commit-msg', 'post-commit', 'prepare-commit-msg']) {
      await fs.writeFile(path.join(hooks, hook), `#!/bin/sh\necho ${hook} >> '${marker}'\nexit 1\n`, { mode: 0o755 });
    }
    await writeFiles(wtPath, { 'a.txt': 'changed\n' });

    const c = candidateOf(await wt.captureCandidate(base, branch, FALLBACK));

    expect(c.autoCommitted).toBe(true);
    await expect(fs.access(marker)).rejects.toThrow();
    // The hooks are live: the agent's own commits would run them.
    await writeFiles(wtPath, { 'a.txt': 'again\n' });
    await expect(git(wtPath, 'commit', '-qam', 'agent')).rejects.toThrow();
    expect(await fs.readFile(marker, 'utf8')).toBe('pre-commit\n');
  });

  it('captures over a rebase the agent left half done, and clears its state', async () => {
    const { wt, wtPath, branch, base } = await setupExperiment({ 'a.txt': 'a\n' });
    await git(wtPath, 'checkout', '-q', '-b', 'other');
    await writeFiles(wtPath, { 'a.txt': 'other\n' });
    await git(wtPath, 'commit', '-qam', 'Other');
    await git(wtPath, 'checkout', '-q', branch);
    await writeFiles(wtPath, { 'a.txt': 'mine\n' });
    await git(wtPath, 'commit', '-qam', 'Mine');
    await expect(git(wtPath, 'rebase', 'other')).rejects.toThrow(); // conflict: rebase stops

    const c = candidateOf(await wt.captureCandidate(base, branch, FALLBACK));

    expect(await parentsOf(wtPath, c.commit)).toEqual([base]);
    expect(c.changedPaths).toEqual(['a.txt']);
    expect(await headOf(wtPath)).toEqual({ branch, commit: c.commit });
    const status = await git(wtPath, 'status');
    expect(status).not.toMatch(/rebase/i);
  });
});
