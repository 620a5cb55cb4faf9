/**
 * Whose jobs a start cancels. Every start of an `executor: slurm` experiment cancels the jobs
 * "of this experiment nothing waits for", found by name prefix among the user's jobs. Two
 * checkouts of one project (or two projects) are likely to hold an experiment of the same id
 * (`default/lr`), and one repository may hold `d/lr` and `d/lr-2`, or `a/b_c` and `a_b/c`: the
 * start of one must not cancel the running job of the other (found: its job was CANCELLED and
 * its iteration recorded as a crash of the candidate, `eval_signal SIGTERM (slurm job N CANCELLED)`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startCli } from '../helpers/cli.js';
import { makeTempDir } from '../helpers/git-repo.js';
import { makeProject } from '../helpers/project.js';
import { SLURM_AVAILABLE, cancelJobs, describeJobs, jobPrefix, jobsNamed, shareClusterDuringFile, squeueAll, waitForJob } from '../helpers/slurm.js';
import { SLURM_EVAL, makeSlurmProject, waitUntil } from './slurm-project.js';

describe.skipIf(!SLURM_AVAILABLE)('evaluations as SLURM jobs: a start cancels only its own jobs', () => {
  const cleanups = shareClusterDuringFile();

  it("the start of an experiment of the same id in another repository leaves this one's running job alone", { timeout: 180_000 }, async () => {
    const mine = await makeSlurmProject('owner', { plan: [`echo "5 wait go" > value.txt && git commit -qam five`] });
    // Another checkout with an experiment of the same id (its own control directory: its baseline scores at once).
    const otherControl = await makeTempDir('ar-slurm-control-');
    const other = await makeProject({
      id: mine.id,
      files: { 'value.txt': '10\n' },
      config: { executor: 'slurm', evaluate_cmd: `sh ${SLURM_EVAL} ${otherControl}`, eval_timeout: '120s' },
    });
    cleanups.push(() => cancelJobs(mine.prefix));
    cleanups.push(() => mine.release('go'));
    const run = startCli(mine.args('run', '--max-experiments', '1'), { env: mine.env });
    cleanups.push(() => void run.process.kill('SIGKILL'));
    const job = await waitForJob(mine.iterationPrefix(1), (j) => j.state === 'RUNNING', "iteration 1's job to run", 120_000);
    await waitUntil(() => mine.evalLog(1).includes('waiting for go'), 'the job to wait for its release', 30_000, () => run.output());

    // The other checkout's baseline: its start sweeps "its" experiment's jobs.
    const started = await runCli(['--path', other.root, 'run', mine.id, '--single'], { env: other.env, timeoutMs: 120_000 });
    expect(started.exitCode, `${started.stdout}\n${started.stderr}`).toBe(0);
    expect(started.stdout + started.stderr).not.toMatch(new RegExp(`cancelled \\d+ jobs? of this experiment nothing waited for: .*${job.name}`));
    const now = (await squeueAll()).find((j) => j.id === job.id);
    expect(now?.state, describeJobs(await jobsNamed(mine.prefix))).toBe('RUNNING');

    mine.release('go');
    const r = await run.result();
    expect(r.exitCode, run.output()).toBe(0);
    expect((await mine.rows()).map((row) => [row.iteration, row.status, row.reason, row.metric])).toEqual([
      ['0', 'keep', 'baseline', '10.000000'],
      ['1', 'keep', 'improved', '5.000000'],
    ]);
    expect(fs.existsSync(path.join(other.expDir, 'results.tsv'))).toBe(true);
  });

  it("the start of `<id>` leaves the running job of `<id>-2` in the same repository alone", { timeout: 180_000 }, async () => {
    const project = await makeSlurmProject('prefix', { plan: [`echo "5 wait go" > value.txt && git commit -qam five`] });
    // `<id>-2` runs the plan; `<id>` only measures its baseline (the committed value.txt: 10, at once).
    const longer = `${project.id}-2`;
    const longerDir = path.join(project.root, '.autoresearch', ...longer.split('/'));
    fs.mkdirSync(longerDir, { recursive: true });
    fs.writeFileSync(path.join(longerDir, 'config.cfg'), fs.readFileSync(path.join(project.expDir, 'config.cfg'), 'utf8'));
    const longerPrefix = jobPrefix(longer, longerDir);
    const longerLog = () => readOr(path.join(longerDir, 'runs', '00001', 'eval.log'));
    cleanups.push(() => cancelJobs(longerPrefix));
    cleanups.push(() => cancelJobs(project.prefix));
    cleanups.push(() => project.release('go'));
    const run = startCli(['--path', project.root, 'run', longer, '--max-experiments', '1'], { env: project.env });
    cleanups.push(() => void run.process.kill('SIGKILL'));
    const job = await waitForJob(`${longerPrefix}1-`, (j) => j.state === 'RUNNING', "iteration 1's job to run", 120_000);
    await waitUntil(() => longerLog().includes('waiting for go'), 'the job to wait for its release', 30_000, () => run.output());

    const started = await runCli(project.args('run', '--single'), { env: project.env, timeoutMs: 120_000 });
    expect(started.exitCode, `${started.stdout}\n${started.stderr}`).toBe(0);
    const now = (await squeueAll()).find((j) => j.id === job.id);
    expect(now?.state, `${describeJobs(await jobsNamed(longerPrefix))}\n${started.stdout}`).toBe('RUNNING');

    project.release('go');
    const r = await run.result();
    expect(r.exitCode, run.output()).toBe(0);
    const rows = readOr(path.join(longerDir, 'results.tsv')).trim().split('\n').slice(1).map((line) => line.split('\t')[2]);
    expect(rows, run.output()).toEqual(['keep', 'keep']);
  });
});

function readOr(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
