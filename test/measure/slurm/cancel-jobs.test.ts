/**
 * Recovery's tools on the real cluster: cancel an experiment's jobs by name prefix (but the
 * ones a restart attaches to), find a job by name. And the message when the tools are missing.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLUSTER_LOCK_WAIT_MS, shareCluster } from '../../helpers/slurm-lock.js';
import { systemClock } from '../../../src/core/clock.js';
import { cancelJobs, findJob } from '../../../src/measure/slurm/cancel-jobs.js';
import { slurmExecutor } from '../../../src/measure/slurm/slurm-executor.js';
import { cancelAll, evaluationRequest, expectNoActiveJob, jobsNamed, namePrefix, scratch, SLURM_AVAILABLE, waitFor } from './cluster.js';

const prefix = namePrefix('cancel');

function hold(name: string): string {
  return execFileSync('sbatch', ['--parsable', '--hold', '-J', name, '-o', '/dev/null', '--wrap', 'sleep 30'], { encoding: 'utf8' }).trim();
}

describe.skipIf(!SLURM_AVAILABLE)('cancelJobs and findJob on a real cluster', () => {
  // Shared with the other SLURM test files; test/slurm/cluster-failures.test.ts (node down, preemption) waits for it.
  let releaseCluster: (() => void) | undefined;
  beforeAll(async () => {
    releaseCluster = await shareCluster();
  }, CLUSTER_LOCK_WAIT_MS);
  afterAll(async () => {
    try {
      await cancelAll(prefix);
    } finally {
      releaseCluster?.();
    }
  });

  it('cancels the active jobs of a prefix but the ones kept, and finds jobs by exact name', async () => {
    const [a, b, keep] = [`${prefix}exp-1-aa-eval`, `${prefix}exp-2-bb-eval`, `${prefix}exp-3-cc-eval`];
    const other = `${prefix}other-1-dd-eval`;
    for (const name of [a, b, keep, other]) hold(name);
    const cancelled = await cancelJobs(process.env, { namePrefix: `${prefix}exp-`, except: [keep] });
    expect(cancelled).toEqual([a, b].sort());
    await waitFor('the cancelled jobs to leave the active states', async () => (await findJob(process.env, a))?.state === 'CANCELLED' && (await findJob(process.env, b))?.state === 'CANCELLED');
    expect((await findJob(process.env, keep))?.state).toBe('PENDING');
    expect((await findJob(process.env, other))?.state).toBe('PENDING');
    expect(await findJob(process.env, `${prefix}exp-1-aa`)).toBeNull(); // a prefix of a name is not the name
    // Nothing left to cancel: cancelled jobs are not active.
    expect(await cancelJobs(process.env, { namePrefix: `${prefix}exp-`, except: [keep] })).toEqual([]);
    await cancelJobs(process.env, { namePrefix: prefix });
    await expectNoActiveJob(keep);
    expect((await jobsNamed(other)).map((job) => job.state)).toEqual(['CANCELLED']);
  });

  it('refuses an empty prefix (it would cancel every job of the user)', async () => {
    await expect(cancelJobs(process.env, { namePrefix: '' })).rejects.toThrow(/non-empty name prefix/);
  });
});

describe('without the SLURM tools on PATH', () => {
  it('the evaluation is a spawn-error saying executor: slurm needs them', async () => {
    const { worktree, log } = await scratch();
    const r = evaluationRequest({ jobName: `${prefix}nopath-eval`, command: 'true', worktree, log });
    const executor = slurmExecutor({ slurmArgs: [], slots: undefined, clock: systemClock, env: { PATH: '/nonexistent' } });
    const result = await executor.evaluate(r.request);
    expect(result).toMatchObject({ kind: 'spawn-error', message: expect.stringContaining('executor: slurm needs sbatch, squeue and scancel on PATH: `squeue` was not found (PATH=/nonexistent)') });
  });
});
