/**
 * The experiment directory's own files, where the evaluation expects them. The seed skill
 * copies its evaluator to `.autoresearch/<domain>/<name>/evaluate.py` (untracked) and runs
 * `python3 .autoresearch/<domain>/<name>/evaluate.py` from the project root; we evaluate in
 * a worktree, where that path would not exist. So right before each evaluation, the user's
 * files of the experiment directory (config.cfg, program.md, evaluate.py, data next to them:
 * everything but the daemon-owned files and the skill's logs) are copied to the same
 * relative path inside the worktree, read-only, replacing whatever is there: the evaluator
 * the evaluation runs is always the user's, never one the agent wrote (tamper protection).
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

function copyReadOnly(from: string, to: string, rel: string, placed: string[]): void {
  const stat = fs.lstatSync(from);
  if (stat.isDirectory()) {
    fs.mkdirSync(to, { recursive: true });
    for (const name of fs.readdirSync(from)) copyReadOnly(path.join(from, name), path.join(to, name), path.join(rel, name), placed);
    return;
  }
  if (!stat.isFile()) return; // sockets, fifos, symlinks: nothing an evaluation reads as a file of ours
  fs.mkdirSync(path.dirname(to), { recursive: true });
  // Removed first: the previous copy is read-only, and the agent may have put anything there.
  fs.rmSync(to, { recursive: true, force: true });
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
