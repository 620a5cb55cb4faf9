/**
 * Stale liveness (Optuna's test_fail_stale_trials, Guild #220): state.json says an
 * evaluation was running, and its child record names (a) a pid that is dead, (b) a live
 * but unrelated process (pid reuse: the start time differs), (c) the right pid and start
 * time but another boot. Recovery must never signal the unrelated processes, must mark
 * the iteration interrupted (no row; the candidate is kept under refs/…/interrupted/),
 * and the loop must go on.
 */
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { git } from '../helpers/project.js';
import { branchTip, commitCandidate, projectWithBaseline, type ChildRecordJson } from './helpers/interrupted.js';
import { isSameAlive, killQuietly, procInfo, waitUntil } from './helpers/procs.js';

const strangers: number[] = [];
afterEach(() => strangers.splice(0).forEach((pid) => killQuietly(-pid)));

/** An unrelated process in its own group (so a wrong kill(-pgid) would hit it too), with its start time. */
async function startStranger(): Promise<{ pid: number; startTime: number }> {
  const child = execa('sleep', ['1000'], { detached: true, reject: false });
  const pid = child.pid ?? -1;
  strangers.push(pid);
  const info = await waitUntil(`sleep ${pid} in /proc`, () => procInfo(pid));
  return { pid, startTime: info.startTime };
}

const realBootId = (): Promise<string> => import('node:fs').then((fs) => fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());

const cases: { name: string; record: () => Promise<{ child: ChildRecordJson; stranger: { pid: number; startTime: number } | null; why: RegExp }> }[] = [
  {
    name: '(a) a dead pid',
    record: async () => {
      const child = execa('sleep', ['1000'], { detached: true, reject: false });
      const pid = child.pid ?? -1;
      const { startTime } = await waitUntil(`sleep ${pid} in /proc`, () => procInfo(pid));
      child.kill('SIGKILL');
      await child;
      return { child: { pid, pgid: pid, startTime, bootId: await realBootId() }, stranger: null, why: /not signalled: it is gone/ };
    },
  },
  {
    name: '(b) a live unrelated process with that pid (reused: another start time)',
    record: async () => {
      const stranger = await startStranger();
      return {
        child: { pid: stranger.pid, pgid: stranger.pid, startTime: stranger.startTime - 1, bootId: await realBootId() },
        stranger,
        why: /not signalled: its pid now belongs to another process/,
      };
    },
  },
  {
    name: '(c) the right pid and start time, but another boot',
    record: async () => {
      const stranger = await startStranger();
      return {
        child: { pid: stranger.pid, pgid: stranger.pid, startTime: stranger.startTime, bootId: '00000000-0000-4000-8000-000000000000' },
        stranger,
        why: /not signalled: recorded in another boot/,
      };
    },
  },
];

describe('a stale child record in the intent', () => {
  it.each(cases)('$name: never signalled, iteration interrupted, loop goes on', async ({ record }) => {
    const project = await projectWithBaseline(['echo 4 > value.txt']);
    const candidate = await commitCandidate(project, '7'); // the evaluation was running on this
    const { child, stranger, why } = await record();
    const state = project.state();
    project.writeState({ ...state, intent: { phase: 'eval', iteration: 1, base: project.base, candidate, child } });

    const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '1'], { env: project.env });
    if (stranger !== null) expect(isSameAlive(stranger.pid, stranger.startTime), 'the unrelated process was signalled').toBe(true);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/recovered iteration 1: interrupted during eval; no row written/);
    expect(r.stdout).toMatch(why);
    expect(r.stdout + r.stderr).not.toMatch(/killed the leftover/);

    // No row for the interrupted attempt; the loop ran iteration 1 again, once.
    const rows = await project.rows();
    expect(rows.map((row) => [row.iteration, row.status, row.reason])).toEqual([
      ['0', 'keep', 'baseline'],
      ['1', 'keep', 'improved'],
    ]);
    expect(rows[1]?.commit).not.toBe(candidate.slice(0, 7));
    // The interrupted candidate stays reachable; the branch moved on from the baseline, not from it.
    const saved = await git(project.root, 'for-each-ref', '--format=%(objectname)', `refs/autoresearch/${project.id}/interrupted/`);
    expect(saved).toBe(candidate);
    expect(await git(project.root, 'rev-parse', `refs/heads/${project.branch}^`)).toBe(project.base);
    expect(await branchTip(project)).toBe(project.state().lastKept.commit);
    expect(project.state().intent).toBeNull();
  });
});
