#!/usr/bin/env node
/**
 * `npm run bench`: what the SLURM executor adds to an evaluation, on the cluster `sinfo` answers
 * for (`.ci/slurm-up` brings up a one-node one). Jobs run one after another through
 * slurmExecutor (dist/), each a command that stamps the time it starts and ends; printed, as
 * medians and maxima:
 *   submit → running   from just before sbatch to the command's first line (the job's own clock)
 *   submit → onStart   from just before sbatch to the executor's onStart (phase eval shown)
 *   end → detected     from the command's last line to the executor's outcome
 * Skips loudly when `sinfo` does not answer.
 *
 * Usage: node bench/slurm-latency.mjs [--jobs N]   (default 10)
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { positiveInt } from './args.mjs';
import { systemClock } from '../dist/core/clock.js';
import { cancelJobs } from '../dist/measure/slurm/cancel-jobs.js';
import { slurmExecutor } from '../dist/measure/slurm/slurm-executor.js';

const JOBS = positiveInt('--jobs', '10');

try {
  execFileSync('sinfo', ['-h', '-o', '%T'], { stdio: 'ignore', timeout: 10_000 });
} catch {
  console.log('slurm-latency: SKIPPED: `sinfo` does not answer (no SLURM cluster here; `bash .ci/slurm-up` brings one up)');
  process.exit(0);
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ar-bench-slurm-'));
const prefix = `ar-bench-${crypto.randomBytes(3).toString('hex')}-`;
const executor = slurmExecutor({ slurmArgs: [], slots: undefined, clock: systemClock, env: process.env });
const nowNs = () => BigInt(Date.now()) * 1_000_000n;
const rows = [];

try {
  for (let i = 1; i <= JOBS; i++) {
    const run = path.join(dir, `job-${i}`);
    fs.mkdirSync(run);
    let submitAt = null;
    let startAt = null;
    const outcome = await executor.evaluate({
      command: `date +%s%N > ${run}/started; date +%s%N > ${run}/ended`,
      cwd: run,
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      logFile: path.join(run, 'eval.log'),
      timeoutMs: 60_000,
      signal: new AbortController().signal,
      escapeTag: { name: 'AUTORESEARCH_WORKTREE', value: run },
      onEscapee: (message) => console.warn(`warning: ${message}`),
      onSpawn: () => {},
      onStart: async () => void (startAt = nowNs()),
      jobName: `${prefix}${i}-eval`,
      commit: '0'.repeat(40),
      onSubmit: async (job) => void (job.id === null && (submitAt = nowNs())),
      onInfrastructureFailure: () => {},
    });
    const detectedAt = nowNs();
    if (outcome.kind !== 'exit' || outcome.code !== 0) throw new Error(`job ${i}: expected exit 0, got ${JSON.stringify(outcome)}`);
    const stamp = (file) => BigInt(fs.readFileSync(path.join(run, file), 'utf8').trim());
    const ms = (from, to) => Number(to - from) / 1e6;
    rows.push({ running: ms(submitAt, stamp('started')), onStart: startAt === null ? NaN : ms(submitAt, startAt), detected: ms(stamp('ended'), detectedAt) });
  }
} finally {
  await cancelJobs(process.env, { namePrefix: prefix });
  fs.rmSync(dir, { recursive: true, force: true });
}

const median = (xs) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const show = (label, key) => {
  const xs = rows.map((r) => r[key]);
  console.log(`  ${label.padEnd(18)} median ${(median(xs) / 1000).toFixed(2)} s   max ${(Math.max(...xs.filter(Number.isFinite)) / 1000).toFixed(2)} s`);
};
console.log(`slurm-latency: ${JOBS} jobs through slurmExecutor (poll 200 ms), one after another`);
show('submit → running', 'running');
show('submit → onStart', 'onStart');
show('end → detected', 'detected');
