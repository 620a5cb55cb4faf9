/**
 * isSameGroupAlive: may a group recorded by a killed incarnation be signalled? Real process
 * groups: a live leader, a leader that died while its grandchild holds the group, a reused
 * pid (wrong start time), another boot, a gone group, and unknown identities.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { bootId, isSameGroupAlive, processStartTime } from '../../src/process/process-identity.js';
import { makeTempDir } from '../helpers/git-repo.js';
import { killQuietly, procInfo, waitUntil } from './helpers/procs.js';

const ORPHAN = fileURLToPath(new URL('../fixtures/fault/orphan-grandchild.sh', import.meta.url));
const groups: number[] = [];
afterEach(() => groups.splice(0).forEach((pgid) => killQuietly(-pgid)));

function startGroup(command: string) {
  const child = execa('sh', ['-c', command], { detached: true, reject: false, stdio: 'ignore' });
  groups.push(child.pid ?? -1);
  return child;
}

async function recordOf(pid: number) {
  const { startTime } = await waitUntil(`pid ${pid} in /proc`, () => procInfo(pid));
  return { pid, pgid: pid, startTime, bootId: bootId() };
}

describe.runIf(process.platform === 'linux')('isSameGroupAlive', () => {
  it('is true for a running group whose leader matches, false once the group is gone', async () => {
    const leader = startGroup('sleep 1000 & sleep 1000; :');
    const record = await recordOf(leader.pid ?? -1);
    expect(isSameGroupAlive(record)).toBe(true);
    process.kill(-record.pgid, 'SIGKILL');
    await leader;
    await waitUntil('the group to be gone', () => (isSameGroupAlive(record) ? undefined : true), 3_000);
  });

  it('is true after the leader died while a grandchild still holds the group id', async () => {
    const dir = await makeTempDir('ar-orphan-');
    const fifo = path.join(dir, 'release');
    await execa('mkfifo', [fifo]);
    const leader = execa('sh', [ORPHAN, path.join(dir, 'gc.pid'), fifo], { detached: true, reject: false, stdio: 'ignore' });
    groups.push(leader.pid ?? -1);
    const record = await recordOf(leader.pid ?? -1);
    await waitUntil('the grandchild pid', () => (fs.existsSync(path.join(dir, 'gc.pid')) ? true : undefined));
    fs.writeFileSync(fifo, 'go\n');
    await leader;
    expect(procInfo(record.pid), 'the leader is gone, reaped').toBeUndefined();
    expect(isSameGroupAlive(record)).toBe(true);
    process.kill(-record.pgid, 'SIGKILL');
    await waitUntil('the grandchild to die', () => (isSameGroupAlive(record) ? undefined : true), 3_000);
  });

  it('is false for a live pid with another start time (a reused pid)', async () => {
    const leader = startGroup('sleep 1000');
    const record = await recordOf(leader.pid ?? -1);
    expect(isSameGroupAlive({ ...record, startTime: (record.startTime ?? 0) - 1 })).toBe(false);
  });

  it('is false for another boot, and for an unknown start time or boot id', async () => {
    const leader = startGroup('sleep 1000');
    const record = await recordOf(leader.pid ?? -1);
    expect(isSameGroupAlive({ ...record, bootId: '00000000-0000-4000-8000-000000000000' })).toBe(false);
    expect(isSameGroupAlive({ ...record, bootId: null })).toBe(false);
    expect(isSameGroupAlive({ ...record, startTime: null })).toBe(false);
  });

  it('is false for a live process that does not lead the recorded group', () => {
    // Our own process: alive with the right start time, but the recorded pgid is not its group.
    const me = { pid: process.pid, startTime: processStartTime(process.pid), bootId: bootId() };
    expect(isSameGroupAlive({ ...me, pgid: process.pid + 100_000 })).toBe(false);
  });

  it('refuses pgids that would address our own group or every process', () => {
    expect(isSameGroupAlive({ pid: 1, pgid: 1, startTime: processStartTime(1), bootId: bootId() })).toBe(false);
    expect(isSameGroupAlive({ pid: 0, pgid: 0, startTime: 0, bootId: bootId() })).toBe(false);
  });
});
