/**
 * The real SLURM cluster for the executor tests (`bash .ci/slurm-up` brings up one node). When
 * `sinfo` does not answer: a loud warning and a skip, so `npm test` on a machine without SLURM
 * still passes; under CI=true an error (CI brings the cluster up; a silent skip would hide it).
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';

import { systemClock } from '../../../src/core/clock.js';
import type { EvaluationRequest, InfrastructureFailure } from '../../../src/measure/executor.js';
import type { JobRecord } from '../../../src/experiment/state.js';
import { cancelJobs } from '../../../src/measure/slurm/cancel-jobs.js';
import { createSlurmCli, type SlurmJob } from '../../../src/measure/slurm/slurm-cli.js';

export const SLURM_AVAILABLE: boolean = (() => {
  let problem: string;
  try {
    const states = execFileSync('sinfo', ['-h', '-o', '%T'], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    // Any state: the node may be `completing` someone's job, or down while a test file that holds
    // the cluster exclusively (test/helpers/slurm.ts) fails it on purpose; shareClusterDuringFile waits for that.
    if (states !== '') return true;
    problem = 'sinfo answers but lists no partition';
  } catch (error) {
    problem = `sinfo does not answer (${(error as Error).message.split('\n')[0]})`;
  }
  const message = `the SLURM executor tests need a running cluster: ${problem}: bring one up with \`bash .ci/slurm-up\` (as .ci/run does)`;
  if (process.env.CI === 'true') throw new Error(`CI=true: ${message}`);
  console.warn(`\n*** SKIPPING: ${message}\n`);
  return false;
})();

export const cli = createSlurmCli({ env: process.env });

/**
 * Call first in a describe that submits jobs: holds the cluster shared for the file, so the file
 * that sets the node down or preempts (holdClusterExclusively) never runs at the same time.
 */
export { shareClusterDuringFile } from '../../helpers/slurm.js';

/** A prefix unique to this test file's run: every job name starts with it, and cleanup cancels by it. */
export function namePrefix(label: string): string {
  return `ar-sxt-${label}-${crypto.randomBytes(3).toString('hex')}-`;
}

export async function cancelAll(prefix: string): Promise<void> {
  await cancelJobs(cli, { namePrefix: prefix });
}

/** A worktree and a run directory for one evaluation. */
export async function scratch(): Promise<{ worktree: string; runDir: string; log: string }> {
  const dir = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'ar-slurm-')));
  const worktree = path.join(dir, 'worktree');
  const runDir = path.join(dir, 'run');
  await fs.mkdir(worktree);
  await fs.mkdir(runDir);
  return { worktree, runDir, log: path.join(runDir, 'eval.log') };
}

export interface Recorded {
  request: EvaluationRequest;
  abort: AbortController;
  submits: JobRecord[];
  starts: Array<string | undefined>;
  failures: InfrastructureFailure[];
  warnings: string[];
}

export function evaluationRequest(opts: { jobName: string; command: string; worktree: string; log: string; timeoutMs?: number; env?: Record<string, string | undefined> }): Recorded {
  const abort = new AbortController();
  const recorded: Omit<Recorded, 'request'> = { abort, submits: [], starts: [], failures: [], warnings: [] };
  const request: EvaluationRequest = {
    command: opts.command,
    cwd: opts.worktree,
    env: opts.env ?? { PATH: process.env.PATH, HOME: process.env.HOME, AUTORESEARCH_WORKTREE: opts.worktree },
    logFile: opts.log,
    timeoutMs: opts.timeoutMs ?? 30_000,
    signal: abort.signal,
    escapeTag: { name: 'AUTORESEARCH_WORKTREE', value: opts.worktree },
    onEscapee: (message) => recorded.warnings.push(message),
    onSpawn: () => {},
    onStart: async (where) => {
      recorded.starts.push(where);
    },
    jobName: opts.jobName,
    commit: '0123456789abcdef0123456789abcdef01234567',
    onSubmit: async (job) => {
      recorded.submits.push(job);
    },
    onInfrastructureFailure: (failure) => recorded.failures.push(failure),
  };
  return { ...recorded, request };
}

/** Every job SLURM remembers with this exact name. */
export async function jobsNamed(name: string): Promise<SlurmJob[]> {
  return cli.jobsNamed([name]);
}

export async function expectNoActiveJob(name: string): Promise<void> {
  const active = (await jobsNamed(name)).filter((job) => ['PENDING', 'RUNNING', 'COMPLETING', 'SUSPENDED', 'CONFIGURING'].includes(job.state));
  expect(active).toEqual([]);
}

/** Polls until `check` holds (state or file content), failing with `what` after `limitMs`. */
export async function waitFor(what: string, check: () => Promise<boolean> | boolean, limitMs = 20_000): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > limitMs) throw new Error(`timed out after ${limitMs} ms waiting for ${what}`);
    await systemClock.sleep(50);
  }
}

export async function readText(file: string): Promise<string> {
  return fs.readFile(file, 'utf8').catch(() => '');
}
