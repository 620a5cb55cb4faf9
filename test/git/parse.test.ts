import { describe, expect, it } from 'vitest';
import { parseCommit, parseStatus, parseWorktreeList, subjectOf } from '../../src/git/parse.js';
import { joinSubjects } from '../../src/git/worktree.js';

describe('git output parsers', () => {
  it('reads branch, head and dirtiness from status v2 -z', () => {
    const oid = 'a'.repeat(40);
    expect(parseStatus(`# branch.oid ${oid}\0# branch.head autoresearch/eng/x\0`)).toEqual({ head: oid, branch: 'autoresearch/eng/x', dirty: false });
    expect(parseStatus(`# branch.oid ${oid}\0# branch.head (detached)\0? new file.txt\0`)).toEqual({ head: oid, branch: null, dirty: true });
    expect(parseStatus('# branch.oid (initial)\0# branch.head scratch\0')).toEqual({ head: null, branch: 'scratch', dirty: false });
  });

  it('reads worktree list --porcelain, paths with spaces and stale entries included', () => {
    const out = [
      'worktree /home/u/my project',
      'HEAD 1111111111111111111111111111111111111111',
      'branch refs/heads/main',
      '',
      'worktree /home/u/my project/.git/autoresearch/worktrees/eng/x',
      'HEAD 2222222222222222222222222222222222222222',
      'detached',
      'locked',
      'prunable gitdir file points to non-existent location',
      '',
    ].join('\n');
    expect(parseWorktreeList(out)).toEqual([
      { path: '/home/u/my project', head: '1'.repeat(40), branch: 'refs/heads/main', locked: false, prunable: false },
      { path: '/home/u/my project/.git/autoresearch/worktrees/eng/x', head: '2'.repeat(40), branch: null, locked: true, prunable: true },
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
