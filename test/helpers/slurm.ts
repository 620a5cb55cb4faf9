/**
 * The real one-node SLURM cluster of the SLURM tests (test/slurm/; `.ci/slurm-up` brings it up).
 *
 * - SLURM_AVAILABLE: `sinfo` answers within 10 s (a loaded machine). Otherwise a loud skip, or
 *   under CI=true an error (CI brings the cluster up; a silent skip there would hide the suite).
 * - Jobs as `squeue -h -t all` lists them (finished jobs stay listed for MinJobAge, 300 s here),
 *   found by name prefix: a test only ever looks at, waits for and cancels the jobs of its own
 *   experiment (`ar-<id>@<8 hex of its directory>:`), since other test files and helpers share the cluster.
 * - The cluster lock between test files (slurm-lock.ts, re-exported here).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import os from 'node:os';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll } from 'vitest';

const INSTALL_HINT = 'bring up the one-node cluster with `sudo bash .ci/slurm-up` (as .ci/run does)';

export const SLURM_AVAILABLE: boolean = (() => {
  const r = spawnSync('sinfo', ['-h', '-o', '%T'], { encoding: 'utf8', timeout: 10_000 });
  const states = r.status === 0 ? r.stdout.trim() : '';
  if (states !== '') return true;
  const why = r.error !== undefined ? String(r.error.message) : `sinfo exited ${r.status ?? r.signal}: ${(r.stderr ?? '').trim() || 'no partition'}`;
  const message = `the SLURM tests need a running cluster (\`sinfo\` did not answer: ${why}): ${INSTALL_HINT}`;
  if (process.env.CI === 'true') throw new Error(`CI=true: ${message}`);
  console.warn(`\n*** SKIPPING: ${message}\n`);
  return false;
})();

/** The node's name in slurm.conf (`.ci/slurm-up` names it after the host). */
export const NODE = os.hostname().split('.')[0] ?? 'localhost';

export interface SlurmJob {
  id: string;
  name: string;
  /** COMPLETED, RUNNING, PENDING, FAILED, CANCELLED, TIMEOUT, PREEMPTED, NODE_FAIL, … */
  state: string;
  comment: string;
  reason: string;
  node: string;
}

/** States a job never leaves: it is no longer on the cluster. */
const FINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'PREEMPTED', 'NODE_FAIL', 'OUT_OF_MEMORY', 'BOOT_FAIL', 'DEADLINE', 'SPECIAL_EXIT', 'REVOKED']);

export function isActive(job: SlurmJob): boolean {
  return !FINAL.has(job.state);
}

/** The prefix of every job name of an experiment (the executor's `ar-<key>@<hash of its directory>:<n>-<attempt>-<log>`). */
export function jobPrefix(experimentId: string, experimentDir: string): string {
  return `ar-${experimentId}@${crypto.createHash('sha256').update(experimentDir).digest('hex').slice(0, 8)}:`;
}

/** The prefix of the jobs of one iteration of an experiment. */
export function iterationPrefix(experimentId: string, experimentDir: string, iteration: number): string {
  return `${jobPrefix(experimentId, experimentDir)}${iteration}-`;
}

/** An experiment id no other test (of this run or another) uses: its jobs are its own. */
export function uniqueExperimentId(label: string): string {
  return `slurm/${label}-${crypto.randomBytes(3).toString('hex')}`;
}

/** Every job the controller still lists (finished ones for MinJobAge). */
export async function squeueAll(): Promise<SlurmJob[]> {
  let lastError = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    const r = await execa('squeue', ['-h', '-t', 'all', '-o', '%i|%j|%T|%k|%r|%N'], { reject: false, timeout: 15_000 });
    if (r.exitCode === 0) {
      return String(r.stdout)
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => {
          const [id = '', name = '', state = '', comment = '', reason = '', node = ''] = line.trim().split('|');
          return { id, name, state, comment, reason, node };
        });
    }
    // A busy controller ("Socket timed out"): ask again.
    lastError = `${String(r.stderr).trim()} (exit ${r.exitCode})`;
    await sleep(500);
  }
  throw new Error(`squeue failed five times: ${lastError}`);
}

/** The jobs whose name starts with `prefix`, oldest first. */
export async function jobsNamed(prefix: string): Promise<SlurmJob[]> {
  return (await squeueAll()).filter((job) => job.name.startsWith(prefix)).sort((a, b) => Number(a.id) - Number(b.id));
}

/** The jobs named `prefix…` that are pending, running or completing. */
export async function activeJobs(prefix: string): Promise<SlurmJob[]> {
  return (await jobsNamed(prefix)).filter(isActive);
}

/** Polls squeue until a job named `prefix…` satisfies `predicate`; returns it. */
export async function waitForJob(prefix: string, predicate: (job: SlurmJob) => boolean, what: string, timeoutMs = 30_000): Promise<SlurmJob> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const jobs = await jobsNamed(prefix);
    const found = jobs.find(predicate);
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (jobs named ${prefix}…: ${describeJobs(jobs)})`);
    await sleep(200);
  }
}

export function describeJobs(jobs: SlurmJob[]): string {
  return jobs.length === 0 ? 'none' : jobs.map((j) => `${j.id} ${j.name} ${j.state}${j.reason && j.reason !== 'None' ? ` (${j.reason})` : ''}`).join(', ');
}

/**
 * Cleanup (afterEach, also after a failed test): cancels the active jobs named `prefix…` (by id,
 * only ours) and waits until they are gone from the active list.
 */
export async function cancelJobs(prefix: string): Promise<void> {
  const active = await activeJobs(prefix);
  if (active.length === 0) return;
  await execa('scancel', active.map((job) => job.id), { reject: false, timeout: 15_000 });
  const deadline = Date.now() + 30_000;
  while ((await activeJobs(prefix)).length > 0 && Date.now() < deadline) await sleep(200);
}

/**
 * `scontrol update nodename=<node> state=…` (only the exclusive test file may call it). An
 * administrator's command: through `sudo -n` when the tests do not run as root.
 */
export function setNodeState(state: 'down' | 'resume', reason = 'autoresearch test'): void {
  const args = ['update', `nodename=${NODE}`, `state=${state}`, ...(state === 'down' ? [`reason=${reason}`] : [])];
  const [command, ...rest] = process.getuid?.() === 0 ? ['scontrol', ...args] : ['sudo', '-n', 'scontrol', ...args];
  try {
    execFileSync(command!, rest, { stdio: 'pipe', timeout: 15_000 });
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? '').trim();
    throw new Error(`\`${[command, ...rest].join(' ')}\` failed: ${stderr || (error as Error).message}`);
  }
}

/** The node's state in sinfo (`idle`, `mixed`, `allocated`, `down*`, `drain`…). */
export async function nodeState(): Promise<string> {
  const r = await execa('sinfo', ['-h', '-n', NODE, '-o', '%T'], { reject: false, timeout: 15_000 });
  return String(r.stdout).split('\n')[0]?.trim() ?? '';
}

/** Resumes the node when a test left it down (afterAll, finally): waits until it takes jobs again. */
export async function ensureNodeUp(timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await nodeState();
    if (/^(idle|mixed|allocated|completing)$/.test(state)) return;
    if (/^(down|drain|fail)/.test(state)) {
      try {
        setNodeState('resume');
      } catch {
        // resumed meanwhile, or the controller is busy: look again
      }
    }
    if (Date.now() > deadline) throw new Error(`node ${NODE} is '${state}' after ${timeoutMs} ms of resuming it`);
    await sleep(300);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

import { CLUSTER_LOCK_WAIT_MS, shareCluster } from './slurm-lock.js';
export { CLUSTER_LOCK_WAIT_MS, holdClusterExclusively, shareCluster } from './slurm-lock.js';

/**
 * For a test file that submits jobs: holds the cluster shared for the whole file (the
 * node-down and preemption file waits for it), and runs the cleanups a test pushes after it
 * (newest first). Returns that list.
 */
export function shareClusterDuringFile(): Array<() => Promise<void> | void> {
  const cleanups: Array<() => Promise<void> | void> = [];
  let release: (() => void) | undefined;
  beforeAll(async () => {
    release = await shareCluster();
  }, CLUSTER_LOCK_WAIT_MS);
  afterAll(() => release?.());
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return cleanups;
}
