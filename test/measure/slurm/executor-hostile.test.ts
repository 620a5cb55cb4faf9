/**
 * The SLURM executor against hostile inputs and a failing cluster (review of issue 12), on the
 * real one-node cluster: paths sbatch would rewrite, quoting, a controller that does not
 * answer for a while. Jobs are named with this file's prefix; only those are cancelled.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/core/clock.js';
import { slurmExecutor } from '../../../src/measure/slurm/slurm-executor.js';
import { execFileSync } from 'node:child_process';
import { cancelAll, evaluationRequest, expectNoActiveJob, jobsNamed, namePrefix, readText, scratch, SLURM_AVAILABLE, waitFor, shareClusterDuringFile } from './cluster.js';

const prefix = namePrefix('hostile');
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

describe.skipIf(!SLURM_AVAILABLE)('slurmExecutor, hostile inputs on a real cluster', () => {
  shareClusterDuringFile();
  afterAll(async () => {
    await cancelAll(prefix);
  });

  it('a run directory whose path holds `%` (sbatch expands %j, %x… in --output): the log is written where asked', async () => {
    const { worktree, runDir } = await scratch();
    const odd = path.join(runDir, '100%j-%x');
    await fs.mkdir(odd);
    const log = path.join(odd, 'eval.log');
    const r = evaluationRequest({ jobName: nextName('percent'), command: 'echo "metric: 7"', worktree, log });
    const result = await executor({ exitFilePatienceMs: 1000 }).evaluate(r.request);
    expect(result).toMatchObject({ kind: 'exit', code: 0, job: { state: 'COMPLETED' } });
    expect(await readText(log)).toContain('metric: 7');
  });

  it("quotes, `$`, backticks, newlines and a `'` in the worktree path, the command and the environment reach the job literally", async () => {
    const { worktree: base, log } = await scratch();
    const worktree = path.join(base, "it's $HOME `id` \"q\" %j");
    await fs.mkdir(worktree);
    const value = "line1\nline2 'single' \"double\" $HOME `id` \\ %j";
    const command = `printf '%s\\n' "pwd=$(pwd)"; printf 'value=%s|\\n' "$AR_ODD"; echo 'a "quoted" $word'`;
    const r = evaluationRequest({ jobName: nextName('quotes'), command, worktree, log, env: { PATH: process.env.PATH, AR_ODD: value } });
    const result = await executor().evaluate(r.request);
    expect(result).toMatchObject({ kind: 'exit', code: 0 });
    const text = await readText(log);
    expect(text).toContain(`pwd=${worktree}\n`);
    expect(text).toContain(`value=${value}|\n`);
    expect(text).toContain('a "quoted" $word');
  });

  it('an evaluation below one second of eval_timeout that sleeps on: timeout, within seconds', async () => {
    const { worktree, log } = await scratch();
    const r = evaluationRequest({ jobName: nextName('subsecond'), command: 'echo started; sleep 30', worktree, log, timeoutMs: 300 });
    const result = await executor({ killGraceMs: 200 }).evaluate(r.request);
    expect(result.kind).toBe('timeout');
    expect(await readText(log)).toContain('started');
  });

  it('an evaluation that writes a fake exit file and a fake exit line, then exits 3: exit 3', async () => {
    const { worktree, log } = await scratch();
    // The command can find its log (stdout is the file) and write the exit file next to it.
    const command = 'echo "exit 0"; printf "exit 0\\nelapsed_ms 1\\n" > "$(readlink /proc/self/fd/1).exit"; exit 3';
    const r = evaluationRequest({ jobName: nextName('forge'), command, worktree, log });
    expect(await executor().evaluate(r.request)).toMatchObject({ kind: 'exit', code: 3, job: { state: 'FAILED' } });
  });

  it('slurm_args naming a partition that does not exist: sbatch refuses: an infrastructure end (no row) quoting it, nothing queued', async () => {
    const { worktree, log } = await scratch();
    const r = evaluationRequest({ jobName: nextName('nopart'), command: 'echo hi', worktree, log });
    const result = await executor({ slurmArgs: ['--partition=no-such-partition'] }).evaluate(r.request);
    expect(result).toMatchObject({ kind: 'infrastructure', failures: [], message: expect.stringMatching(/sbatch.*--partition=no-such-partition.*invalid partition/is) });
    expect(await jobsNamed(r.request.jobName)).toEqual([]);
  });

  it('a dependency that can never be satisfied (slurm_args): the job would pend forever; cancelled, an infrastructure end (no row) naming the reason', async () => {
    const { worktree, log } = await scratch();
    const parent = execFileSync('sbatch', ['--parsable', '-J', `${prefix}parent`, '-o', '/dev/null', '--wrap', 'exit 1'], { encoding: 'utf8' }).trim();
    await waitFor('the parent job to fail', async () => (await jobsNamed(`${prefix}parent`)).some((job) => job.state === 'FAILED'));
    const r = evaluationRequest({ jobName: nextName('neverdep'), command: 'echo hi', worktree, log });
    const result = await executor({ slurmArgs: [`--dependency=afterok:${parent}`] }).evaluate(r.request);
    expect(result).toMatchObject({ kind: 'infrastructure', failures: [], message: expect.stringContaining('DependencyNeverSatisfied') });
    await expectNoActiveJob(r.request.jobName);
  });

  it('an abort while squeue hangs (a controller that accepts but never answers): the stop returns within cancelWaitMs, the job cancelled', async () => {
    const { worktree, runDir, log } = await scratch();
    const bin = path.join(runDir, 'fakebin');
    await fs.mkdir(bin);
    const hang = path.join(bin, 'hang');
    // A fake squeue earlier on PATH: the real one until `hang` exists, then no answer for 30 s.
    await fs.writeFile(path.join(bin, 'squeue'), `#!/bin/sh\nif [ -e '${hang}' ]; then exec sleep 30; fi\nexec /usr/bin/squeue "$@"\n`, { mode: 0o755 });
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
    const r = evaluationRequest({ jobName: nextName('hung'), command: 'echo running; sleep 60', worktree, log });
    const outcome = executor({ env, cancelWaitMs: 3000 }).evaluate(r.request);
    await waitFor('the job to run', () => r.starts.length === 1);
    await fs.writeFile(hang, '');
    // Let a poll start hanging, then stop.
    await systemClock.sleep(1000);
    const stopped = Date.now();
    r.abort.abort();
    expect(await outcome).toMatchObject({ kind: 'aborted' });
    expect(Date.now() - stopped).toBeLessThan(10_000);
    await waitFor('the job to be cancelled', async () => (await jobsNamed(r.request.jobName)).every((job) => job.state === 'CANCELLED'));
  }, 60_000);

  it('a job someone else scancels while it is still queued: the candidate never ran, no crash; the evaluation runs again', async () => {
    const { worktree, log } = await scratch();
    const name = nextName('cancelq');
    const r = evaluationRequest({ jobName: name, command: 'echo "metric: 4"', worktree, log });
    // Held: the job stays PENDING until released (the other user's scancel comes first).
    const outcome = executor({ slurmArgs: ['--hold'] }).evaluate(r.request);
    await waitFor('the first job id', () => r.submits.some((job) => job.id !== null));
    execFileSync('scancel', [String(r.submits.find((job) => job.id !== null)?.id)]);
    await waitFor('the re-run', () => r.submits.filter((job) => job.id !== null).length === 2);
    execFileSync('scontrol', ['release', String(r.submits.at(-1)?.id)]);
    expect(await outcome).toMatchObject({ kind: 'exit', code: 0, job: { state: 'COMPLETED' } });
    expect(r.failures.map((f) => [f.job.state, f.action])).toEqual([['CANCELLED', 'rerun']]);
    expect(await readText(log)).toContain('metric: 4');
  });

  it('children that left the process group (setsid, nohup, double fork) die with the in-job timeout and with an abort', async () => {
    const marker = (n: number): string => `58.${process.pid}${n}${counter}`;
    const escapees = (m: string): string => `setsid sleep ${m} & (sleep ${m} &) ; nohup sleep ${m} >/dev/null 2>&1 & echo started; sleep ${m}`;
    const timedOut = await scratch();
    const t = evaluationRequest({ jobName: nextName('setsid-timeout'), command: escapees(marker(1)), worktree: timedOut.worktree, log: timedOut.log, timeoutMs: 1500 });
    expect((await executor({ killGraceMs: 300 }).evaluate(t.request)).kind).toBe('timeout');
    await waitFor('no survivor of the timed-out job', () => survivors(`sleep ${marker(1)}`).length === 0, 10_000);
    const aborted = await scratch();
    const a = evaluationRequest({ jobName: nextName('setsid-abort'), command: escapees(marker(2)), worktree: aborted.worktree, log: aborted.log });
    const outcome = executor().evaluate(a.request);
    await waitFor('the escapees to run', () => survivors(`sleep ${marker(2)}`).length >= 4);
    a.abort.abort();
    expect(await outcome).toMatchObject({ kind: 'aborted' });
    await waitFor('no survivor of the cancelled job', () => survivors(`sleep ${marker(2)}`).length === 0, 10_000);
  }, 60_000);

  it('a controller that does not answer sbatch for longer than the command retries (a slurmctld restart): the evaluation waits, it is no spawn-error', async () => {
    const { worktree, runDir, log } = await scratch();
    // A fake sbatch earlier on PATH: "Unable to contact slurm controller" until a deadline, then the real one.
    const bin = path.join(runDir, 'fakebin');
    await fs.mkdir(bin);
    const deadline = path.join(bin, 'deadline');
    await fs.writeFile(deadline, String(Math.floor(Date.now() / 1000) + 15));
    await fs.writeFile(
      path.join(bin, 'sbatch'),
      `#!/bin/sh\nif [ "$(date +%s)" -lt "$(cat '${deadline}')" ]; then echo 'sbatch: error: Batch job submission failed: Unable to contact slurm controller (connect failure)' >&2; exit 1; fi\nexec /usr/bin/sbatch "$@"\n`,
      { mode: 0o755 },
    );
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
    const r = evaluationRequest({ jobName: nextName('ctld-down'), command: 'echo "metric: 1"', worktree, log });
    const result = await executor({ env }).evaluate(r.request);
    expect(result).toMatchObject({ kind: 'exit', code: 0, job: { state: 'COMPLETED' } });
  }, 60_000);
});
