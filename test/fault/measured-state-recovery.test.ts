/**
 * A kill between the ledger append and the state update (issue 11's state): the restart
 * finishes the decision with what the row's measurement changes in state.json, as the
 * uninterrupted iteration would have: the baseline's record (which revalidation measures
 * again) and the window of keeps a revalidation checks.
 */
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { projectWithBaseline } from './helpers/interrupted.js';

describe('killed between a measured row and its state update', () => {
  it('the baseline row: the restart records the baseline, so `revalidate_every` still revalidates', async () => {
    // Plan line 1: iteration 1 keeps 9, which makes a revalidation due (K = 1).
    const project = await projectWithBaseline(['echo 9 > value.txt && git commit -qam nine', ''], { revalidate_every: '1' });
    const done = project.state();
    expect(done['baseline']).toBeDefined();
    // As the kill leaves it: the baseline row and its result.json written, state.json as during its evaluation.
    const { baseline: _b, revalidation: _r, noise: _n, ...before } = done;
    project.writeState({ ...before, lastKept: { commit: project.base, metric: null, iteration: null }, intent: { phase: 'eval', iteration: 0, base: project.base, candidate: project.base, child: null } });

    const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '1'], { env: project.env, timeoutMs: 120_000 });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/recovered iteration 0: row keep was written/);
    expect(project.state()['baseline']).toEqual(done['baseline']);
    expect((await project.rows()).map((row) => [row.iteration, row.status, row.reason, row.metric])).toEqual([
      ['0', 'keep', 'baseline', '10.000000'],
      ['1', 'keep', 'improved', '9.000000'],
    ]);
    // Keep 1 is revalidated before the next candidate.
    const next = await runCli(['--path', project.root, 'run', project.id, '--single'], { env: project.env, timeoutMs: 120_000 });
    expect(next.exitCode, next.stderr).toBe(0);
    expect(next.stdout).toMatch(/revalidation: .*\(no row\)/);
  });

  it('a keep row: the keep joins the window a revalidation checks (it is not taken as validated)', async () => {
    const project = await projectWithBaseline(['echo 9 > value.txt && git commit -qam nine', 'echo 8 > value.txt && git commit -qam eight', ''], { revalidate_every: '2' });
    const r1 = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '1'], { env: project.env, timeoutMs: 120_000 });
    expect(r1.exitCode, r1.stderr).toBe(0);
    const afterKeep = project.state() as unknown as Record<string, unknown> & { revalidation: { window: Array<{ iteration: number }> } };
    expect(afterKeep.revalidation.window.map((k) => k.iteration)).toEqual([1]);
    // Back to the instant before keep 1's state update: its row is written, the state is the baseline's.
    const lastKept = afterKeep.lastKept as { commit: string };
    project.writeState({
      ...afterKeep,
      lastKept: { commit: project.base, metric: 10, iteration: 0, samples: [10] } as never,
      revalidation: { ...afterKeep.revalidation, window: [] },
      intent: { phase: 'eval', iteration: 1, base: project.base, candidate: lastKept.commit, child: null },
    });

    const r2 = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '1'], { env: project.env, timeoutMs: 120_000 });
    expect(r2.exitCode, r2.stderr).toBe(0);
    expect(r2.stdout).toMatch(/recovered iteration 1: row keep was written/);
    // Keep 2 makes two keeps since the baseline: the revalidation is due.
    expect((await project.rows()).map((row) => [row.iteration, row.status, row.metric])).toEqual([
      ['0', 'keep', '10.000000'],
      ['1', 'keep', '9.000000'],
      ['2', 'keep', '8.000000'],
    ]);
    const state = project.state() as unknown as Record<string, unknown> & { revalidation: { window: Array<{ iteration: number }> } };
    expect(state.revalidation.window.map((k) => k.iteration)).toEqual([1, 2]);
  });
});
