/**
 * Keep, discard and crash with every evaluation a SLURM batch job, through the real CLI on a
 * real repo: the rows are those of a local run, each evaluation's log is the job's output
 * (the job says its id and name), a failing evaluation is a crash naming SLURM's FAILED, and
 * GPUs come from SLURM's `--gres` (slurm_args), never from us.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { SLURM_AVAILABLE, cancelJobs, describeJobs, jobsNamed, shareClusterDuringFile } from '../helpers/slurm.js';
import { makeSlurmProject } from './slurm-project.js';

describe.skipIf(!SLURM_AVAILABLE)('evaluations as SLURM jobs: decisions', () => {
  shareClusterDuringFile();
  const prefixes: string[] = [];
  afterEach(async () => {
    for (const prefix of prefixes.splice(0)) await cancelJobs(prefix);
  });

  it('keeps an improvement, discards a worse one, crashes a failing job (FAILED in the detail)', { timeout: 120_000 }, async () => {
    const project = await makeSlurmProject('decide', {
      plan: [
        /* 1 */ `echo 5 > value.txt && git commit -qam five`,
        /* 2 */ `echo 7 > value.txt && git commit -qam seven`,
        /* 3 */ `echo exit 3 > value.txt && git commit -qam broken`,
      ],
    });
    prefixes.push(project.prefix);
    const r = await runCli(project.args('run', '--max-experiments', '3'), { env: project.env, timeoutMs: 110_000 });
    expect(r.exitCode, r.stderr).toBe(0);

    const rows = await project.rows();
    expect(rows.map((row) => [row.iteration, row.status, row.reason, row.metric])).toEqual([
      ['0', 'keep', 'baseline', '10.000000'],
      ['1', 'keep', 'improved', '5.000000'],
      ['2', 'discard', 'no_improvement', '7.000000'],
      ['3', 'crash', 'eval_exit', 'N/A'],
    ]);
    // The exit code came from the job; SLURM's own end of it is named too.
    expect(rows[3]?.detail).toMatch(/^eval_exit 3\b/);
    expect(rows[3]?.detail).toMatch(/\bFAILED\b/);
    expect(rows[3]?.detail).toContain('failing on purpose with 3');

    // One job per evaluation, each named after its iteration, each log its job's output.
    const jobs = await jobsNamed(project.prefix);
    expect(jobs.map((job) => [job.name.slice(project.prefix.length).split('-')[0], job.state]), describeJobs(jobs)).toEqual([
      ['0', 'COMPLETED'],
      ['1', 'COMPLETED'],
      ['2', 'COMPLETED'],
      ['3', 'FAILED'],
    ]);
    for (const [n, job] of jobs.entries()) {
      expect(project.evalLog(n)).toContain(`job ${job.id} name ${job.name} node ${job.node} cuda unset`);
    }
    expect(project.evalLog(1)).toContain('score: 5');
  });

  it('slurm_args --gres=gpu:1: the job sees the CUDA_VISIBLE_DEVICES SLURM gave it', { timeout: 90_000 }, async () => {
    const project = await makeSlurmProject('gres', { config: { slurm_args: '--gres=gpu:1' } });
    prefixes.push(project.prefix);
    // A variable of the user's shell would reach the job through --export=ALL: SLURM's must win.
    const r = await runCli(project.args('run', '--single'), { env: { ...project.env, CUDA_VISIBLE_DEVICES: '7' }, timeoutMs: 80_000 });
    expect(r.exitCode, r.stderr).toBe(0);
    expect((await project.rows()).map((row) => [row.status, row.metric])).toEqual([['keep', '10.000000']]);
    const [job] = await jobsNamed(project.prefix);
    expect(job?.state).toBe('COMPLETED');
    // The fake GPUs are 0..3 (gres.conf); one of them, by SLURM.
    expect(project.evalLog(0)).toMatch(new RegExp(`^job ${job?.id} name \\S+ node \\S+ cuda [0-3]$`, 'm'));
  });
});
