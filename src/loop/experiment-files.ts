/**
 * The experiment directory's own files, where the evaluation expects them. The seed skill
 * copies its evaluator to `.autoresearch/<domain>/<name>/evaluate.py` (untracked) and runs
 * `python3 .autoresearch/<domain>/<name>/evaluate.py` from the project root; we evaluate in
 * a worktree, where that path would not exist. So right before each evaluation, the user's
 * files of the experiment directory (config.cfg, program.md, evaluate.py, data next to them:
 * everything but the daemon-owned files and the skill's logs) are copied to the same
 * relative path inside the worktree, read-only, replacing whatever is there: the evaluator
 * the evaluation runs is always the user's, never one the agent wrote (tamper protection).
 * The directory is made an exact copy: whatever else the agent left there (a `json.py` the
 * evaluator would import instead of the stdlib's) is removed first, and a symlink the agent
 * put anywhere on that path (to the user's own experiment directory, say) is replaced by a
 * real directory, never written through. A symlink in the user's directory is placed as the
 * same link.
 *
 * They never reach a candidate: they are placed after the candidate is captured, and every
 * evaluation is followed by a restore of the worktree (record, roll-back, or recovery on the
 * next start), whose `checkout --force` + `clean -fd` puts tracked files back and removes
 * untracked ones. (Copies that the project's .gitignore ignores stay until the next
 * evaluation overwrites them; being ignored, they are never captured either.) An agent that
 * writes under `.autoresearch/` itself changes a path outside its scope: a scope violation.
 *
 * A user-scope experiment ($AUTORESEARCH_HOME) is outside the project: its commands use
 * absolute paths, and nothing is copied.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Session } from '../experiment/open-session.js';
import { DAEMON_OWNED } from '../experiment/paths.js';
import { isErrno } from '../fs/durable.js';

/** The seed skill's own logs in an experiment directory (its .autoresearch/.gitignore). */
const SEED_LOGS = ['run.log', 'run.*.log'] as const;

/** Copy the experiment directory's user files into the worktree; returns the relative paths placed. */
export function placeExperimentFiles(session: Session): string[] {
  return placeExperimentFilesIn(session.store.current.worktree, session.config, session.project.root);
}

/** The same for any worktree of the project (init's baseline runs in a throwaway one). */
export function placeExperimentFilesIn(worktree: string, config: Pick<Session['config'], 'dir' | 'scope'>, projectRoot: string): string[] {
  const source = realpathOrNull(config.dir);
  if (source === null) return [];
  const rel = path.relative(projectRoot, source);
  if (config.scope === 'user' || rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return [];
  const target = path.join(worktree, rel);
  realDirectoryAt(worktree, rel);
  for (const name of fs.readdirSync(target)) removeTree(path.join(target, name));
  const placed: string[] = [];
  for (const entry of fs.readdirSync(source, { withFileTypes: true })) {
    if (isExcluded(entry.name, entry.isDirectory())) continue;
    copyReadOnly(path.join(source, entry.name), path.join(target, entry.name), path.join(rel, entry.name), placed);
  }
  return placed;
}

/** Daemon-owned names (DAEMON_OWNED: `x`, `x.*`, `*.tmp`, `dir/`) and the skill's logs. */
export function isExcluded(name: string, isDirectory: boolean): boolean {
  return [...DAEMON_OWNED, ...SEED_LOGS].some((pattern) => {
    if (pattern.endsWith('/')) return isDirectory && name === pattern.slice(0, -1);
    const star = pattern.indexOf('*');
    if (star < 0) return name === pattern;
    return name.startsWith(pattern.slice(0, star)) && name.endsWith(pattern.slice(star + 1)) && name.length >= pattern.length - 1;
  });
}

/**
 * Every component of `rel` under `root` a real directory: a symlink or a file the agent left
 * in its place is removed (the link itself, never what it points to), then the directory made.
 */
function realDirectoryAt(root: string, rel: string): void {
  let at = root;
  for (const part of rel.split(path.sep)) {
    at = path.join(at, part);
    const stat = lstatOrNull(at);
    if (stat?.isDirectory() === true) continue;
    if (stat !== null) removeTree(at);
    fs.mkdirSync(at);
  }
}

/** rm -rf that never follows a symlink and gets through directories the agent made read-only. */
function removeTree(p: string): void {
  const stat = lstatOrNull(p);
  if (stat === null) return;
  if (stat.isDirectory()) {
    fs.chmodSync(p, 0o700);
    for (const name of fs.readdirSync(p)) removeTree(path.join(p, name));
    fs.rmdirSync(p);
    return;
  }
  fs.unlinkSync(p);
}

function lstatOrNull(p: string): fs.Stats | null {
  try {
    return fs.lstatSync(p);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return null;
    throw error;
  }
}

function copyReadOnly(from: string, to: string, rel: string, placed: string[]): void {
  const stat = fs.lstatSync(from);
  if (stat.isDirectory()) {
    fs.mkdirSync(to, { recursive: true });
    for (const name of fs.readdirSync(from)) copyReadOnly(path.join(from, name), path.join(to, name), path.join(rel, name), placed);
    return;
  }
  if (stat.isSymbolicLink()) {
    // Data the user linked into the experiment directory: the same link, resolved from the
    // same place in the worktree as from the project root.
    fs.symlinkSync(fs.readlinkSync(from), to);
    placed.push(rel);
    return;
  }
  if (!stat.isFile()) return; // sockets, fifos: nothing an evaluation reads as a file of ours
  fs.copyFileSync(from, to);
  fs.chmodSync(to, stat.mode & 0o555);
  placed.push(rel);
}

function realpathOrNull(p: string): string | null {
  try {
    return fs.realpathSync(p);
  } catch {
    return null;
  }
}
