/**
 * A job's output and end, through the real CLI: the iteration's eval.log grows while the job
 * is RUNNING (not copied at the end), and eval_timeout holds inside a job (SLURM's own time
 * limit is whole minutes and late): a crash row `eval_timeout`, the job gone from the queue.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, startCli } from '../helpers/cli.js';
import { SLURM_AVAILABLE, activeJobs, cancelJobs, describeJobs, jobsNamed, shareClusterDuringFile, waitForJob } from '../helpers/slurm.js';
import { makeSlurmProject, waitUntil } from './slurm-project.js';

describe.skipIf(!SLURM_AVAILABLE)('evaluations as SLURM jobs: output and timeout', () => {
  shareClusterDuringFile();
  const prefixes: string[] = [];
  afterEach(async () => {
    for (const prefix of prefixes.splice(0)) await cancelJobs(prefix);
  });

  it("streams the job's output into eval.log while it runs", { timeout: 120_000 }, async () => {
    const project = await makeSlurmProject('stream', { plan: [`echo "5 wait go" > value.txt && git commit -qam five`] });
    prefixes.push(project.prefix);
    const run = startCli(project.args('run', '--max-experiments', '1'), { env: project.env });
    try {
      const job = await waitForJob(project.iterationPrefix(1), (j) => j.state === 'RUNNING', "iteration 1's job to run", 90_000);
      await waitUntil(() => project.evalLog(1).includes('waiting for go'), "the running job's first lines in runs/00001/eval.log", 30_000, () => run.output());
      // Seen while the job still runs (it waits for the release below): streamed, not copied at the end.
      const [now] = (await jobsNamed(project.iterationPrefix(1))).filter((j) => j.id === job.id);
      expect(now?.state).toBe('RUNNING');
      expect(project.evalLog(1)).toContain(`job ${job.id} name ${job.name}`);
      expect(project.evalLog(1)).not.toContain('score:');
      expect((await project.rows()).length).toBe(1);

      project.release('go');
      const r = await run.result();
      expect(r.exitCode, run.output()).toBe(0);
    } finally {
      project.release('go');
    }
    expect((await project.rows()).map((row) => [row.status, row.reason, row.metric])).toEqual([
      ['keep', 'baseline', '10.000000'],
      ['keep', 'improved', '5.000000'],
    ]);
    expect(project.evalLog(1)).toMatch(/waiting for go\nreleased by go\nscore: 5\n/);
  });

  it('eval_timeout: the job is stopped, a crash row eval_timeout, no job of ours left in the queue', { timeout: 120_000 }, async () => {
    const project = await makeSlurmProject('timeout', { config: { eval_timeout: '3s' }, plan: [`echo hang > value.txt && git commit -qam hang`] });
    prefixes.push(project.prefix);
    const r = await runCli(project.args('run', '--max-experiments', '1'), { env: project.env, timeoutMs: 100_000 });
    expect(r.exitCode, r.stderr).toBe(0);
    const rows = await project.rows();
    expect(rows.map((row) => [row.status, row.reason])).toEqual([
      ['keep', 'baseline'],
      ['crash', 'eval_timeout'],
    ]);
    expect(rows[1]?.detail).toMatch(/^eval_timeout\b/);
    expect(project.evalLog(1)).toContain('hanging');
    // Killed at ~3 s of running (the queue wait is not counted), not at SLURM's minute.
    expect(Number(rows[1]?.duration_s)).toBeLessThan(45);
    // The iteration's job is over once the run says so (KillWait=2 s: a moment of COMPLETING).
    await waitUntil(async () => (await activeJobs(project.prefix)).length === 0, 'no active job of ours', 15_000, async () => describeJobs(await jobsNamed(project.prefix)));
    const jobs = await jobsNamed(project.iterationPrefix(1));
    expect(jobs.length, describeJobs(jobs)).toBe(1);
  });
});
