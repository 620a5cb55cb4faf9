/**
 * The pooled noise estimate counts every evaluation once (decision/noise-estimate.ts): a
 * revalidation whose tip reproduces adds the tip's new samples to the best's samples, which
 * are pooled when the best retires, so they must not also be pooled at once; one that fails
 * makes an older keep the best again, whose samples were pooled when it retired.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { makeTempDir } from '../helpers/git-repo.js';
import { makeProject } from '../helpers/project.js';
import { LUCKY_EVALUATE, LUCKY_PLAN } from '../helpers/lucky-keep.js';

interface State {
  noise: { sumSquares: number; df: number };
  lastKept: { samples: number[] };
}

describe('the noise estimate around a revalidation', () => {
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

  it('after a revalidation that fails, the restored keep\'s samples are not pooled a second time', async () => {
    const luck = path.join(await makeTempDir('ar-luck-'), 'used');
    const project = await makeProject({
      config: { noise: 'auto', revalidate_every: '1' },
      // `lucky` is worth 9 really, but its first evaluation prints 7.
      files: { 'evaluate.sh': LUCKY_EVALUATE },
      plan: LUCKY_PLAN,
    });
    const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '3'], { env: { ...project.env, LUCK_FILE: luck }, timeoutMs: 120_000 });
    expect(r.exitCode, r.stderr).toBe(0);
    expect((await project.rows()).map((row) => [row.iteration, row.status, row.reason, row.metric])).toEqual([
      ['0', 'keep', 'baseline', '10.000000'],
      ['1', 'keep', 'improved', '9.000000'],
      ['2', 'keep', 'improved', '7.000000'],
      ['3', 'discard', 'revalidation_failed', '9.000000'],
      ['4', 'keep', 'improved', '8.000000'],
    ]);
    const state = JSON.parse(await fs.readFile(path.join(project.expDir, 'state.json'), 'utf8')) as State;
    // The baseline 3 times (df 2); 9: once, then 3 more in the first revalidation (df 3) with the
    // baseline's 3 (df 2); lucky once (7), then 3 times (9) with the baseline's 3 in the second
    // (df 0 + 2 + 2); 8 once, the best now.
    expect(state.lastKept.samples).toEqual([8]);
    expect(state.noise.df).toBe(2 + 3 + 2 + 2 + 2);
  });
});
