/**
 * The SLURM executor against the real one-node cluster (`.ci/slurm-up`): fixture evaluate
 * commands in temp directories, submitted through slurmExecutor and followed to their end.
 * Other test files and helpers share the cluster: every job here is named with this file's
 * prefix and only those are cancelled.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/core/clock.js';
import { slurmExecutor } from '../../../src/measure/slurm/slurm-executor.js';
import type { SlurmCli } from '../../../src/measure/slurm/slurm-cli.js';
import { cancelAll, cli, evaluationRequest, expectNoActiveJob, jobsNamed, namePrefix, readText, scratch, SLURM_AVAILABLE, waitFor, shareClusterDuringFile } from './cluster.js';

/** The built modules (the global setup runs tsc): a real second process imports them. */
const DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../dist');
const prefix = namePrefix('exec');
let counter = 0;
const nextName = (label: string): string => `${prefix}${label}-${++counter}-eval`;

/** Processes whose command line contains `text` (this machine is the cluster's node). */
function survivors(text: string): string[] {
  try {
    return execFileSync('pgrep', ['-f', '-a', text], { encoding: 'utf8' }).trim().split('\n').filter((line) => line !== '' && !line.includes('pgrep'));
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

const executor = (extra: Partial<Parameters<typeof slurmExecutor>[0]> = {}) =>
  slurmExecutor({ slurmArgs: [], slots: undefined, clock: systemClock, env: process.env, ...extra });

describe.skipIf(!SLURM_AVAILABLE)('slurmExecutor on a real cluster', () => {
  shareClusterDuringFile();
  afterAll(async () => {
    await cancelAll(prefix);
  });

  it('streams the output into the log while the job runs, then reads exit 0, the environment being the request’s', async () => {
    const { worktree, log } = await scratch();
    const name = nextName('ok');
    const command = [
      'echo "first line from $(pwd)"',
      'echo "env: [$AR_TEST_VALUE] [${GIT_DIR-unset}] [${CUDA_VISIBLE_DEVICES-unset}] [$PYTHONUNBUFFERED] [$SLURM_JOB_NAME]"',
      'while [ ! -f go ]; do sleep 0.1; done',
      'echo "metric: 1.5"',
    ].join('; ');
    const r = evaluationRequest({
      jobName: name,
      command,
      worktree,
      log,
      env: { PATH: process.env.PATH, AR_TEST_VALUE: "a,b='c' \"d\" $HOME `x`", AUTORESEARCH_WORKTREE: worktree },
    });
    // The daemon's own environment has a repository pointer the request left out: the job must not see it.
    const outcome = executor({ env: { ...process.env, GIT_DIR: '/nowhere/.git', CUDA_VISIBLE_DEVICES: '7' } }).evaluate(r.request);
    await waitFor('the first line in the log while the job runs', async () => (await readText(log)).includes('first line'));
    await waitFor('onStart once the job runs', () => r.starts.length === 1);
    const text = await readText(log);
    expect(text).toContain(`first line from ${worktree}`);
    expect(text).toContain(`env: [a,b='c' "d" $HOME \`x\`] [unset] [unset] [1] [${name}]`);
    await fs.writeFile(path.join(worktree, 'go'), '');
    const result = await outcome;
    expect(result).toMatchObject({ kind: 'exit', code: 0, job: { state: 'COMPLETED', node: expect.any(String) } });
    expect(await readText(log)).toContain('metric: 1.5');
    // The intent got the name before sbatch, then the id; onStart said where.
    expect(r.submits.map((job) => job.id === null)).toEqual([true, false]);
    expect(r.submits[0]?.name).toBe(name);
    const id = r.submits[1]?.id;
    expect(r.starts[0]).toMatch(new RegExp(`^slurm job ${id} on \\S+$`));
    expect((result as { job: { id: string } }).job.id).toBe(id);
  });

  it('reads a non-zero exit code and says FAILED', async () => {
    const { worktree, log } = await scratch();
    const r = evaluationRequest({ jobName: nextName('exit3'), command: 'echo boom >&2; exit 3', worktree, log });
    const result = await executor().evaluate(r.request);
    expect(result).toMatchObject({ kind: 'exit', code: 3, job: { state: 'FAILED' } });
    expect(await readText(log)).toContain('boom');
  });

  it('reads a signal that killed the command', async () => {
    const { worktree, log } = await scratch();
    const r = evaluationRequest({ jobName: nextName('signal'), command: 'echo dying; kill -SEGV $$', worktree, log });
    const result = await executor().evaluate(r.request);
    expect(result).toMatchObject({ kind: 'signal', signal: 'SIGSEGV' });
  });

  it('enforces eval_timeout inside the job: the whole tree dies, outcome timeout', async () => {
    const { worktree, log } = await scratch();
    // A fractional sleep unique to this test: pgrep finds any survivor of the tree.
    const marker = `59.${process.pid}${counter}`;
    const r = evaluationRequest({ jobName: nextName('timeout'), command: `echo started; (sleep ${marker}; echo child-survived) & sleep ${marker}`, worktree, log, timeoutMs: 2000 });
    const started = Date.now();
    const result = await executor({ killGraceMs: 500 }).evaluate(r.request);
    expect(result.kind).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(result.durationMs).toBeGreaterThanOrEqual(1900);
    await expectNoActiveJob(r.request.jobName);
    expect(await readText(log)).toContain('started');
    expect(survivors(`sleep ${marker}`)).toEqual([]);
  });

  it('an abort cancels the job: aborted, and squeue shows it active no more', async () => {
    const { worktree, log } = await scratch();
    const r = evaluationRequest({ jobName: nextName('abort'), command: 'echo running; sleep 60', worktree, log });
    const outcome = executor().evaluate(r.request);
    await waitFor('the job to run', async () => (await readText(log)).includes('running'));
    r.abort.abort();
    expect(await outcome).toMatchObject({ kind: 'aborted' });
    await expectNoActiveJob(r.request.jobName);
    const jobs = await jobsNamed(r.request.jobName);
    expect(jobs.map((job) => job.state)).toEqual(['CANCELLED']);
  });

  it('an abort while the job is queued cancels it too', async () => {
    const { worktree, log } = await scratch();
    const r = evaluationRequest({ jobName: nextName('abortq'), command: 'echo never', worktree, log });
    const outcome = executor({ slurmArgs: ['--hold'] }).evaluate(r.request);
    await waitFor('the job id', () => r.submits.some((job) => job.id !== null));
    r.abort.abort();
    expect(await outcome).toMatchObject({ kind: 'aborted' });
    expect(r.starts).toEqual([]);
    await expectNoActiveJob(r.request.jobName);
  });

  it('a restart attaches to the job of the same name: no second submission', async () => {
    const { worktree, log } = await scratch();
    const name = nextName('attach');
    const command = 'echo attached-run; while [ ! -f go ]; do sleep 0.1; done; echo done';
    const first = evaluationRequest({ jobName: name, command, worktree, log });
    // The first daemon is "killed -9": its poller never answers again, and nothing it does follows.
    const frozen = slurmExecutor({ slurmArgs: [], slots: undefined, clock: systemClock, env: process.env, watcher: { next: () => new Promise(() => {}) } });
    void frozen.evaluate(first.request);
    await waitFor('the first job to run', async () => (await readText(log)).includes('attached-run'));
    const second = evaluationRequest({ jobName: name, command, worktree, log });
    const submissions: string[] = [];
    const spying: SlurmCli = { ...cli, submit: async (spec) => (submissions.push(spec.name), cli.submit(spec)) };
    const outcome = executor({ cli: spying }).evaluate(second.request);
    await waitFor('the second executor to attach', () => second.starts.length === 1);
    await fs.writeFile(path.join(worktree, 'go'), '');
    expect(await outcome).toMatchObject({ kind: 'exit', code: 0, job: { state: 'COMPLETED' } });
    expect(submissions).toEqual([]);
    // Only the id: no `id: null` record (that would say "about to submit").
    expect(second.submits).toEqual([{ name, id: first.submits[1]?.id, commit: second.request.commit }]);
    expect(await jobsNamed(name)).toHaveLength(1);
  });

  it('an exit file already there is the answer: nothing is submitted', async () => {
    const { worktree, log } = await scratch();
    await fs.writeFile(log, 'metric: 2\n');
    await fs.writeFile(`${log}.exit`, 'exit 0\nelapsed_ms 1234\nnode vm\n');
    const r = evaluationRequest({ jobName: nextName('done'), command: 'echo should-not-run', worktree, log });
    const submissions: string[] = [];
    const spying: SlurmCli = { ...cli, submit: async (spec) => (submissions.push(spec.name), cli.submit(spec)) };
    const result = await executor({ cli: spying }).evaluate(r.request);
    expect(result).toMatchObject({ kind: 'exit', code: 0, durationMs: 1234 });
    expect(submissions).toEqual([]);
    expect(r.submits).toEqual([]);
    expect(await jobsNamed(r.request.jobName)).toEqual([]);
  });

  it('a job whose log and exit file the node could not write: an infrastructure end (no row) naming the shared filesystem', async () => {
    const { worktree, runDir, log } = await scratch();
    const r = evaluationRequest({ jobName: nextName('noshare'), command: 'echo hi', worktree, log });
    const outcome = executor({ slurmArgs: ['--hold'], exitFilePatienceMs: 500 }).evaluate(r.request);
    await waitFor('the job id', () => r.submits.some((job) => job.id !== null));
    // As if the node did not see the run directory: it is gone when the job starts.
    await fs.rm(runDir, { recursive: true, force: true });
    execFileSync('scontrol', ['release', String(r.submits[1]?.id)]);
    const result = await outcome;
    expect(result).toMatchObject({ kind: 'infrastructure', failures: [] });
    expect((result as { message: string }).message).toMatch(/without any output.*must be on a filesystem node \S+ shares/s);
  });

  it('a preempted job is not the candidate’s fault: its log goes aside and the evaluation runs again', async () => {
    const { worktree, log } = await scratch();
    const name = nextName('preempt');
    const command = 'if [ -f ran-once ]; then echo "metric: 3"; exit 0; fi; touch ran-once; echo partial-output; sleep 60';
    const r = evaluationRequest({ jobName: name, command, worktree, log });
    // All four GPUs: the urgent job below can only run by preempting this one (not other helpers' CPU jobs).
    const outcome = executor({ slurmArgs: ['--partition=debug', '--gres=gpu:4'] }).evaluate(r.request);
    await waitFor('the job to run', async () => (await readText(log)).includes('partial-output'));
    execFileSync('sbatch', ['--parsable', '-p', 'urgent', '--gres=gpu:4', '-J', `${prefix}urgent`, '-o', '/dev/null', '--wrap', 'sleep 1']);
    const result = await outcome;
    expect(result).toMatchObject({ kind: 'exit', code: 0, job: { state: 'COMPLETED' } });
    expect(r.failures).toHaveLength(1);
    expect(r.failures[0]).toMatchObject({ action: 'rerun', job: { state: 'PREEMPTED', name } });
    expect(r.failures[0]?.log).toBe(path.join(path.dirname(log), 'eval.preempted-1.log'));
    expect(await readText(r.failures[0]!.log)).toContain('partial-output');
    const text = await readText(log);
    expect(text).toContain('metric: 3');
    expect(text).not.toContain('partial-output');
    // The re-run has its own name, so a restart finds it.
    expect(r.submits.map((job) => job.name)).toEqual([name, name, `${name}.r1`, `${name}.r1`]);
    expect(await jobsNamed(`${name}.r1`)).toHaveLength(1);
    // Each job's start is told (the phase goes queued → eval again for the re-run).
    expect(r.starts).toEqual([expect.stringMatching(/^slurm job \d+ on /), expect.stringMatching(/^slurm job \d+ on /)]);
    expect(r.starts[0]).not.toBe(r.starts[1]);
  }, 30_000);

  it('kill -9 of the submitting process, then a new one: it attaches to the running job, nothing submitted twice', async () => {
    const { worktree, log } = await scratch();
    const name = nextName('kill9');
    const command = 'echo from-the-job; while [ ! -f go ]; do sleep 0.1; done; echo "metric: 4"';
    // The first daemon: a real process running the executor (dist/, built by the global setup).
    const dist = path.join(DIST, 'measure/slurm/slurm-executor.js');
    const script = `
      const { slurmExecutor } = await import(${JSON.stringify(dist)});
      const { systemClock } = await import(${JSON.stringify(path.join(DIST, 'core/clock.js'))});
      await slurmExecutor({ slurmArgs: [], slots: undefined, clock: systemClock, env: process.env }).evaluate({
        command: ${JSON.stringify(command)}, cwd: ${JSON.stringify(worktree)}, env: { PATH: process.env.PATH }, logFile: ${JSON.stringify(log)},
        timeoutMs: 60000, signal: new AbortController().signal, escapeTag: { name: 'X', value: 'y' }, onEscapee() {}, onSpawn() {},
        onStart: async () => console.log('started'), jobName: ${JSON.stringify(name)}, commit: 'c', onSubmit: async () => {}, onInfrastructureFailure() {},
      });
      console.log('returned');
    `;
    const first = execa('node', ['--input-type=module', '-e', script], { reject: false });
    await waitFor('the first process to see its job run', async () => (await readText(log)).includes('from-the-job'));
    first.kill('SIGKILL');
    expect((await first).stdout).not.toContain('returned');
    await expectJobState(name, 'RUNNING');
    const second = evaluationRequest({ jobName: name, command, worktree, log });
    const outcome = executor().evaluate(second.request);
    await waitFor('the restart to attach', () => second.starts.length === 1);
    await fs.writeFile(path.join(worktree, 'go'), '');
    expect(await outcome).toMatchObject({ kind: 'exit', code: 0, job: { state: 'COMPLETED' } });
    expect(second.submits.map((job) => job.id === null)).toEqual([false]);
    expect(await jobsNamed(name)).toHaveLength(1);
    expect(await readText(log)).toContain('metric: 4');
  });
});

async function expectJobState(name: string, state: string): Promise<void> {
  expect((await jobsNamed(name)).map((job) => job.state)).toEqual([state]);
}

