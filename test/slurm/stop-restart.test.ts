/**
 * Stopping a loop whose evaluation is a running SLURM job, through the real CLI: SIGTERM
 * cancels the job and writes no row (`pause`: pause-and-repeats.test.ts); kill -9 leaves the
 * job running, and the restart finds it by its name (recorded before sbatch) and uses its
 * result: one row, one job, never a second submission for the iteration; when the restart may
 * not carry the attempt on (here: the config now says executor: local), it cancels the job,
 * says why, and runs the iteration again.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startCli } from '../helpers/cli.js';
import { SLURM_AVAILABLE, activeJobs, cancelJobs, describeJobs, jobsNamed, shareClusterDuringFile, waitForJob } from '../helpers/slurm.js';
import { makeSlurmProject, waitUntil } from './slurm-project.js';

describe.skipIf(!SLURM_AVAILABLE)('evaluations as SLURM jobs: stop and restart', () => {
  const cleanups = shareClusterDuringFile();

  it('SIGTERM of `run` cancels the running job: no row, no job of ours left, CANCELLED', { timeout: 120_000 }, async () => {
    const project = await makeSlurmProject('sigterm', { plan: [`echo hang > value.txt && git commit -qam hang`] });
    cleanups.push(() => cancelJobs(project.prefix));
    const run = startCli(project.args('run', '--max-experiments', '1'), { env: project.env });
    cleanups.push(() => void run.process.kill('SIGKILL'));
    const job = await waitForJob(project.iterationPrefix(1), (j) => j.state === 'RUNNING', "iteration 1's job to run", 90_000);
    await waitUntil(() => project.evalLog(1).includes('hanging'), 'the job to print `hanging`', 30_000, () => run.output());

    const signalled = Date.now();
    run.process.kill('SIGTERM');
    const r = await run.result();
    expect(r.exitCode, run.output()).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(15_000);
    // Interrupted, not finished: the baseline's row only.
    expect((await project.rows()).map((row) => row.reason)).toEqual(['baseline']);
    // No job of ours pending or running once `run` has exited (at most one being killed: KillWait=2 s).
    const active = await activeJobs(project.prefix);
    expect(active.filter((j) => j.state !== 'COMPLETING'), describeJobs(active)).toEqual([]);
    await waitUntil(async () => (await activeJobs(project.prefix)).length === 0, 'the cancelled job to end', 15_000);
    const end = (await jobsNamed(project.prefix)).find((j) => j.id === job.id);
    expect(end?.state).toBe('CANCELLED');
  });

  it('kill -9 of `run` while its job runs: the restart re-attaches to the job, one row, no second submission', { timeout: 150_000 }, async () => {
    const project = await makeSlurmProject('sigkill', { plan: [`echo "5 wait go" > value.txt && git commit -qam five`] });
    cleanups.push(() => cancelJobs(project.prefix));
    cleanups.push(() => project.release('go'));
    const first = startCli(project.args('run', '--max-experiments', '1'), { env: project.env });
    cleanups.push(() => void first.process.kill('SIGKILL'));
    const job = await waitForJob(project.iterationPrefix(1), (j) => j.state === 'RUNNING', "iteration 1's job to run", 90_000);
    await waitUntil(() => project.evalLog(1).includes('waiting for go'), 'the job to wait for its release', 30_000, () => first.output());

    first.process.kill('SIGKILL');
    await first.result();
    // The job lives on without its submitter.
    expect((await jobsNamed(project.iterationPrefix(1))).map((j) => [j.id, j.state])).toEqual([[job.id, 'RUNNING']]);

    const second = startCli(project.args('run', '--max-experiments', '1'), { env: project.env });
    cleanups.push(() => void second.process.kill('SIGKILL'));
    // The restart says it found the job (by id or name) before the job is let go.
    await second.waitFor(new RegExp(`job ${job.id}\\b|${job.name}`), 60_000);
    project.release('go');
    const r = await second.result();
    expect(r.exitCode, second.output()).toBe(0);

    const rows = await project.rows();
    expect(rows.map((row) => [row.iteration, row.status, row.reason, row.metric]), `${second.output()}\n${project.evalLog(1)}`).toEqual([
      ['0', 'keep', 'baseline', '10.000000'],
      ['1', 'keep', 'improved', '5.000000'],
    ]);
    // The one job of iteration 1, run once: its output is the row's.
    const jobs = await jobsNamed(project.iterationPrefix(1));
    expect(jobs.map((j) => [j.id, j.state]), describeJobs(jobs)).toEqual([[job.id, 'COMPLETED']]);
    const log = project.evalLog(1);
    expect(log.match(/^job /gm)?.length, log).toBe(1);
    expect(log).toMatch(/waiting for go\nreleased by go\nscore: 5\n/);
  });

  it('kill -9, then config.cfg says executor: local: the restart cancels the job, says why, and runs the iteration again', { timeout: 150_000 }, async () => {
    const project = await makeSlurmProject('sigkill-local', { plan: [`echo "5 wait go" > value.txt && git commit -qam five`] });
    cleanups.push(() => cancelJobs(project.prefix));
    cleanups.push(() => project.release('go'));
    const first = startCli(project.args('run', '--max-experiments', '1'), { env: project.env });
    cleanups.push(() => void first.process.kill('SIGKILL'));
    const job = await waitForJob(project.iterationPrefix(1), (j) => j.state === 'RUNNING', "iteration 1's job to run", 90_000);
    await waitUntil(() => project.evalLog(1).includes('waiting for go'), 'the job to wait for its release', 30_000, () => first.output());
    first.process.kill('SIGKILL');
    await first.result();

    const config = path.join(project.expDir, 'config.cfg');
    fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace(/^executor: slurm$/m, 'executor: local'));
    const second = startCli(project.args('run', '--max-experiments', '1'), { env: project.env });
    cleanups.push(() => void second.process.kill('SIGKILL'));
    await second.waitFor(/iteration 1: cancelled job ar-\S+: config\.cfg now says executor: local/, 60_000);
    await waitForJob(project.iterationPrefix(1), (j) => j.id === job.id && j.state === 'CANCELLED', `job ${job.id} to be cancelled`, 30_000);
    // Run again here, not on the cluster: the local evaluation waits for the same release.
    await waitUntil(() => /^job none name none/m.test(project.evalLog(1)), 'the local evaluation of iteration 1', 60_000, () => second.output());
    project.release('go');
    const r = await second.result();
    expect(r.exitCode, second.output()).toBe(0);

    expect((await project.rows()).map((row) => [row.iteration, row.status, row.reason, row.metric]), second.output()).toEqual([
      ['0', 'keep', 'baseline', '10.000000'],
      ['1', 'keep', 'improved', '5.000000'],
    ]);
    const jobs = await jobsNamed(project.iterationPrefix(1));
    expect(jobs.map((j) => [j.id, j.state]), describeJobs(jobs)).toEqual([[job.id, 'CANCELLED']]);
  });
});
