/**
 * The two primitives recovery kills leftovers with, on real process groups:
 * groupsWithEnv finds groups by an exact environment entry (not a prefix, not another
 * variable), skipping excluded pids; terminateGroup ends a group that ignores SIGTERM with
 * SIGKILL after the grace, and signals nothing once the group is no longer ours.
 */
import { readFileSync } from 'node:fs';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { groupsWithEnv, isGroupAlive, terminateGroup } from '../../src/process/live-groups.js';
import { readProcStat } from '../../src/process/process-identity.js';
import { killQuietly, procInfo, runningProcesses, waitUntil } from './helpers/procs.js';

const groups: number[] = [];
afterEach(() => groups.splice(0).forEach((pgid) => killQuietly(-pgid)));
const PATH_ONLY = { PATH: process.env.PATH ?? '/usr/bin:/bin' };

function startGroup(command: string, env: Record<string, string> = {}) {
  const child = execa('sh', ['-c', command], { detached: true, reject: false, stdio: 'ignore', env: { ...PATH_ONLY, ...env }, extendEnv: false });
  const pid = child.pid ?? -1;
  groups.push(pid);
  return { pid, done: child };
}

describe.runIf(process.platform === 'linux')('groupsWithEnv', () => {
  it('finds the groups with exactly name=value, with every matching member', async () => {
    const value = `/tmp/worktree-${process.pid}`;
    const match = startGroup('sleep 1000 & sleep 1000; :', { MARK: value });
    const prefix = startGroup('sleep 1000; :', { MARK: `${value}-other` });
    const otherName = startGroup('sleep 1000; :', { XMARK: value });
    for (const g of [match, prefix, otherName]) await waitUntil(`group ${g.pid}`, () => procInfo(g.pid));
    const found = await waitUntil('both members of the matching group', () => {
      const pids = groupsWithEnv('MARK', value, new Set()).get(match.pid);
      return pids !== undefined && pids.length >= 3 ? groupsWithEnv('MARK', value, new Set()) : undefined;
    });
    expect([...found.keys()]).toEqual([match.pid]);
    expect(groupsWithEnv('MARK', value, new Set([match.pid])).has(match.pid), 'an excluded pid excludes its whole group').toBe(false);
  });

  it('with startedSince, finds only groups started then or later (an escapee is younger than its run)', async () => {
    const value = `/tmp/worktree-since-${process.pid}`;
    const older = startGroup('sleep 1000; :', { MARK: value });
    const olderInfo = await waitUntil(`group ${older.pid}`, () => procInfo(older.pid));
    const olderStart = readProcStat(older.pid)?.startTime;
    expect(olderStart, `start time of ${older.pid} (${JSON.stringify(olderInfo)})`).toBeTypeOf('number');
    // Clock ticks are 10 ms: start the younger one in a later tick than the older one.
    await waitUntil('a later clock tick', () => (uptimeTicks() > (olderStart ?? 0) + 1 ? true : undefined));
    const younger = startGroup('sleep 1000; :', { MARK: value });
    await waitUntil(`group ${younger.pid}`, () => procInfo(younger.pid));
    const youngerStart = readProcStat(younger.pid)?.startTime ?? NaN;
    expect(youngerStart).toBeGreaterThan(olderStart ?? Infinity);
    expect([...groupsWithEnv('MARK', value, new Set()).keys()].sort()).toEqual([older.pid, younger.pid].sort());
    expect([...groupsWithEnv('MARK', value, new Set(), { startedSince: youngerStart }).keys()]).toEqual([younger.pid]);
    expect([...groupsWithEnv('MARK', value, new Set(), { startedSince: null }).keys()].sort(), 'no bound: every tagged group').toEqual([older.pid, younger.pid].sort());
  });
});

/** Clock ticks since boot (the unit of /proc/<pid>/stat starttime; 100 per second on Linux). */
function uptimeTicks(): number {
  return Math.floor(Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * 100);
}

describe.runIf(process.platform === 'linux')('terminateGroup', () => {
  it('SIGKILLs a group that ignores SIGTERM once the grace is over', async () => {
    const deaf = startGroup("trap '' TERM; sleep 1000 & sleep 1000; :");
    // The sleeps start after the trap: only then is the whole group deaf to SIGTERM.
    await waitUntil('the shell and both sleeps', () => (runningMembers(deaf.pid).length >= 3 ? true : undefined));
    const started = performance.now();
    expect(await terminateGroup(deaf.pid, { graceMs: 300 })).toBe(true);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(await deaf.done).toMatchObject({ signal: 'SIGKILL' });
  });

  it('ends a group that obeys SIGTERM without waiting for the grace', async () => {
    const group = startGroup('sleep 1000 & sleep 1000; :');
    await waitUntil('the group to run', () => (isGroupAlive(group.pid) ? true : undefined));
    const started = performance.now();
    expect(await terminateGroup(group.pid, { graceMs: 5_000 })).toBe(true);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(await group.done).toMatchObject({ signal: 'SIGTERM' });
  });

  it('signals nothing when the group is no longer ours', async () => {
    const group = startGroup('sleep 1000');
    await waitUntil('the group to run', () => (isGroupAlive(group.pid) ? true : undefined));
    expect(await terminateGroup(group.pid, { graceMs: 100, stillOurs: () => false })).toBe(false);
    expect(isGroupAlive(group.pid)).toBe(true);
  });
});

function runningMembers(pgid: number): number[] {
  return runningProcesses()
    .filter((p) => p.pgrp === pgid)
    .map((p) => p.pid);
}
