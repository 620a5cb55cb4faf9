/**
 * kill -9 while a job runs, then evaluate_cmd is changed (the evaluation had a bug) before the
 * restart. The job still running evaluates with the old command: its result must not become
 * a row under the new one. The restart cancels it, saying why, and the iteration runs again
 * (found: the old command's result was recorded).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startCli } from '../helpers/cli.js';
import { SLURM_AVAILABLE, cancelJobs, describeJobs, jobsNamed, shareClusterDuringFile, waitForJob } from '../helpers/slurm.js';
import { makeSlurmProject, waitUntil } from './slurm-project.js';

describe.skipIf(!SLURM_AVAILABLE)('evaluations as SLURM jobs: a restart after evaluate_cmd changed', () => {
  const cleanups = shareClusterDuringFile();

  it('the running job of the old command is cancelled (and why is said); the row is the new command\'s', { timeout: 180_000 }, async () => {
    const project = await makeSlurmProject('newcmd', { plan: [`echo "5 wait go" > value.txt && git commit -qam five`] });
    cleanups.push(() => cancelJobs(project.prefix));
    cleanups.push(() => project.release('go'));
    const first = startCli(project.args('run', '--max-experiments', '1'), { env: project.env });
    cleanups.push(() => void first.process.kill('SIGKILL'));
    const job = await waitForJob(project.iterationPrefix(1), (j) => j.state === 'RUNNING', "iteration 1's job to run", 120_000);
    await waitUntil(() => project.evalLog(1).includes('waiting for go'), 'the job to wait for its release', 30_000, () => first.output());
    first.process.kill('SIGKILL');
    await first.result();

    // The fixed evaluation: it scores value.txt's first word plus 1, at once.
    const configFile = path.join(project.expDir, 'config.cfg');
    fs.writeFileSync(configFile, fs.readFileSync(configFile, 'utf8').replace(/^evaluate_cmd: .*$/m, `evaluate_cmd: set -- $(cat value.txt); echo "score: $(($1 + 1))"`));
    const restart = startCli(project.args('run', '--max-experiments', '1'), { env: project.env });
    cleanups.push(() => void restart.process.kill('SIGKILL'));
    await restart.waitFor(/evaluate_cmd/, 60_000);
    project.release('go'); // were the old job still waited for, it would end now
    const r = await restart.result();
    expect(r.exitCode, restart.output()).toBe(0);
    expect(restart.output()).toMatch(new RegExp(`${job.name}.*evaluate_cmd`));
    const end = (await jobsNamed(project.iterationPrefix(1))).find((j) => j.id === job.id);
    expect(end?.state, describeJobs(await jobsNamed(project.prefix))).toBe('CANCELLED');
    // Baseline 10 (old command), then the candidate measured by the new one: 5 + 1.
    expect((await project.rows()).map((row) => [row.iteration, row.metric])).toEqual([
      ['0', '10.000000'],
      ['1', '6.000000'],
    ]);
  });
});
