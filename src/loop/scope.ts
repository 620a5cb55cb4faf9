/**
 * The edit scope (SPEC §5): which repo-relative paths the agent may change. Entries are
 * paths or globs; a plain directory entry covers everything under it.
 */
import picomatch from 'picomatch';

export type ScopeMatcher = (repoPath: string) => boolean;

export function scopeMatcher(entries: readonly string[]): ScopeMatcher {
  const patterns = entries.flatMap((raw) => {
    const entry = raw.replace(/^\.\//, '').replace(/\/+$/, '');
    // `src` or `src/` also means "anything under src".
    return [entry, `${entry}/**`];
  });
  return picomatch(patterns, { dot: true });
}

/** The changed paths that fall outside the scope (empty = in scope). */
export function outOfScope(changedPaths: readonly string[], entries: readonly string[]): string[] {
  const inScope = scopeMatcher(entries);
  return changedPaths.filter((p) => !inScope(p));
}
