/**
 * A linked worktree's `.git` file, read as git reads it (git's setup.c, read_gitfile_gently):
 * the file starts with `gitdir: `, and the path is every byte after that with only trailing
 * CR and LF removed (spaces, inner line breaks and any bytes kept). Reading it any other way
 * (the first line, trimmed, decoded leniently) lets a `.git` name one directory to us and
 * another to git. Git itself writes `gitdir: <path>\n`: a file it would read differently from
 * that plain form (a NUL, CR or LF inside the path, spaces at either end, bytes that are not
 * UTF-8) is refused here, never guessed at.
 */
import fs from 'node:fs';
import path from 'node:path';

const PREFIX = Buffer.from('gitdir: ');
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The git dir the `.git` file at `file` names (as written: relative paths stay relative), or null when it names none git and we would both read the same way. */
export function gitdirOfFile(file: string): string | null {
  return pathInFile(file, PREFIX);
}

/**
 * A path git keeps in a file of its own (a worktree's `commondir`, `gitdir`): the whole file
 * but its trailing CR/LF, as git reads it; null on the same terms as gitdirOfFile.
 */
export function pathOfFile(file: string): string | null {
  return pathInFile(file, Buffer.alloc(0));
}

export function gitdirOf(bytes: Buffer): string | null {
  return pathAfter(bytes, PREFIX);
}

function pathInFile(file: string, prefix: Buffer): string | null {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch {
    return null;
  }
  return pathAfter(bytes, prefix);
}

function pathAfter(bytes: Buffer, prefix: Buffer): string | null {
  if (!bytes.subarray(0, prefix.length).equals(prefix)) return null;
  let end = bytes.length;
  while (end > prefix.length && (bytes[end - 1] === 0x0a || bytes[end - 1] === 0x0d)) end--;
  const raw = bytes.subarray(prefix.length, end);
  if (raw.length === 0 || raw.includes(0x00) || raw.includes(0x0a) || raw.includes(0x0d)) return null;
  let text: string;
  try {
    text = strictUtf8.decode(raw);
  } catch {
    return null;
  }
  return text.trim() === text ? text : null;
}

/**
 * `p` (relative to `base`) as the system, and so git, follows it: each symlink resolved
 * before the `..` after it, never collapsed by text first. null when it leads nowhere.
 */
export function followedPath(base: string, p: string): string | null {
  try {
    return fs.realpathSync.native(path.isAbsolute(p) ? p : `${base}${path.sep}${p}`);
  } catch {
    return null;
  }
}

/** Where the symlink `file` points, for a message ('?' when it cannot be read). */
export function linkTarget(file: string): string {
  try {
    return fs.readlinkSync(file);
  } catch {
    return '?';
  }
}
