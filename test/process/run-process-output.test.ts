/**
 * Output never passes through our memory: the child writes to the log file's descriptor
 * itself. Its own file so that no other test's allocations blur the RSS measurement
 * (vitest runs each file in a fresh fork).
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { createProcessRunner } from '../../src/process/run-process.js';
import { makeTempDir } from '../helpers/git-repo.js';
import { TEST_ENV } from './helpers.js';

const MIB = 1024 * 1024;

it('streams 100 MiB of output to the log file without growing our memory', async () => {
  const dir = await makeTempDir();
  const stdoutFile = path.join(dir, 'big.log');
  const runner = createProcessRunner();

  // Sample RSS during the run too: a transient buffer would show up here even if freed later.
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 5);
  let outcome;
  try {
    outcome = await runner.run({
      command: `head -c ${100 * MIB} /dev/zero | tr '\\0' x`,
      cwd: dir,
      env: TEST_ENV,
      stdoutFile,
      timeoutMs: 60_000,
    });
  } finally {
    clearInterval(sampler);
  }
  peak = Math.max(peak, process.memoryUsage.rss());
  const growthMiB = (peak - baseline) / MIB;
  console.info(`[measure] 100 MiB of output: RSS grew by ${growthMiB.toFixed(1)} MiB (peak over baseline)`);

  expect(outcome).toMatchObject({ kind: 'exit', code: 0 });
  expect(fs.statSync(stdoutFile).size).toBe(100 * MIB);
  expect(growthMiB).toBeLessThan(30);
});
