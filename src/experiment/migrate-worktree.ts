/**
 * Moving an experiment's worktree to where worktreePath() says it lives now: from the old
 * layout inside the git dir (legacyWorktreePath: `<git common dir>/autoresearch/worktrees/…`, which Claude Code
 * refuses to edit), or from any other recorded place (AUTORESEARCH_WORKTREES changed).
 *
 * Crash-safe in this order, each step idempotent:
 *  1. leftover processes of the killed run are killed and its stale git locks removed, with
 *     the OLD path (the path their environment carries, loop/recovery.ts);
 *  2. `git worktree move old new` (ProjectRepo.relocateWorktree finishes a cut-short move);
 *  3. state.json records the new path, durably.
 * A kill between 2 and 3 leaves the worktree registered at the new path while state.json
 * names the old one: the next start finds it there and only records it.
 */
import path from 'node:path';
import type { ProjectRepo } from '../git/project-repo.js';
import { clearLeftovers } from '../loop/recovery.js';
import type { LoopDeps } from './open-session.js';
import type { StateStore } from './state-store.js';
import { prepareWorktreeParent } from './worktree-location.js';

export async function migrateWorktree(store: StateStore, project: ProjectRepo, idKey: string, wanted: string, deps: LoopDeps): Promise<void> {
  const from = store.current.worktree;
  if (from === wanted) return;
  await clearLeftovers({ state: store.current, gitCommonDir: project.gitCommonDir, projectRoot: project.root, idKey, stateFile: store.file }, deps);
  prepareWorktreeParent(wanted, deps.env);
  const outcome = await project.relocateWorktree(from, wanted, emptyDirsUpTo(from, project.gitCommonDir, idKey));
  await store.update({ worktree: wanted });
  const what =
    outcome === 'gone'
      ? `the worktree recorded at ${from} no longer exists; it is created at ${wanted}`
      : `moved the worktree from ${from} to ${wanted} (worktrees no longer live inside .git, where agents may not edit)`;
  deps.report({ kind: 'warning', message: what });
}

/** How far up empty directories left by the move are removed: `<git dir>/autoresearch` for the old layout, else the repository's directory. */
function emptyDirsUpTo(from: string, gitCommonDir: string, idKey: string): string {
  const legacyRoot = path.join(gitCommonDir, 'autoresearch');
  if (path.resolve(from).startsWith(legacyRoot + path.sep)) return legacyRoot;
  const depth = idKey.split('/').length; // <root>/<repo-slug>/<domain>/<name>
  let dir = path.resolve(from);
  for (let i = 0; i < depth; i++) dir = path.dirname(dir);
  return dir;
}
