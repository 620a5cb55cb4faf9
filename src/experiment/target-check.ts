/**
 * `init`'s check that every `target` (and `--allow`) entry (a path, a directory or a glob) names at least one
 * file the experiment will start from: a file committed at HEAD, since each experiment's
 * worktree is created from the project's HEAD. A file that exists only in the user's
 * checkout (untracked or not committed yet) gets its own message. `run`'s preflight
 * (preflight.ts) uses the same matching for target and scope.
 */
import { execa } from 'execa';
import { AutoresearchError } from '../core/errors.js';
import { scopeMatcher } from '../loop/scope.js';

export async function assertTargetsExist(projectRoot: string, targets: readonly string[], flag = '--target'): Promise<void> {
  const committed = await filesAtCommit(projectRoot, 'HEAD');
  if (committed === null) {
    throw new AutoresearchError(
      'BAD_INPUT',
      `${projectRoot}: expected a commit to start experiments from (HEAD), found none; commit the project first (\`git add -A && git commit -m initial\`)`,
    );
  }
  const missing = unmatchedEntries(committed, targets);
  if (missing.length === 0) return;

  const present = await filesInCheckout(projectRoot);
  const lines = missing.map((t) =>
    unmatchedEntries(present, [t]).length === 0
      ? `  ${t}: matches files in your checkout that are not committed; experiments start from HEAD: commit them first`
      : `  ${t}: matches no file in ${projectRoot}`,
  );
  throw new AutoresearchError(
    'BAD_INPUT',
    [`${flag}: expected each comma-separated path or glob to match at least one committed file, found ${missing.length === 1 ? 'one that does not' : `${missing.length} that do not`}; nothing was written:`, ...lines].join('\n'),
  );
}

/** Every file committed at `rev` (null: no such commit, e.g. a repository without one). */
export async function filesAtCommit(projectRoot: string, rev: string): Promise<string[] | null> {
  const listed = await execa('git', ['ls-tree', '--full-tree', '-r', '--name-only', '-z', rev], { cwd: projectRoot, reject: false });
  return listed.exitCode === 0 ? splitZ(listed.stdout) : null;
}

/** Tracked and untracked (not ignored) files of the user's checkout. */
export async function filesInCheckout(projectRoot: string): Promise<string[]> {
  const onDisk = await execa('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: projectRoot, reject: false });
  return onDisk.exitCode === 0 ? splitZ(onDisk.stdout) : [];
}

/** The entries (paths, directories or globs, as in `target` and `scope`) that match none of `files`. */
export function unmatchedEntries(files: readonly string[], entries: readonly string[]): string[] {
  return entries.filter((entry) => {
    const matches = scopeMatcher([entry]);
    return !files.some((file) => matches(file));
  });
}

function splitZ(text: string): string[] {
  return text.split('\0').filter((p) => p !== '');
}
