/**
 * Stale git lock files left by a git process that died with the daemon (kill -9 of the
 * whole service, power loss). git removes its locks on SIGINT/SIGTERM but not on SIGKILL,
 * and refuses to run while one exists (faults.md §3 row 6). Recovery calls this after the
 * previous incarnation's process groups are dead and before any git command.
 *
 * Only locks the experiment owns are considered, never the user's `.git/index.lock`,
 * `packed-refs.lock`, `config.lock` or any other global lock:
 *   - everything `*.lock` in the worktree's own git dir (`<common>/worktrees/<name>/`):
 *     index.lock, HEAD.lock, ORIG_HEAD.lock, logs/…;
 *   - the branch's loose ref lock `refs/heads/autoresearch/<domain>/<name>.lock`, and the
 *     pipeline's draft branch's (`<name>@draft.lock`);
 *   - loose ref locks under `refs/autoresearch/<domain>/<name>/`.
 *
 * A lock is removed only if no live process has it open (/proc/<pid>/fd) and no live git
 * process that could be writing it is running: any git whose cwd is in the worktree for its
 * private locks; for the shared ref locks also one in the project or the git dir, unless it
 * runs a read-only command (a user's `git log` in a pager must not pin our locks). git
 * closes a ref lock's descriptor before renaming it into place, so the fd check alone is
 * not enough. Running git processes are waited for (bounded), and a git working in the
 * worktree is waited for even when no lock exists yet: an orphaned git of the killed
 * incarnation finishes its operation within milliseconds, and must not race ours.
 */
import fs from 'node:fs';
import path from 'node:path';
import { canonicalPath } from '../fs/canonical-path.js';
import { followedPath, gitdirOfFile } from './gitfile.js';
import { worktreeTampering } from './worktree-identity.js';

export interface ExperimentGitScope {
  /** The repository's shared git dir (absolute). */
  gitCommonDir: string;
  /** The user's checkout (top level). */
  projectRoot: string;
  /** The experiment's worktree. */
  worktree: string;
  /** `<domain>/<name>`. */
  idKey: string;
}

export interface StaleLockResult {
  removed: string[];
  kept: { file: string; reason: string }[];
  /** A git process still working in the worktree when the wait ran out (our git commands may then fail on its locks). */
  stillRunning: string | null;
}

export interface StaleLockOptions {
  /** How long to wait for running git processes to finish. Default 5000 ms. */
  waitForGitMs?: number;
  /** Called for each removed lock, before the next one is looked at. */
  onRemoved?: (file: string) => void;
  /** Called for each lock left in place, with the reason. */
  onKept?: (file: string, reason: string) => void;
}

const POLL_MS = 25;

/** git subcommands that never write refs: such a process may run in the user's checkout while we clean ours. */
const READ_ONLY_COMMANDS = new Set([
  'blame', 'cat-file', 'describe', 'diff', 'diff-files', 'diff-index', 'diff-tree', 'for-each-ref', 'grep', 'help', 'log',
  'ls-files', 'ls-remote', 'ls-tree', 'merge-base', 'name-rev', 'rev-list', 'rev-parse', 'shortlog', 'show', 'show-ref',
  'status', 'var', 'version', 'whatchanged',
]);
/** git's global options that take their value as the next argument. */
const OPTIONS_WITH_VALUE = new Set(['-C', '-c', '--git-dir', '--work-tree', '--namespace', '--config-env', '--super-prefix']);

interface OwnedLock {
  file: string;
  /** Private to the worktree (its git dir), or a ref shared through the common dir. */
  kind: 'worktree' | 'ref';
  /** Identity at discovery: a lock that changes before removal is someone's new lock. */
  ino: number;
  mtimeMs: number;
}

interface GitProcess {
  pid: number;
  cwd: string;
  command: string | null;
  cmdline: string;
}

export async function removeStaleGitLocks(scope: ExperimentGitScope, opts: StaleLockOptions = {}): Promise<StaleLockResult> {
  const result: StaleLockResult = { removed: [], kept: [], stillRunning: null };
  if (!fs.existsSync('/proc/self/fd')) {
    // Without /proc no holder can be ruled out: leave every lock for git to report.
    for (const lock of ownedLocks(scope)) {
      result.kept.push({ file: lock.file, reason: 'no /proc to check whether a process holds it' });
      opts.onKept?.(lock.file, 'no /proc to check whether a process holds it');
    }
    return result;
  }
  // Wait for git processes that may own our locks, including one working in the worktree
  // that has no lock file at this instant: an orphaned git of the killed incarnation,
  // between two lock files, would otherwise race our first git command.
  const dirs = watchedDirs(scope);
  const deadline = performance.now() + (opts.waitForGitMs ?? 5000);
  let locks: OwnedLock[];
  let blockers: Map<OwnedLock | 'worktree', GitProcess>;
  for (;;) {
    locks = ownedLocks(scope);
    blockers = blockingGitProcesses(locks, dirs);
    if (blockers.size === 0 || performance.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  const busy = blockers.get('worktree');
  if (busy !== undefined) result.stillRunning = `git process ${busy.pid} (${busy.cmdline}) in ${busy.cwd}`;
  if (locks.length === 0) return result;
  const holders = openFileHolders(locks.map((l) => l.file));

  for (const lock of locks) {
    const keep = (reason: string) => {
      result.kept.push({ file: lock.file, reason });
      opts.onKept?.(lock.file, reason);
    };
    const git = blockers.get(lock);
    if (git !== undefined) {
      keep(`git process ${git.pid} (${git.cmdline}) is still running in ${git.cwd}`);
      continue;
    }
    const holder = holders.get(lock.file);
    if (holder !== undefined) {
      keep(`held open by process ${holder}`);
      continue;
    }
    const now = statOrNull(lock.file);
    if (now === null) continue; // its owner finished meanwhile
    if (now.ino !== lock.ino || now.mtimeMs !== lock.mtimeMs) {
      keep('it changed while being checked: a new git operation owns it');
      continue;
    }
    try {
      fs.rmSync(lock.file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      keep(`cannot remove it: ${(error as Error).message}`);
      continue;
    }
    result.removed.push(lock.file);
    opts.onRemoved?.(lock.file);
  }
  return result;
}

/** The existing lock files this experiment owns (see the module comment). */
export function ownedLocks(scope: ExperimentGitScope): OwnedLock[] {
  const found: OwnedLock[] = [];
  const add = (file: string, kind: OwnedLock['kind']) => {
    const stat = statOrNull(file);
    if (stat !== null && stat.isFile()) found.push({ file, kind, ino: stat.ino, mtimeMs: stat.mtimeMs });
  };
  const gitDir = worktreeGitDir(scope);
  if (gitDir !== null) for (const file of lockFilesUnder(gitDir)) add(file, 'worktree');
  const [domain, name] = scope.idKey.split('/');
  if (domain === undefined || name === undefined || domain === '' || name === '') return found;
  add(path.join(scope.gitCommonDir, 'refs', 'heads', 'autoresearch', domain, `${name}.lock`), 'ref');
  add(path.join(scope.gitCommonDir, 'refs', 'heads', 'autoresearch', domain, `${name}@draft.lock`), 'ref'); // pipeline's draft branch (loop/draft.ts)
  for (const file of lockFilesUnder(path.join(scope.gitCommonDir, 'refs', 'autoresearch', domain, name))) add(file, 'ref');
  return found;
}

/**
 * The worktree's private git dir, from its `.git` file; null unless it lies under
 * `<common>/worktrees/`: a `.git` file edited to point elsewhere (the user's own git dir)
 * must not make us delete locks there.
 */
function worktreeGitDir(scope: ExperimentGitScope): string | null {
  // Only the admin dir registered for our worktree (never another worktree's, the user's):
  // checked as before any git step (worktree-identity.ts).
  if (worktreeTampering(scope.worktree, scope.gitCommonDir, '')?.kind === 'dotgit') return null;
  // As git reads and follows it (git/gitfile.ts); none (yet, or no longer): nothing of ours to clean there.
  const target = gitdirOfFile(path.join(scope.worktree, '.git'));
  const dir = target === null ? null : followedPath(scope.worktree, target);
  if (dir === null) return null;
  const worktrees = canonicalPath(path.join(scope.gitCommonDir, 'worktrees')) + path.sep;
  return dir.startsWith(worktrees) && dir.length > worktrees.length ? dir : null;
}

function lockFilesUnder(dir: string): string[] {
  const out: string[] = [];
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...lockFilesUnder(full));
    else if (entry.isFile() && entry.name.endsWith('.lock')) out.push(full);
  }
  return out;
}

/** Where a git process could be working on our locks: [worktree dirs, whole-repository dirs]. */
function watchedDirs(scope: ExperimentGitScope): { worktree: string[]; repository: string[] } {
  const gitDir = worktreeGitDir(scope);
  const worktree = [canonicalPath(scope.worktree), ...(gitDir === null ? [] : [gitDir])];
  return { worktree, repository: [...worktree, canonicalPath(scope.projectRoot), canonicalPath(scope.gitCommonDir)] };
}

/**
 * For each lock, a running git process that could own it; under 'worktree', any git
 * process working in the worktree (it may be about to take a lock).
 */
function blockingGitProcesses(locks: OwnedLock[], dirs: { worktree: string[]; repository: string[] }): Map<OwnedLock | 'worktree', GitProcess> {
  const blockers = new Map<OwnedLock | 'worktree', GitProcess>();
  const gits = runningGitProcesses();
  if (gits.length === 0) return blockers;
  const inWorktree = gits.find((git) => dirs.worktree.some((dir) => isInside(git.cwd, dir)));
  if (inWorktree !== undefined) blockers.set('worktree', inWorktree);
  for (const lock of locks) {
    const blocker =
      lock.kind === 'worktree'
        ? inWorktree
        : gits.find((git) => dirs.repository.some((dir) => isInside(git.cwd, dir)) && !(git.command !== null && READ_ONLY_COMMANDS.has(git.command)));
    if (blocker !== undefined) blockers.set(lock, blocker);
  }
  return blockers;
}

function runningGitProcesses(): GitProcess[] {
  const out: GitProcess[] = [];
  for (const pid of procPids()) {
    if (pid === process.pid) continue;
    let argv: string[];
    let cwd: string;
    try {
      argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
      cwd = fs.readlinkSync(`/proc/${pid}/cwd`);
    } catch {
      continue; // gone, a kernel thread, or not ours to inspect
    }
    const exe = path.basename(argv[0] ?? '');
    if (!(exe === 'git' || exe.startsWith('git-'))) continue;
    out.push({ pid, cwd, command: exe === 'git' ? gitSubcommand(argv.slice(1)) : exe.slice(4), cmdline: argv.join(' ').slice(0, 200) });
  }
  return out;
}

/** The subcommand of `git <global options> <subcommand> …`, or null. */
export function gitSubcommand(args: string[]): string | null {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (OPTIONS_WITH_VALUE.has(arg)) {
      i++;
      continue;
    }
    if (arg.startsWith('-')) continue;
    return arg;
  }
  return null;
}

/** lock file → a pid that has it open. Processes we may not inspect are skipped. */
function openFileHolders(files: string[]): Map<string, number> {
  const wanted = new Map<string, string>(); // resolved path → lock file
  for (const file of files) wanted.set(canonicalPath(file), file);
  const holders = new Map<string, number>();
  for (const pid of procPids()) {
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const file = wanted.get(target);
      if (file !== undefined && !holders.has(file)) holders.set(file, pid);
    }
  }
  return holders;
}

function procPids(): number[] {
  try {
    return fs
      .readdirSync('/proc')
      .filter((e) => /^\d+$/.test(e))
      .map(Number);
  } catch {
    return []; // no /proc: no process can be shown to hold anything
  }
}

function isInside(candidate: string, dir: string): boolean {
  return candidate === dir || candidate.startsWith(dir.endsWith(path.sep) ? dir : dir + path.sep);
}

function statOrNull(file: string): fs.Stats | null {
  try {
    return fs.statSync(file);
  } catch {
    return null;
  }
}

