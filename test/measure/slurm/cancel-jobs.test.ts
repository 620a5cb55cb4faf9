/**
 * Recovery's tools on the real cluster: cancel an experiment's jobs by name prefix (but the
 * ones a restart attaches to), find a job by name. And the message when the tools are missing.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/core/clock.js';
import { cancelJobs, findJob } from '../../../src/measure/slurm/cancel-jobs.js';
import { slurmExecutor } from '../../../src/measure/slurm/slurm-executor.js';
import { createSlurmCli } from '../../../src/measure/slurm/slurm-cli.js';
import { cancelAll, evaluationRequest, expectNoActiveJob, jobsNamed, namePrefix, scratch, SLURM_AVAILABLE, waitFor, shareClusterDuringFile } from './cluster.js';

const prefix = namePrefix('cancel');

function hold(name: string): string {
  return execFileSync('sbatch', ['--parsable', '--hold', '-J', name, '-o', '/dev/null', '--wrap', 'sleep 30'], { encoding: 'utf8' }).trim();
}

describe.skipIf(!SLURM_AVAILABLE)('cancelJobs and findJob on a real cluster', () => {
  shareClusterDuringFile();
  afterAll(async () => {
    await cancelAll(prefix);
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

  it('a retried sbatch (the first try failed as a timeout does) takes no older job of the name for the one it queued', async () => {
    const name = `${prefix}resubmit-1-ee-eval`;
    const old = hold(name);
    execFileSync('scancel', [old]);
    const { worktree, runDir, log } = await scratch();
    const bin = path.join(runDir, 'fakebin');
    await fs.mkdir(bin);
    const failedOnce = path.join(bin, 'failed-once');
    // A fake sbatch earlier on PATH: the first call fails as a controller that timed out does, then the real one.
    await fs.writeFile(path.join(bin, 'sbatch'), `#!/bin/sh\nif [ ! -e '${failedOnce}' ]; then : > '${failedOnce}'; echo 'sbatch: error: Batch job submission failed: Socket timed out on send/recv operation' >&2; exit 1; fi\nexec /usr/bin/sbatch "$@"\n`, { mode: 0o755 });
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
    const script = path.join(runDir, 'job.sh');
    await fs.writeFile(script, '#!/bin/sh\nsleep 30\n');
    const id = await createSlurmCli({ env, retryWaitMs: 50 }).submit({ name, comment: 'test', cwd: worktree, logFile: log, timeMinutes: 1, slurmArgs: ['--hold'], script, env, staleIds: [old] });
    expect(id).not.toBe(old);
    expect((await jobsNamed(name)).map((job) => job.id).sort()).toEqual([old, id].sort());
  });
});

describe('without the SLURM tools on PATH', () => {
  it('the evaluation is an infrastructure end (no row) saying executor: slurm needs them', async () => {
    const { worktree, log } = await scratch();
    const r = evaluationRequest({ jobName: `${prefix}nopath-eval`, command: 'true', worktree, log });
    const executor = slurmExecutor({ slurmArgs: [], slots: undefined, clock: systemClock, env: { PATH: '/nonexistent' } });
    const result = await executor.evaluate(r.request);
    expect(result).toMatchObject({ kind: 'infrastructure', failures: [], message: expect.stringContaining('executor: slurm needs sbatch, squeue and scancel on PATH: `squeue` was not found (PATH=/nonexistent)') });
  });
});
