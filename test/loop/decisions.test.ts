/**
 * Every decision path of one iteration, through the real CLI, a real repo and a scripted
 * agent whose plan line N is the shell edit of iteration N (value.txt is the "model";
 * the evaluation prints `score: <value>`, lower is better).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { git, makeProject } from '../helpers/project.js';

describe('one experiment, every decision', () => {
  it('keeps improvements, discards the rest, crashes broken candidates, and rolls back to the recorded keep', async () => {
    const project = await makeProject({
      plan: [
        /* 1 */ `echo 5 > value.txt && git commit -qam "five"`,
        /* 2 */ `echo 7 > value.txt`, // worse, left uncommitted
        /* 3 */ `printf '5\\n\\n' > value.txt && git commit -qam "five again"`, // same metric: a tie
        /* 4 */ `echo changed > other.txt && git commit -qam "sneaky edit"`, // outside scope
        /* 5 */ `echo 4 > value.txt && echo junk > junk.txt && git add value.txt && git commit -qm "four plus junk"`, // junk outside scope
        /* 6 */ `echo nan > value.txt && git commit -qam "not a number"`,
        /* 7 */ `echo 2 > value.txt && git commit -qam "two" && echo 1 > value.txt && git commit -qam "one"`, // two commits, one candidate
        /* 8 */ `echo 0 > value.txt; exit 3`, // the agent fails
        /* 9 */ ``, // does nothing
      ],
    });
    const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '9'], { env: project.env });
    // The only warning: iteration 8's agent failure, logged verbatim (it matches no quota signature).
    expect(r.stderr.split('\n').filter(Boolean)).toEqual([expect.stringContaining('agent command failed with no known quota signature')]);
    expect(r.exitCode).toBe(0);

    const rows = await project.rows();
    expect(rows.map((row) => [row.iteration, row.status, row.reason, row.metric])).toEqual([
      ['0', 'keep', 'baseline', '10.000000'],
      ['1', 'keep', 'improved', '5.000000'],
      ['2', 'discard', 'no_improvement', '7.000000'],
      ['3', 'discard', 'no_improvement', '5.000000'],
      ['4', 'discard', 'scope_violation', 'N/A'],
      ['5', 'discard', 'scope_violation', 'N/A'],
      ['6', 'crash', 'metric_invalid', 'N/A'],
      ['7', 'keep', 'improved', '1.000000'],
      ['8', 'crash', 'agent_exit', 'N/A'],
      ['9', 'discard', 'no_change', 'N/A'],
    ]);
    expect(rows[0]?.description).toMatch(/^baseline/);
    expect(rows[1]?.description).toBe('five');
    expect(rows[2]?.description).toBe('iteration 2: uncommitted agent changes');
    expect(rows[7]?.description).toBe('two; one');
    expect(Object.keys(rows[0] ?? {}).slice(0, 4)).toEqual(['commit', 'metric', 'status', 'description']);

    // The branch holds exactly the keeps: baseline ← "five" ← squashed "two; one".
    const worktree = await project.worktree();
    const log = await git(worktree, 'log', '--format=%s', 'autoresearch/test/exp');
    expect(log.split('\n')).toEqual(['two; one', 'five', 'initial']);
    expect(await git(project.root, 'rev-parse', '--short=7', 'autoresearch/test/exp')).toBe(rows[7]?.commit);
    // Rolled back to the recorded keep, with the candidate's untracked junk gone.
    expect(await fs.readFile(path.join(worktree, 'value.txt'), 'utf8')).toBe('1\n');
    expect(await git(worktree, 'status', '--porcelain')).toBe('');
    // Rejected candidates stay reachable.
    for (const iteration of [2, 4, 5, 6]) {
      const sha = await git(project.root, 'rev-parse', `refs/autoresearch/test/exp/${iteration}`);
      expect(sha.slice(0, 7)).toBe(rows[iteration]?.commit);
    }
    // Per-iteration artifacts: prompt, agent output, eval log, result record.
    const run1 = path.join(project.expDir, 'runs', '00001');
    expect(await fs.readFile(path.join(run1, 'prompt.md'), 'utf8')).toMatch(/score \(lower is better\)[\s\S]*Best so far: 10\.000000/);
    expect(await fs.readFile(path.join(run1, 'eval.log'), 'utf8')).toContain('score: 5');
    const result = JSON.parse(await fs.readFile(path.join(project.expDir, 'runs', '00004', 'result.json'), 'utf8'));
    expect(result.technicalDetail).toBe('changed outside scope: other.txt');
    expect(result.detail).toBe('scope_violation: other.txt is outside scope (value.txt)');
    expect(r.stdout).toMatch(/summary test\/exp/);
    expect(r.stdout).toMatch(/best score: 1; baseline 10 \(\+90\.00% vs baseline\)/);
  });

  it('requires an improvement larger than min_improvement, in the configured direction', async () => {
    const project = await makeProject({
      config: { metric_direction: 'higher', min_improvement: '1' },
      plan: [`echo 11 > value.txt`, `echo 11.5 > value.txt`, `echo 12.5 > value.txt`],
    });
    const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '3'], { env: project.env });
    expect(r.exitCode).toBe(0);
    const rows = await project.rows();
    // 11 beats 10 by exactly 1: not more than min_improvement. 11.5 beats 10 by 1.5; 12.5 beats 11.5 by exactly 1.
    expect(rows.map((row) => [row.status, row.metric])).toEqual([
      ['keep', '10.000000'],
      ['discard', '11.000000'],
      ['keep', '11.500000'],
      ['discard', '12.500000'],
    ]);
  });

  it('stops as done at max_experiments and stays done', async () => {
    const project = await makeProject({ config: { max_experiments: '2' }, plan: [`echo 9 > value.txt`, `echo 8 > value.txt`, `echo 1 > value.txt`] });
    const first = await runCli(['--path', project.root, 'run', project.id], { env: project.env });
    expect(first.exitCode).toBe(0);
    expect(first.stdout).toMatch(/max_experiments \(2\) reached/);
    // max_experiments counts the iterations after the baseline, and the summary says so.
    expect(first.stdout).toMatch(/all time: +2 of 2 experiments \+ baseline: 2 keep, 0 discard, 0 crash/);
    expect((await project.rows()).length).toBe(3);
    const again = await runCli(['--path', project.root, 'run', project.id], { env: project.env });
    expect(again.exitCode).toBe(0);
    expect((await project.rows()).length).toBe(3);
  });

  it('with agent: none, `run --single` evaluates whatever the worktree holds', async () => {
    const project = await makeProject({ config: { agent: 'none' } });
    const baseline = await runCli(['--path', project.root, 'run', project.id, '--single'], { env: project.env });
    expect(baseline.exitCode).toBe(0);
    const worktree = await project.worktree();
    await fs.writeFile(path.join(worktree, 'value.txt'), '3\n'); // the external agent's edit
    const r = await runCli(['--path', project.root, 'run', project.id, '--single'], { env: project.env });
    expect(r.exitCode).toBe(0);
    const rows = await project.rows();
    expect(rows.map((row) => [row.status, row.metric, row.agent])).toEqual([
      ['keep', '10.000000', ''],
      ['keep', '3.000000', 'external'],
    ]);
    const loop = await runCli(['--path', project.root, 'run', project.id, '--loop'], { env: project.env });
    expect(loop.exitCode).toBe(1);
    expect(loop.stderr).toMatch(/agent: none .* --single/);
  });
});
