/**
 * Process identity: a recorded pid counts as "the same process" only with the same boot
 * and start time, so a reused pid or a reboot never gets an unrelated process signalled.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import {
  bootId,
  currentProcessIdentity,
  identityOf,
  isSameProcessAlive,
  parseStat,
  parseStatStartTime,
  processStartTime,
} from '../../src/process/process-identity.js';
import { makeTempDir } from '../helpers/git-repo.js';
import { waitUntil } from './helpers.js';

const onLinux = process.platform === 'linux';

describe('parseStatStartTime', () => {
  // Fields 3… of a real stat line; starttime (field 22) is 987654.
  const tail = 'S 1 4321 4321 0 -1 4194560 120 0 0 0 3 1 0 0 20 0 1 0 987654 8110080 215 18446744073709551615';

  it('reads field 22 of a plain line', () => {
    expect(parseStatStartTime(`4321 (sleep) ${tail}`)).toBe(987654);
  });

  it('reads past a comm that contains spaces, `) (` and digits', () => {
    const line = `4321 (evil) (name 12 34) ${tail}`;
    expect(parseStatStartTime(line)).toBe(987654);
    expect(parseStat(line)).toEqual({ state: 'S', ppid: 1, pgrp: 4321, startTime: 987654 });
  });

  it('returns null for a line that is not a stat line', () => {
    expect(parseStatStartTime('')).toBeNull();
    expect(parseStatStartTime('4321 (truncated) S 1 2')).toBeNull();
    expect(parseStatStartTime(`4321 no-parens ${tail}`)).toBeNull();
  });
});

describe.runIf(onLinux)('process identity on Linux', () => {
  it('reads the boot id and our own start time', () => {
    const me = currentProcessIdentity();
    expect(me.pid).toBe(process.pid);
    expect(me.bootId).toMatch(/^[0-9a-f-]{36}$/);
    expect(me.bootId).toBe(bootId());
    expect(Number.isInteger(me.startTime)).toBe(true);
  });

  it('recognises itself as alive', () => {
    expect(isSameProcessAlive(currentProcessIdentity())).toBe(true);
  });

  it('says false for a process that has exited', async () => {
    const child = execa('sleep', ['1000']);
    const identity = identityOf(child.pid ?? -1);
    expect(isSameProcessAlive(identity)).toBe(true);
    child.kill('SIGKILL');
    await child.catch(() => undefined); // reaped: the pid is free now
    expect(isSameProcessAlive(identity)).toBe(false);
  });

  it('says false for the same pid with another start time (pid reused)', () => {
    const me = currentProcessIdentity();
    expect(isSameProcessAlive({ ...me, startTime: (me.startTime ?? 0) + 1 })).toBe(false);
  });

  it('says false for another boot, even with the right pid and start time', () => {
    expect(isSameProcessAlive({ ...currentProcessIdentity(), bootId: '00000000-0000-0000-0000-000000000000' })).toBe(false);
    expect(isSameProcessAlive({ ...currentProcessIdentity(), bootId: null })).toBe(false);
  });

  it('falls back to pid existence, within the same boot, when the start time is unknown', () => {
    expect(isSameProcessAlive({ ...currentProcessIdentity(), startTime: null })).toBe(true);
  });

  it('parses the real stat of a process whose name contains `) (` and spaces', async () => {
    const dir = await makeTempDir();
    const oddName = path.join(dir, 'x) (y z');
    fs.symlinkSync('/bin/sleep', oddName);
    const child = execa(oddName, ['1000'], { detached: true });
    try {
      const pid = child.pid ?? -1;
      // comm is set at exec; wait until the child shows its new name.
      await waitUntil('the odd comm to appear', () => (fs.readFileSync(`/proc/${pid}/stat`, 'utf8').includes('(x) (y z)') ? true : undefined));
      const stat = parseStat(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
      expect(stat?.pgrp).toBe(pid); // detached: it leads its own group
      expect(stat?.ppid).toBe(process.pid);
      expect(stat?.startTime).toBe(processStartTime(pid));
      expect(stat?.startTime).toBeGreaterThanOrEqual(currentProcessIdentity().startTime ?? Infinity);
    } finally {
      child.kill('SIGKILL');
      await child.catch(() => undefined);
    }
  });

  it('returns null for a pid that does not exist', () => {
    expect(processStartTime(0)).toBeNull();
    expect(processStartTime(-5)).toBeNull();
    expect(identityOf(2 ** 31 - 1).startTime).toBeNull();
  });
});
