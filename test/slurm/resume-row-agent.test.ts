/**
 * The row of an attempt resumed after kill -9 says who made its candidate, as the row of the
 * uninterrupted attempt would: `rerun` for a candidate of `autoresearch rerun` (found: the
 * resumed row named the configured agent, `command`, so the rerun counted as the agent's
 * experiment).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startCli } from '../helpers/cli.js';
import { SLURM_AVAILABLE, cancelJobs, shareClusterDuringFile, waitForJob } from '../helpers/slurm.js';
import { makeSlurmProject, waitUntil } from './slurm-project.js';

describe.skipIf(!SLURM_AVAILABLE)('evaluations as SLURM jobs: the row of a resumed attempt', () => {
  const cleanups = shareClusterDuringFile();

  it('kill -9 of `rerun` while its job runs: `run` resumes it, and the row says rerun', { timeout: 180_000 }, async () => {
    const project = await makeSlurmProject('rerun-row', { plan: [`echo "20 wait go" > value.txt && git commit -qam twenty`] });
    cleanups.push(() => cancelJobs(project.prefix));
    cleanups.push(() => project.release('go'));
    // Iteration 1: a discard (20 against 10, lower is better).
    project.release('go');
    const first = await runCli(project.args('run', '--max-experiments', '1'), { env: project.env, timeoutMs: 120_000 });
    expect(first.exitCode, `${first.stdout}\n${first.stderr}`).toBe(0);
    expect((await project.rows()).map((row) => row.status)).toEqual(['keep', 'discard']);
    fs.rmSync(path.join(project.control, 'go'));

    // The rerun of #1 is iteration 2; its job waits for go again.
    const rerun = startCli(['--path', project.root, 'rerun', project.id, '--iterations', '1'], { env: project.env });
    cleanups.push(() => void rerun.process.kill('SIGKILL'));
    await waitForJob(project.iterationPrefix(2), (j) => j.state === 'RUNNING', "the rerun's job to run", 120_000);
    await waitUntil(() => project.evalLog(2).includes('waiting for go'), 'the job to wait for its release', 30_000, () => rerun.output());
    rerun.process.kill('SIGKILL');
    await rerun.result();

    const resumed = startCli(project.args('run', '--single'), { env: project.env });
    cleanups.push(() => void resumed.process.kill('SIGKILL'));
    await resumed.waitFor(/recovered iteration 2: interrupted during eval; job \S+ \(\d+\): it is RUNNING: re-attached/, 60_000);
    project.release('go');
    const r = await resumed.result();
    expect(r.exitCode, resumed.output()).toBe(0);
    const rows = await project.rows();
    expect(rows.map((row) => [row.iteration, row.status, row.agent, row.description]), resumed.output()).toEqual([
      ['0', 'keep', '', 'baseline'],
      ['1', 'discard', 'command', 'twenty'],
      ['2', 'discard', 'rerun', 'rerun of #1: twenty'],
    ]);
  });
});
