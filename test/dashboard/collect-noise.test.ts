/**
 * collect.ts reads state.json's pooled noise estimate (issue 11) for the band: from a real
 * run's state file, with the `noise` key the loop writes added to it; without one, no band.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectDashboard } from '../../src/dashboard/collect.js';
import { runCli } from '../helpers/cli.js';
import { makeProject } from '../helpers/project.js';

describe("the dashboard's σ from state.json", () => {
  it('is √(sumSquares/df) of state.json `noise`; absent, or of another shape, there is none (one sample per row)', async () => {
    const project = await makeProject({ config: { max_experiments: '1' }, plan: ['echo 5 > value.txt'] });
    const run = await runCli(['--path', project.root, 'run', project.id], { env: project.env });
    expect(run.exitCode, run.stderr).toBe(0);
    const stateFile = path.join(project.expDir, 'state.json');
    const state = JSON.parse(await fs.readFile(stateFile, 'utf8')) as Record<string, unknown>;

    const before = await collectDashboard(project.root, { env: project.env });
    // repeats 1: one sample a row, no spread to pool.
    expect(before.experiments.map((e) => [e.id, e.noise, e.chart.ev.filter((q) => q[1] > 1)])).toEqual([[project.id, null, []]]);

    await fs.writeFile(stateFile, JSON.stringify({ ...state, noise: { sumSquares: 0.0032, df: 8 } }));
    const after = await collectDashboard(project.root, { env: project.env });
    expect(after.experiments[0]?.noise?.source).toBe('state');
    expect(after.experiments[0]?.noise?.df).toBe(8);
    expect(after.experiments[0]?.noise?.sigma).toBeCloseTo(0.02, 12);
    expect(after.experiments[0]?.problems).toEqual([]);

    await fs.writeFile(stateFile, JSON.stringify({ ...state, noise: { sumSquares: 'a lot', df: 8 } }));
    expect((await collectDashboard(project.root, { env: project.env })).experiments[0]?.noise).toBeNull();
  });
});
