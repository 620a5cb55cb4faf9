/**
 * The files behind a ref of ours (the experiment branch refs/heads/autoresearch/<id>, the
 * refs/autoresearch/<id>/... refs), as git would write them: each directory on the way from
 * the git dir a real directory, the ref a plain file holding a hash, its reflog a plain file.
 * An agent can make any of them lead into the user's refs: the branch a symbolic ref to
 * `main` (`git symbolic-ref`, which in git 2.39 runs no reference-transaction hook), a
 * directory on the way a symlink to refs/heads, the reflog a symlink to the stash's. Our
 * commit, `checkout -B` and `update-ref` would then move the user's branch or write their
 * stash's log. Checked from files only, like worktree-identity.ts; repaired by removing what
 * the agent put there (these paths are ours, never the user's).
 */
import fs from 'node:fs';
import path from 'node:path';
import { followedPath, linkTarget } from './gitfile.js';

/** Why `ref`'s files under `gitCommonDir` are not what git makes, or null. */
export function ownRefTampering(gitCommonDir: string, ref: string): string | null {
  for (const file of refFiles(gitCommonDir, ref)) {
    const found = misplaced(gitCommonDir, file);
    if (found !== null) return found.reason;
  }
  return null;
}

/** Remove whatever ownRefTampering finds (a symlink, a symbolic ref); returns what was removed. */
export function repairOwnRef(gitCommonDir: string, ref: string): string[] {
  const removed: string[] = [];
  for (const file of refFiles(gitCommonDir, ref)) {
    for (let found = misplaced(gitCommonDir, file); found !== null; found = misplaced(gitCommonDir, file)) {
      fs.rmSync(found.at, { force: true }); // a symlink itself, or our own ref file: never what a link points to
      removed.push(found.reason);
    }
  }
  return removed;
}

/** The loose ref and its reflog. */
function refFiles(gitCommonDir: string, ref: string): RefFile[] {
  return [
    { file: path.join(gitCommonDir, ref), log: false },
    { file: path.join(gitCommonDir, 'logs', ref), log: true },
  ];
}

interface RefFile {
  file: string;
  /** A reflog: any plain file is fine (a loose ref must not be a symbolic one). */
  log: boolean;
}

/** gitCommonDir's realpath, asked once (a stale answer only sends misplaced to its full walk). */
const canonicalCommonDirs = new Map<string, string | null>();

/** The first thing on the way to `file` (below the git dir) that git would not have made. */
function misplaced(gitCommonDir: string, ref: RefFile): { at: string; reason: string } | null {
  // The usual case in four syscalls: the directories resolve to themselves, the ref is a plain file.
  if (!canonicalCommonDirs.has(gitCommonDir)) canonicalCommonDirs.set(gitCommonDir, followedPath(gitCommonDir, gitCommonDir));
  const common = canonicalCommonDirs.get(gitCommonDir) ?? null;
  const dir = followedPath(gitCommonDir, path.dirname(ref.file));
  if (common !== null && dir === path.join(common, path.relative(gitCommonDir, path.dirname(ref.file)))) {
    let stat: fs.Stats | undefined;
    try {
      stat = fs.lstatSync(ref.file, { throwIfNoEntry: false });
    } catch {
      stat = undefined;
    }
    if (stat === undefined || (stat.isFile() && (ref.log || !readStart(ref.file).startsWith('ref:')))) return null;
  }
  return walk(gitCommonDir, ref);
}

/** misplaced, component by component. */
function walk(gitCommonDir: string, { file, log }: RefFile): { at: string; reason: string } | null {
  const parts = path.relative(gitCommonDir, file).split(path.sep);
  let at = gitCommonDir;
  for (const [i, part] of parts.entries()) {
    at = path.join(at, part);
    let stat: fs.Stats;
    try {
      stat = fs.lstatSync(at);
    } catch {
      return null; // not there (yet): git makes it as it should
    }
    const last = i === parts.length - 1;
    if (stat.isSymbolicLink()) return { at, reason: `${at} is a symlink (to ${linkTarget(at)})` };
    if (!last && !stat.isDirectory()) return null; // git fails on it rather than follow it
    if (last && !log && stat.isFile() && readStart(at).startsWith('ref:')) {
      return { at, reason: `${at} is a symbolic ref (${readStart(at).trim()})` };
    }
  }
  return null;
}

function readStart(file: string): string {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const buffer = Buffer.alloc(256);
      return buffer.toString('utf8', 0, fs.readSync(fd, buffer, 0, buffer.length, 0));
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return '';
  }
}
