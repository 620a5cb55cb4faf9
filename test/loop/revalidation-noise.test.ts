/**
 * The pooled noise estimate counts every evaluation once (decision/noise-estimate.ts): a
 * revalidation whose tip reproduces adds the tip's new samples to the best's samples, which
 * are pooled when the best retires, so they must not also be pooled at once.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { makeProject } from '../helpers/project.js';

interface State {
  noise: { sumSquares: number; df: number };
  lastKept: { samples: number[] };
}

describe('noise after a revalidation that reproduces', () => {
  it('each evaluation adds its degree of freedom once', async () => {
    const project = await makeProject({
      config: { noise: 'auto', revalidate_every: '1' },
      plan: [`echo 9 > value.txt && git commit -qam nine`, ''],
    });
    const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '2'], { env: project.env, timeoutMs: 120_000 });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/revalidation: .*\(no row\)/);
    const state = JSON.parse(await fs.readFile(path.join(project.expDir, 'state.json'), 'utf8')) as State;
    // Measured: the baseline 3 times (df 2), keep 9 once, then the revalidation's 3 of the baseline
    // (df 2) and 3 more of 9 (its 4 samples: df 3). The best's group is pooled when it retires.
    expect(state.lastKept.samples).toEqual([9, 9, 9, 9]);
    expect(state.noise.df + state.lastKept.samples.length - 1).toBe(2 + 2 + 3);
  });
});
