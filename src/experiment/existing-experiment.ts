/**
 * `init` of an id that already exists: what is there (so the refusal can say it), and, with
 * `--force`, setting the old experiment aside without losing anything. The daemon-owned
 * files (results.tsv, state.json, runs/, logs, report/) move to `archive/<ms>/` in the
 * experiment dir, next to copies of the old config.cfg and program.md; the experiment branch,
 * when it holds commits HEAD lacks, is saved under refs/autoresearch/<id>/backup/<ms>
 * (git/branch-backup.ts) before it is pointed back at HEAD and its worktree removed. All of it
 * under the experiment's run lock, so a running experiment is refused, never pulled apart.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ExperimentId, Scope } from '../config/types.js';
import { AutoresearchError, errorMessage } from '../core/errors.js';
import { readFileIfExists } from '../fs/durable.js';
import { backUpBranchWork, type BranchBackup } from '../git/branch-backup.js';
import { GitClient } from '../git/git-client.js';
import { parseWorktreeList } from '../git/parse.js';
import { parseLedgerText } from '../ledger/tsv-format.js';
import { isSameProcessAlive } from '../process/process-identity.js';
import { archivedCandidatesPrefix, branchName, experimentPaths } from './paths.js';
import { acquireLock, readLockOwner, type HeldLock, type LockOwner } from './run-lock.js';

/** Where an experiment's replaced files go: `archive/<ms>/` in its dir (daemon-owned, ignored by git). */
const ARCHIVE_DIR = 'archive';

/** What an existing experiment has, for the message that refuses to overwrite it. */
export interface ExistingExperiment {
  id: ExperimentId;
  dir: string;
  location: Scope;
  /** Rows of results.tsv (null: no results.tsv, or one that does not parse). */
  rows: number | null;
  /** Why results.tsv does not parse (it is archived by --force all the same), else null. */
  unreadable: string | null;
  branch: { name: string; tip: string } | null;
  /** A worktree that has the experiment branch checked out. */
  worktree: string | null;
  /** The process that holds the experiment's run lock, when it is alive. */
  runningOwner: LockOwner | null;
}

export async function describeExisting(projectRoot: string, id: ExperimentId, dir: string, location: Scope): Promise<ExistingExperiment> {
  const paths = experimentPaths(dir);
  const ledger = await readFileIfExists(paths.results);
  let rows: number | null = null;
  let unreadable: string | null = null;
  try {
    rows = ledger === null ? null : parseLedgerText(ledger, paths.results).rows.length;
  } catch (error) {
    unreadable = errorMessage(error); // a damaged ledger is what starting over is for: said, not fatal
  }
  const git = new GitClient(projectRoot, { GIT_OPTIONAL_LOCKS: '0' });
  const name = branchName(id.key);
  const found = await git.run(['rev-parse', '-q', '--verify', `refs/heads/${name}^{commit}`], [1]);
  const branch = found.exitCode === 0 ? { name, tip: found.stdout.trim() } : null;
  const worktrees = parseWorktreeList(await git.out(['worktree', 'list', '--porcelain']));
  const worktree = worktrees.find((w) => w.branch === `refs/heads/${name}` && !w.prunable)?.path ?? null;
  const owner = await readLockOwner(paths.lock);
  return { id, dir, location, rows, unreadable, branch, worktree, runningOwner: owner !== null && isSameProcessAlive(owner) ? owner : null };
}

/** The refusal: what exists, that nothing was written, and what --force would do. */
export function existingMessage(e: ExistingExperiment): string {
  const lines = [`experiment ${e.id.key}: expected a new experiment, found one in ${e.dir} (${e.location} location); nothing was written:`];
  lines.push(`  config.cfg   ${path.join(e.dir, 'config.cfg')}`);
  lines.push(`  results.tsv  ${e.unreadable !== null ? `unreadable: ${e.unreadable}` : e.rows === null ? 'none' : `${e.rows} row${e.rows === 1 ? '' : 's'}`}`);
  lines.push(`  branch       ${e.branch === null ? 'none' : `${e.branch.name} at ${e.branch.tip.slice(0, 7)}`}`);
  lines.push(`  worktree     ${e.worktree ?? 'none'}`);
  if (e.runningOwner !== null) lines.push(`  running      pid ${e.runningOwner.pid} since ${e.runningOwner.since}: ${e.runningOwner.command}`);
  lines.push(
    `to keep it: edit its config.cfg, or pick another name; to start it over: the same command with --force ` +
      `(its results.tsv, state and runs/ move to ${path.join(e.dir, ARCHIVE_DIR, '<ms>')}/, its branch is kept under refs/autoresearch/${e.id.key}/backup/<ms>)`,
  );
  return lines.join('\n');
}

/** The run lock, or a refusal that says the experiment is running and nothing was written. */
export async function lockForReplace(dir: string, id: ExperimentId): Promise<HeldLock> {
  try {
    return await acquireLock(experimentPaths(dir).lock, { what: `experiment ${id.key}`, command: 'autoresearch init --force' });
  } catch (error) {
    if (error instanceof AutoresearchError && error.code === 'LOCKED') {
      throw new AutoresearchError('LOCKED', `init --force: ${error.message}; nothing was written: stop it first (\`autoresearch pause ${id.key}\`, or stop the daemon)`);
    }
    throw error;
  }
}

export interface SetAside {
  /** The archive directory (null: there was nothing to move). */
  archive: string | null;
  /** Names moved or copied into it. */
  archived: string[];
  /** The branch's old tip, when it held commits HEAD lacks. */
  branchBackup: BranchBackup | null;
  /** Where the old run's rejected candidates (refs/autoresearch/<id>/<n>) now are, and how many (null: there were none). */
  candidates: { prefix: string; count: number } | null;
  /** Whether the branch now points at HEAD (it existed and was moved). */
  branchReset: boolean;
  worktreeRemoved: string | null;
}

/** Names in an experiment dir that belong to a run of it; moved aside by --force. */
const RUN_FILES = ['results.tsv', 'state.json', 'runs', 'autoresearch.log', 'setup.log', 'report', 'pause.request', 'resume.request'];
/** The user's files that --force overwrites: copied aside first. */
const USER_FILES = ['config.cfg', 'program.md', 'evaluate.mjs'];

/**
 * Move the old run's files aside, save and reset the branch, remove its worktree. The caller
 * holds the run lock (lockForReplace) and writes the new files afterwards. `ownWorktree`: the
 * path this experiment's worktree has; a worktree elsewhere (the user's checkout on the
 * branch, say) is never removed, and the branch it holds is then not moved either.
 */
export async function setAsideExperiment(projectRoot: string, id: ExperimentId, dir: string, ownWorktree: string, now: number): Promise<SetAside> {
  const git = new GitClient(projectRoot, { GIT_OPTIONAL_LOCKS: '0' });
  // First: once runs/ is gone, the next run gives out the old iteration numbers again (also
  // after a kill right here), and its candidates would overwrite these refs.
  const candidates = await archiveCandidateRefs(git, id.key, now);
  const archive = path.join(dir, ARCHIVE_DIR, String(now));
  const archived: string[] = [];
  for (const name of [...USER_FILES, ...RUN_FILES]) {
    const from = path.join(dir, name);
    const stat = await fs.lstat(from).catch(() => null);
    if (stat === null) continue;
    await fs.mkdir(archive, { recursive: true });
    if (USER_FILES.includes(name)) await fs.copyFile(from, path.join(archive, name));
    else await fs.rename(from, path.join(archive, name));
    archived.push(name);
  }

  const branch = branchName(id.key);
  const head = (await git.out(['rev-parse', '--verify', 'HEAD^{commit}'])).trim();
  const branchBackup = await backUpBranchWork(projectRoot, id.key, branch, head, now);
  let worktreeRemoved: string | null = null;
  let branchReset = false;
  const tip = await git.run(['rev-parse', '-q', '--verify', `refs/heads/${branch}^{commit}`], [1]);
  if (tip.exitCode === 0) {
    const holder = parseWorktreeList(await git.out(['worktree', 'list', '--porcelain'])).find((w) => w.branch === `refs/heads/${branch}`);
    if (holder !== undefined && (await samePath(holder.path, ownWorktree))) {
      // The loop's scratch checkout: nothing in it is kept (kept work is on the branch, saved above).
      await git.run(['worktree', 'remove', '--force', '--force', holder.path]);
      worktreeRemoved = holder.path;
    }
    if (holder === undefined || worktreeRemoved !== null) {
      if (tip.stdout.trim() !== head) {
        await git.run(['update-ref', '-m', `autoresearch: init --force started ${id.key} over`, `refs/heads/${branch}`, head]);
        branchReset = true;
      }
    }
  }
  return { archive: archived.length === 0 ? null : archive, archived, candidates, branchBackup, branchReset, worktreeRemoved };
}

/**
 * The new run numbers its iterations from 0 again and writes its rejected candidates to
 * refs/autoresearch/<id>/<n>: the old run's are moved under archive/<ms>/ first, or they would
 * be overwritten (and lost at the next gc). Copy, then delete: a kill in between leaves both.
 */
async function archiveCandidateRefs(git: GitClient, idKey: string, now: number): Promise<{ prefix: string; count: number } | null> {
  const own = `refs/autoresearch/${idKey}/`;
  const prefix = archivedCandidatesPrefix(idKey, now);
  let count = 0;
  for (const line of (await git.out(['for-each-ref', '--format=%(objectname) %(refname)', own])).split('\n')) {
    const [commit, ref] = line.split(' ');
    if (commit === undefined || ref === undefined || !/^\d+$/.test(ref.slice(own.length))) continue;
    await git.run(['update-ref', '--no-deref', '-m', `autoresearch: init --force archived ${ref}`, `${prefix}${ref.slice(own.length)}`, commit]);
    await git.run(['update-ref', '--no-deref', '-d', ref, commit]);
    count += 1;
  }
  return count === 0 ? null : { prefix, count };
}

async function samePath(a: string, b: string): Promise<boolean> {
  const real = async (p: string) => fs.realpath(p).catch(() => path.resolve(p));
  return (await real(a)) === (await real(b));
}
