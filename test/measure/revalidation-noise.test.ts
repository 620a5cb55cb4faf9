/**
 * The pooled noise estimate counts every sample once (SPEC §5): a revalidation that reproduces
 * appends the tip's new samples to the best's, so they are pooled with the best's group when a
 * decision is made and when the best retires, not also as a group of their own.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { makeProject } from '../helpers/project.js';

describe('revalidation and the noise estimate', () => {
  it('a reproduced revalidation adds the baseline group; the tip samples join the best (df counted once)', async () => {
    const project = await makeProject({
      config: { noise: 'auto', revalidate_every: '1' },
      plan: [`echo 9 > value.txt && git commit -qam nine`, ``],
    });
    const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '2'], { env: project.env, timeoutMs: 120_000 });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/revalidat/);
    const state = JSON.parse(await fs.readFile(path.join(project.expDir, 'state.json'), 'utf8')) as { noise: { df: number }; lastKept: { samples: number[] } };
    // The keep (1 sample) and the revalidation's 3 samples of it: the best's group.
    expect(state.lastKept.samples).toEqual([9, 9, 9, 9]);
    // Retired: the baseline's 3 samples (df 2) and the baseline's 3 new ones (df 2). Not the tip's again.
    expect(state.noise.df).toBe(4);
  });
});
