/**
 * kill -9 of `run` while its job runs, then `pause` (nothing runs: it writes the halt), then the
 * daemon starts. The job must not be left running for a paused experiment (SPEC §11: it is
 * cancelled, and the iteration rolled back, when the experiment is paused). `run` recovers
 * even a halted experiment; the daemon did not even open it (found: the job stayed RUNNING
 * and the intent stayed in state.json while the daemon showed the experiment paused).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, startCli } from '../helpers/cli.js';
import { SLURM_AVAILABLE, activeJobs, cancelJobs, describeJobs, jobsNamed, shareClusterDuringFile, waitForJob } from '../helpers/slurm.js';
import { killDaemons, readDaemonInfo, rememberDaemon } from '../daemon/helpers.js';
import { makeSlurmProject, waitUntil } from './slurm-project.js';

describe.skipIf(!SLURM_AVAILABLE)('evaluations as SLURM jobs: the daemon and a halted experiment with a job', () => {
  shareClusterDuringFile();
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    await killDaemons([]);
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('kill -9 of `run`, `pause`, then the daemon: the paused experiment\'s job is cancelled and its iteration rolled back', { timeout: 180_000 }, async () => {
    const project = await makeSlurmProject('halted', { plan: [`echo "5 wait go" > value.txt && git commit -qam five`] });
    cleanups.push(() => cancelJobs(project.prefix));
    cleanups.push(() => project.release('go'));
    const run = startCli(project.args('run', '--max-experiments', '1'), { env: project.env });
    cleanups.push(() => void run.process.kill('SIGKILL'));
    const job = await waitForJob(project.iterationPrefix(1), (j) => j.state === 'RUNNING', "iteration 1's job to run", 120_000);
    await waitUntil(() => project.evalLog(1).includes('waiting for go'), 'the job to wait for its release', 30_000, () => run.output());
    run.process.kill('SIGKILL');
    await run.result();

    const paused = await runCli(project.args('pause'), { env: project.env });
    expect(paused.exitCode, paused.stderr).toBe(0);
    const started = await runCli(['--path', project.root, 'daemon', 'start', '--concurrency', '1'], { env: project.env });
    const info = readDaemonInfo(project.root);
    if (info !== null) rememberDaemon(info.pid);
    expect(started.exitCode, `${started.stdout}\n${started.stderr}`).toBe(0);

    const stateFile = path.join(project.expDir, 'state.json');
    const state = () => JSON.parse(fs.readFileSync(stateFile, 'utf8')) as { halt: { state: string } | null; intent: unknown };
    await waitUntil(
      async () => (await activeJobs(project.prefix)).length === 0 && state().intent === null,
      'the paused experiment\'s job to be cancelled and its intent cleared',
      60_000,
      async () => `${describeJobs(await jobsNamed(project.prefix))}\nintent: ${JSON.stringify(state().intent)}`,
    );
    expect(state().halt?.state).toBe('paused');
    expect((await jobsNamed(project.prefix)).find((j) => j.id === job.id)?.state).toBe('CANCELLED');
    expect((await project.rows()).map((row) => row.reason)).toEqual(['baseline']);
  });
});
