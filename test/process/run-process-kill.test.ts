/**
 * Tree kill: timeouts, aborts and stragglers end the whole process group, TERM first,
 * KILL after the grace, and a pipe-holding grandchild never delays the outcome.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LiveGroups } from '../../src/process/live-groups.js';
import { createProcessRunner } from '../../src/process/run-process.js';
import type { RunSpec, SpawnedChild } from '../../src/process/types.js';
import { makeTempDir } from '../helpers/git-repo.js';
import { TEST_ENV, fixture, isRunning, killGroupQuietly, runningMembers, waitForGroupReaped, waitForPidFile, waitUntil } from './helpers.js';

const spawned: number[] = [];
afterEach(() => spawned.splice(0).forEach(killGroupQuietly));

interface Started {
  dir: string;
  pidFile: string;
  liveGroups: LiveGroups;
  child: () => SpawnedChild;
  settled: Promise<{ outcome: Awaited<ReturnType<ReturnType<typeof createProcessRunner>['run']>>; elapsedMs: number }>;
}

/** Starts `script` (a fixture taking a pid file) and measures, from the outside, when the run settles. */
async function start(script: string, extra: Partial<RunSpec> = {}): Promise<Started> {
  const dir = await makeTempDir();
  const pidFile = path.join(dir, 'grandchild.pid');
  const liveGroups = new LiveGroups();
  let spawnedChild: SpawnedChild | undefined;
  const began = performance.now();
  const settled = createProcessRunner({ liveGroups })
    .run({
      command: fixture(script, pidFile),
      cwd: dir,
      env: TEST_ENV,
      stdoutFile: path.join(dir, 'out.log'),
      timeoutMs: 30_000,
      onSpawn: (child) => {
        spawnedChild = child;
        spawned.push(child.pgid);
      },
      ...extra,
    })
    .then((outcome) => ({ outcome, elapsedMs: performance.now() - began }));
  const child = (): SpawnedChild => {
    if (spawnedChild === undefined) throw new Error('expected onSpawn to have been called before the run settled');
    return spawnedChild;
  };
  return { dir, pidFile, liveGroups, child, settled };
}

describe('createProcessRunner: tree kill', () => {
  it('times out `sleep 1000 & sleep 1000` in about the timeout and leaves no survivor', async () => {
    const run = await start('grandchild.sh', { timeoutMs: 1000 }); // default grace: 2000 ms
    const grandchild = await waitForPidFile(run.pidFile);
    expect(isRunning(grandchild)).toBe(true);

    const { outcome, elapsedMs } = await run.settled;
    console.info(`[measure] grandchild timeout (1000 ms, grace 2000 ms) settled after ${Math.round(elapsedMs)} ms`);
    expect(outcome.kind).toBe('timeout');
    expect(elapsedMs).toBeGreaterThanOrEqual(1000);
    expect(elapsedMs).toBeLessThan(1000 + 2000 + 1000);
    const { pgid } = run.child();
    expect(runningMembers(pgid)).toEqual([]);
    expect(isRunning(grandchild)).toBe(false);
    expect(run.liveGroups.list()).toEqual([]);
    await waitForGroupReaped(pgid); // the zombies, too, are gone once PID 1 reaps them
  });

  it('SIGKILLs a tree that ignores SIGTERM (child and grandchild) after the grace', async () => {
    const run = await start('ignore-term.sh', { timeoutMs: 500, killGraceMs: 1000 });
    const grandchild = await waitForPidFile(run.pidFile);

    const { outcome, elapsedMs } = await run.settled;
    expect(outcome.kind).toBe('timeout');
    // It took the whole grace: TERM alone did not end the tree.
    expect(elapsedMs).toBeGreaterThanOrEqual(500 + 1000);
    expect(elapsedMs).toBeLessThan(500 + 1000 + 1500);
    expect(runningMembers(run.child().pgid)).toEqual([]);
    expect(isRunning(grandchild)).toBe(false);
    expect(run.liveGroups.list()).toEqual([]);
  });

  it('kills stragglers left behind by a normal exit and reports the exit code', async () => {
    const run = await start('stragglers.sh');
    const { outcome } = await run.settled;
    expect(outcome).toMatchObject({ kind: 'exit', code: 0 });
    expect(fs.readFileSync(path.join(run.dir, 'out.log'), 'utf8')).toBe('done\n');
    const straggler = Number(fs.readFileSync(run.pidFile, 'utf8'));
    expect(isRunning(straggler)).toBe(false);
    expect(runningMembers(run.child().pgid)).toEqual([]);
    expect(run.liveGroups.list()).toEqual([]);
  });

  it('aborts a running tree at once: outcome aborted, nothing left', async () => {
    const controller = new AbortController();
    const run = await start('grandchild.sh', { signal: controller.signal });
    const grandchild = await waitForPidFile(run.pidFile);
    const abortedAt = performance.now();
    controller.abort();

    const { outcome } = await run.settled;
    const afterAbortMs = performance.now() - abortedAt;
    expect(outcome.kind).toBe('aborted');
    expect(afterAbortMs).toBeLessThan(2000); // the tree dies on TERM: no need to wait out the grace
    expect(runningMembers(run.child().pgid)).toEqual([]);
    expect(isRunning(grandchild)).toBe(false);
    expect(run.liveGroups.list()).toEqual([]);
  });

  it('reports aborted when the abort comes while a timeout kill is under way', async () => {
    const controller = new AbortController();
    // term-marker.sh appends to its $1 on each SIGTERM and keeps running: the grace is used up.
    const run = await start('term-marker.sh', { timeoutMs: 300, killGraceMs: 1500, signal: controller.signal });
    await waitUntil('the timeout SIGTERM to reach the script', () => (fs.existsSync(run.pidFile) ? true : undefined));
    controller.abort();

    const { outcome, elapsedMs } = await run.settled;
    expect(outcome.kind).toBe('aborted');
    expect(elapsedMs).toBeGreaterThanOrEqual(300 + 1500); // abort does not cut the grace short
    expect(runningMembers(run.child().pgid)).toEqual([]);
  });

  it('killAll on the registry kills a running group; the runner reports the signal it did not send', async () => {
    const run = await start('grandchild.sh');
    const grandchild = await waitForPidFile(run.pidFile);
    expect(run.liveGroups.list()).toEqual([run.child()]);
    run.liveGroups.killAll('SIGKILL');

    const { outcome } = await run.settled;
    expect(outcome).toMatchObject({ kind: 'signal', signal: 'SIGKILL' });
    expect(runningMembers(run.child().pgid)).toEqual([]);
    expect(isRunning(grandchild)).toBe(false);
    expect(run.liveGroups.list()).toEqual([]);
  });
});
