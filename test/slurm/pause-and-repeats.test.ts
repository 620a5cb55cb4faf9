/**
 * Two promises of the SLURM executor beyond one evaluation, through the real CLI:
 *  - `pause` while a job runs cancels it at once (a queue may hold it for hours): no row, no
 *    job of ours left, the experiment paused; during the agent's turn it lets the turn finish
 *    and cancels the job the turn's candidate is submitted as;
 *  - kill -9 in the middle of a repeated measurement: the restart carries the attempt on with
 *    the same job names, so the samples already taken are read from their exit files, the
 *    running one is re-attached, and no evaluation of the iteration is submitted twice.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startCli } from '../helpers/cli.js';
import { makeTempDir } from '../helpers/git-repo.js';
import { SLURM_AVAILABLE, activeJobs, cancelJobs, describeJobs, jobsNamed, shareClusterDuringFile, waitForJob } from '../helpers/slurm.js';
import { makeSlurmProject, waitUntil } from './slurm-project.js';

describe.skipIf(!SLURM_AVAILABLE)('evaluations as SLURM jobs: pause, and kill -9 during repeats', () => {
  const cleanups = shareClusterDuringFile();

  it('`pause` during a running job cancels it: no row, no job of ours left, paused (exit 3)', { timeout: 120_000 }, async () => {
    const project = await makeSlurmProject('pause', { plan: [`echo hang > value.txt && git commit -qam hang`] });
    cleanups.push(() => cancelJobs(project.prefix));
    const run = startCli(project.args('run'), { env: project.env });
    cleanups.push(() => void run.process.kill('SIGKILL'));
    const job = await waitForJob(project.iterationPrefix(1), (j) => j.state === 'RUNNING', "iteration 1's job to run", 90_000);
    await waitUntil(() => project.evalLog(1).includes('hanging'), 'the job to print `hanging`', 30_000, () => run.output());

    const paused = await runCli(project.args('pause'), { env: project.env });
    expect(paused.exitCode, paused.stderr).toBe(0);
    const r = await run.result();
    expect(r.exitCode, run.output()).toBe(3);
    expect(run.output()).toMatch(/paused/);
    expect((await project.rows()).map((row) => row.reason)).toEqual(['baseline']);
    await waitUntil(async () => (await activeJobs(project.prefix)).length === 0, 'the cancelled job to end', 15_000, async () => describeJobs(await jobsNamed(project.prefix)));
    expect((await jobsNamed(project.prefix)).find((j) => j.id === job.id)?.state).toBe('CANCELLED');
    const state = JSON.parse(fs.readFileSync(path.join(project.expDir, 'state.json'), 'utf8')) as { halt: { state: string } | null; intent: unknown };
    expect(state.halt?.state).toBe('paused');
    expect(state.intent).toBeNull();
  });

  it('`pause` during the agent\'s turn lets the turn finish, then cancels the job it submits: no row, paused', { timeout: 120_000 }, async () => {
    const gate = await makeTempDir('ar-slurm-agent-gate-');
    const project = await makeSlurmProject('pause-agent', {
      plan: [`echo "agent waits" && while [ ! -e ${gate}/go ]; do sleep 0.1; done && echo hang > value.txt && git commit -qam hang && touch ${gate}/done`],
    });
    cleanups.push(() => cancelJobs(project.prefix));
    cleanups.push(() => fs.writeFileSync(path.join(gate, 'go'), ''));
    const run = startCli(project.args('run'), { env: project.env });
    cleanups.push(() => void run.process.kill('SIGKILL'));
    await run.waitFor(/#1 agent/, 90_000);
    const paused = await runCli(project.args('pause'), { env: project.env });
    expect(paused.exitCode, paused.stderr).toBe(0);
    expect(paused.stdout).toMatch(/a cluster job it waits for is cancelled now/);
    // The turn is not cut: it ends when its gate opens, and its commit is made.
    fs.writeFileSync(path.join(gate, 'go'), '');
    const r = await run.result();
    expect(r.exitCode, run.output()).toBe(3);
    expect(fs.existsSync(path.join(gate, 'done')), run.output()).toBe(true);
    expect(run.output()).toMatch(/#1 queued/);
    expect((await project.rows()).map((row) => row.reason)).toEqual(['baseline']);
    await waitUntil(async () => (await activeJobs(project.prefix)).length === 0, 'no job of ours left', 15_000, async () => describeJobs(await jobsNamed(project.prefix)));
    const state = JSON.parse(fs.readFileSync(path.join(project.expDir, 'state.json'), 'utf8')) as { halt: { state: string } | null; intent: unknown };
    expect(state.halt?.state).toBe('paused');
    expect(state.intent).toBeNull();
  });

  it('kill -9 while a later sample runs: the restart reads the finished ones, re-attaches to the running one, submits each evaluation once', { timeout: 180_000 }, async () => {
    const project = await makeSlurmProject('repeats', {
      config: { repeats: '3', noise: 'auto' },
      plan: [`echo 5 > value.txt && git commit -qam five`],
    });
    // Every evaluation of the candidate (value 5) waits for its own release, go.<AUTORESEARCH_SAMPLE>; the baseline's and the best's (10) run freely.
    const script = path.join(project.control, 'eval-samples.sh');
    fs.writeFileSync(
      script,
      [
        'echo "job ${SLURM_JOB_ID:-none} sample $AUTORESEARCH_SAMPLE"',
        'v=$(cat value.txt)',
        'if [ "$v" != 10 ]; then echo "waiting for go.$AUTORESEARCH_SAMPLE"; while [ ! -e "$1/go.$AUTORESEARCH_SAMPLE" ]; do sleep 0.1; done; fi',
        'echo "score: $v"',
        '',
      ].join('\n'),
    );
    const config = path.join(project.expDir, 'config.cfg');
    fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace(/^evaluate_cmd: .*$/m, `evaluate_cmd: sh ${script} ${project.control}`));
    const releaseAll = () => {
      for (let n = 1; n <= 12; n++) project.release(`go.${n}`);
    };
    cleanups.push(() => cancelJobs(project.prefix));
    cleanups.push(releaseAll);
    const runDir = path.join(project.expDir, 'runs', '00001');
    const waitingSample = (): number | null => {
      let files: string[] = [];
      try {
        files = fs.readdirSync(runDir).filter((f) => f.endsWith('.log'));
      } catch {
        return null;
      }
      const samples = files.flatMap((f) => [...fs.readFileSync(path.join(runDir, f), 'utf8').matchAll(/waiting for go\.(\d+)/g)].map((m) => Number(m[1])));
      return samples.length === 0 ? null : Math.max(...samples);
    };

    const first = startCli(project.args('run', '--max-experiments', '1'), { env: project.env });
    cleanups.push(() => void first.process.kill('SIGKILL'));
    await waitUntil(() => waitingSample() === 1, "the candidate's first sample to wait", 120_000, () => first.output());
    project.release('go.1');
    // One sample of 5 against a best of 10 is never a keep (a keep needs 2): a later evaluation of the candidate follows.
    await waitUntil(() => (waitingSample() ?? 0) >= 2, "a later sample of the candidate to wait", 60_000, () => first.output());
    const running = await waitForJob(project.iterationPrefix(1), (j) => j.state === 'RUNNING', 'the waiting job to be RUNNING', 30_000);
    first.process.kill('SIGKILL');
    await first.result();
    const before = await jobsNamed(project.iterationPrefix(1));
    expect(before.length, describeJobs(before)).toBeGreaterThanOrEqual(2);

    const restart = startCli(project.args('run', '--max-experiments', '1'), { env: project.env });
    cleanups.push(() => void restart.process.kill('SIGKILL'));
    await restart.waitFor(/recovered iteration 1: interrupted during eval; job ar-\S+ \(\d+\): it is RUNNING: re-attached/, 60_000);
    releaseAll();
    const r = await restart.result();
    expect(r.exitCode, restart.output()).toBe(0);

    const rows = await project.rows();
    expect(rows.map((row) => [row.iteration, row.status])).toEqual([
      ['0', 'keep'],
      ['1', 'keep'],
    ]);
    const after = await jobsNamed(project.iterationPrefix(1));
    const names = after.map((j) => j.name);
    // Each evaluation of the iteration was submitted once; the jobs from before the kill are the same jobs.
    expect(new Set(names).size, describeJobs(after)).toBe(names.length);
    for (const job of before) expect(after.find((j) => j.name === job.name)?.id, describeJobs(after)).toBe(job.id);
    expect(after.find((j) => j.id === running.id)?.state, describeJobs(after)).toBe('COMPLETED');
    // One attempt: every job of the iteration carries the same attempt token.
    expect(new Set(names.map((name) => name.slice(project.iterationPrefix(1).length).split('-')[0])).size, describeJobs(after)).toBe(1);
  });
});
