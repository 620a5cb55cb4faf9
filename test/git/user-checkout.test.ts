/** SPEC §2: the user's own checkout, its branch and its uncommitted work are never touched. */
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { branchName } from '../../src/experiment/paths.js';
import { worktreePath } from '../../src/experiment/worktree-location.js';
import { openProject } from '../../src/git/project-repo.js';
import { git, makeRepo, snapshotTree, writeFiles } from '../helpers/git-repo.js';

async function userState(repo: string) {
  return {
    files: await snapshotTree(repo),
    status: await git(repo, 'status', '--porcelain=v1', '--untracked-files=all'),
    branch: await git(repo, 'symbolic-ref', 'HEAD'),
    head: await git(repo, 'rev-parse', 'HEAD'),
    staged: await git(repo, 'diff', '--cached'),
    unstaged: await git(repo, 'diff'),
    index: await git(repo, 'ls-files', '--stage'),
    indexBytes: (await fs.readFile(path.join(repo, '.git', 'index'))).toString('base64'),
  };
}

describe("the user's checkout", () => {
  it('is left byte-for-byte alone by worktree creation and several capture/restore cycles', async () => {
    const repo = await makeRepo({ 'a.txt': 'a\n', 'b.txt': 'b\n', 'c.txt': 'c\n' });
    await git(repo, 'checkout', '-q', '-b', 'user-work');
    await writeFiles(repo, { 'a.txt': 'user edit, unstaged\n', 'b.txt': 'user edit, staged\n', 'mine.txt': 'untracked\n' });
    await git(repo, 'add', 'b.txt');
    const before = await userState(repo);
    expect(before.status).toBe('M a.txt\nM  b.txt\n?? mine.txt'); // (git() trims the leading space of " M")

    const project = await openProject(repo);
    const wtPath = worktreePath(project, 'eng/x');
    const branch = branchName('eng/x');
    let kept = await project.head();
    await project.ensureWorktree({ path: wtPath, branch, startPoint: kept });
    const wt = project.worktree(wtPath);
    for (let i = 1; i <= 4; i++) {
      await writeFiles(wtPath, { 'a.txt': `agent ${i}\n`, [`junk-${i}.txt`]: 'junk\n' });
      if (i % 2 === 0) await git(wtPath, 'commit', '-qam', `agent commit ${i}`);
      const capture = await wt.captureCandidate(kept, branch, { fallbackDescription: `iteration ${i}` });
      if (capture.kind !== 'candidate') throw new Error('expected a candidate');
      if (i === 3) {
        kept = capture.commit; // keep
      } else {
        await wt.saveRef(`refs/autoresearch/eng/x/${i}`, capture.commit);
        await wt.restore(kept, branch);
      }
    }
    await project.ensureWorktree({ path: wtPath, branch, startPoint: kept });

    expect(await userState(repo)).toEqual(before);
  });

  it('shows nothing new in `git status`: the worktree lives outside the project and outside any .git directory', async () => {
    const repo = await makeRepo({ 'a.txt': 'a\n' });
    const project = await openProject(repo);
    const wtPath = worktreePath(project, 'eng/x');
    expect(wtPath.split(path.sep)).not.toContain('.git');
    expect(wtPath.startsWith(repo + path.sep)).toBe(false);
    const branch = branchName('eng/x');
    const base = await project.head();

    await project.ensureWorktree({ path: wtPath, branch, startPoint: base });
    await writeFiles(wtPath, { 'a.txt': 'candidate\n', 'new.txt': 'new\n' });
    await project.worktree(wtPath).captureCandidate(base, branch, { fallbackDescription: 'x' });
    await writeFiles(wtPath, { 'eval.log': 'untracked output\n' });

    expect(await git(repo, 'status', '--porcelain=v1', '--untracked-files=all', '--ignored')).toBe('');
    expect(await git(wtPath, 'rev-parse', '--show-toplevel')).toBe(wtPath);
  });
});
