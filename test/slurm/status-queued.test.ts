/**
 * `status` of a foreground `run` whose evaluation waits in the queue (a job may wait for hours):
 * the phase is `queued` with the job's id (SPEC §11), not `eval`: `status` reads state.json,
 * whose intent must say so from the submission until the job starts (found: it said `eval`;
 * nothing wrote the mark live-iteration.ts reads).
 */
import { describe, expect, it } from 'vitest';
import { runCli, startCli } from '../helpers/cli.js';
import { SLURM_AVAILABLE, cancelJobs, shareClusterDuringFile, waitForJob } from '../helpers/slurm.js';
import { makeSlurmProject } from './slurm-project.js';

describe.skipIf(!SLURM_AVAILABLE)('evaluations as SLURM jobs: status while a job is queued', () => {
  const cleanups = shareClusterDuringFile();

  it('`status --json` says queued (with the job id) while the baseline job waits for its begin time', { timeout: 120_000 }, async () => {
    // --begin keeps the job PENDING (BeginTime) for an hour: a queue that does not move.
    const project = await makeSlurmProject('queued-status', { config: { slurm_args: '--begin=now+3600' } });
    cleanups.push(() => cancelJobs(project.prefix));
    const run = startCli(project.args('run', '--single'), { env: project.env });
    cleanups.push(() => void run.process.kill('SIGKILL'));
    const job = await waitForJob(project.prefix, (j) => j.state === 'PENDING', 'the baseline job to be PENDING', 60_000);
    // The id reaches state.json right after sbatch answers: ask until status names it.
    let status: { state: string; phase: string | null; job: { id: string | null } | null } | undefined;
    const deadline = Date.now() + 30_000;
    do {
      const r = await runCli(project.args('status', '--json'), { env: project.env });
      expect(r.exitCode, r.stderr).toBe(0);
      status = (JSON.parse(r.stdout) as Array<typeof status>)[0];
    } while (status?.job?.id !== job.id && Date.now() < deadline);
    expect(status?.job?.id, JSON.stringify(status)).toBe(job.id);
    expect(status?.phase, JSON.stringify(status)).toBe('queued');

    run.process.kill('SIGTERM');
    const r = await run.result();
    expect(r.exitCode, run.output()).toBe(0);
  });
});
