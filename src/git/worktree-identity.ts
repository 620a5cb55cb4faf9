/**
 * Is the experiment's worktree still what we made? Checked before every git step that
 * writes there (worktree.ts), from files only (no git process): the agent, or an evaluation,
 * can replace `.git` with a symlink to the main git dir (our next `checkout -B` would then
 * move the user's HEAD, index and branch) or with a repository of its own (`rm -rf .git &&
 * git init`). What git itself would follow from the worktree is checked:
 *   <worktree>/.git         a regular file `gitdir: <common>/worktrees/<x>`
 *   <common>/worktrees/<x>  registered for this path (its `gitdir` file names <worktree>/.git)
 *                           and sharing this repository (its `commondir` is <common>)
 *   its HEAD                our branch, or detached (a commit there moves no branch);
 *                           never another branch: a commit would move that branch.
 */
import fs from 'node:fs';
import path from 'node:path';
import { samePath } from '../fs/canonical-path.js';
import { followedPath, gitdirOfFile, linkTarget, pathOfFile } from './gitfile.js';
import { ownRefTampering } from './own-ref-files.js';

export interface Tampering {
  /** 'dotgit': the worktree no longer leads to its registration (rebuild it); 'head': HEAD is on another branch (a checkout fixes it). */
  kind: 'dotgit' | 'head';
  /** One line for the row: `.git replaced by a symlink to /repo/.git`. */
  reason: string;
}

/** null when `worktree` is the registered linked worktree of `gitCommonDir` with HEAD on `branch` (or detached). */
export function worktreeTampering(worktree: string, gitCommonDir: string, branch: string): Tampering | null {
  const dotGit = path.join(worktree, '.git');
  const dotgit = (reason: string): Tampering => ({ kind: 'dotgit', reason });
  // The directory itself swapped for a symlink (to the user's checkout, or one of their worktrees).
  if (isSymlink(worktree)) return dotgit(`the worktree directory ${worktree} was replaced by a symlink to ${linkTarget(worktree)}`);
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(dotGit);
  } catch {
    return dotgit(`${dotGit} is missing`);
  }
  if (stat.isSymbolicLink()) return dotgit(`.git replaced by a symlink to ${linkTarget(dotGit)}`);
  if (stat.isDirectory()) return dotgit(`.git replaced by a directory (a repository of its own, e.g. \`git init\`) at ${dotGit}`);
  if (!stat.isFile()) return dotgit(`${dotGit} is not a regular file`);
  // Read as git reads it, followed as git follows it (`s/../x` with `s` a symlink is not `x`).
  const target = gitdirOfFile(dotGit);
  if (target === null) return dotgit(`${dotGit} does not name a git dir as git writes it (expected "gitdir: <path>")`);
  const admin = followedPath(worktree, target);
  if (admin === null) return dotgit(`.git points at ${target}, which does not exist`);
  const worktreesDir = path.join(gitCommonDir, 'worktrees');
  if (!samePath(path.dirname(admin), worktreesDir)) return dotgit(`.git points at ${admin}, not at a worktree of ${gitCommonDir}`);
  const registeredFor = pathOfFile(path.join(admin, 'gitdir'));
  const registered = registeredFor === null ? null : followedPath(admin, registeredFor);
  if (registered === null || !samePath(registered, dotGit)) {
    return dotgit(`.git points at ${admin}, which is registered for ${registeredFor ?? 'no worktree'}, not for ${worktree}`);
  }
  const commonDir = pathOfFile(path.join(admin, 'commondir'));
  const common = commonDir === null ? null : followedPath(admin, commonDir);
  if (common === null || !samePath(common, gitCommonDir)) {
    return dotgit(`${admin}/commondir names ${commonDir ?? 'nothing'}, not ${gitCommonDir}`);
  }
  // Files git writes through (a symlink would send our index, HEAD or reflog writes to the user's).
  for (const name of ['HEAD', 'index', path.join('logs', 'HEAD')]) {
    if (isSymlink(path.join(admin, name))) return dotgit(`${path.join(admin, name)} was replaced by a symlink to ${linkTarget(path.join(admin, name))}`);
  }
  // The branch our commit and checkout -B write (a symbolic ref to `main` would move main).
  const branchRef = branch === '' ? null : ownRefTampering(gitCommonDir, `refs/heads/${branch}`);
  if (branchRef !== null) return dotgit(`the experiment branch's ref was tampered with: ${branchRef}`);
  // As git parses a symbolic ref: `ref:`, any spaces, the name (trailing whitespace dropped).
  const head = readText(path.join(admin, 'HEAD')) ?? '';
  const symref = head.startsWith('ref:') ? head.slice(4).trim() : undefined;
  if (symref !== undefined && symref !== `refs/heads/${branch}`) return { kind: 'head', reason: `HEAD is on ${symref}, not on the experiment branch ${branch}` };
  return null;
}

function isSymlink(file: string): boolean {
  try {
    return fs.lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

