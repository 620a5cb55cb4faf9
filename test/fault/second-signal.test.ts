/**
 * The second signal (SPEC §9): while the first SIGTERM is still waiting for a process tree
 * that ignores SIGTERM to die, a second SIGTERM kills every child with SIGKILL and exits 130
 * at once, well before the kill grace would have run out. The next start recovers the
 * interrupted iteration (no row).
 */
import { afterAll, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { killLaunched, launchCli } from './helpers/launch.js';
import { projectWithBaseline } from './helpers/interrupted.js';
import { runningProcesses, waitUntil } from './helpers/procs.js';

const MARKER = `fault-second-signal-${process.pid}`;
afterAll(() => {
  killLaunched();
  for (const p of runningProcesses().filter((p) => p.cmdline.includes(MARKER))) process.kill(p.pid, 'SIGKILL');
});

const markedProcesses = () => runningProcesses().filter((p) => p.cmdline.includes(MARKER));

it.each(['SIGTERM', 'SIGINT'] as const)('a second %s kills the children and exits 130 at once', async (second) => {
  // While HANG=1 the agent's tree ignores SIGTERM (an ignored signal stays ignored in children).
  const project = await projectWithBaseline([`[ "$HANG" = 1 ] && { trap "" TERM; sh -c "sleep 1000; :" ${MARKER} & sleep 1000; }; echo 4 > value.txt`]);
  const cli = launchCli(['--path', project.root, 'run', project.id], { ...project.env, HANG: '1' });
  expect(await cli.waitFor(/#1 agent/, 20_000), cli.output()).toBe('matched');
  await waitUntil('the marked grandchild', () => (markedProcesses().length > 0 ? true : undefined));

  process.kill(cli.pid, 'SIGTERM');
  expect(await cli.waitFor(/SIGTERM: stopping/, 5_000), cli.output()).toBe('matched');
  expect(markedProcesses().length, 'the tree ignores SIGTERM, so the first signal alone cannot end it yet').toBeGreaterThan(0);
  const signalledAt = performance.now();
  process.kill(cli.pid, second);
  expect(await cli.exited, cli.output()).toEqual({ code: 130, signal: null });
  expect(performance.now() - signalledAt, 'exit at once, not after the 2 s kill grace').toBeLessThan(1_500);
  await waitUntil('every child to be dead', () => (markedProcesses().length === 0 ? true : undefined), 2_000);

  const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '1'], { env: project.env });
  expect(r.exitCode, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/recovered iteration 1: interrupted during agent; no row written/);
  expect((await project.rows()).map((row) => [row.iteration, row.status])).toEqual([
    ['0', 'keep'],
    ['1', 'keep'],
  ]);
});
