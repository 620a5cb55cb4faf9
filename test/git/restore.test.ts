import { execFileSync } from 'node:child_process';
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { candidateRef } from '../../src/experiment/paths.js';
import { GitCommandError } from '../../src/git/git-client.js';
import { git, writeFiles } from '../helpers/git-repo.js';
import { headOf, porcelain, setupExperiment } from './fixture.js';

const FALLBACK = { fallbackDescription: 'autoresearch: iteration 1' };

/** The git processes running now: their arguments and working directory (from /proc). */
function gitProcesses(): { args: string[]; cwd: string | null }[] {
  const found: { args: string[]; cwd: string | null }[] = [];
  for (const pid of fsSync.readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const args = fsSync.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (path.basename(args[0] ?? '') !== 'git') continue;
      let cwd: string | null = null;
      try {
        cwd = fsSync.readlinkSync(`/proc/${pid}/cwd`);
      } catch {
        // exited meanwhile
      }
      found.push({ args, cwd });
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

/** Polls `condition` (state, not time) for up to 30 s. */
async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached in 30 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

describe('restore', () => {
  it('removes the candidate and untracked junk but keeps ignored files', async () => {
    const { wt, wtPath, branch, base } = await setupExperiment({ 'a.txt': 'a\n', '.gitignore': 'node_modules/\n' });
    await writeFiles(wtPath, { 'node_modules/x/index.js': 'dep\n' }); // e.g. made by setup_cmd
    await writeFiles(wtPath, { 'a.txt': 'candidate\n', 'junk/scratch.txt': 'agent junk\n' });
    const capture = await wt.captureCandidate(base, branch, FALLBACK);
    expect(capture.kind === 'candidate' && capture.changedPaths.sort()).toEqual(['a.txt', 'junk/scratch.txt']);
    await writeFiles(wtPath, { 'eval-output.log': 'made by the evaluation\n', 'a.txt': 'eval rewrote a tracked file\n' });

    await wt.restore(base, branch);

    expect(await headOf(wtPath)).toEqual({ branch, commit: base });
    expect(await porcelain(wtPath)).toBe('');
    expect(await fs.readFile(path.join(wtPath, 'a.txt'), 'utf8')).toBe('a\n');
    expect(await exists(path.join(wtPath, 'junk'))).toBe(false);
    expect(await exists(path.join(wtPath, 'eval-output.log'))).toBe(false);
    expect(await fs.readFile(path.join(wtPath, 'node_modules/x/index.js'), 'utf8')).toBe('dep\n');
  });

  it('puts an agent that detached HEAD or switched branch back on the branch', async () => {
    const { wt, wtPath, branch, base } = await setupExperiment({ 'a.txt': 'a\n' });
    await git(wtPath, 'checkout', '-q', '--detach');
    await writeFiles(wtPath, { 'a.txt': 'x\n' });
    await git(wtPath, 'commit', '-qam', 'detached');
    await wt.restore(base, branch);
    expect(await headOf(wtPath)).toEqual({ branch, commit: base });

    await git(wtPath, 'checkout', '-q', '-b', 'side');
    await writeFiles(wtPath, { 'a.txt': 'y\n', 'new.txt': 'n\n' });
    await wt.restore(base, branch);
    expect(await headOf(wtPath)).toEqual({ branch, commit: base });
    expect(await porcelain(wtPath)).toBe('');
  });

  it('moves the branch back from a kept-then-rejected commit to the recorded commit (not HEAD~1)', async () => {
    const { wt, wtPath, branch, base } = await setupExperiment({ 'a.txt': 'a\n' });
    await writeFiles(wtPath, { 'a.txt': 'kept\n' });
    const kept = await wt.captureCandidate(base, branch, FALLBACK);
    if (kept.kind !== 'candidate') throw new Error('expected a candidate');
    await writeFiles(wtPath, { 'a.txt': 'one\n' });
    await git(wtPath, 'commit', '-qam', 'one');
    await writeFiles(wtPath, { 'a.txt': 'two\n' });
    await git(wtPath, 'commit', '-qam', 'two');

    await wt.restore(kept.commit, branch);

    expect(await headOf(wtPath)).toEqual({ branch, commit: kept.commit });
    expect(await fs.readFile(path.join(wtPath, 'a.txt'), 'utf8')).toBe('kept\n');
  });

  it('clears a merge or rebase the agent left in conflict', async () => {
    const { wt, wtPath, branch, base } = await setupExperiment({ 'a.txt': 'a\n' });
    await git(wtPath, 'checkout', '-q', '-b', 'other');
    await writeFiles(wtPath, { 'a.txt': 'other\n' });
    await git(wtPath, 'commit', '-qam', 'Other');
    await git(wtPath, 'checkout', '-q', branch);
    await writeFiles(wtPath, { 'a.txt': 'mine\n' });
    await git(wtPath, 'commit', '-qam', 'Mine');
    await expect(git(wtPath, 'merge', 'other')).rejects.toThrow();
    await wt.restore(base, branch);
    expect(await git(wtPath, 'status')).not.toMatch(/merg/i);

    await writeFiles(wtPath, { 'a.txt': 'mine again\n' });
    await git(wtPath, 'commit', '-qam', 'Mine again');
    await expect(git(wtPath, 'rebase', 'other')).rejects.toThrow();
    await wt.restore(base, branch);

    expect(await git(wtPath, 'status')).not.toMatch(/rebase/i);
    expect(await headOf(wtPath)).toEqual({ branch, commit: base });
    // A leftover rebase would let the agent's `git rebase --abort` move the branch.
    await expect(git(wtPath, 'rebase', '--abort')).rejects.toThrow(/no rebase in progress/i);
    expect(await headOf(wtPath)).toEqual({ branch, commit: base });
  });

  it('fails with GIT_FAILED naming a stale index.lock, and leaves the lock alone', async () => {
    const { wt, wtPath, branch, base } = await setupExperiment({ 'a.txt': 'a\n' });
    await writeFiles(wtPath, { 'a.txt': 'dirty\n' });
    const gitDir = await git(wtPath, 'rev-parse', '--absolute-git-dir');
    const lock = path.join(gitDir, 'index.lock');
    await fs.writeFile(lock, '');

    const error = await wt.restore(base, branch).then(
      () => undefined,
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(GitCommandError);
    const failure = error as GitCommandError;
    expect(failure.code).toBe('GIT_FAILED');
    expect(failure.lockFile).toBe(lock);
    expect(failure.message).toContain(lock);
    expect(failure.message).toContain(`failed in ${wtPath}`);
    expect(failure.message).toMatch(/git checkout --force/);
    expect(await exists(lock)).toBe(true);
  });

  it('never runs in a worktree whose .git file was deleted (git would reach the main repository): capture refuses, restore rebuilds it', async () => {
    const { repo, wt, wtPath, branch, base } = await setupExperiment({ 'a.txt': 'a\n' });
    await writeFiles(repo, { 'a.txt': 'user work\n' });
    await fs.rm(path.join(wtPath, '.git'));

    await expect(wt.captureCandidate(base, branch, FALLBACK)).rejects.toMatchObject({
      code: 'GIT_FAILED',
      message: `worktree_tampered: ${path.join(wtPath, '.git')} is missing (in ${wtPath}); no git step was run there`,
    });
    expect(await fs.readFile(path.join(repo, 'a.txt'), 'utf8')).toBe('user work\n');
    await wt.restore(base, branch);
    expect((await fs.lstat(path.join(wtPath, '.git'))).isFile()).toBe(true);
    expect(await fs.readFile(path.join(wtPath, 'a.txt'), 'utf8')).toBe('a\n');
    expect(await fs.readFile(path.join(repo, 'a.txt'), 'utf8')).toBe('user work\n');
  });

  it('keeps a rejected candidate reachable under its saved ref through gc', async () => {
    const { wt, wtPath, branch, base } = await setupExperiment({ 'a.txt': 'a\n' });
    await writeFiles(wtPath, { 'a.txt': 'rejected\n' });
    const saved = await wt.captureCandidate(base, branch, FALLBACK);
    if (saved.kind !== 'candidate') throw new Error('expected a candidate');
    await wt.saveRef(candidateRef('eng/x', 1), saved.commit);
    await wt.restore(base, branch);
    await writeFiles(wtPath, { 'a.txt': 'also rejected, not saved\n' });
    const unsaved = await wt.captureCandidate(base, branch, FALLBACK);
    if (unsaved.kind !== 'candidate') throw new Error('expected a candidate');
    await wt.restore(base, branch);

    // Reflogs would keep both alive; only the saved ref should.
    await git(wtPath, 'reflog', 'expire', '--expire=now', '--all');
    await git(wtPath, 'gc', '-q', '--prune=now');

    expect(await git(wtPath, 'rev-parse', candidateRef('eng/x', 1))).toBe(saved.commit);
    await expect(git(wtPath, 'cat-file', '-e', saved.commit)).resolves.toBe('');
    await expect(git(wtPath, 'cat-file', '-e', unsaved.commit)).rejects.toThrow();
  });

  it('writes keepReachable\'s ref along with the checkout, before it returns (also when the clean goes on later)', async () => {
    for (const cleanLater of [false, true]) {
      const { wt, wtPath, branch, base } = await setupExperiment({ 'a.txt': 'a\n' });
      await writeFiles(wtPath, { 'a.txt': 'rejected\n' });
      const rejected = await wt.captureCandidate(base, branch, FALLBACK);
      if (rejected.kind !== 'candidate') throw new Error('expected a candidate');
      await writeFiles(wtPath, { 'eval-output.log': 'made by the evaluation\n' });

      await wt.restore(base, branch, { cleanLater, keepReachable: { ref: candidateRef('eng/x', 3), commit: rejected.commit } });

      expect(await git(wtPath, 'rev-parse', candidateRef('eng/x', 3))).toBe(rejected.commit);
      expect(await headOf(wtPath)).toEqual({ branch, commit: base });
      await wt.settled();
      expect(await porcelain(wtPath)).toBe('');
    }
  });

  it('writes keepReachable\'s ref even when the checkout fails, and throws the checkout\'s error', async () => {
    const { wt, wtPath, branch, base } = await setupExperiment({ 'a.txt': 'a\n' });
    await writeFiles(wtPath, { 'a.txt': 'rejected\n' });
    const rejected = await wt.captureCandidate(base, branch, FALLBACK);
    if (rejected.kind !== 'candidate') throw new Error('expected a candidate');
    const lock = path.join(await git(wtPath, 'rev-parse', '--absolute-git-dir'), 'index.lock');
    await fs.writeFile(lock, '');

    const error = await wt.restore(base, branch, { keepReachable: { ref: candidateRef('eng/x', 4), commit: rejected.commit } }).then(
      () => undefined,
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(GitCommandError);
    expect((error as GitCommandError).lockFile).toBe(lock);
    expect(await git(wtPath, 'rev-parse', candidateRef('eng/x', 4))).toBe(rejected.commit);
  });

  it('keepReachable: a failed clean is thrown only once the ref step has ended too (the ref is there when restore settles)', async () => {
    // Another git holds the ref's lock for now: update-ref waits for it (as long as the lock
    // timeout below allows), so the ref step ends after the failed clean.
    const saved = process.env.GIT_CONFIG_GLOBAL;
    const config = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'restore-lock-')), 'gitconfig');
    await fs.writeFile(config, '[core]\n\tfilesRefLockTimeout = 60000\n');
    process.env.GIT_CONFIG_GLOBAL = config;
    const stuck: string[] = [];
    try {
      const { project, wt, wtPath, branch, base } = await setupExperiment({ 'a.txt': 'a\n' });
      await writeFiles(wtPath, { 'a.txt': 'rejected\n' });
      const rejected = await wt.captureCandidate(base, branch, FALLBACK);
      if (rejected.kind !== 'candidate') throw new Error('expected a candidate');
      // The evaluation left an untracked file that `git clean` cannot remove (even as root).
      await writeFiles(wtPath, { 'junk/undeletable': 'x\n' });
      const file = path.join(wtPath, 'junk/undeletable');
      try {
        execFileSync('chattr', ['+i', file], { stdio: 'ignore' });
        stuck.push(file);
      } catch {
        console.warn('SKIPPED: chattr +i is not available on this filesystem: no way to make `git clean` fail as root');
        return;
      }
      const ref = candidateRef('eng/x', 5);
      const lock = path.join(project.gitCommonDir, `${ref}.lock`);
      await fs.mkdir(path.dirname(lock), { recursive: true });
      await fs.writeFile(lock, '');

      let settled = false;
      const restoring = wt.restore(base, branch, { keepReachable: { ref, commit: rejected.commit } }).then(
        () => null,
        (e: unknown) => e,
      );
      void restoring.then(() => (settled = true));
      // Once update-ref waits for the lock and the clean (git in the worktree) is over, the lock goes.
      await until(() => gitProcesses().some((p) => p.args.includes('update-ref')) && !gitProcesses().some((p) => p.cwd === wtPath));
      const settledWhileLocked = settled;
      await fs.rm(lock);
      const error = await restoring;

      expect(settledWhileLocked).toBe(false);
      expect(String(error)).toMatch(/clean/);
      expect(await git(wtPath, 'rev-parse', ref)).toBe(rejected.commit);
    } finally {
      for (const file of stuck) execFileSync('chattr', ['-i', file]);
      process.env.GIT_CONFIG_GLOBAL = saved;
    }
  });

  it('keepReachable in a repository whose refs share one lock (reftable): the ref first, then the checkout', async () => {
    const { project, wt, wtPath, branch, base } = await setupExperiment({ 'a.txt': 'a\n' });
    // What `git init --ref-format=reftable` makes (git >= 2.45); older git ignores the directory.
    await fs.mkdir(path.join(project.gitCommonDir, 'reftable'));
    await writeFiles(wtPath, { 'a.txt': 'rejected\n' });
    const rejected = await wt.captureCandidate(base, branch, FALLBACK);
    if (rejected.kind !== 'candidate') throw new Error('expected a candidate');

    await wt.restore(base, branch, { keepReachable: { ref: candidateRef('eng/x', 6), commit: rejected.commit } });

    expect(await git(wtPath, 'rev-parse', candidateRef('eng/x', 6))).toBe(rejected.commit);
    expect(await headOf(wtPath)).toEqual({ branch, commit: base });
    expect(await porcelain(wtPath)).toBe('');
  });

  it("works in its own directory even when the agent set core.worktree to the user's checkout (shared config or config.worktree)", async () => {
    for (const where of [['config'], ['config', '--worktree']]) {
      const { repo, wt, wtPath, branch, base } = await setupExperiment({ 'a.txt': 'a\n' });
      await writeFiles(repo, { 'a.txt': 'the user\'s uncommitted work\n', 'notes.txt': 'the user\'s untracked file\n' });
      // The agent, in its worktree: git now takes the user's checkout as this worktree's files
      // (with per-worktree config on, from the shared config as from the worktree's own).
      await git(wtPath, 'config', 'extensions.worktreeConfig', 'true');
      await git(wtPath, ...where, 'core.worktree', repo);
      expect(await git(wtPath, 'rev-parse', '--show-toplevel')).toBe(await fs.realpath(repo));
      await writeFiles(wtPath, { 'a.txt': 'candidate\n', 'junk.txt': 'agent junk\n' });

      const capture = await wt.captureCandidate(base, branch, FALLBACK);
      expect(capture.kind === 'candidate' && capture.changedPaths.sort()).toEqual(['a.txt', 'junk.txt']);
      await wt.restore(base, branch);

      expect(await fs.readFile(path.join(repo, 'a.txt'), 'utf8')).toBe('the user\'s uncommitted work\n');
      expect(await fs.readFile(path.join(repo, 'notes.txt'), 'utf8')).toBe('the user\'s untracked file\n');
      expect(await fs.readFile(path.join(wtPath, 'a.txt'), 'utf8')).toBe('a\n');
      expect(await exists(path.join(wtPath, 'junk.txt'))).toBe(false);
    }
  });

  it('refuses a ref name outside refs/', async () => {
    const { wt, base } = await setupExperiment();
    await expect(wt.saveRef('HEAD', base)).rejects.toThrow(/expected a full ref name starting with refs\/, found "HEAD"/);
  });
});

describe('shortHash and isAncestor', () => {
  it('abbreviates as git does and answers ancestry', async () => {
    const { wt, wtPath, branch, base } = await setupExperiment({ 'a.txt': 'a\n' });
    await writeFiles(wtPath, { 'a.txt': 'b\n' });
    const c = await wt.captureCandidate(base, branch, FALLBACK);
    if (c.kind !== 'candidate') throw new Error('expected a candidate');

    expect(await wt.shortHash(c.commit)).toBe(await git(wtPath, 'rev-parse', '--short', c.commit));
    expect(await wt.shortHash(base)).toBe(await git(wtPath, 'rev-parse', '--short', base));
    expect((await wt.shortHash(base)).length).toBeGreaterThanOrEqual(7);
    expect(await wt.isAncestor(base, c.commit)).toBe(true);
    expect(await wt.isAncestor(c.commit, base)).toBe(false);
    expect(await wt.isAncestor(base, base)).toBe(true);
  });
});
