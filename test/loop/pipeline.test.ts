/**
 * pipeline: true (issue 13): the next candidate is drafted in a second worktree while this one
 * is evaluated. Rows stay one per iteration, in order; a draft that no longer applies on top of
 * a new keep is a stale_base discard; the prompts say what is going on.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { git, makeProject } from '../helpers/project.js';

describe('pipeline: true', () => {
  it('drafts the next candidate while one is evaluated: rows in order, a stale draft discarded as stale_base, a draft that applies re-applied onto the new keep', async () => {
    const project = await makeProject({
      files: { 'bonus.txt': '0\n' },
      config: {
        target: 'value.txt, bonus.txt',
        pipeline: 'true',
        evaluate_cmd: 'echo "score: $(( $(cat value.txt) - $(cat bonus.txt) ))"',
      },
      plan: [
        'echo 5 > value.txt', // 1: drafted during the baseline, on the same base: kept (5)
        'echo 7 > value.txt', // 2: drafted on the baseline while 1 is evaluated; 1 is kept: conflicts, stale_base
        'echo 4 > value.txt', // 3: no draft (2 measured nothing): its own turn, kept (4)
        'echo 1 > bonus.txt', // 4: drafted on 1's keep while 3 is evaluated; re-applied onto 3: 4 - 1 = 3, kept
      ],
    });
    const head = await git(project.root, 'rev-parse', 'HEAD');
    const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '4'], { env: project.env });
    expect(r.exitCode, r.stderr).toBe(0);
    const rows = await project.rows();
    expect(rows.map((row) => [row.iteration, row.status, row.reason, row.metric])).toEqual([
      ['0', 'keep', 'baseline', '10.000000'],
      ['1', 'keep', 'improved', '5.000000'],
      ['2', 'discard', 'stale_base', 'N/A'],
      ['3', 'keep', 'improved', '4.000000'],
      ['4', 'keep', 'improved', '3.000000'],
    ]);
    expect(rows[2]?.detail).toMatch(/^stale_base: drafted on [0-9a-f]{7} while an earlier candidate was evaluated; the best is now [0-9a-f]{7} \(#1\)/);
    const run = (n: number, file: string) => fs.readFile(path.join(project.expDir, 'runs', String(n).padStart(5, '0'), file), 'utf8');
    // The drafting agent is told what is being evaluated; the next turn, why its change was not.
    expect(await run(2, 'stdin.txt')).toMatch(/## Iteration 1 is still being evaluated/);
    expect(await run(3, 'stdin.txt')).not.toMatch(/still being evaluated/);
    expect(await run(3, 'stdin.txt')).toMatch(/## Your last change was not evaluated: iteration 2/);
    expect(await run(4, 'stdin.txt')).toMatch(/## Iteration 3 is still being evaluated/);
    // The limit was known when 4 was measured: nothing drafted after it.
    await expect(fs.stat(path.join(project.expDir, 'runs', '00005'))).rejects.toThrow();
    // The kept line, the user's checkout untouched.
    const worktree = await project.worktree();
    expect(await fs.readFile(path.join(worktree, 'value.txt'), 'utf8')).toBe('4\n');
    expect(await fs.readFile(path.join(worktree, 'bonus.txt'), 'utf8')).toBe('1\n');
    expect(await git(project.root, 'rev-parse', 'HEAD')).toBe(head);
    expect(await git(project.root, 'status', '--porcelain', '--', 'value.txt', 'bonus.txt')).toBe('');
    const state = JSON.parse(await fs.readFile(path.join(project.expDir, 'state.json'), 'utf8'));
    expect(state.draft ?? null).toBeNull();
    expect(state.intent).toBeNull();
  });
});
