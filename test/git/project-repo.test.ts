import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AutoresearchError } from '../../src/core/errors.js';
import { branchName } from '../../src/experiment/paths.js';
import { worktreePath } from '../../src/experiment/worktree-location.js';
import { openProject } from '../../src/git/project-repo.js';
import { git, makeRepo, makeTempDir, writeFiles } from '../helpers/git-repo.js';
import { headOf } from './fixture.js';

async function openError(dir: string): Promise<AutoresearchError> {
  const error = await openProject(dir).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AutoresearchError);
  return error as AutoresearchError;
}

async function worktreeCount(repo: string): Promise<number> {
  return (await git(repo, 'worktree', 'list', '--porcelain')).split('\n').filter((l) => l.startsWith('worktree ')).length;
}

describe('openProject', () => {
  it('refuses a plain directory with NOT_A_GIT_REPO and the fix', async () => {
    const dir = await makeTempDir();
    const error = await openError(dir);
    expect(error.code).toBe('NOT_A_GIT_REPO');
    expect(error.message).toContain(`${dir} is not a git repository: expected a git work tree`);
    expect(error.message).toContain('git init && git add -A && git commit -m initial');
    expect(error.message).toMatch(/not a git repository \(or any/); // git's own words, for the details
  });

  it('refuses a directory that does not exist with NOT_A_GIT_REPO', async () => {
    const dir = path.join(await makeTempDir(), 'missing');
    const error = await openError(dir);
    expect(error.code).toBe('NOT_A_GIT_REPO');
    expect(error.message).toContain(`${dir} is not a git repository`);
  });

  it('refuses a repository without commits with NO_COMMIT', async () => {
    const dir = await makeTempDir();
    await git(dir, 'init', '-q', '-b', 'main');
    const error = await openError(dir);
    expect(error.code).toBe('NO_COMMIT');
    expect(error.message).toBe(
      `${dir} has no commit yet: the experiment branch is created from HEAD; commit first (git add -A && git commit -m initial)`,
    );
  });

  it('finds the top level and the shared git dir from a subdirectory and from a linked worktree', async () => {
    const repo = await makeRepo({ 'src/a.txt': 'a\n' });
    const fromSub = await openProject(path.join(repo, 'src'));
    expect(fromSub.root).toBe(repo);
    expect(fromSub.gitCommonDir).toBe(path.join(repo, '.git'));
    expect(await fromSub.head()).toBe(await git(repo, 'rev-parse', 'HEAD'));

    const linked = path.join(await makeTempDir(), 'linked');
    await git(repo, 'worktree', 'add', '-q', '-b', 'user-feature', linked);
    const fromLinked = await openProject(linked);
    expect(fromLinked.root).toBe(linked);
    expect(fromLinked.gitCommonDir).toBe(path.join(repo, '.git'));
  });

  it('resolves revisions to full hashes, and anything else to null', async () => {
    const repo = await makeRepo();
    const project = await openProject(repo);
    const head = await git(repo, 'rev-parse', 'HEAD');
    expect(await project.resolveCommit('main')).toBe(head);
    expect(await project.resolveCommit(head.slice(0, 8))).toBe(head);
    expect(await project.resolveCommit('no-such-branch')).toBeNull();
    expect(await project.resolveCommit('--all')).toBeNull();
    expect(await project.resolveCommit(`${head}^`)).toBeNull(); // the root commit has no parent
  });
});

describe('ensureWorktree', () => {
  it('creates the worktree and branch at startPoint once, then reports it exists', async () => {
    const repo = await makeRepo();
    const project = await openProject(repo);
    const wtPath = worktreePath(project, 'eng/x');
    const branch = branchName('eng/x');
    const base = await project.head();

    expect(await project.ensureWorktree({ path: wtPath, branch, startPoint: base })).toEqual({ created: true });
    expect(await headOf(wtPath)).toEqual({ branch, commit: base });
    expect(await project.ensureWorktree({ path: wtPath, branch, startPoint: base })).toEqual({ created: false });
    expect(await worktreeCount(repo)).toBe(2);
  });

  it('re-creates a worktree whose directory was deleted, keeping the branch where it was', async () => {
    const repo = await makeRepo({ 'a.txt': 'a\n' });
    const project = await openProject(repo);
    const wtPath = worktreePath(project, 'eng/x');
    const branch = branchName('eng/x');
    const base = await project.head();
    await project.ensureWorktree({ path: wtPath, branch, startPoint: base });
    await writeFiles(wtPath, { 'a.txt': 'kept\n' });
    await git(wtPath, 'commit', '-qam', 'kept');
    const kept = await git(wtPath, 'rev-parse', 'HEAD');
    await fs.rm(wtPath, { recursive: true, force: true });

    expect(await project.ensureWorktree({ path: wtPath, branch, startPoint: base })).toEqual({ created: true });

    expect(await headOf(wtPath)).toEqual({ branch, commit: kept });
    expect(await fs.readFile(path.join(wtPath, 'a.txt'), 'utf8')).toBe('kept\n');
    expect(await worktreeCount(repo)).toBe(2);
    expect(await git(repo, 'worktree', 'list', '--porcelain')).not.toMatch(/prunable/);
  });

  it('reuses an existing branch as it is, whatever the startPoint', async () => {
    const repo = await makeRepo({ 'a.txt': 'a\n' });
    const first = await git(repo, 'rev-parse', 'HEAD');
    const branch = branchName('eng/x');
    await git(repo, 'branch', branch);
    await writeFiles(repo, { 'a.txt': 'later\n' });
    await git(repo, 'commit', '-qam', 'later');
    const project = await openProject(repo);
    const wtPath = worktreePath(project, 'eng/x');

    expect(await project.ensureWorktree({ path: wtPath, branch, startPoint: await project.head() })).toEqual({ created: true });

    expect(await headOf(wtPath)).toEqual({ branch, commit: first });
  });

  it('keeps a worktree an interrupted agent left detached, and recreates a missing branch', async () => {
    const repo = await makeRepo();
    const project = await openProject(repo);
    const wtPath = worktreePath(project, 'eng/x');
    const branch = branchName('eng/x');
    const base = await project.head();
    await project.ensureWorktree({ path: wtPath, branch, startPoint: base });
    await git(wtPath, 'checkout', '-q', '--detach');
    await git(repo, 'branch', '-D', branch);

    expect(await project.ensureWorktree({ path: wtPath, branch, startPoint: base })).toEqual({ created: false });
    expect(await git(repo, 'rev-parse', `refs/heads/${branch}`)).toBe(base);
  });

  it('refuses a branch checked out in the user checkout, with GIT_FAILED', async () => {
    const repo = await makeRepo();
    const project = await openProject(repo);
    const branch = branchName('eng/x');
    await git(repo, 'checkout', '-q', '-b', branch);

    const attempt = project.ensureWorktree({ path: worktreePath(project, 'eng/x'), branch, startPoint: await project.head() });

    await expect(attempt).rejects.toMatchObject({ code: 'GIT_FAILED', message: expect.stringContaining(`is already checked out at '${repo}'`) });
    expect(await headOf(repo)).toMatchObject({ branch });
  });

  it('refuses, without deleting anything, a registered worktree whose .git file was deleted', async () => {
    const repo = await makeRepo({ 'a.txt': 'a\n' });
    const project = await openProject(repo);
    const wtPath = worktreePath(project, 'eng/x');
    const opts = { path: wtPath, branch: branchName('eng/x'), startPoint: await project.head() };
    await project.ensureWorktree(opts);
    await fs.rm(path.join(wtPath, '.git'));

    await expect(project.ensureWorktree(opts)).rejects.toMatchObject({
      code: 'GIT_FAILED',
      message: `${wtPath} is registered as a worktree of ${repo} but has no .git file (deleted?): expected an intact worktree; delete that directory to have it re-created from branch autoresearch/eng/x`,
    });
    expect(await fs.readFile(path.join(wtPath, 'a.txt'), 'utf8')).toBe('a\n');

    await fs.rm(wtPath, { recursive: true });
    expect(await project.ensureWorktree(opts)).toEqual({ created: true });
  });

  it('refuses a path that holds something else', async () => {
    const repo = await makeRepo();
    const project = await openProject(repo);
    const wtPath = worktreePath(project, 'eng/x');
    await writeFiles(wtPath, { 'precious.txt': 'not ours\n' });

    await expect(project.ensureWorktree({ path: wtPath, branch: branchName('eng/x'), startPoint: await project.head() })).rejects.toMatchObject({
      code: 'GIT_FAILED',
      message: expect.stringContaining('already exists'),
    });
    expect(await fs.readFile(path.join(wtPath, 'precious.txt'), 'utf8')).toBe('not ours\n');
  });
});
