/**
 * Adversarial: files/config the agent leaves behind that make OUR git steps (captureCandidate,
 * restore, saveRef) write the user's checkout, index, HEAD or branches.
 * Each test asserts the SAFE outcome: a failing test is a successful attack.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { git, writeFiles, snapshotTree } from '../helpers/git-repo.js';
import { setupExperiment } from './fixture.js';

const FALLBACK = { fallbackDescription: 'autoresearch: iteration 1' };

async function userState(repo: string) {
  const gitDir = await git(repo, 'rev-parse', '--absolute-git-dir');
  return {
    head: await fs.readFile(path.join(gitDir, 'HEAD'), 'utf8'),
    main: await git(repo, 'rev-parse', 'refs/heads/main'),
    index: (await fs.readFile(path.join(gitDir, 'index'))).toString('base64'),
    status: await git(repo, 'status', '--porcelain', '--untracked-files=all'),
    tree: [...(await snapshotTree(repo)).entries()],
  };
}

async function adminOf(wtPath: string): Promise<string> {
  return git(wtPath, 'rev-parse', '--absolute-git-dir');
}

/** The agent's move: a file of the worktree's admin dir (`HEAD`, `index`, `logs/HEAD`) replaced by a symlink to `target`. */
async function linkAdminFile(wtPath: string, name: string, target: string): Promise<void> {
  const file = path.join(await adminOf(wtPath), name);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.rm(file, { force: true });
  await fs.symlink(target, file);
}

describe('attacks through what the agent leaves behind', () => {
  it('A1: experiment branch made a symref to main (`git symbolic-ref refs/heads/<exp> refs/heads/main`), then capture', async () => {
    const { repo, wt, wtPath, branch, base } = await setupExperiment({ 'a.txt': 'a\n' });
    const before = await userState(repo);
    // the agent's own command, in the worktree: a symref update, allowed to the experiment branch anyway
    await git(wtPath, 'symbolic-ref', `refs/heads/${branch}`, 'refs/heads/main');
    await writeFiles(wtPath, { 'a.txt': 'agent\n' });
    await wt.captureCandidate(base, branch, FALLBACK).catch(() => null); // refused or not: what counts is the user's side
    const after = await userState(repo);
    expect(after.main).toBe(before.main);
    expect(after.status).toBe(before.status);
    // The restore rebuilds the worktree: the experiment branch a plain ref again, at base.
    await wt.restore(base, branch);
    expect(await git(repo, 'symbolic-ref', '-q', `refs/heads/${branch}`).catch(() => 'not a symbolic ref')).toBe('not a symbolic ref');
    expect(await git(repo, 'rev-parse', `refs/heads/${branch}`)).toBe(base);
    expect((await userState(repo)).main).toBe(before.main);
  });

  it('A2: experiment branch a symref to main, then restore(base) after main was advanced by the user', async () => {
    const { repo, wt, wtPath, branch, base } = await setupExperiment({ 'a.txt': 'a\n' });
    await writeFiles(repo, { 'u.txt': 'user work\n' });
    await git(repo, 'add', '-A');
    await git(repo, 'commit', '-q', '-m', 'user commit');
    const before = await userState(repo);
    await git(wtPath, 'symbolic-ref', `refs/heads/${branch}`, 'refs/heads/main');
    await wt.restore(base, branch).catch(() => undefined);
    const after = await userState(repo);
    expect(after.main).toBe(before.main);
  });

  it('A3: admin HEAD replaced by a symlink whose target is `refs/heads/main` (a symlink symref), then capture', async () => {
    const { repo, wt, wtPath, branch, base } = await setupExperiment({ 'a.txt': 'a\n' });
    const before = await userState(repo);
    await linkAdminFile(wtPath, 'HEAD', 'refs/heads/main');
    await writeFiles(wtPath, { 'a.txt': 'agent\n' });
    await wt.captureCandidate(base, branch, FALLBACK).catch(() => null); // refused or not: what counts is the user's side
    const after = await userState(repo);
    expect(after.main).toBe(before.main);
  });

  it('A3b: admin HEAD symlink `refs/heads/main`, then restore', async () => {
    const { repo, wt, wtPath, branch, base } = await setupExperiment({ 'a.txt': 'a\n' });
    await writeFiles(wtPath, { 'a.txt': 'cand\n' });
    const cap = await wt.captureCandidate(base, branch, FALLBACK);
    const before = await userState(repo);
    await linkAdminFile(wtPath, 'HEAD', 'refs/heads/main');
    await wt.restore(cap.kind === 'candidate' ? cap.commit : base, branch).catch(() => undefined);
    const after = await userState(repo);
    expect(after.main).toBe(before.main);
  });

  it('A4: admin index replaced by a symlink to the user\'s .git/index, then capture and restore', async () => {
    const { repo, wt, wtPath, branch, base } = await setupExperiment({ 'a.txt': 'a\n' });
    const before = await userState(repo);
    const userGitDir = await git(repo, 'rev-parse', '--absolute-git-dir');
    await linkAdminFile(wtPath, 'index', path.join(userGitDir, 'index'));
    await writeFiles(wtPath, { 'a.txt': 'agent\n', 'new.txt': 'new file\n' });
    await wt.captureCandidate(base, branch, FALLBACK).catch(() => null); // refused or not: what counts is the user's side
    const mid = await userState(repo);
    await wt.restore(base, branch).catch(() => undefined);
    const after = await userState(repo);
    expect(mid.index).toBe(before.index);
    expect(mid.status).toBe(before.status);
    expect(after.index).toBe(before.index);
    expect(after.status).toBe(before.status);
  });

  it('A4b: admin index symlink to the user\'s index, restore only (the agent leaves nothing else)', async () => {
    const { repo, wt, wtPath, branch, base } = await setupExperiment({ 'a.txt': 'a\n' });
    await writeFiles(wtPath, { 'a.txt': 'cand\n', 'b.txt': 'b\n' });
    const cap = await wt.captureCandidate(base, branch, FALLBACK);
    await wt.restore(cap.kind === 'candidate' ? cap.commit : base, branch);
    const before = await userState(repo);
    const userGitDir = await git(repo, 'rev-parse', '--absolute-git-dir');
    await linkAdminFile(wtPath, 'index', path.join(userGitDir, 'index'));
    await wt.restore(cap.kind === 'candidate' ? cap.commit : base, branch).catch(() => undefined);
    const after = await userState(repo);
    expect(after.index).toBe(before.index);
    expect(after.status).toBe(before.status);
  });

  it('A5: loose ref file refs/heads/<exp> replaced by a symlink to the user\'s refs/heads/main file', async () => {
    const { repo, project, wt, wtPath, branch, base } = await setupExperiment({ 'a.txt': 'a\n' });
    const before = await userState(repo);
    const common = project.gitCommonDir;
    const exp = path.join(common, 'refs', 'heads', branch);
    await fs.rm(exp, { force: true });
    await fs.symlink(path.join(common, 'refs', 'heads', 'main'), exp);
    await writeFiles(wtPath, { 'a.txt': 'agent\n' });
    await wt.captureCandidate(base, branch, FALLBACK).catch(() => null); // refused or not: what counts is the user's side
    const after = await userState(repo);
    expect(after.main).toBe(before.main);
  });

  it('A6: admin HEAD a symlink to the user\'s .git/HEAD (absolute): leaveForeignBranch / capture', async () => {
    const { repo, wt, wtPath, branch, base } = await setupExperiment({ 'a.txt': 'a\n' });
    const before = await userState(repo);
    const userGitDir = await git(repo, 'rev-parse', '--absolute-git-dir');
    await linkAdminFile(wtPath, 'HEAD', path.join(userGitDir, 'HEAD'));
    await writeFiles(wtPath, { 'a.txt': 'agent\n' });
    await wt.captureCandidate(base, branch, FALLBACK).catch(() => null); // refused or not: what counts is the user's side
    const after = await userState(repo);
    expect(after.head).toBe(before.head);
    expect(after.main).toBe(before.main);
  });

  it('A7: logs/HEAD of the worktree a symlink to the user\'s logs/HEAD (reflog written through)', async () => {
    const { repo, wt, wtPath, branch, base } = await setupExperiment({ 'a.txt': 'a\n' });
    const userGitDir = await git(repo, 'rev-parse', '--absolute-git-dir');
    const userLog = path.join(userGitDir, 'logs', 'HEAD');
    const beforeLog = await fs.readFile(userLog, 'utf8');
    await linkAdminFile(wtPath, 'logs/HEAD', userLog);
    await writeFiles(wtPath, { 'a.txt': 'agent\n' });
    await wt.captureCandidate(base, branch, FALLBACK).catch(() => null);
    await wt.restore(base, branch).catch(() => null);
    const afterLog = await fs.readFile(userLog, 'utf8');
    expect(afterLog).toBe(beforeLog);
  });

  it('A8: a tracked directory replaced by a symlink into the user\'s checkout, then capture + restore', async () => {
    const { repo, wt, wtPath, branch, base } = await setupExperiment({ 'src/a.txt': 'a\n', 'src/b.txt': 'b\n' });
    await writeFiles(repo, { 'src/user-untracked.txt': 'user only\n' });
    const before = await userState(repo);
    await fs.rm(path.join(wtPath, 'src'), { recursive: true });
    await fs.symlink(path.join(repo, 'src'), path.join(wtPath, 'src'));
    await wt.captureCandidate(base, branch, FALLBACK).catch(() => null); // refused or not: what counts is the user's side
    // and again, the symlink left for restore only
    await fs.rm(path.join(wtPath, 'src'), { recursive: true, force: true });
    await fs.symlink(path.join(repo, 'src'), path.join(wtPath, 'src'));
    await wt.restore(base, branch).catch(() => undefined);
    const after = await userState(repo);
    expect(after.tree).toEqual(before.tree);
    expect(after.index).toBe(before.index);
  });

  it('A9: core.bare=true and core.worktree in the shared config and config.worktree', async () => {
    const { repo, wt, wtPath, branch, base } = await setupExperiment({ 'a.txt': 'a\n' });
    await writeFiles(repo, { 'user-untracked.txt': 'user only\n', 'a.txt': 'user edit\n' });
    const before = await userState(repo);
    await git(wtPath, 'config', 'extensions.worktreeConfig', 'true');
    await git(wtPath, 'config', '--worktree', 'core.worktree', repo);
    await git(wtPath, 'config', '--worktree', 'core.bare', 'true');
    await writeFiles(wtPath, { 'a.txt': 'agent\n', 'junk.txt': 'x\n' });
    await wt.captureCandidate(base, branch, FALLBACK).catch(() => null); // refused or not: what counts is the user's side
    await writeFiles(wtPath, { 'junk2.txt': 'x\n' });
    await wt.restore(base, branch).catch(() => undefined);
    const after = await userState(repo);
    expect(after.tree).toEqual(before.tree);
    expect(after.index).toBe(before.index);
  });
});
