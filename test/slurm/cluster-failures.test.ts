/**
 * Failures of the cluster under an evaluation are not the candidate's: a job preempted by a
 * higher-priority partition, and a job whose node is set down (NODE_FAIL), are submitted again;
 * the iteration's row is the re-run's (never a crash), infrastructure.jsonl records the failure
 * and `report` lists it. A job waiting for resources is `queued`, its wait not counted against
 * eval_timeout.
 *
 * These tests disturb every job on the cluster (a preemption takes all four GPUs, a node set
 * down kills whatever runs there): this file holds the cluster exclusively, every other SLURM
 * test file waits for it (test/helpers/slurm.ts), and the node is always resumed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli } from '../helpers/cli.js';
import { makeTempDir } from '../helpers/git-repo.js';
import { CLUSTER_LOCK_WAIT_MS, SLURM_AVAILABLE, cancelJobs, describeJobs, ensureNodeUp, holdClusterExclusively, jobsNamed, setNodeState, waitForJob } from '../helpers/slurm.js';
import { makeSlurmProject, waitUntil, type SlurmProject } from './slurm-project.js';

interface InfrastructureLine {
  iteration: number;
  action: string;
  log: string;
  job: { id: string; name: string; state: string; node: string | null };
}

function infrastructureLines(project: SlurmProject): InfrastructureLine[] {
  let text = '';
  try {
    text = fs.readFileSync(path.join(project.expDir, 'infrastructure.jsonl'), 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as InfrastructureLine);
}

/** `report` into a temp dir: every Markdown file it wrote, concatenated. */
async function reportText(project: SlurmProject): Promise<string> {
  const out = await makeTempDir('ar-slurm-report-');
  const r = await runCli([...project.args('report'), '--out', out], { env: project.env });
  expect(r.exitCode, r.stderr).toBe(0);
  const files = fs.readdirSync(out, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.md'));
  return [r.stdout, ...files.map((f) => fs.readFileSync(path.join(out, f), 'utf8'))].join('\n');
}

describe.skipIf(!SLURM_AVAILABLE).sequential('evaluations as SLURM jobs: preemption and node failure', () => {
  let release: (() => void) | undefined;
  beforeAll(async () => {
    release = await holdClusterExclusively();
    await ensureNodeUp();
  }, CLUSTER_LOCK_WAIT_MS);
  afterAll(async () => {
    try {
      await ensureNodeUp();
    } finally {
      release?.();
    }
  });
  const prefixes: string[] = [];
  afterEach(async () => {
    await ensureNodeUp();
    for (const prefix of prefixes.splice(0)) await cancelJobs(prefix);
  });

  /**
   * Iteration 1's first job hangs (`5 once <mark>`); `disturb` ends it the cluster's way; the
   * re-run scores 5.
   */
  async function rerunAfter(project: SlurmProject, mark: string, finalState: string, disturb: () => Promise<void>): Promise<void> {
    const run = startCli(project.args('run', '--max-experiments', '1'), { env: project.env });
    try {
      const first = await waitForJob(project.iterationPrefix(1), (j) => j.state === 'RUNNING', "iteration 1's first job to run", 90_000);
      await waitUntil(() => project.evalLog(1).includes(`first attempt at ${mark}: hanging`), 'the first job to hang', 30_000, () => run.output());
      await disturb();
      await waitForJob(project.iterationPrefix(1), (j) => j.id === first.id && j.state === finalState, `job ${first.id} to end ${finalState}`, 60_000);
      await ensureNodeUp();
      const r = await run.result();
      expect(r.exitCode, run.output()).toBe(0);

      const rows = await project.rows();
      expect(rows.map((row) => [row.iteration, row.status, row.reason, row.metric])).toEqual([
        ['0', 'keep', 'baseline', '10.000000'],
        ['1', 'keep', 'improved', '5.000000'],
      ]);
      const jobs = await jobsNamed(project.iterationPrefix(1));
      expect(jobs.map((j) => j.state), describeJobs(jobs)).toEqual([finalState, 'COMPLETED']);
      // Submitted again as the same evaluation's first re-run (SPEC: `<name>.r1`).
      expect(jobs[1]?.name).toBe(`${first.name}.r1`);
      expect(project.evalLog(1)).toContain('a later attempt');

      const records = infrastructureLines(project);
      expect(records.map((r) => [r.iteration, r.job.state, r.job.id, r.action])).toEqual([[1, finalState, first.id, 'rerun']]);
      // The first job's partial output, set aside.
      expect(fs.readFileSync(records[0]!.log, 'utf8')).toContain(`first attempt at ${mark}: hanging`);

      const report = await reportText(project);
      expect(report).toMatch(/infrastructure/i);
      expect(report).toContain(finalState);
    } finally {
      run.process.kill('SIGKILL');
    }
  }

  it('a job preempted by the urgent partition is run again: the row is not a crash, infrastructure.jsonl and report say PREEMPTED', { timeout: 150_000 }, async () => {
    // All four GPUs: the urgent job can only start by preempting ours.
    const project = await makeSlurmProject('preempt', { config: { slurm_args: '--gres=gpu:4' }, plan: [`echo "5 once pre" > value.txt && git commit -qam five`] });
    prefixes.push(project.prefix);
    await rerunAfter(project, 'pre', 'PREEMPTED', async () => {
      prefixes.push(`artest-${project.prefix}urgent`);
      await execa('sbatch', ['--parsable', '-p', 'urgent', '--gres=gpu:4', '-J', `artest-${project.prefix}urgent`, '-o', '/dev/null', '--wrap', 'sleep 1']);
    });
  });

  it('a job whose node is set down (NODE_FAIL) is run again once the node is back: not a crash, recorded, reported', { timeout: 150_000 }, async () => {
    const project = await makeSlurmProject('nodefail', { plan: [`echo "5 once down" > value.txt && git commit -qam five`] });
    prefixes.push(project.prefix);
    await rerunAfter(project, 'down', 'NODE_FAIL', async () => {
      setNodeState('down', 'autoresearch node-failure test');
    });
  });

  it('a job waiting for resources is `queued` in status, and its wait is not counted against eval_timeout', { timeout: 120_000 }, async () => {
    const project = await makeSlurmProject('queued', { config: { slurm_args: '--gres=gpu:4', eval_timeout: '3s' }, plan: [`echo 5 > value.txt && git commit -qam five`] });
    prefixes.push(project.prefix);
    // Holds every GPU. Not named like the experiment's jobs: `run` cancels those at start (orphans).
    const blockerName = `artest-${project.prefix}blocker`;
    prefixes.push(blockerName);
    const blocker = String((await execa('sbatch', ['--parsable', '--gres=gpu:4', '-J', blockerName, '-o', '/dev/null', '--wrap', 'sleep 300'])).stdout).trim();
    await waitForJob(blockerName, (j) => j.state === 'RUNNING', 'the blocker to hold the GPUs', 60_000);
    const run = startCli(project.args('run', '--max-experiments', '1'), { env: project.env });
    try {
      const waiting = await waitForJob(project.iterationPrefix(0), (j) => j.state === 'PENDING', 'the baseline job to wait for GPUs', 60_000);
      await waitUntil(async () => /queued/.test((await runCli(project.args('status'), { env: project.env })).stdout), '`status` to say queued', 30_000);
      // Pending for longer than eval_timeout (3 s): a deliberate wait, checked to be pending throughout.
      const since = Date.now();
      await waitUntil(async () => {
        const now = (await jobsNamed(project.iterationPrefix(0))).find((j) => j.id === waiting.id);
        expect(now?.state).toBe('PENDING');
        return Date.now() - since > 5000;
      }, 'five seconds in the queue', 30_000);
      await execa('scancel', [blocker]);
      const r = await run.result();
      expect(r.exitCode, run.output()).toBe(0);
      expect((await project.rows()).map((row) => [row.status, row.reason, row.metric])).toEqual([
        ['keep', 'baseline', '10.000000'],
        ['keep', 'improved', '5.000000'],
      ]);
      expect(run.output()).toMatch(/queued/);
    } finally {
      run.process.kill('SIGKILL');
    }
  });
});
