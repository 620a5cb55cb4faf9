/**
 * What the ref guard (ref-guard.ts) can learn from files instead of starting git on every
 * agent turn: whether any ref may have changed, and whether the config that says where the
 * user's hooks are may have changed. Both answers are conservative: "maybe" (a different
 * fingerprint, or null when the files cannot say) makes the caller ask git as before.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Above this, reading the ref files costs more than one `git for-each-ref`: ask git. */
const MAX_REF_FILES = 5000;
const MAX_REF_BYTES = 4 * 1024 * 1024;

/**
 * Every ref file of the files backend under `gitDirs` (the common dir, and the user's
 * checkout's own git dir when it is a linked worktree): each loose ref's path and content,
 * and packed-refs. With the files backend every ref update rewrites one of these (a loose
 * ref by lock + rename, packed-refs whole), so an unchanged fingerprint means unchanged refs.
 * The daemon's own refs (refs/autoresearch/, the experiment branches) are left out: they
 * change every iteration and the guard never compares them. Null (ask git): a reftable
 * repository, an unreadable file, or too many refs.
 */
export function refFilesFingerprint(gitDirs: readonly string[]): string | null {
  const parts: string[] = [];
  let files = 0;
  let bytes = 0;
  const add = (name: string, content: string): boolean => {
    parts.push(`${name}\0${content}\0`);
    files++;
    bytes += content.length;
    return files <= MAX_REF_FILES && bytes <= MAX_REF_BYTES;
  };
  const walk = (dir: string, rel: string): boolean => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'ENOENT'; // no such namespace: nothing to list
    }
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const name = `${rel}/${entry.name}`;
      if (entry.isDirectory()) {
        if (name === 'refs/autoresearch' || name === 'refs/heads/autoresearch') continue;
        if (!walk(path.join(dir, entry.name), name)) return false;
      } else if (!add(name, fs.readFileSync(path.join(dir, entry.name), 'latin1'))) return false;
    }
    return true;
  };
  try {
    for (const [i, gitDir] of gitDirs.entries()) {
      if (fs.existsSync(path.join(gitDir, 'reftable'))) return null;
      parts.push(`#${i}\0`);
      if (!walk(path.join(gitDir, 'refs'), 'refs')) return null;
      const packed = readIfExists(path.join(gitDir, 'packed-refs'));
      if (packed !== null && !add('packed-refs', packed)) return null;
    }
  } catch {
    return null; // a file vanished mid-read (a ref being rewritten), or is unreadable: ask git
  }
  return parts.join('');
}

/**
 * What `git rev-parse --git-path hooks` in the user's checkout depends on: core.hooksPath in
 * the environment's config and in every config file git reads there (system, global, the
 * repository's, the worktree's, and the files they include), each by identity and size and
 * mtime. The same key: the answer git gave last time still holds.
 */
export function hooksPathKey(gitCommonDir: string, userGitDir: string, env: NodeJS.ProcessEnv = process.env): string {
  const home = env.HOME ?? os.homedir();
  const xdg = env.XDG_CONFIG_HOME || path.join(home, '.config');
  const files = [
    env.GIT_CONFIG_NOSYSTEM ? null : (env.GIT_CONFIG_SYSTEM ?? '/etc/gitconfig'),
    ...(env.GIT_CONFIG_GLOBAL !== undefined ? [env.GIT_CONFIG_GLOBAL] : [path.join(xdg, 'git', 'config'), path.join(home, '.gitconfig')]),
    path.join(gitCommonDir, 'config'),
    path.join(userGitDir, 'config.worktree'),
  ].filter((f): f is string => f !== null && f !== '');
  const seen = new Set<string>();
  const signatures: string[] = [];
  const visit = (file: string, depth: number): void => {
    if (seen.has(file) || depth > 10) return;
    seen.add(file);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(file);
    } catch {
      signatures.push(`${file}:missing`);
      return;
    }
    signatures.push(`${file}:${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeMs}:${stat.ctimeMs}`);
    let text = '';
    try {
      text = readIfExists(file) ?? '';
    } catch {
      // unreadable (a directory, no permission): git cannot read it either
    }
    for (const included of includedFiles(text, path.dirname(file), home)) visit(included, depth + 1);
  };
  for (const file of files) visit(file, 0);
  const environment = Object.keys(env)
    .filter((k) => k.startsWith('GIT_CONFIG') && k !== 'GIT_CONFIG_COUNT' && !/^GIT_CONFIG_(KEY|VALUE)_\d+$/.test(k))
    .sort()
    .map((k) => `${k}=${env[k]}`);
  return [...environment, ...signatures].join('\n');
}

/** The `path` values of [include] and [includeIf …] sections (resolved as git resolves them). */
function includedFiles(config: string, dir: string, home: string): string[] {
  const out: string[] = [];
  let inInclude = false;
  for (const raw of config.split('\n')) {
    const line = raw.trim();
    const section = /^\[\s*([A-Za-z0-9.-]+)/.exec(line);
    if (section !== null) inInclude = /^include(if)?$/i.test(section[1] ?? '');
    const value = /^(?:\[[^\]]*\]\s*)?path\s*=\s*(.*)$/i.exec(line)?.[1];
    if (!inInclude || value === undefined) continue;
    const unquoted = value.replace(/^"(.*)"$/, '$1').trim();
    if (unquoted === '') continue;
    const expanded = unquoted.startsWith('~/') ? path.join(home, unquoted.slice(2)) : unquoted;
    out.push(path.resolve(dir, expanded));
  }
  return out;
}

function readIfExists(file: string): string | null {
  try {
    return fs.readFileSync(file, 'latin1');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}
