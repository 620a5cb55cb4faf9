/**
 * Parsers for the machine-readable git output we use. Paths come from `-z` output, so they
 * are raw (no quoting) and may contain spaces, quotes or newlines.
 */

/** NUL-separated fields; the empty field after the last NUL is dropped. */
export function splitNul(output: string): string[] {
  const fields = output.split('\0');
  if (fields.at(-1) === '') fields.pop();
  return fields;
}

export interface StatusSummary {
  /** HEAD's commit, or null on an unborn branch (`git checkout --orphan`). */
  head: string | null;
  /** The branch HEAD is on (short name), or null when HEAD is detached. */
  branch: string | null;
  /** Anything to commit: changed, deleted, unmerged or untracked (not ignored) paths. */
  dirty: boolean;
  /** One entry per changed path: `1` ordinary, `2` renamed/copied, `u` unmerged, `?` untracked. */
  entries: StatusEntry[];
}

export interface StatusEntry {
  type: '1' | '2' | 'u' | '?';
  /** Index and worktree state against HEAD (`.M`, `M.`, `D.`…); `??` for untracked. */
  xy: string;
  path: string;
}

/** `git status --porcelain=v2 --branch -z`: the branch headers come first, then one entry per changed path. */
export function parseStatus(output: string): StatusSummary {
  let head: string | null = null;
  let branch: string | null = null;
  const entries: StatusEntry[] = [];
  const fields = splitNul(output);
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i] ?? '';
    if (field.startsWith('# ')) {
      const [, key, value] = /^# (\S+) (.*)$/.exec(field) ?? [];
      if (key === 'branch.oid') head = value === '(initial)' ? null : (value ?? null);
      if (key === 'branch.head') branch = value === '(detached)' ? null : (value ?? null);
      continue;
    }
    const type = field[0];
    if (type === '?') entries.push({ type, xy: '??', path: field.slice(2) });
    else if (type === '1' || type === 'u') entries.push({ type, xy: field.slice(2, 4), path: nthField(field, type === '1' ? 8 : 10) });
    else if (type === '2') {
      entries.push({ type, xy: field.slice(2, 4), path: nthField(field, 9) });
      i++; // the original path follows in its own NUL-terminated field
    }
  }
  return { head, branch, dirty: entries.length > 0, entries };
}

/** Everything after the n-th space: the path of a porcelain v2 entry (paths may contain spaces). */
function nthField(entry: string, n: number): string {
  let at = -1;
  for (let k = 0; k < n; k++) at = entry.indexOf(' ', at + 1);
  return entry.slice(at + 1);
}

export interface WorktreeEntry {
  path: string;
  head: string | null;
  /** Full ref (`refs/heads/...`), or null when detached or bare. */
  branch: string | null;
  locked: boolean;
  /** Git saw that the worktree's directory is gone (git >= 2.31 reports it). */
  prunable: boolean;
}

/** `git worktree list --porcelain`: one block per worktree, `<attribute> <value>` lines, blank line between blocks. */
export function parseWorktreeList(output: string): WorktreeEntry[] {
  const entries: WorktreeEntry[] = [];
  let current: WorktreeEntry | undefined;
  for (const line of output.split('\n')) {
    const space = line.indexOf(' ');
    const key = space === -1 ? line : line.slice(0, space);
    const value = space === -1 ? '' : line.slice(space + 1);
    if (key === 'worktree') {
      current = { path: value, head: null, branch: null, locked: false, prunable: false };
      entries.push(current);
    } else if (current !== undefined) {
      if (key === 'HEAD') current.head = value;
      else if (key === 'branch') current.branch = value;
      else if (key === 'locked') current.locked = true;
      else if (key === 'prunable') current.prunable = true;
    }
  }
  return entries;
}

export interface CommitSummary {
  commit: string;
  short: string;
  parents: string[];
  subject: string;
  /** Paths changed against the first parent (both sides of a rename); empty for a merge. */
  paths: string[];
}

/** The `--format` for parseCommit; use with `git log -1 -z --name-only --no-renames`. */
export const COMMIT_FORMAT = '%H%x00%h%x00%P%x00%s';

/**
 * `git log -1 -z --name-only --format=COMMIT_FORMAT`: four NUL-separated fields, a NUL, then
 * (if the commit changed anything) a newline and NUL-terminated paths.
 */
export function parseCommit(output: string): CommitSummary {
  const [commit, short, parents, subject, ...rest] = splitNul(output);
  if (commit === undefined || short === undefined || parents === undefined || subject === undefined) {
    throw new Error(`unexpected git log output: expected 4 NUL-separated fields (${COMMIT_FORMAT}), found ${JSON.stringify(output.slice(0, 200))}`);
  }
  const paths = rest.map((p, i) => (i === 0 && p.startsWith('\n') ? p.slice(1) : p)).filter((p) => p !== '');
  return { commit, short, parents: parents === '' ? [] : parents.split(' '), subject, paths };
}

/** `git log -z --format='%H %s'`: newest first. */
export function parseSubjects(output: string): { commit: string; subject: string }[] {
  return splitNul(output).map((record) => {
    const space = record.indexOf(' ');
    return space === -1 ? { commit: record, subject: '' } : { commit: record.slice(0, space), subject: record.slice(space + 1) };
  });
}

/** What `%s` shows for a commit message: its first paragraph on one line. */
export function subjectOf(message: string): string {
  const paragraph = message.trim().split(/\n\s*\n/)[0] ?? '';
  return paragraph.split('\n').map((l) => l.trim()).filter((l) => l !== '').join(' ');
}
