/**
 * One experiment's git worktree: turn what the agent left into one candidate commit, and
 * roll back to a recorded commit. Every command here runs inside the worktree, never in
 * the user's checkout.
 *
 * Git processes per iteration (the benchmark counts them):
 *   captureCandidate  1 (nothing changed) · 2 (the agent left edits uncommitted, or committed
 *                     once on its branch) · 3 (… and created files) · up to 8 (history rewritten)
 *   restore           2, plus 1 per interrupted rebase/am/cherry-pick/bisect it clears
 */
import fs from 'node:fs';
import path from 'node:path';
import { AutoresearchError } from '../core/errors.js';
import { GitClient } from './git-client.js';
import { worktreeTampering, type Tampering } from './worktree-identity.js';
import { followedPath, gitdirOfFile } from './gitfile.js';
import { repairOwnRef } from './own-ref-files.js';
import { COMMIT_FORMAT, parseCommit, parseStatus, parseSubjects, splitNul, subjectOf, type StatusSummary } from './parse.js';

export type CandidateCapture =
  | { kind: 'no_change' }
  | {
      kind: 'candidate';
      /** Full hash of the one commit, whose only parent is the base. */
      commit: string;
      /** The candidate's subject: one line. */
      description: string;
      /** Repo-relative paths that differ from the base; both sides of a rename. */
      changedPaths: string[];
      /** Commits the agent made itself (not counting the automatic one). */
      agentCommits: number;
      /** Whether uncommitted work was committed for the agent. */
      autoCommitted: boolean;
    };

/** Unfinished multi-step operations an agent can leave behind, by the state they keep in the worktree's git dir. */
const INTERRUPTED_OPERATIONS: { state: string; quit: string[] }[] = [
  { state: 'rebase-apply/applying', quit: ['am', '--quit'] },
  { state: 'rebase-merge', quit: ['rebase', '--quit'] },
  { state: 'rebase-apply', quit: ['rebase', '--quit'] },
  { state: 'sequencer', quit: ['cherry-pick', '--quit'] },
  { state: 'BISECT_START', quit: ['bisect', 'reset', 'HEAD'] },
];

const MAX_SUBJECTS = 20;

/** What the worktree must be (worktree-identity.ts), and how to make it again when it is not. */
export interface WorktreeIdentity {
  gitCommonDir: string;
  /** Remove the tampered worktree (ours) and add it again, `branch` at `commit`; nothing of the user's is touched. */
  rebuild(branch: string, commit: string): Promise<void>;
}

export class Worktree {
  private readonly git: GitClient;
  /** Ref updates go through the common git dir: never through a `.git` the agent may have replaced. */
  private readonly refs: GitClient;
  /** refsShareOneLock's answer, asked once. */
  private reftable: boolean | undefined;
  /** The untracked files' removal of the last `restore(…, { cleanLater })`, until settled() took it. */
  private cleaning: Promise<void> = Promise.resolve();
  /** Abbreviations learnt from output we already parsed, so shortHash needs no process for them. */
  private readonly shortHashes = new Map<string, string>();
  /** Untracked paths setup_cmd produced (repo-relative): kept by restore, never part of a candidate. */
  private setupOutput: string[] = [];

  /** `env` is added to every git process here: the commit identity on a fresh machine. */
  constructor(
    readonly path: string,
    env: Record<string, string> = {},
    private readonly identity: WorktreeIdentity | null = null,
  ) {
    // GIT_WORK_TREE: this directory, whatever `core.worktree` says. An agent's `git config
    // core.worktree <the user's checkout>` (written to the repository's shared config) would
    // otherwise make our checkout --force and clean -ffd work on the user's files.
    // hot: started by a long-lived shell, cheaper than by us (git-shell.ts). Two clients, two
    // shells: restore's ref update runs beside its checkout.
    this.git = new GitClient(path, { ...env, GIT_WORK_TREE: path }, { hot: true });
    this.refs = identity === null ? this.git : new GitClient(identity.gitCommonDir, env, { hot: true });
  }

  /**
   * HEAD on a branch that is not the experiment's (`git checkout main` in the worktree): a
   * commit of ours there would move that branch. Detach HEAD where it is (the agent's commits
   * are still captured from it); an unborn branch (`checkout --orphan`) becomes ours, unborn
   * content and all (its index is what capture reads). Only the worktree's own HEAD is written.
   */
  async leaveForeignBranch(branch: string, checked?: Tampering | null): Promise<void> {
    // `checked`: the caller's verdict, taken just now with nothing run in the worktree since.
    if ((checked !== undefined ? checked : this.tampering(branch))?.kind !== 'head') return;
    const head = await this.resolveCommit('HEAD');
    if (head !== null) await this.git.run(['update-ref', '--no-deref', '-m', 'autoresearch: leave a branch that is not the experiment\'s', 'HEAD', head]);
    else await this.git.run(['symbolic-ref', 'HEAD', `refs/heads/${branch}`]);
  }

  /** Why the worktree is not ours as made (its `.git`, or HEAD on another branch than `branch`), or null. */
  tampering(branch: string): Tampering | null {
    return this.identity === null ? null : worktreeTampering(this.path, this.identity.gitCommonDir, branch);
  }

  /**
   * Make the worktree exactly `commit` on `branch`, nothing else: whatever branch or
   * detached HEAD the agent left, every change to tracked files, and every untracked file
   * the candidate or the evaluation created. Ignored files (node_modules, a venv made by
   * setup_cmd) stay. A stale index.lock fails with GIT_FAILED naming it.
   *
   * `cleanLater`: returns once branch and tracked files are back; the removal of untracked
   * files goes on meanwhile, and whoever runs a process in the worktree next awaits
   * `settled()` first. Our own git steps here need no wait: they run one at a time, in order.
   *
   * `keepReachable`: a ref to write (a rejected candidate's), started once the checkout is
   * under way: git writes it while the worktree is checked out, and our thread forks it while
   * it would otherwise only wait. Its failure is thrown after the checkout's own, if any.
   */
  async restore(commit: string, branch: string, opts: { cleanLater?: boolean; keepReachable?: { ref: string; commit: string }; checked?: Tampering | null } = {}): Promise<void> {
    const { keepReachable } = opts;
    let reachable: Promise<void> | undefined;
    const keep = () => (reachable ??= keepReachable === undefined ? Promise.resolve() : this.saveRef(keepReachable.ref, keepReachable.commit));
    try {
      // The clean this one repeats: its failure, if any, is repaired right here.
      await this.settled().catch(() => undefined);
      // A replaced `.git` is rebuilt first (and checked again); HEAD on another branch is what checkout -B fixes.
      const tampered = opts.checked !== undefined ? opts.checked : this.tampering(branch);
      if (this.identity !== null && tampered?.kind === 'dotgit') await this.identity.rebuild(branch, commit);
      await this.prepare(branch, { headAnywhere: true, ...(tampered?.kind === 'dotgit' ? {} : { checked: tampered }) });
      // -B points `branch` at `commit` and checks it out, from any branch or a detached HEAD;
      // --force discards changes to tracked files (and a half-done merge).
      // A reftable repository has one lock for all refs (git < 2.48 fails a second writer at
      // once): the ref first. Loose refs lock one file per ref: both at once.
      if (this.refsShareOneLock()) await keep();
      const checkout = this.git.run(['checkout', '--force', '-q', '-B', branch, commit, '--']);
      void keep().catch(() => undefined); // awaited below; a failure is thrown there
      await checkout;
    } catch (error) {
      // The candidate stays reachable even when the worktree could not be restored.
      await keep().catch(() => undefined);
      throw error;
    }
    // -d: untracked directories too; -f twice: also nested repositories (an agent's `git clone`).
    // No -x: ignored files are kept.
    const clean = this.git.run(['clean', '-f', '-f', '-d', '-q', ...this.outsideSetupOutput()]).then(() => undefined);
    if (opts.cleanLater !== true) {
      // Both ended before this returns (a failed clean must not leave the ref still being written).
      const [cleaned, kept] = await Promise.allSettled([clean, keep()]);
      if (cleaned.status === 'rejected') throw cleaned.reason;
      if (kept.status === 'rejected') throw kept.reason;
      return;
    }
    this.cleaning = clean;
    clean.catch(() => undefined); // reported by settled(), not as an unhandled rejection
    await keep();
  }

  /** Whether all ref updates take one lock: reftable (`git init --ref-format=reftable`, git >= 2.45). */
  private refsShareOneLock(): boolean {
    // Without the repository's identity, the safe answer: one after the other.
    this.reftable ??= this.identity === null || fs.existsSync(path.join(this.identity.gitCommonDir, 'reftable'));
    return this.reftable;
  }

  /**
   * Resolves once no clean of a `restore(…, { cleanLater })` is still running; rejects with its
   * failure (to the first caller only: the worktree is not as recorded, and the next restore
   * repairs it).
   */
  settled(): Promise<void> {
    const cleaning = this.cleaning;
    this.cleaning = Promise.resolve();
    return cleaning;
  }

  /**
   * What setup_cmd left untracked (e.g. `npm install` into an unignored node_modules/): the
   * evaluation needs it, so restore keeps it and capture never makes it part of a candidate.
   */
  keepSetupOutput(paths: readonly string[]): void {
    this.setupOutput = paths.map((p) => p.replace(/\/+$/, '')).filter((p) => p !== '');
  }

  /** Untracked, non-ignored paths, a directory as one entry (`node_modules/`): what setup_cmd produced when run on a clean worktree. */
  async untrackedPaths(): Promise<string[]> {
    const status = parseStatus(await this.git.out(['--no-optional-locks', 'status', '--porcelain=v2', '-z', '--untracked-files=normal', '--ignore-submodules=dirty', '--no-renames']));
    return status.entries.filter((e) => e.type === '?').map((e) => e.path);
  }

  /** Tracked files whose content differs from HEAD (untracked files, an evaluation's output, not counted). */
  async changedTrackedPaths(): Promise<string[]> {
    const status = parseStatus(await this.git.out(['--no-optional-locks', 'status', '--porcelain=v2', '-z', '--untracked-files=no', '--ignore-submodules=dirty', '--no-renames']));
    return status.entries.map((e) => e.path);
  }

  /** Pathspec arguments for every path but setup_cmd's output (none when it made nothing). */
  private outsideSetupOutput(): string[] {
    if (this.setupOutput.length === 0) return [];
    return ['--', '.', ...this.setupOutput.map((p) => `:(top,exclude,literal)${p}`)];
  }

  /**
   * Turn whatever the agent left on top of `base` into ONE candidate commit whose parent is
   * `base`, and leave the worktree on `branch` at it, clean. Uncommitted work is committed
   * for the agent (no hooks) with `fallbackDescription` as message. When the net result
   * equals `base` (nothing done, or committed then reverted) the answer is `no_change` and
   * the worktree is left on `branch` at `base`. `base` should be a full hash.
   */
  async captureCandidate(base: string, branch: string, opts: { fallbackDescription: string }): Promise<CandidateCapture> {
    await this.prepare(branch);
    // --no-optional-locks: a read must not take index.lock (and skipping the index refresh is cheaper).
    const status = parseStatus(
      await this.git.out(['--no-optional-locks', 'status', '--porcelain=v2', '--branch', '-z', '--untracked-files=all', '--ignore-submodules=dirty', '--no-renames', ...this.outsideSetupOutput()]),
    );
    // Commit even a clean unborn branch (`checkout --orphan`): its empty tree is a change too.
    const autoCommitted = status.dirty || status.head === null;
    if (!autoCommitted && status.head === base) {
      // Nothing happened (the common no-op): no more processes unless the agent switched branch.
      if (status.branch !== branch) await this.checkoutBranch(branch, base);
      return { kind: 'no_change' };
    }
    const simple = this.simpleEdit(status, base, branch);
    if (simple !== null) return this.commitSimpleEdit(simple, opts.fallbackDescription);
    if (autoCommitted) {
      await this.git.run(['add', '-A', ...this.outsideSetupOutput()]);
      // --allow-empty: a status entry can cancel out once staged (a file added then deleted).
      await this.git.run(['commit', '--no-verify', '--allow-empty', '--allow-empty-message', '-q', '-m', opts.fallbackDescription]);
    }
    const tip = parseCommit(
      await this.git.out(['log', '-1', '-z', '--name-only', '--no-renames', '--ignore-submodules=none', `--format=${COMMIT_FORMAT}`, 'HEAD', '--']),
    );

    if (tip.parents.length === 1 && tip.parents[0] === base) {
      // One commit on top of base (the agent's own, or ours): it is the candidate as it is.
      if (tip.paths.length === 0) {
        // An empty commit: ours, when the staged changes cancelled out, or an agent's --allow-empty.
        await this.checkoutBranch(branch, base);
        return { kind: 'no_change' };
      }
      if (status.branch !== branch) await this.checkoutBranch(branch, tip.commit);
      this.rememberShortHash(tip.commit, tip.short);
      return {
        kind: 'candidate',
        commit: tip.commit,
        description: tip.subject || subjectOf(opts.fallbackDescription),
        changedPaths: tip.paths,
        agentCommits: autoCommitted ? 0 : 1,
        autoCommitted,
      };
    }

    // Several commits, an amended base, a reset elsewhere, a merge: squash the net change
    // into one new commit on base, named after the agent's own commits.
    const changedPaths = splitNul(
      await this.git.out(['diff', '--name-only', '--no-renames', '-z', '--no-ext-diff', '--ignore-submodules=none', base, tip.commit, '--']),
    );
    if (changedPaths.length === 0) {
      await this.checkoutBranch(branch, base);
      return { kind: 'no_change' };
    }
    const agentCommits = parseSubjects(await this.git.out(['log', '-z', '--format=%H %s', `${base}..${tip.commit}`, '--']))
      .filter((c) => !(autoCommitted && c.commit === tip.commit))
      .reverse(); // oldest first
    const message = joinSubjects(
      agentCommits.map((c) => c.subject),
      opts.fallbackDescription,
    );
    const commit = (await this.git.out(['commit-tree', `${tip.commit}^{tree}`, '-p', base, '-m', message])).trim();
    await this.checkoutBranch(branch, commit);
    return { kind: 'candidate', commit, description: subjectOf(message), changedPaths, agentCommits: agentCommits.length, autoCommitted };
  }

  /**
   * The common case, answered from `status` alone: the agent edited files on `branch` at
   * `base` without committing and without staging anything. Then every listed path really
   * differs from base (nothing staged can cancel out), so the list is the candidate's diff.
   */
  private simpleEdit(status: StatusSummary, base: string, branch: string): { paths: string[]; untracked: boolean } | null {
    if (status.head !== base || status.branch !== branch) return null;
    let untracked = false;
    for (const entry of status.entries) {
      if (entry.type === '?') untracked = true;
      else if (entry.type !== '1' || entry.xy[0] !== '.') return null; // staged, renamed or unmerged: the general path
    }
    return { paths: status.entries.map((e) => e.path), untracked };
  }

  /** One commit for the simple edit: `commit -a` (plus `add -A` for new files); its full hash read from commit's own output. */
  private async commitSimpleEdit(edit: { paths: string[]; untracked: boolean }, message: string): Promise<CandidateCapture> {
    if (edit.untracked) await this.git.run(['add', '-A', ...this.outsideSetupOutput()]);
    // core.abbrev=40 makes `[branch <hash>] subject` carry the full hash: no extra rev-parse.
    const output = await this.git.out(['-c', 'core.abbrev=40', 'commit', '--no-verify', '-a', '-m', message]);
    const commit = /^\[.*? ([0-9a-f]{40,64})\]/m.exec(output)?.[1];
    if (commit === undefined) {
      throw new AutoresearchError('GIT_FAILED', `git commit in ${this.path}: expected "[<branch> <full hash>] <subject>", found ${JSON.stringify(output.slice(0, 200))}`);
    }
    return { kind: 'candidate', commit, description: subjectOf(message), changedPaths: edit.paths, agentCommits: 0, autoCommitted: true };
  }

  /**
   * Apply the change `commit` made (against its parent) to the worktree, uncommitted, as an
   * agent would have: for `rerun`, which retries a past candidate on top of the current best.
   * Returns false, with the worktree untouched, when it does not apply cleanly.
   */
  async applyChange(commit: string): Promise<boolean> {
    await this.prepare(null);
    const { exitCode } = await this.git.run(['cherry-pick', '--no-commit', commit], [1]);
    if (exitCode === 0) {
      // --no-commit leaves the sequencer state of a single pick behind on some versions.
      await this.git.run(['cherry-pick', '--quit'], [128]);
      return true;
    }
    await this.git.run(['cherry-pick', '--abort'], [128]);
    return false;
  }

  /** A commit's subject line (its description in a row). */
  async subject(commit: string): Promise<string> {
    return (await this.git.out(['log', '-1', '--format=%s', commit])).trim();
  }

  /** Resolve a revision to a full commit hash, or null. */
  async resolveCommit(rev: string): Promise<string | null> {
    const { stdout, exitCode } = await this.git.run(['rev-parse', '--verify', '--quiet', `${rev}^{commit}`], [1]);
    return exitCode === 0 ? stdout.trim() : null;
  }

  /** Point `ref` (refs/...) at `commit`, e.g. to keep a rejected candidate reachable through gc. */
  async saveRef(ref: string, commit: string): Promise<void> {
    if (!ref.startsWith('refs/')) {
      throw new Error(`saveRef: expected a full ref name starting with refs/, found ${JSON.stringify(ref)}`);
    }
    // Our namespace: a symlinked directory or symbolic ref an agent left there is removed first.
    if (this.identity !== null) repairOwnRef(this.identity.gitCommonDir, ref);
    await this.refs.run(['update-ref', '--no-deref', ref, commit]);
  }

  /** The abbreviated hash as git prints it (7+ characters, longer when needed to be unique). */
  async shortHash(commit: string): Promise<string> {
    const known = this.shortHashes.get(commit);
    if (known !== undefined) return known;
    const short = (await this.git.out(['rev-parse', '--short', commit])).trim();
    this.rememberShortHash(commit, short);
    return short;
  }

  /** Whether `ancestor` is `descendant` or one of its ancestors. */
  async isAncestor(ancestor: string, descendant: string): Promise<boolean> {
    const { exitCode } = await this.git.run(['merge-base', '--is-ancestor', ancestor, descendant], [1]);
    return exitCode === 0;
  }

  /** `git checkout --force -B`: when the content is already `commit`'s, this only moves HEAD and the branch. */
  private async checkoutBranch(branch: string, commit: string): Promise<void> {
    await this.git.run(['checkout', '--force', '-q', '-B', branch, commit, '--']);
  }

  private rememberShortHash(commit: string, short: string): void {
    // Hashes come in one per iteration; a small bound keeps a days-long run flat.
    if (this.shortHashes.size >= 256) this.shortHashes.clear();
    this.shortHashes.set(commit, short);
  }

  /**
   * Check this is still a worktree before changing anything, and quit a rebase, am,
   * cherry-pick or bisect the agent left half done: it would survive a checkout and let the
   * agent's next `git rebase --abort` move our branch. Only stats unless one is found.
   */
  private async prepare(branch: string | null, opts: { headAnywhere?: boolean; checked?: Tampering | null } = {}): Promise<void> {
    if (this.identity !== null) {
      // `checked`: the verdict the caller took just now, with nothing run in between.
      const tampered = opts.checked !== undefined ? opts.checked : worktreeTampering(this.path, this.identity.gitCommonDir, branch ?? '');
      if (tampered?.kind === 'dotgit') {
        // Never run a writing step there: through a replaced .git it would reach the user's repository.
        throw new AutoresearchError('GIT_FAILED', `worktree_tampered: ${tampered.reason} (in ${this.path}); no git step was run there`);
      }
      if (tampered?.kind === 'head' && branch !== null && opts.headAnywhere !== true) await this.leaveForeignBranch(branch);
    }
    const gitDir = worktreeGitDir(this.path);
    if (gitDir === undefined) {
      // Without its .git file, git would find the main repository's git dir above us instead.
      throw new AutoresearchError('GIT_FAILED', `${this.path} is not an intact git worktree: expected a .git file there, found none (run ensureWorktree)`);
    }
    for (const { state, quit } of INTERRUPTED_OPERATIONS) {
      if (fs.existsSync(path.join(gitDir, state))) await this.git.run(quit);
    }
  }
}

/** The worktree's own git dir, from its `.git` file (`gitdir: <path>`) or `.git` directory. */
function worktreeGitDir(worktree: string): string | undefined {
  const dotGit = path.join(worktree, '.git');
  try {
    if (fs.statSync(dotGit).isDirectory()) return dotGit;
    // As git reads and follows it (git/gitfile.ts).
    const target = gitdirOfFile(dotGit);
    return (target === null ? null : followedPath(worktree, target)) ?? undefined;
  } catch {
    return undefined; // missing .git: not a worktree any more
  }
}

/** The agent's subjects, oldest first, as one line; the fallback when it wrote none. */
export function joinSubjects(subjects: string[], fallback: string): string {
  const named = subjects.map((s) => s.trim()).filter((s) => s !== '');
  if (named.length === 0) return fallback;
  const shown = named.slice(0, MAX_SUBJECTS);
  const more = named.length - shown.length;
  return shown.join('; ') + (more > 0 ? `; … (+${more} more commits)` : '');
}
