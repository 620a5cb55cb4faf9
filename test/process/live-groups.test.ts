/**
 * The registry of live groups and the group primitives, with real processes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { LiveGroups, isGroupAlive, signalGroup } from '../../src/process/live-groups.js';
import { makeTempDir } from '../helpers/git-repo.js';
import { TEST_ENV, killGroupQuietly, runningMembers, shellQuote, waitForPidFile, waitUntil } from './helpers.js';

const spawned: number[] = [];
afterEach(() => spawned.splice(0).forEach(killGroupQuietly));

/** A detached `sleep` leading its own group; resolves once it is reaped. */
function startGroup(): { pgid: number; done: Promise<unknown> } {
  const child = execa('sleep', ['1000'], { detached: true, reject: false });
  const pgid = child.pid ?? -1;
  spawned.push(pgid);
  return { pgid, done: child };
}

describe('LiveGroups', () => {
  it('adds, lists and deletes by pgid', () => {
    const groups = new LiveGroups();
    groups.add({ pid: 101, pgid: 101, startTime: 5 });
    groups.add({ pid: 202, pgid: 202, startTime: null });
    expect(groups.list()).toEqual([
      { pid: 101, pgid: 101, startTime: 5 },
      { pid: 202, pgid: 202, startTime: null },
    ]);
    groups.delete(101);
    expect(groups.list()).toEqual([{ pid: 202, pgid: 202, startTime: null }]);
  });

  it('killAll signals every registered group and skips groups that are gone', async () => {
    const running = startGroup();
    const gone = startGroup();
    process.kill(-gone.pgid, 'SIGKILL');
    await gone.done;

    const groups = new LiveGroups();
    groups.add({ pid: gone.pgid, pgid: gone.pgid, startTime: null });
    groups.add({ pid: running.pgid, pgid: running.pgid, startTime: null });
    expect(() => groups.killAll('SIGTERM')).not.toThrow();
    expect(await running.done).toMatchObject({ signal: 'SIGTERM' });
  });
});

describe('signalGroup and isGroupAlive', () => {
  it('see a running group, and ESRCH once it is gone', async () => {
    const group = startGroup();
    expect(isGroupAlive(group.pgid)).toBe(true);
    expect(signalGroup(group.pgid, 'SIGKILL')).toBe(true);
    await group.done;
    expect(signalGroup(group.pgid, 0)).toBe(false);
    expect(isGroupAlive(group.pgid)).toBe(false);
  });

  it('refuse pgids that would address our own group or every process', () => {
    expect(() => signalGroup(0, 0)).toThrow(/expected a process group id > 1, found 0/);
    expect(() => signalGroup(1, 'SIGTERM')).toThrow(RangeError);
  });

  it('count a group whose only member is a zombie as dead, though kill(2) still finds it', async () => {
    const dir = await makeTempDir();
    const pidFile = path.join(dir, 'zombie.pid');
    // The parent execs `sleep`, which never reaps: its setsid'd child, alone in its own
    // group, stays a zombie after it exits.
    const inner = `echo $$ > ${shellQuote(pidFile)}.tmp && mv ${shellQuote(pidFile)}.tmp ${shellQuote(pidFile)}`;
    const parent = execa('sh', ['-c', `setsid sh -c ${shellQuote(inner)} & exec sleep 1000`], { detached: true, reject: false, env: TEST_ENV });
    spawned.push(parent.pid ?? -1);
    const zombie = await waitForPidFile(pidFile);
    await waitUntil(`pid ${zombie} to become a zombie`, () => (fs.readFileSync(`/proc/${zombie}/stat`, 'utf8').includes(') Z ') ? true : undefined));

    expect(signalGroup(zombie, 0)).toBe(true);
    expect(runningMembers(zombie)).toEqual([]);
    expect(isGroupAlive(zombie)).toBe(false);
    parent.kill('SIGKILL');
    await parent;
  });
});
