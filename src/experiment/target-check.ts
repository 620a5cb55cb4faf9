/**
 * `init`'s check that every `target` entry (a path, a directory or a glob) names at least one
 * file the experiment will start from: a file committed at HEAD, since each experiment's
 * worktree is created from the project's HEAD. A file that exists only in the user's
 * checkout (untracked or not committed yet) gets its own message.
 */
import { execa } from 'execa';
import { AutoresearchError } from '../core/errors.js';
import { scopeMatcher } from '../loop/scope.js';

export async function assertTargetsExist(projectRoot: string, targets: readonly string[]): Promise<void> {
  const head = await execa('git', ['ls-tree', '-r', '--name-only', '-z', 'HEAD'], { cwd: projectRoot, reject: false });
  if (head.exitCode !== 0) {
    throw new AutoresearchError(
      'BAD_INPUT',
      `${projectRoot}: expected a commit to start experiments from (HEAD), found none; commit the project first (\`git add -A && git commit -m initial\`)`,
    );
  }
  const committed = splitZ(head.stdout);
  const matchesAny = (files: readonly string[], target: string): boolean => {
    const matches = scopeMatcher([target]);
    return files.some((file) => matches(file));
  };
  const missing = targets.filter((t) => !matchesAny(committed, t));
  if (missing.length === 0) return;

  const onDisk = await execa('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: projectRoot, reject: false });
  const present = onDisk.exitCode === 0 ? splitZ(onDisk.stdout) : [];
  const lines = missing.map((t) =>
    matchesAny(present, t)
      ? `  ${t}: matches files in your checkout that are not committed; experiments start from HEAD: commit them first`
      : `  ${t}: matches no file in ${projectRoot}`,
  );
  throw new AutoresearchError(
    'BAD_INPUT',
    [`--target: expected each comma-separated path or glob to match at least one committed file, found ${missing.length === 1 ? 'one that does not' : `${missing.length} that do not`}; nothing was written:`, ...lines].join('\n'),
  );
}

function splitZ(text: string): string[] {
  return text.split('\0').filter((p) => p !== '');
}
