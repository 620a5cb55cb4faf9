/**
 * Preemption through the executor on the real cluster: a job of ours in `debug` holding all four
 * GPUs, an `urgent` job asking for them preempts it (PreemptMode=CANCEL). The file holds the
 * cluster exclusively (test/helpers/slurm.ts): no other file's job may be preempted instead.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/core/clock.js';
import { slurmExecutor } from '../../../src/measure/slurm/slurm-executor.js';
import { cancelAll, CLUSTER_LOCK_WAIT_MS, evaluationRequest, holdClusterExclusively, jobsNamed, namePrefix, readText, scratch, SLURM_AVAILABLE, waitFor } from './cluster.js';

const prefix = namePrefix('preempt');
let counter = 0;
const nextName = (label: string): string => `${prefix}${label}-${++counter}-eval`;
const executor = (extra: Partial<Parameters<typeof slurmExecutor>[0]> = {}) =>
  slurmExecutor({ slurmArgs: [], slots: undefined, clock: systemClock, env: process.env, ...extra });

describe.skipIf(!SLURM_AVAILABLE)('slurmExecutor: preemption on a real cluster', () => {
  let release: (() => void) | undefined;
  beforeAll(async () => {
    release = await holdClusterExclusively();
  }, CLUSTER_LOCK_WAIT_MS);
  afterAll(async () => {
    try {
      await cancelAll(prefix);
    } finally {
      release?.();
    }
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
});
