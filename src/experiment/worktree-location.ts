/**
 * Where an experiment's git worktree lives:
 *
 *   $AUTORESEARCH_WORKTREES/<repo-slug>/<domain>/<name>
 *   AUTORESEARCH_WORKTREES defaults to $XDG_STATE_HOME/autoresearch/worktrees,
 *   XDG_STATE_HOME to ~/.local/state.
 *
 * Why there: agents edit files in the worktree, and Claude Code refuses every edit to a path
 * with a `.git` component (the old place was `<git common dir>/autoresearch/worktrees/…`).
 * Outside the user's project, so their test runners and watchers never walk into it and
 * `git status` there never shows it. XDG *state* (kept across restarts), not a cache that
 * cleaners may wipe: the worktree holds the candidate an iteration is working on.
 * `<repo-slug>` is readable (the project's directory name) and unique per repository (a
 * hash of its git common dir), so two checkouts named `app` never share a directory.
 *
 * The choice is made in worktreesRoot() alone; worktreePath() composes it.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { AutoresearchError } from '../core/errors.js';
import { canonicalPath } from '../fs/canonical-path.js';

/** What the location depends on: the user's checkout and its repository's shared git dir (both realpaths). */
export interface RepositoryPlace {
  root: string;
  gitCommonDir: string;
}

const HINT = 'set AUTORESEARCH_WORKTREES to an absolute, writable directory outside the project and outside any .git directory';

/** The directory that holds every repository's experiment worktrees (see the module comment). */
export function worktreesRoot(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env.AUTORESEARCH_WORKTREES;
  if (explicit !== undefined && explicit !== '') {
    if (!path.isAbsolute(explicit)) {
      // Relative to what? The daemon and the CLI run from different directories: the path must not move with the cwd.
      throw new AutoresearchError('BAD_INPUT', `AUTORESEARCH_WORKTREES=${explicit}: expected an absolute path, found a relative one; ${HINT}`);
    }
    return path.resolve(explicit); // normalised: the path is compared with the one state.json records
  }
  // The XDG spec: a relative XDG_STATE_HOME is invalid and is ignored.
  const state = env.XDG_STATE_HOME;
  if (state !== undefined && path.isAbsolute(state)) return path.join(state, 'autoresearch', 'worktrees');
  const home = env.HOME;
  if (home === undefined || home === '' || !path.isAbsolute(home)) {
    throw new AutoresearchError(
      'BAD_INPUT',
      `cannot place experiment worktrees: HOME is ${home === undefined || home === '' ? 'not set' : `relative (${home})`} and neither ` +
        `AUTORESEARCH_WORKTREES nor XDG_STATE_HOME is set; ${HINT} (or set HOME)`,
    );
  }
  return path.join(home, '.local', 'state', 'autoresearch', 'worktrees');
}

/** `<directory name>-<10 hex of sha256(realpath of the git common dir)>`: stable, readable, unique per repository. */
export function repositorySlug(repo: RepositoryPlace): string {
  const name =
    path
      .basename(repo.root)
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^[.-]+/, '') // never a hidden name, never `.git`
      .slice(0, 40) || 'project';
  const hash = createHash('sha256').update(canonicalPath(repo.gitCommonDir)).digest('hex').slice(0, 10);
  return `${name}-${hash}`;
}

/**
 * The worktree of experiment `idKey` (`<domain>/<name>`) of this repository. Refuses a root
 * inside the project or inside a `.git` directory (a badly set AUTORESEARCH_WORKTREES) before
 * anything is written.
 */
export function worktreePath(repo: RepositoryPlace, idKey: string, env: NodeJS.ProcessEnv = process.env): string {
  const root = worktreesRoot(env);
  checkRoot(root, repo, env);
  const parts = idKey.split('/');
  if (parts.some((part) => part.toLowerCase() === '.git')) {
    throw new AutoresearchError('BAD_INPUT', `experiment ${idKey}: a name \`.git\` would put its worktree in a .git directory, which agents refuse to edit; rename the experiment`);
  }
  return path.join(root, repositorySlug(repo), ...parts);
}

/** Where worktrees lived before: inside the repository's git dir, which Claude Code refuses to edit. */
export function legacyWorktreePath(gitCommonDir: string, idKey: string): string {
  return path.join(gitCommonDir, 'autoresearch', 'worktrees', ...idKey.split('/'));
}

/**
 * Creates the repository's directory under the root (the worktree itself is made by git),
 * with a clear error naming the variable when it cannot be written.
 */
export function prepareWorktreeParent(worktree: string, env: NodeJS.ProcessEnv = process.env): void {
  const parent = path.dirname(worktree);
  try {
    fs.mkdirSync(parent, { recursive: true, mode: 0o700 });
    fs.accessSync(parent, fs.constants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new AutoresearchError('BAD_INPUT', `cannot create the experiment worktree's directory ${parent} (${code}): ${HINT}${whichVariable(env)}`, { cause: error });
  }
}

function whichVariable(env: NodeJS.ProcessEnv): string {
  if (env.AUTORESEARCH_WORKTREES) return ` (it is ${env.AUTORESEARCH_WORKTREES})`;
  if (env.XDG_STATE_HOME && path.isAbsolute(env.XDG_STATE_HOME)) return ` (the default comes from XDG_STATE_HOME=${env.XDG_STATE_HOME})`;
  return ` (the default comes from HOME=${env.HOME ?? ''})`;
}

function checkRoot(root: string, repo: RepositoryPlace, env: NodeJS.ProcessEnv): void {
  const real = canonicalPath(root);
  const source = env.AUTORESEARCH_WORKTREES ? `AUTORESEARCH_WORKTREES=${env.AUTORESEARCH_WORKTREES}` : `the worktree directory ${root}`;
  if (real.split(path.sep).some((part) => part.toLowerCase() === '.git') || isInside(real, canonicalPath(repo.gitCommonDir))) {
    throw new AutoresearchError(
      'BAD_INPUT',
      `${source} is inside a .git directory (${real}): agents such as Claude Code refuse to edit files there; ${HINT}`,
    );
  }
  const project = canonicalPath(repo.root);
  if (isInside(real, project)) {
    throw new AutoresearchError(
      'BAD_INPUT',
      `${source} is inside the project ${project}: its test runners and watchers would walk into the worktrees and \`git status\` would show them; ${HINT}`,
    );
  }
}

function isInside(p: string, dir: string): boolean {
  return p === dir || p.startsWith(dir.endsWith(path.sep) ? dir : dir + path.sep);
}

