/**
 * Issue 11 through the real CLI and real git: repeated evaluations (each its own log and
 * AUTORESEARCH_SAMPLE), check_cmd and guard vetoes, and a revalidation that catches a lucky
 * keep and moves the branch back. value.txt is the "model"; evaluate.sh prints `score: <value>`.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { git, makeProject } from '../helpers/project.js';
import { luckyKeepProject, runLuckyNight } from '../helpers/lucky-keep.js';

const run = (project: { root: string; id: string; env: Record<string, string> }, n: number) =>
  runCli(['--path', project.root, 'run', project.id, '--max-experiments', String(n)], { env: project.env, timeoutMs: 120_000 });

async function result(expDir: string, iteration: number): Promise<Record<string, unknown>> {
  return JSON.parse(await fs.readFile(path.join(expDir, 'runs', String(iteration).padStart(5, '0'), 'result.json'), 'utf8')) as Record<string, unknown>;
}

describe('repeated evaluations', () => {
  it('evaluates the baseline and each candidate `repeats` times, each in its own log, numbered by AUTORESEARCH_SAMPLE', async () => {
    const project = await makeProject({
      config: { repeats: '3', noise: 'off' },
      files: { 'evaluate.sh': 'v=$(cat value.txt)\necho "sample $AUTORESEARCH_SAMPLE"\necho "score: $v"\n' },
      plan: [`echo 7 > value.txt && git commit -qam seven`, `echo 8 > value.txt && git commit -qam eight`],
    });
    const r = await run(project, 2);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const rows = await project.rows();
    expect(rows.map((row) => [row.status, row.reason, row.metric])).toEqual([
      ['keep', 'baseline', '10.000000'],
      ['keep', 'improved', '7.000000'],
      ['discard', 'no_improvement', '8.000000'],
    ]);
    for (const iteration of [0, 1, 2]) {
      const dir = path.join(project.expDir, 'runs', String(iteration).padStart(5, '0'));
      const logs = ['eval.log', 'eval.2.log', 'eval.3.log'].map((f) => path.join(dir, f));
      const texts = await Promise.all(logs.map((f) => fs.readFile(f, 'utf8')));
      expect(texts.map((t) => t.split('\n')[0])).toEqual(['sample 1', 'sample 2', 'sample 3']);
      const saved = await result(project.expDir, iteration);
      expect(saved.samples).toHaveLength(3);
      expect(saved.evaluations).toBe(3);
    }
    // The state keeps every sample of the best, for the next comparison.
    const state = JSON.parse(await fs.readFile(path.join(project.expDir, 'state.json'), 'utf8'));
    expect(state.lastKept.samples).toEqual([7, 7, 7]);
  });
});

describe('reset with repeats', () => {
  it('`reset --to N` gives the restored best the samples keep N was measured on', async () => {
    const project = await makeProject({
      config: { repeats: '3', noise: 'off' },
      plan: [`echo 7 > value.txt && git commit -qam seven`, `echo 5 > value.txt && git commit -qam five`],
    });
    expect((await run(project, 2)).exitCode).toBe(0);
    const r = await runCli(['--path', project.root, 'reset', project.id, '--to', '1'], { env: project.env });
    expect(r.exitCode).toBe(0);
    const state = JSON.parse(await fs.readFile(path.join(project.expDir, 'state.json'), 'utf8'));
    expect(state.lastKept).toMatchObject({ metric: 7, samples: [7, 7, 7] });
  });
});

describe('vetoes', () => {
  it('check_cmd must pass for a keep: a failing check is a discard `check_failed`, with its output in check.log', async () => {
    const project = await makeProject({
      config: { check_cmd: 'sh check.sh' },
      files: { 'check.sh': 'v=$(cat value.txt)\nif [ "$v" -lt 3 ]; then echo "FAILED test_value: $v is below 3"; exit 1; fi\necho ok\n' },
      plan: [`echo 5 > value.txt && git commit -qam five`, `echo 2 > value.txt && git commit -qam two`, `echo 4 > value.txt && git commit -qam four`],
    });
    const r = await run(project, 3);
    expect(r.exitCode).toBe(0);
    const rows = await project.rows();
    expect(rows.map((row) => [row.status, row.reason, row.metric])).toEqual([
      ['keep', 'baseline', '10.000000'],
      ['keep', 'improved', '5.000000'],
      ['discard', 'check_failed', '2.000000'],
      ['keep', 'improved', '4.000000'],
    ]);
    expect(rows[2]?.detail).toBe('check_failed: exit 1: FAILED test_value: 2 is below 3');
    expect(await fs.readFile(path.join(project.expDir, 'runs', '00002', 'check.log'), 'utf8')).toContain('FAILED test_value');
    // The vetoed candidate is not on the branch, and stays reachable.
    const worktree = await project.worktree();
    expect(await fs.readFile(path.join(worktree, 'value.txt'), 'utf8')).toBe('4\n');
    expect((await git(project.root, 'rev-parse', 'refs/autoresearch/test/exp/2')).slice(0, 7)).toBe(rows[2]?.commit);
  });

  it('a guard metric read from the evaluation log vetoes a keep that violates it, and is recorded in its own column', async () => {
    const project = await makeProject({
      config: { guard: 'memory_gb <= 40', scope: 'value.txt,mem.txt' },
      files: {
        'mem.txt': '30\n',
        'evaluate.sh': 'echo "memory_gb: $(cat mem.txt)"\necho "score: $(cat value.txt)"\n',
      },
      plan: [`echo 5 > value.txt && echo 55 > mem.txt && git commit -qam "fast but fat"`, `echo 6 > value.txt && git commit -qam "six"`],
    });
    const r = await run(project, 2);
    expect(r.exitCode).toBe(0);
    const rows = await project.rows();
    expect(rows.map((row) => [row.status, row.reason, row.metric, row.memory_gb])).toEqual([
      ['keep', 'baseline', '10.000000', '30.000000'],
      ['discard', 'guard_failed', '5.000000', '55.000000'],
      ['keep', 'improved', '6.000000', '30.000000'],
    ]);
    expect(rows[1]?.detail).toMatch(/^guard_failed: memory_gb 55 > 40/);
  });
});

describe('revalidation', () => {
  it('re-measures the best and the baseline after K keeps; a lucky keep that does not reproduce is undone with a row, the branch moves back', async () => {
    // `lucky` is worth 9, but its first evaluation prints 7 (test/helpers/lucky-keep.ts).
    const lucky = await luckyKeepProject();
    const { project } = lucky;
    const r = await runLuckyNight(lucky);
    expect(r.exitCode).toBe(0);
    const rows = await project.rows();
    expect(rows.map((row) => [row.iteration, row.status, row.reason, row.metric])).toEqual([
      ['0', 'keep', 'baseline', '10.000000'],
      ['1', 'keep', 'improved', '9.000000'],
      // revalidation after keep 1: reproduced, no row
      ['2', 'keep', 'improved', '7.000000'],
      ['3', 'discard', 'revalidation_failed', '9.000000'],
      ['4', 'keep', 'improved', '8.000000'],
    ]);
    expect(rows[3]?.commit).toBe(rows[2]?.commit); // the oldest keep undone
    expect(rows[3]?.detail).toMatch(/^revalidation_failed: /);
    // Iteration 4 was measured against keep 1 (9), not the lucky 7: 8 is a keep.
    const worktree = await project.worktree();
    expect(await fs.readFile(path.join(worktree, 'value.txt'), 'utf8')).toBe('8\n');
    expect(await git(worktree, 'log', '--format=%s', 'autoresearch/test/exp')).toBe(['eight', 'nine', 'initial'].join('\n'));
    // The undone keep stays reachable.
    expect((await git(project.root, 'rev-parse', 'refs/autoresearch/test/exp/revalidation/3')).slice(0, 7)).toBe(rows[2]?.commit);
    expect(r.stdout).toMatch(/revalidation: .*\(no row\)/);
  });
});

describe('revalidation after kill -9', () => {
  it('a revalidation row written but its state step cut short: the next start moves back to the keep that reproduced', async () => {
    // `lucky` is worth 9, but its first evaluation prints 7: the revalidation after it (iteration 3) undoes it.
    const { project, env } = await luckyKeepProject();
    const first = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '3'], { env, timeoutMs: 120_000 });
    expect(first.exitCode).toBe(0);
    const stateFile = path.join(project.expDir, 'state.json');
    expect((await project.rows()).map((row) => row.reason)).toEqual(['baseline', 'improved', 'improved', 'revalidation_failed', 'improved']);
    // As if killed right after the revalidation row (iteration 3): no row 4, state still on the
    // lucky tip with the intent of iteration 3 open, no result.json yet.
    const tsv = path.join(project.expDir, 'results.tsv');
    const lines = (await fs.readFile(tsv, 'utf8')).trimEnd().split('\n');
    await fs.writeFile(tsv, lines.slice(0, -1).join('\n') + '\n');
    await fs.rm(path.join(project.expDir, 'runs', '00004'), { recursive: true });
    const lucky = (await result(project.expDir, 2)).commitFull as string;
    const state = JSON.parse(await fs.readFile(stateFile, 'utf8'));
    state.lastKept = { commit: lucky, metric: 7, iteration: 2, samples: [7] };
    state.intent = { phase: 'eval', iteration: 3, base: lucky, candidate: lucky, child: null };
    await fs.writeFile(stateFile, JSON.stringify(state));
    await fs.rm(path.join(project.expDir, 'runs', '00003', 'result.json'));

    const again = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '1'], { env, timeoutMs: 120_000 });
    expect(again.exitCode).toBe(0);
    expect(again.stdout + again.stderr).toMatch(/revalidation_failed was written; moved back to keep/);
    const after = await project.rows();
    expect(after.map((row) => [row.iteration, row.status, row.reason, row.metric])).toEqual([
      ['0', 'keep', 'baseline', '10.000000'],
      ['1', 'keep', 'improved', '9.000000'],
      ['2', 'keep', 'improved', '7.000000'],
      ['3', 'discard', 'revalidation_failed', '9.000000'],
      ['4', 'keep', 'improved', '8.000000'],
    ]);
    const worktree = await project.worktree();
    expect(await git(worktree, 'log', '--format=%s', 'autoresearch/test/exp')).toBe(['eight', 'nine', 'initial'].join('\n'));
  });
});
