/**
 * Stale git locks (faults.md §3 row 6) with a real repository and real processes: only the
 * experiment's own locks are removed, and only when nothing holds them: not one a live
 * process has open, not while a git process works in the worktree; never the user's
 * `.git/index.lock`, `packed-refs.lock`, another branch's or another experiment's lock.
 * End to end: a restart removes the locks a killed git left, reports each one, and runs.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { gitSubcommand, removeStaleGitLocks, type ExperimentGitScope } from '../../src/git/stale-locks.js';
import { worktreePath } from '../../src/experiment/worktree-location.js';
import { runCli } from '../helpers/cli.js';
import { git, makeRepo } from '../helpers/git-repo.js';
import { projectWithBaseline } from './helpers/interrupted.js';
import { killQuietly, waitUntil } from './helpers/procs.js';

const holders: number[] = [];
afterEach(() => holders.splice(0).forEach((pid) => killQuietly(pid)));

/** A repository with the experiment's worktree, branch and one candidate ref, laid out as the product does. */
async function experimentRepo(): Promise<ExperimentGitScope & { gitDir: string }> {
  const root = await makeRepo({ 'value.txt': '10\n' });
  const gitCommonDir = path.join(root, '.git');
  const worktree = worktreePath({ root, gitCommonDir }, 'test/exp');
  await git(root, 'worktree', 'add', '-q', '-b', 'autoresearch/test/exp', worktree);
  await git(root, 'update-ref', 'refs/autoresearch/test/exp/3', 'HEAD');
  const gitDir = path.resolve(worktree, /^gitdir: (.*)$/m.exec(fs.readFileSync(path.join(worktree, '.git'), 'utf8'))?.[1] ?? '?');
  return { gitCommonDir, projectRoot: root, worktree, idKey: 'test/exp', gitDir };
}

function touch(file: string): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, '');
  return file;
}

/** A process holding `file` open (fd 3), as git holds index.lock while it writes the index. */
async function holdOpen(file: string): Promise<number> {
  const child = spawn('sh', ['-c', 'exec 3>>"$1"; exec sleep 1000', 'sh', file], { detached: true, stdio: 'ignore' });
  const pid = child.pid ?? -1;
  holders.push(pid);
  await waitUntil(`pid ${pid} to hold ${file}`, () => {
    try {
      return fs.readdirSync(`/proc/${pid}/fd`).some((fd) => safeReadlink(`/proc/${pid}/fd/${fd}`) === file) ? true : undefined;
    } catch {
      return undefined;
    }
  });
  return pid;
}

function safeReadlink(link: string): string | undefined {
  try {
    return fs.readlinkSync(link);
  } catch {
    return undefined;
  }
}

/** A git process that stays alive (waiting on stdin) with its cwd in `dir`. */
async function liveGit(dir: string, args: string[]): Promise<{ pid: number; end: () => Promise<void> }> {
  const child = spawn('git', args, { cwd: dir, stdio: ['pipe', 'ignore', 'ignore'] });
  const pid = child.pid ?? -1;
  holders.push(pid);
  await waitUntil(`git ${pid} to run in ${dir}`, () => (safeReadlink(`/proc/${pid}/cwd`) === dir ? true : undefined));
  return {
    pid,
    end: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.stdin.end();
      }),
  };
}

describe('removeStaleGitLocks', () => {
  it('removes only the experiment\'s unheld locks and reports each one', async () => {
    const scope = await experimentRepo();
    const ours = [
      touch(path.join(scope.gitDir, 'index.lock')),
      touch(path.join(scope.gitDir, 'HEAD.lock')),
      touch(path.join(scope.gitCommonDir, 'refs', 'heads', 'autoresearch', 'test', 'exp.lock')),
      touch(path.join(scope.gitCommonDir, 'refs', 'autoresearch', 'test', 'exp', '3.lock')),
    ];
    const held = touch(path.join(scope.gitDir, 'ORIG_HEAD.lock'));
    const holder = await holdOpen(held);
    const notOurs = [
      touch(path.join(scope.gitCommonDir, 'index.lock')), // the user's checkout
      touch(path.join(scope.gitCommonDir, 'packed-refs.lock')),
      touch(path.join(scope.gitCommonDir, 'config.lock')),
      touch(path.join(scope.gitCommonDir, 'refs', 'heads', 'main.lock')),
      touch(path.join(scope.gitCommonDir, 'refs', 'heads', 'autoresearch', 'test', 'other.lock')), // another experiment
      touch(path.join(scope.gitCommonDir, 'refs', 'autoresearch', 'test', 'other', '3.lock')),
    ];

    const reported: string[] = [];
    const result = await removeStaleGitLocks(scope, { onRemoved: (file) => reported.push(file) });
    expect(result.removed.sort()).toEqual([...ours].sort());
    expect(reported.sort()).toEqual([...ours].sort());
    expect(result.kept).toEqual([{ file: held, reason: `held open by process ${holder}` }]);
    for (const file of ours) expect(fs.existsSync(file), file).toBe(false);
    for (const file of [held, ...notOurs]) expect(fs.existsSync(file), file).toBe(true);

    // The worktree works again, although the user's own index.lock is still there.
    fs.rmSync(held);
    await git(scope.worktree, 'checkout', '-q', '-B', 'autoresearch/test/exp', 'HEAD');
  });

  it('waits for a git process working in the worktree, and removes the lock once it is gone', async () => {
    const scope = await experimentRepo();
    const lock = touch(path.join(scope.gitDir, 'index.lock'));
    const running = await liveGit(scope.worktree, ['hash-object', '--stdin']);

    const blocked = await removeStaleGitLocks(scope, { waitForGitMs: 150 });
    expect(blocked.removed).toEqual([]);
    expect(blocked.kept).toEqual([{ file: lock, reason: expect.stringContaining(`git process ${running.pid} (git hash-object --stdin) is still running in ${scope.worktree}`) }]);
    expect(fs.existsSync(lock)).toBe(true);

    // The bounded wait ends as soon as the git process does.
    const finished = removeStaleGitLocks(scope, { waitForGitMs: 10_000 });
    await running.end();
    expect((await finished).removed).toEqual([lock]);
  });

  it('waits for a git process in the worktree even before it has taken a lock', async () => {
    const scope = await experimentRepo();
    const running = await liveGit(scope.worktree, ['hash-object', '--stdin']);
    const started = performance.now();
    const result = await removeStaleGitLocks(scope, { waitForGitMs: 200 });
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    expect(result.stillRunning).toContain(`git process ${running.pid}`);
    const waiting = removeStaleGitLocks(scope, { waitForGitMs: 10_000 });
    await running.end();
    expect((await waiting).stillRunning).toBeNull();
  });

  it('a read-only git in the user\'s checkout does not pin the experiment\'s ref locks; a writing one does', async () => {
    const scope = await experimentRepo();
    const lock = touch(path.join(scope.gitCommonDir, 'refs', 'heads', 'autoresearch', 'test', 'exp.lock'));
    const reader = await liveGit(scope.projectRoot, ['cat-file', '--batch']);
    expect((await removeStaleGitLocks(scope, { waitForGitMs: 150 })).removed).toEqual([lock]);
    await reader.end();

    touch(lock);
    const writer = await liveGit(scope.projectRoot, ['update-ref', '--stdin']);
    const blocked = await removeStaleGitLocks(scope, { waitForGitMs: 150 });
    expect(blocked.kept.map((k) => k.file)).toEqual([lock]);
    expect(blocked.kept[0]?.reason).toContain(`git process ${writer.pid}`);
    await writer.end();
  });

  it('ignores a worktree .git file that points outside <common>/worktrees/', async () => {
    const scope = await experimentRepo();
    fs.writeFileSync(path.join(scope.worktree, '.git'), `gitdir: ${scope.gitCommonDir}\n`); // tampered: the main git dir
    const userLock = touch(path.join(scope.gitCommonDir, 'index.lock'));
    expect((await removeStaleGitLocks(scope)).removed).toEqual([]);
    expect(fs.existsSync(userLock)).toBe(true);
  });

  it('reads the subcommand past git\'s global options', () => {
    expect(gitSubcommand(['-C', '/x', '-c', 'a=b', '--no-pager', 'log', '-1'])).toBe('log');
    expect(gitSubcommand(['--git-dir=/x/.git', 'update-ref', 'HEAD'])).toBe('update-ref');
    expect(gitSubcommand(['--version'])).toBeNull();
  });
});

describe('a restart after git was killed mid-operation', () => {
  it('removes the locks the killed git left, reports each one, leaves the user\'s index.lock, and runs', async () => {
    const project = await projectWithBaseline(['echo 4 > value.txt']);
    const commonDir = path.join(project.root, '.git');
    const gitDir = path.resolve(project.worktreeDir, /^gitdir: (.*)$/m.exec(fs.readFileSync(path.join(project.worktreeDir, '.git'), 'utf8'))?.[1] ?? '?');
    const stale = [touch(path.join(gitDir, 'index.lock')), touch(path.join(commonDir, 'refs', 'heads', 'autoresearch', 'test', 'exp.lock'))];
    const userLock = touch(path.join(commonDir, 'index.lock'));

    const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '1'], { env: project.env });
    expect(r.exitCode, r.stderr).toBe(0);
    for (const file of stale) expect(r.stderr).toContain(`removed stale git lock ${file}`);
    expect(r.stderr).not.toContain(userLock + ' ');
    expect(fs.existsSync(userLock)).toBe(true);
    expect((await project.rows()).map((row) => [row.iteration, row.status])).toEqual([
      ['0', 'keep'],
      ['1', 'keep'],
    ]);
    // The user's checkout itself is unaffected by our cleanup (its lock still blocks it, as it should).
    const status = await execa('git', ['add', '-A'], { cwd: project.root, reject: false });
    expect(String(status.stderr)).toContain('index.lock');
  });
});
