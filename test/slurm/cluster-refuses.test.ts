/**
 * A cluster that cannot run the evaluation at all (sbatch refuses the job: a memory request no
 * node has) says nothing about the candidate: no row is written (no crash of a change that was
 * never run, no breaker tripped by the cluster's refusals), and the experiment is blocked with
 * sbatch's own words until someone looks.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { SLURM_AVAILABLE, activeJobs, shareClusterDuringFile } from '../helpers/slurm.js';
import { makeSlurmProject } from './slurm-project.js';

describe.skipIf(!SLURM_AVAILABLE)('evaluations as SLURM jobs: a cluster that refuses them', () => {
  shareClusterDuringFile();

  it('sbatch refusing the job: no row, the experiment blocked with what sbatch said (exit 3)', { timeout: 120_000 }, async () => {
    const project = await makeSlurmProject('refused', { config: { slurm_args: '--mem=99999999' } });
    const r = await runCli(project.args('run', '--max-experiments', '1'), { env: project.env, timeoutMs: 90_000 });
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(3);
    expect(r.stdout + r.stderr).toMatch(/blocked: iteration 0: the cluster could not run the evaluation: .*Requested node configuration is not available/s);
    expect(await project.rows()).toEqual([]);
    const state = JSON.parse(fs.readFileSync(path.join(project.expDir, 'state.json'), 'utf8')) as { halt: { state: string; reason: string } | null; consecutiveCrashes: number };
    expect(state.halt?.state).toBe('blocked');
    expect(state.consecutiveCrashes).toBe(0);
    expect(await activeJobs(project.prefix)).toEqual([]);
  });
});
