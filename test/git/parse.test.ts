import { describe, expect, it } from 'vitest';
import { parseCommit, parseStatus, parseWorktreeList, subjectOf } from '../../src/git/parse.js';
import { joinSubjects } from '../../src/git/worktree.js';

describe('git output parsers', () => {
  it('reads branch, head and dirtiness from status v2 -z', () => {
    const oid = 'a'.repeat(40);
    expect(parseStatus(`# branch.oid ${oid}\0# branch.head autoresearch/eng/x\0`)).toEqual({ head: oid, branch: 'autoresearch/eng/x', dirty: false, entries: [] });
    expect(parseStatus(`# branch.oid ${oid}\0# branch.head (detached)\0? new file.txt\0`)).toEqual({
      head: oid,
      branch: null,
      dirty: true,
      entries: [{ type: '?', xy: '??', path: 'new file.txt' }],
    });
    expect(parseStatus('# branch.oid (initial)\0# branch.head scratch\0')).toEqual({ head: null, branch: 'scratch', dirty: false, entries: [] });
  });

  it('reads every kind of status v2 entry, paths with spaces included', () => {
    const h = 'b'.repeat(40);
    const out = [
      `# branch.oid ${h}`,
      '# branch.head main',
      `1 .M N... 100644 100644 100644 ${h} ${h} dir/a file.txt`,
      `1 M. N... 100644 100644 100644 ${h} ${h} staged.txt`,
      `2 R. N... 100644 100644 100644 ${h} ${h} R100 new name.txt`,
      'old name.txt',
      `u UU N... 100644 100644 100644 100644 ${h} ${h} ${h} conflict.txt`,
      '? untracked dir/x.txt',
      '',
    ].join('\0');
    expect(parseStatus(out).entries).toEqual([
      { type: '1', xy: '.M', path: 'dir/a file.txt' },
      { type: '1', xy: 'M.', path: 'staged.txt' },
      { type: '2', xy: 'R.', path: 'new name.txt' },
      { type: 'u', xy: 'UU', path: 'conflict.txt' },
      { type: '?', xy: '??', path: 'untracked dir/x.txt' },
    ]);
  });

  it('reads worktree list --porcelain, paths with spaces and stale entries included', () => {
    const out = [
      'worktree /home/u/my project',
      'HEAD 1111111111111111111111111111111111111111',
      'branch refs/heads/main',
      '',
      'worktree /home/u/.local/state/autoresearch/worktrees/my-project-0123456789/eng/x',
      'HEAD 2222222222222222222222222222222222222222',
      'detached',
      'locked',
      'prunable gitdir file points to non-existent location',
      '',
    ].join('\n');
    expect(parseWorktreeList(out)).toEqual([
      { path: '/home/u/my project', head: '1'.repeat(40), branch: 'refs/heads/main', locked: false, prunable: false },
      { path: '/home/u/.local/state/autoresearch/worktrees/my-project-0123456789/eng/x', head: '2'.repeat(40), branch: null, locked: true, prunable: true },
    ]);
  });

  it('reads one log -z --name-only record, with and without paths', () => {
    const c = 'c'.repeat(40);
    const p = 'p'.repeat(40);
    expect(parseCommit(`${c}\0ccccccc\0${p}\0Subject: with; punctuation\0\nsrc/a b.txt\0\nstarts-with-newline\0`)).toEqual({
      commit: c,
      short: 'ccccccc',
      parents: [p],
      subject: 'Subject: with; punctuation',
      paths: ['src/a b.txt', '\nstarts-with-newline'],
    });
    expect(parseCommit(`${c}\0ccccccc\0\0\0`)).toEqual({ commit: c, short: 'ccccccc', parents: [], subject: '', paths: [] });
    expect(() => parseCommit('garbage')).toThrow(/expected 4 NUL-separated fields/);
  });

  it('makes one-line descriptions', () => {
    expect(subjectOf('first line\nstill first paragraph\n\nbody')).toBe('first line still first paragraph');
    expect(joinSubjects(['a', ' ', 'b'], 'fallback')).toBe('a; b');
    expect(joinSubjects([], 'fallback')).toBe('fallback');
    expect(joinSubjects(Array.from({ length: 23 }, (_, i) => `s${i}`), 'f')).toMatch(/; s19; … \(\+3 more commits\)$/);
  });
});
