/**
 * The executor's decisions against a scripted cluster (no SLURM needed): the bound on re-runs,
 * resuming after earlier failures, slots held through the queue, failures of the caller's
 * callbacks and of sbatch leaving nothing queued, a controller that stops answering.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/core/clock.js';
import { SlotPool } from '../../../src/core/slot-pool.js';
import type { EvaluationRequest, InfrastructureFailure } from '../../../src/measure/executor.js';
import type { JobRecord } from '../../../src/experiment/state.js';
import { slurmExecutor, type SlurmExecutorOptions } from '../../../src/measure/slurm/slurm-executor.js';
import { SlurmCommandError, type SlurmCli, type SlurmJob, type SubmitSpec } from '../../../src/measure/slurm/slurm-cli.js';

/** A cluster whose jobs move only when the test says. */
class ScriptedCluster implements SlurmCli {
  jobs: SlurmJob[] = [];
  submitted: SubmitSpec[] = [];
  cancelled: string[] = [];
  /** The names each squeue call asked for. */
  calls: string[][] = [];
  squeueFails = false;
  sbatchFails: SlurmCommandError | null = null;
  private nextId = 100;

  async submit(spec: SubmitSpec): Promise<string> {
    if (this.sbatchFails !== null) throw this.sbatchFails;
    this.submitted.push(spec);
    const id = String(this.nextId++);
    this.jobs.push({ id, name: spec.name, state: 'PENDING', node: null, reason: 'Priority' });
    return id;
  }
  async jobsNamed(names: readonly string[]): Promise<SlurmJob[]> {
    this.calls.push([...names]);
    if (this.squeueFails) throw new SlurmCommandError('`squeue` exited 1: Unable to contact slurm controller', true, 'Unable to contact slurm controller');
    return this.jobs.filter((job) => names.includes(job.name)).map((job) => ({ ...job }));
  }
  async allJobs(): Promise<SlurmJob[]> {
    return this.jobs.map((job) => ({ ...job }));
  }
  async cancel(name: string, id?: string): Promise<void> {
    for (const job of this.jobs) {
      if (job.name === name && (id === undefined || job.id === id) && ['PENDING', 'RUNNING'].includes(job.state)) {
        job.state = 'CANCELLED';
        this.cancelled.push(job.name);
      }
    }
  }
  async cancelIds(): Promise<void> {}

  set(name: string, state: string): void {
    const job = this.jobs.findLast((j) => j.name === name);
    if (job === undefined) throw new Error(`no job ${name}`);
    job.state = state;
    if (state !== 'PENDING') job.node = 'n1';
  }
  add(name: string, state: string): void {
    this.jobs.push({ id: String(this.nextId++), name, state, node: state === 'PENDING' ? null : 'n1', reason: '' });
  }
}

async function setup(cluster: ScriptedCluster, options: Partial<SlurmExecutorOptions> = {}, name = 'ar-x-1-ab-eval') {
  const dir = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'ar-slurm-logic-')));
  const log = path.join(dir, 'eval.log');
  const abort = new AbortController();
  const events: string[] = [];
  const submits: JobRecord[] = [];
  const failures: InfrastructureFailure[] = [];
  const request: EvaluationRequest = {
    command: 'true',
    cwd: dir,
    env: { PATH: '/bin' },
    logFile: log,
    timeoutMs: 60_000,
    signal: abort.signal,
    escapeTag: { name: 'AUTORESEARCH_WORKTREE', value: dir },
    onEscapee: (message) => events.push(`warning ${message}`),
    onSpawn: () => {},
    onStart: async (where) => void events.push(`start ${where}`),
    jobName: name,
    commit: 'c0ffee',
    onSubmit: async (job) => void submits.push(job),
    onInfrastructureFailure: (failure) => failures.push(failure),
  };
  const executor = slurmExecutor({ slurmArgs: [], slots: undefined, clock: systemClock, env: {}, cli: cluster, pollMs: 5, cancelWaitMs: 2000, exitFilePatienceMs: 50, ...options });
  return { dir, log, abort, events, submits, failures, request, executor };
}

const until = async (check: () => boolean): Promise<void> => {
  for (let i = 0; i < 2000 && !check(); i++) await systemClock.sleep(5);
  if (!check()) throw new Error('condition never held');
};

describe('slurmExecutor decisions (scripted cluster)', () => {
  it('re-runs a preempted evaluation under new names and gives up at the bound: infrastructure, last failure gave-up', async () => {
    const cluster = new ScriptedCluster();
    const t = await setup(cluster, { maxAttempts: 2 });
    const outcome = t.executor.evaluate(t.request);
    await until(() => cluster.submitted.length === 1);
    await fs.writeFile(t.log, 'partial one\n');
    cluster.set('ar-x-1-ab-eval', 'PREEMPTED');
    await until(() => cluster.submitted.length === 2);
    expect(cluster.submitted[1]?.name).toBe('ar-x-1-ab-eval.r1');
    await fs.writeFile(t.log, 'partial two\n');
    cluster.set('ar-x-1-ab-eval.r1', 'NODE_FAIL');
    const result = await outcome;
    expect(result.kind).toBe('infrastructure');
    expect(t.failures.map((f) => [f.job.name, f.job.state, f.action, path.basename(f.log)])).toEqual([
      ['ar-x-1-ab-eval', 'PREEMPTED', 'rerun', 'eval.preempted-1.log'],
      ['ar-x-1-ab-eval.r1', 'NODE_FAIL', 'gave-up', 'eval.node-fail-2.log'],
    ]);
    expect(result.kind === 'infrastructure' && result.failures).toEqual(t.failures);
    expect(await fs.readFile(path.join(t.dir, 'eval.node-fail-2.log'), 'utf8')).toBe('partial two\n');
    await expect(fs.stat(t.log)).rejects.toThrow(/ENOENT/);
  });

  it('resumes at the newest re-run, counting the earlier failure, and submits nothing', async () => {
    const cluster = new ScriptedCluster();
    cluster.add('ar-x-1-ab-eval', 'PREEMPTED');
    cluster.add('ar-x-1-ab-eval.r1', 'RUNNING');
    const t = await setup(cluster, { maxAttempts: 2 });
    const outcome = t.executor.evaluate(t.request);
    await until(() => t.events.some((e) => e.startsWith('start')));
    cluster.set('ar-x-1-ab-eval.r1', 'PREEMPTED');
    const result = await outcome;
    expect(cluster.submitted).toEqual([]);
    expect(t.submits).toEqual([{ name: 'ar-x-1-ab-eval.r1', id: '101', commit: 'c0ffee' }]);
    expect(result.kind === 'infrastructure' && result.failures.map((f) => [f.job.name, f.action])).toEqual([
      ['ar-x-1-ab-eval', 'rerun'],
      ['ar-x-1-ab-eval.r1', 'gave-up'],
    ]);
  });

  it('holds its slot while the job is queued: a second evaluation waits for it', async () => {
    const cluster = new ScriptedCluster();
    const slots = new SlotPool(['only']);
    const a = await setup(cluster, { slots }, 'ar-x-1-ab-eval.1');
    const b = await setup(cluster, { slots }, 'ar-x-1-ab-eval.2');
    const first = a.executor.evaluate(a.request);
    const second = b.executor.evaluate(b.request);
    await until(() => cluster.submitted.length === 1);
    await systemClock.sleep(50);
    expect(cluster.submitted.map((s) => s.name)).toEqual(['ar-x-1-ab-eval.1']); // still PENDING: b waits
    await fs.writeFile(`${a.log}.exit`, 'exit 0\n');
    cluster.set('ar-x-1-ab-eval.1', 'COMPLETED');
    expect(await first).toMatchObject({ kind: 'exit', code: 0 });
    await until(() => cluster.submitted.length === 2);
    await fs.writeFile(`${b.log}.exit`, 'exit 1\n');
    cluster.set('ar-x-1-ab-eval.2', 'FAILED');
    expect(await second).toMatchObject({ kind: 'exit', code: 1, job: { state: 'FAILED', node: 'n1' } });
  });

  it('several jobs in flight share one squeue call per tick', async () => {
    const cluster = new ScriptedCluster();
    // One executor per evaluation, as the loop makes them: they share the poller of their cli.
    const runs = await Promise.all(['a', 'b', 'c', 'd'].map((n) => setup(cluster, { pollMs: 20 }, `ar-x-1-${n}-eval`)));
    const outcomes = runs.map((r) => r.executor.evaluate(r.request));
    await until(() => cluster.calls.some((names) => names.length === 4));
    const full = cluster.calls.findIndex((names) => names.length === 4);
    await until(() => cluster.calls.length >= full + 5);
    // Once all four are in flight, every tick asks for all four in one call.
    for (const names of cluster.calls.slice(full, full + 5)) expect([...names].sort()).toEqual(['ar-x-1-a-eval', 'ar-x-1-b-eval', 'ar-x-1-c-eval', 'ar-x-1-d-eval']);
    runs.forEach((r) => r.abort.abort());
    await Promise.all(outcomes);
  });

  it('an onSubmit that throws after sbatch leaves no job queued', async () => {
    const cluster = new ScriptedCluster();
    const t = await setup(cluster);
    let calls = 0;
    t.request.onSubmit = async () => {
      if (++calls === 2) throw new Error('disk full');
    };
    await expect(t.executor.evaluate(t.request)).rejects.toThrow('disk full');
    expect(cluster.jobs.map((j) => j.state)).toEqual(['CANCELLED']);
  });

  it('sbatch refusing (bad slurm_args) is an infrastructure end (no row) saying what sbatch said', async () => {
    const cluster = new ScriptedCluster();
    cluster.sbatchFails = new SlurmCommandError('`sbatch --gres=gpu:9 …` exited 1: sbatch: error: Requested node configuration is not available', false, '');
    const t = await setup(cluster);
    expect(await t.executor.evaluate(t.request)).toMatchObject({ kind: 'infrastructure', failures: [], message: expect.stringContaining('Requested node configuration is not available') });
  });

  it('a controller that stops answering: the job is followed on; past the limit, an infrastructure failure (no row)', async () => {
    const cluster = new ScriptedCluster();
    const t = await setup(cluster, { unreachableMs: 300 });
    const outcome = t.executor.evaluate(t.request);
    await until(() => cluster.submitted.length === 1);
    cluster.squeueFails = true;
    const result = await outcome;
    expect(result.kind).toBe('infrastructure');
    expect(t.failures).toEqual([{ job: { id: '100', state: 'UNREACHABLE', node: null, name: 'ar-x-1-ab-eval' }, log: t.log, action: 'gave-up' }]);
    expect(t.events).toEqual([expect.stringMatching(/^warning slurm: squeue has failed for \d+ s while following slurm job 100 \(ar-x-1-ab-eval\): .*Unable to contact slurm controller/)]);
  });

  it('a controller that does not answer at the start is waited for', async () => {
    const cluster = new ScriptedCluster();
    cluster.squeueFails = true;
    const t = await setup(cluster);
    const outcome = t.executor.evaluate(t.request);
    await until(() => cluster.calls.length >= 3);
    expect(cluster.submitted).toEqual([]);
    cluster.squeueFails = false;
    await until(() => cluster.submitted.length === 1);
    await fs.writeFile(`${t.log}.exit`, 'exit 0\n');
    cluster.set('ar-x-1-ab-eval', 'COMPLETED');
    expect(await outcome).toMatchObject({ kind: 'exit', code: 0 });
  });

  it('a job lingering in COMPLETING past eval_timeout after its command ended in time (a slow epilog): the exit file decides, no timeout', async () => {
    const cluster = new ScriptedCluster();
    const t = await setup(cluster, { killGraceMs: 50, cancelWaitMs: 10_000 });
    t.request.timeoutMs = 100;
    const outcome = t.executor.evaluate(t.request);
    await until(() => cluster.submitted.length === 1);
    cluster.set('ar-x-1-ab-eval', 'RUNNING');
    await until(() => t.events.length > 0);
    await fs.writeFile(`${t.log}.exit`, 'exit 0\nelapsed_ms 40\n');
    cluster.set('ar-x-1-ab-eval', 'COMPLETING');
    // Past eval_timeout + grace + the backstop's slack (3 s), the epilog ends.
    await systemClock.sleep(4000);
    cluster.set('ar-x-1-ab-eval', 'COMPLETED');
    expect(await outcome).toMatchObject({ kind: 'exit', code: 0, durationMs: 40, job: { state: 'COMPLETED' } });
  });

  it('a job someone else cancelled while it was still pending is no crash of the candidate (it never ran): it runs again', async () => {
    const cluster = new ScriptedCluster();
    const t = await setup(cluster);
    const outcome = t.executor.evaluate(t.request);
    await until(() => cluster.submitted.length === 1);
    cluster.jobs[0]!.state = 'CANCELLED'; // scancel of a PENDING job: no node, no exit file
    await until(() => cluster.submitted.length === 2);
    await fs.writeFile(`${t.log}.exit`, 'exit 0\n');
    cluster.set('ar-x-1-ab-eval.r1', 'COMPLETED');
    expect(await outcome).toMatchObject({ kind: 'exit', code: 0, job: { state: 'COMPLETED' } });
    expect(t.failures.map((f) => [f.job.state, f.action])).toEqual([['CANCELLED', 'rerun']]);
  });

  it('a running job someone else cancelled says nothing about the candidate: recorded, and run again', async () => {
    const cluster = new ScriptedCluster();
    const t = await setup(cluster);
    const outcome = t.executor.evaluate(t.request);
    await until(() => cluster.submitted.length === 1);
    cluster.set('ar-x-1-ab-eval', 'RUNNING');
    await until(() => t.events.length > 0);
    cluster.set('ar-x-1-ab-eval', 'CANCELLED');
    await until(() => cluster.submitted.length === 2);
    expect(t.failures.map((f) => [f.job.state, f.action])).toEqual([['CANCELLED', 'rerun']]);
    expect(cluster.submitted.at(-1)).toMatchObject({ name: 'ar-x-1-ab-eval.r1' });
    t.abort.abort();
    expect(await outcome).toMatchObject({ kind: 'aborted' });
  });

  it('a controller that does not answer when a restart looks for its job is waited for: the running job is attached, nothing submitted', async () => {
    const cluster = new ScriptedCluster();
    cluster.add('ar-x-1-ab-eval', 'RUNNING');
    cluster.squeueFails = true;
    const t = await setup(cluster);
    const outcome = t.executor.evaluate(t.request);
    await until(() => cluster.calls.length >= 1);
    cluster.squeueFails = false;
    await until(() => t.events.some((e) => e.startsWith('start')));
    await fs.writeFile(`${t.log}.exit`, 'exit 0\n');
    cluster.set('ar-x-1-ab-eval', 'COMPLETED');
    expect(await outcome).toMatchObject({ kind: 'exit', code: 0, job: { id: '100' } });
    expect(cluster.submitted).toEqual([]);
  });

  it('a job pending for a reason SLURM never clears is cancelled: an infrastructure end naming the reason', async () => {
    const cluster = new ScriptedCluster();
    const t = await setup(cluster);
    const outcome = t.executor.evaluate(t.request);
    await until(() => cluster.submitted.length === 1);
    cluster.jobs[0]!.reason = 'PartitionTimeLimit';
    expect(await outcome).toMatchObject({ kind: 'infrastructure', failures: [], message: expect.stringMatching(/^slurm job 100 can never start: pending with reason PartitionTimeLimit \(check slurm_args/) });
    expect(cluster.cancelled).toEqual(['ar-x-1-ab-eval']);
  });

  it('a restart that finds its job cancelled before the command ended runs the attempt again', async () => {
    const cluster = new ScriptedCluster();
    cluster.add('ar-x-1-ab-eval', 'CANCELLED');
    const t = await setup(cluster);
    const outcome = t.executor.evaluate(t.request);
    await until(() => cluster.submitted.length === 1);
    await fs.writeFile(`${t.log}.exit`, 'exit 0\n');
    cluster.set('ar-x-1-ab-eval', 'COMPLETED');
    expect(await outcome).toMatchObject({ kind: 'exit', code: 0, job: { id: '101', state: 'COMPLETED' } });
  });

  it('a restart that finds its job cancelled mid-run sets its partial log aside: the re-run’s log holds no stale metric', async () => {
    const cluster = new ScriptedCluster();
    cluster.add('ar-x-1-ab-eval', 'CANCELLED');
    const t = await setup(cluster);
    await fs.writeFile(t.log, 'epoch 1\nmetric: 9\n');
    const outcome = t.executor.evaluate(t.request);
    await until(() => cluster.submitted.length === 1);
    await fs.writeFile(t.log, 'crashed before any metric\n', { flag: 'a' });
    await fs.writeFile(`${t.log}.exit`, 'exit 0\n');
    cluster.set('ar-x-1-ab-eval', 'COMPLETED');
    expect(await outcome).toMatchObject({ kind: 'exit', code: 0 });
    expect(await fs.readFile(t.log, 'utf8')).not.toContain('metric: 9');
    expect(await fs.readFile(path.join(t.dir, 'eval.cancelled-1.log'), 'utf8')).toContain('metric: 9');
  });

  it('re-running a cancelled attempt under its name after a restart: a retried sbatch never takes the old cancelled job for the new one', async () => {
    const cluster = new ScriptedCluster();
    cluster.add('ar-x-1-ab-eval', 'CANCELLED');
    cluster.jobs[0]!.node = null;
    // The first sbatch fails as an unreachable controller does (nothing queued): the retry looks for what it queued.
    let failed = false;
    const submit = cluster.submit.bind(cluster);
    cluster.submit = async (spec) => {
      if (!failed) {
        failed = true;
        throw new SlurmCommandError('`sbatch` exited 1: Unable to contact slurm controller', true, 'Unable to contact slurm controller');
      }
      return submit(spec);
    };
    const t = await setup(cluster);
    const outcome = t.executor.evaluate(t.request);
    await until(() => cluster.submitted.length === 1);
    await fs.writeFile(`${t.log}.exit`, 'exit 0\n');
    cluster.set('ar-x-1-ab-eval', 'COMPLETED');
    expect(await outcome).toMatchObject({ kind: 'exit', code: 0, job: { id: '101', state: 'COMPLETED' } });
    expect(t.submits.map((job) => job.id)).toEqual([null, '101']);
  });

  it('a restart that finds its job ended with an exit file reads it: nothing submitted', async () => {
    const cluster = new ScriptedCluster();
    cluster.add('ar-x-1-ab-eval', 'FAILED');
    const t = await setup(cluster);
    await fs.writeFile(`${t.log}.exit`, 'exit 2\nelapsed_ms 700\n');
    expect(await t.executor.evaluate(t.request)).toMatchObject({ kind: 'exit', code: 2, durationMs: 700, job: { id: '100', state: 'FAILED', node: 'n1' } });
    expect(cluster.submitted).toEqual([]);
    expect(t.submits).toEqual([{ name: 'ar-x-1-ab-eval', id: '100', commit: 'c0ffee' }]);
  });

  it('a stop whose squeue hangs still returns within the cancel wait, with a warning', async () => {
    const cluster = new ScriptedCluster();
    const t = await setup(cluster, { cancelWaitMs: 300 });
    const outcome = t.executor.evaluate(t.request);
    await until(() => cluster.submitted.length === 1);
    cluster.jobsNamed = () => new Promise(() => {}); // the controller hangs
    cluster.cancel = async () => {}; // and the job stays
    t.abort.abort();
    expect(await outcome).toMatchObject({ kind: 'aborted' });
    expect(t.events).toEqual([expect.stringMatching(/^warning slurm job 100 \(ar-x-1-ab-eval\) is still PENDING 0 s after scancel/)]);
  });
});
