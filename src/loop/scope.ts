/**
 * The edit scope (SPEC §5): which repo-relative paths the agent may change. Entries are
 * paths or globs; a plain directory entry covers everything under it.
 */
import picomatch from 'picomatch';

export type ScopeMatcher = (repoPath: string) => boolean;

/** Compiled matchers by their entries: compiling costs ~0.5 ms, and the scope is checked every iteration. */
const compiled = new Map<string, ScopeMatcher>();

export function scopeMatcher(entries: readonly string[]): ScopeMatcher {
  const key = JSON.stringify(entries);
  let matcher = compiled.get(key);
  if (matcher === undefined) {
    if (compiled.size >= 64) compiled.clear(); // a config edited many times over a long run
    matcher = compileScope(entries);
    compiled.set(key, matcher);
  }
  return matcher;
}

function compileScope(entries: readonly string[]): ScopeMatcher {
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
