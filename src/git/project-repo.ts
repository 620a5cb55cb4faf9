/**
 * The user's repository, seen from outside: where it is, its commits, and the worktrees
 * experiments run in. Nothing here changes the user's checkout (its HEAD, branch, index or
 * files): we only read refs and config, create branches, and add or remove *our* worktrees.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { AutoresearchError } from '../core/errors.js';
import { GitClient, identityEnv } from './git-client.js';
import { parseStatus, parseWorktreeList, type WorktreeEntry } from './parse.js';
import { repairOwnRef } from './own-ref-files.js';
import { Worktree } from './worktree.js';
import { canonicalPath } from '../fs/canonical-path.js';

export interface EnsureWorktreeOptions {
  /** Where the worktree lives, e.g. worktreePath(project, idKey) (experiment/worktree-location.ts). */
  path: string;
  /** Short branch name, e.g. branchName(idKey). */
  branch: string;
  /** Where a new branch starts (a full hash, usually `await project.head()`). */
  startPoint: string;
}

export async function openProject(projectRoot: string): Promise<ProjectRepo> {
  const dir = path.resolve(projectRoot);
  const initHint = 'expected a git work tree (run `git init && git add -A && git commit -m initial` there first)';
  if (!isDirectory(dir)) {
    throw new AutoresearchError('NOT_A_GIT_REPO', `${dir} is not a git repository: ${initHint}; found no directory at that path`);
  }
  // Read-only commands in the user's checkout; no optional index refresh either.
  const git = new GitClient(dir, { GIT_OPTIONAL_LOCKS: '0' });
  const where = await git.run(['rev-parse', '--show-toplevel', '--git-common-dir'], [128]);
  const [top, commonDir] = where.stdout.split('\n');
  if (where.exitCode !== 0 || !top || !commonDir) {
    throw new AutoresearchError('NOT_A_GIT_REPO', `${dir} is not a git repository: ${initHint}; git says: ${where.stderr.trim()}`);
  }
  const root = fs.realpathSync(top);
  // --git-common-dir may be relative to the directory git ran in; in a linked worktree it is the main repository's.
  const gitCommonDir = fs.realpathSync(path.resolve(dir, commonDir));
  const head = await git.run(['rev-parse', '-q', '--verify', 'HEAD^{commit}'], [1]);
  if (head.exitCode !== 0) {
    throw new AutoresearchError(
      'NO_COMMIT',
      `${root} has no commit yet: the experiment branch is created from HEAD; commit first (git add -A && git commit -m initial)`,
    );
  }
  return new ProjectRepo(root, gitCommonDir, await identityEnv(root));
}

export class ProjectRepo {
  private readonly git: GitClient;
  private readonly worktrees = new Map<string, Worktree>();

  constructor(
    /** The top level of the user's checkout (realpath). */
    readonly root: string,
    /** The repository's shared git dir, absolute (realpath); the main one when root is a linked worktree. */
    readonly gitCommonDir: string,
    /** Identity variables for commits on a machine without one (see identityEnv); pass them to agents too. */
    readonly identityEnv: Readonly<Record<string, string>>,
  ) {
    this.git = new GitClient(root, { GIT_OPTIONAL_LOCKS: '0' });
  }

  /** The commit the user's checkout is on. */
  async head(): Promise<string> {
    return (await this.git.out(['rev-parse', '--verify', 'HEAD^{commit}'])).trim();
  }

  /**
   * Paths with uncommitted changes in the user's checkout: modified, staged, deleted,
   * unmerged, and untracked but not ignored (an untracked directory is one `dir/` entry).
   * Read-only: `--no-optional-locks`, so not even the index's stat cache is refreshed.
   */
  async uncommittedPaths(): Promise<string[]> {
    const output = await this.git.out(['--no-optional-locks', 'status', '--porcelain=v2', '-z', '--untracked-files=normal', '--ignore-submodules=dirty', '--no-renames']);
    return parseStatus(output).entries.map((entry) => entry.path);
  }

  /** The full hash of the commit `rev` names, or null when it names none. */
  async resolveCommit(rev: string): Promise<string | null> {
    if (rev === '' || rev.startsWith('-')) return null; // an option, not a revision
    const { stdout, exitCode } = await this.git.run(['rev-parse', '-q', '--verify', `${rev}^{commit}`], [1, 128]);
    return exitCode === 0 ? stdout.trim() : null;
  }

  /**
   * Make `path` a worktree of this repository on `branch`, creating the branch at
   * `startPoint` if it does not exist (an existing branch is used as it is). An existing,
   * intact worktree at `path` is kept as it is → `{created: false}`; its HEAD may be
   * wherever an interrupted agent left it, which `restore` fixes. A worktree whose
   * directory was deleted is re-created. Fails with GIT_FAILED when `branch` is checked out
   * in another worktree (the user's checkout included) or `path` holds something else.
   */
  async ensureWorktree(opts: EnsureWorktreeOptions): Promise<{ created: boolean }> {
    const wanted = canonicalPath(opts.path);
    const entries = parseWorktreeList(await this.git.out(['worktree', 'list', '--porcelain']));
    const existing = entries.find((e: WorktreeEntry) => canonicalPath(e.path) === wanted);
    if (existing !== undefined) {
      if (isDirectory(opts.path)) {
        if (!fs.existsSync(path.join(opts.path, '.git'))) {
          // Its files may be someone's work: never delete them here.
          throw new AutoresearchError(
            'GIT_FAILED',
            `${opts.path} is registered as a worktree of ${this.root} but has no .git file (deleted?): expected an intact worktree; ` +
              `delete that directory to have it re-created from branch ${opts.branch}`,
          );
        }
        if (existing.branch !== `refs/heads/${opts.branch}`) await this.ensureBranch(opts.branch, opts.startPoint);
        return { created: false };
      }
      // Registered, but its directory was deleted: drop just this registration (not the
      // user's other stale worktrees, as `git worktree prune` would), then add it again.
      await this.git.run(['worktree', 'remove', '--force', existing.path]);
    }
    const branchExists = await this.branchExists(opts.branch);
    await this.git.run(
      branchExists
        ? ['worktree', 'add', '-q', opts.path, opts.branch]
        : ['worktree', 'add', '-q', '--no-track', '-b', opts.branch, opts.path, opts.startPoint],
    );
    return { created: true };
  }

  /**
   * Moves our worktree from `from` to `to` (whose parent exists and `to` itself does not),
   * with `git worktree move`: the user's checkout is never touched. Every step can be cut
   * by a kill and is finished by the next call with the same arguments:
   *  - `to` is already the registered worktree → 'there' (moved earlier, its record not written);
   *  - `to` holds a worktree whose admin dir still names `from` (killed between git's rename
   *    and its bookkeeping, or during the copy fallback) → `git worktree repair` → 'moved';
   *  - nothing is registered at `from`, or its directory is gone → 'gone' (its stale
   *    registration dropped): ensureWorktree then creates `to` afresh.
   * Across filesystems (git's rename fails) the tree is copied next to `to`, renamed into
   * place, repaired, and only then is `from` removed. Empty directories left above `from`
   * are removed up to `stopAt`.
   */
  async relocateWorktree(from: string, to: string, stopAt: string): Promise<'there' | 'moved' | 'gone'> {
    const registered = (p: string, list: WorktreeEntry[]) => list.find((e) => canonicalPath(e.path) === canonicalPath(p));
    let entries = await this.listWorktrees();
    if (!(registered(to, entries) !== undefined && isDirectory(to))) {
      if (fs.existsSync(to)) {
        if (!isDirectory(to) || !fs.existsSync(path.join(to, '.git'))) {
          if (isDirectory(to) && fs.readdirSync(to).length === 0) fs.rmdirSync(to);
          else {
            throw new AutoresearchError('GIT_FAILED', `cannot move the worktree ${from} to ${to}: ${to} already exists and is not a worktree of ${this.root}; move it away`);
          }
        } else {
          await this.git.run(['worktree', 'repair', to]);
          entries = await this.listWorktrees();
          if (registered(to, entries) === undefined) {
            throw new AutoresearchError('GIT_FAILED', `cannot move the worktree ${from} to ${to}: ${to} holds a worktree of another repository; move it away`);
          }
        }
      }
    }
    if (registered(to, entries) !== undefined) {
      this.removeLeftCopy(from, to);
      removeEmptyParents(from, stopAt);
      return 'there';
    }
    const old = registered(from, entries);
    if (old === undefined) return 'gone';
    if (!isDirectory(from)) {
      await this.git.run(['worktree', 'remove', '--force', old.path]); // only this registration, never `prune`
      removeEmptyParents(from, stopAt);
      return 'gone';
    }
    const moved = await this.git.run(['worktree', 'move', from, to], [128]);
    if (moved.exitCode !== 0) {
      // rename(2) across filesystems (EXDEV), or a worktree with submodules: move it ourselves.
      if (!/cross-device|submodule/i.test(moved.stderr)) {
        throw new AutoresearchError('GIT_FAILED', `git worktree move ${from} ${to} failed in ${this.root}: ${moved.stderr.trim()}`);
      }
      await moveTree(from, to);
      await this.git.run(['worktree', 'repair', to]);
      this.removeLeftCopy(from, to);
    }
    removeEmptyParents(from, stopAt);
    return 'moved';
  }

  /** After a copy across filesystems: `from` is removed once `to` is the registered copy of the same worktree. */
  private removeLeftCopy(from: string, to: string): void {
    const gitFile = (dir: string) => {
      try {
        return fs.readFileSync(path.join(dir, '.git'), 'utf8').trim();
      } catch {
        return null;
      }
    };
    const left = gitFile(from);
    if (left !== null && left === gitFile(to) && canonicalPath(from) !== canonicalPath(to)) fs.rmSync(from, { recursive: true, force: true });
  }

  private async listWorktrees(): Promise<WorktreeEntry[]> {
    return parseWorktreeList(await this.git.out(['worktree', 'list', '--porcelain']));
  }

  /**
   * Refuse, before anything is written, when `branch` is checked out in a worktree other
   * than one of `ours`: typically the user's checkout, after the seed skill's setup ran
   * `git checkout -b autoresearch/<domain>/<name>` there. We never move a branch checked
   * out in the user's checkout (its files would change under them); the message gives the
   * one command that frees it.
   */
  async assertBranchFree(branch: string, ours: readonly string[]): Promise<void> {
    const mine = new Set(ours.map(canonicalPath));
    const holder = (await this.listWorktrees()).find((e) => e.branch === `refs/heads/${branch}` && !e.prunable && !mine.has(canonicalPath(e.path)));
    if (holder === undefined) return;
    const previous = await this.previousBranch(holder.path, branch);
    throw new AutoresearchError(
      'GIT_FAILED',
      `the experiment branch ${branch} is checked out in ${holder.path} (the autoresearch-agent skill's setup does that); ` +
        `expected it free: autoresearch runs the experiment in a worktree of its own and never moves a branch checked out in your checkout. ` +
        `Switch that checkout back, then run again (nothing was written):\n  git -C ${shellQuote(holder.path)} checkout ${shellQuote(previous)}`,
    );
  }

  /** The branch a checkout was on before `branch` (`@{-1}`), else main or master, else a placeholder. */
  private async previousBranch(checkout: string, branch: string): Promise<string> {
    const git = new GitClient(checkout, { GIT_OPTIONAL_LOCKS: '0' });
    const { stdout, exitCode } = await git.run(['rev-parse', '--abbrev-ref', '@{-1}'], [128]);
    const name = stdout.trim();
    if (exitCode === 0 && name !== '' && name !== branch && name !== 'HEAD' && (await this.branchExists(name))) return name;
    for (const fallback of ['main', 'master']) if (await this.branchExists(fallback)) return fallback;
    return '<your branch>';
  }

  /** The worktree at `path` (after ensureWorktree). One object per path, so its git commands stay serialised. */
  worktree(worktreePath: string): Worktree {
    const key = canonicalPath(worktreePath);
    let worktree = this.worktrees.get(key);
    if (worktree === undefined) {
      const resolved = path.resolve(worktreePath);
      worktree = new Worktree(resolved, { ...this.identityEnv }, { gitCommonDir: this.gitCommonDir, rebuild: (branch, commit) => this.rebuildWorktree(resolved, branch, commit) });
      this.worktrees.set(key, worktree);
    }
    return worktree;
  }

  /**
   * The worktree at `worktreePath` was tampered with (its `.git` replaced: worktree-identity.ts):
   * delete it (it is ours; through a symlinked .git, git would reach the user's repository, so
   * it is not kept aside), drop its registration only, and add it again on `branch`. The
   * user's checkout, refs, index and stash are not touched: no git command runs in that tree.
   */
  async rebuildWorktree(worktreePath: string, branch: string, commit: string): Promise<void> {
    fs.rmSync(worktreePath, { recursive: true, force: true }); // unlinks a symlinked .git, never its target
    const registered = (await this.listWorktrees()).find((e) => canonicalPath(e.path) === canonicalPath(worktreePath));
    // -f twice: also when locked. Only this registration, never `prune` (the user's stale worktrees are theirs).
    if (registered !== undefined) await this.git.run(['worktree', 'remove', '-f', '-f', registered.path]);
    // The branch's own files as git makes them (a symbolic ref to the user's branch would make -B move theirs).
    repairOwnRef(this.gitCommonDir, `refs/heads/${branch}`);
    await this.git.run(['worktree', 'add', '-q', '--no-track', '-B', branch, worktreePath, commit]);
  }

  /**
   * Make `branch` free to be checked out at `wanted`. A scratch worktree of ours holding it
   * elsewhere (the pipeline's draft worktree left behind when AUTORESEARCH_WORKTREES moved:
   * its path ends like `wanted`, `<domain>/<name>@draft`; nothing is kept in it) is removed,
   * only that registration, never `prune`. Any other worktree holding it is someone's: returns
   * its path, untouched.
   */
  async releaseScratchBranch(branch: string, wanted: string): Promise<string | null> {
    const holder = (await this.listWorktrees()).find((e) => e.branch === `refs/heads/${branch}` && canonicalPath(e.path) !== canonicalPath(wanted));
    if (holder === undefined) return null;
    const tail = (p: string) => path.resolve(p).split(path.sep).slice(-2).join('/');
    if (tail(holder.path) !== tail(wanted)) return holder.path;
    await this.git.run(['worktree', 'remove', '-f', '-f', holder.path]);
    return null;
  }

  private async branchExists(branch: string): Promise<boolean> {
    const { exitCode } = await this.git.run(['rev-parse', '-q', '--verify', `refs/heads/${branch}`], [1]);
    return exitCode === 0;
  }

  private async ensureBranch(branch: string, startPoint: string): Promise<void> {
    if (!(await this.branchExists(branch))) await this.git.run(['branch', '--no-track', branch, startPoint]);
  }
}

/** rename(2), or on another filesystem a copy beside `to` renamed into place (a kill mid-copy leaves only the beside copy). */
async function moveTree(from: string, to: string): Promise<void> {
  try {
    fs.renameSync(from, to);
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
  }
  const beside = `${to}.moving`;
  fs.rmSync(beside, { recursive: true, force: true });
  await execa('cp', ['-a', from, beside]); // keeps modes, links and times; the worktree may hold uncommitted work
  fs.renameSync(beside, to);
}

/** Removes `dir`'s empty ancestors (and `dir` itself when empty) up to and including `stopAt`, never above it. */
function removeEmptyParents(dir: string, stopAt: string): void {
  const limit = path.resolve(stopAt);
  for (let current = path.resolve(dir); current === limit || current.startsWith(limit + path.sep); current = path.dirname(current)) {
    try {
      fs.rmdirSync(current);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return; // not empty, or not ours to remove
    }
    if (current === limit) return;
  }
}

function shellQuote(value: string): string {
  return /^[\w./@:+-]+$/.test(value) ? value : `'${value.replaceAll("'", "'\\''")}'`;
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

