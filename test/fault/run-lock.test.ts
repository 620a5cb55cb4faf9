/**
 * One runner per experiment across kills: the run.lock of a runner killed with SIGKILL is
 * stale (its pid is gone) and taken over on the next start, which says so; a live runner's
 * lock refuses a second runner, naming the pid that holds it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { killLaunched, launchCli } from './helpers/launch.js';
import { projectWithBaseline } from './helpers/interrupted.js';
import { waitUntil } from './helpers/procs.js';

afterEach(killLaunched);

// The agent of iteration 1 hangs while HANG=1 (the first runner), and edits when it is not.
const HANGING_PLAN = ['[ "$HANG" = 1 ] && sleep 1000; echo 4 > value.txt'];

function lockPid(lockFile: string): number | undefined {
  try {
    return (JSON.parse(fs.readFileSync(lockFile, 'utf8')) as { pid?: number }).pid;
  } catch {
    return undefined;
  }
}

describe('run.lock across kills', () => {
  it('a runner killed with SIGKILL leaves a stale lock that the next start recovers and reports', async () => {
    const project = await projectWithBaseline(HANGING_PLAN);
    const lockFile = path.join(project.expDir, 'run.lock');
    const first = launchCli(['--path', project.root, 'run', project.id], { ...project.env, HANG: '1' });
    expect(await first.waitFor(/#1 agent/, 20_000), first.output()).toBe('matched');
    expect(lockPid(lockFile)).toBe(first.pid);
    process.kill(first.pid, 'SIGKILL');
    await first.exited;
    expect(lockPid(lockFile), 'the killed runner cannot remove its lock').toBe(first.pid);

    const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '1'], { env: project.env });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain(`recovered a stale lock ${lockFile} left by pid ${first.pid}`);
    expect(r.stdout).toMatch(/recovered iteration 1: interrupted during agent; no row written/);
    expect((await project.rows()).map((row) => [row.iteration, row.status])).toEqual([
      ['0', 'keep'],
      ['1', 'keep'],
    ]);
    expect(fs.existsSync(lockFile), 'released at exit').toBe(false);
  });

  it('a live runner refuses a second one, naming its pid, and keeps running', async () => {
    const project = await projectWithBaseline(HANGING_PLAN);
    const first = launchCli(['--path', project.root, 'run', project.id], { ...project.env, HANG: '1' });
    expect(await first.waitFor(/#1 agent/, 20_000), first.output()).toBe('matched');

    const second = await runCli(['--path', project.root, 'run', project.id, '--single'], { env: project.env });
    expect(second.exitCode).toBe(1);
    expect(second.stderr).toContain(`already running (pid ${first.pid}`);
    expect(second.stderr).toContain(path.join(project.expDir, 'run.lock'));
    expect(first.hasExited()).toBe(false);
    expect(lockPid(path.join(project.expDir, 'run.lock'))).toBe(first.pid);

    process.kill(first.pid, 'SIGTERM');
    expect(await first.exited).toEqual({ code: 0, signal: null });
    await waitUntil('the lock to be released', () => (fs.existsSync(path.join(project.expDir, 'run.lock')) ? undefined : true), 2_000);
  });
});
