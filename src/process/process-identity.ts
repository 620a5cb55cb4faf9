/**
 * Who a pid really is. A pid alone is not an identity: pids are reused, and a reboot
 * resets them all. A recorded process is "the same" only if the boot id and its start
 * time (/proc/<pid>/stat field 22) still match, so a pid saved by a previous incarnation
 * of the daemon never leads us to signal an unrelated process (faults.md, "Survivors
 * across a daemon crash"). Linux only: elsewhere the /proc readers return null.
 */
import fs from 'node:fs';

export interface ProcessIdentity {
  pid: number;
  /** Clock ticks since boot at which the process started; null if unknown. */
  startTime: number | null;
  /** /proc/sys/kernel/random/boot_id; null if unknown (not Linux). */
  bootId: string | null;
}

/** The fields of /proc/<pid>/stat that we use. */
export interface ProcStat {
  /** R, S, D, Z (zombie), T, X (dead), … */
  state: string;
  ppid: number;
  pgrp: number;
  startTime: number;
}

export function bootId(): string | null {
  try {
    const id = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    return id === '' ? null : id;
  } catch {
    return null; // not Linux, or /proc not mounted
  }
}

/**
 * Parses one /proc/<pid>/stat line. Field 2 (comm) is the executable name in parentheses
 * and may itself contain spaces and parentheses, so the fixed fields start after the
 * LAST `)`. Returns null for a line that does not have that shape.
 */
export function parseStat(statLine: string): ProcStat | null {
  const close = statLine.lastIndexOf(')');
  if (close === -1) return null;
  // Fields 3… ; field n is at index n - 3.
  const fields = statLine.slice(close + 1).trim().split(/\s+/);
  const state = fields[0];
  const ppid = integerField(fields[1]);
  const pgrp = integerField(fields[2]);
  const startTime = integerField(fields[19]);
  if (state === undefined || state === '' || ppid === null || pgrp === null || startTime === null) return null;
  return { state, ppid, pgrp, startTime };
}

/** Field 22 (starttime) of a /proc/<pid>/stat line, or null if the line is malformed. */
export function parseStatStartTime(statLine: string): number | null {
  return parseStat(statLine)?.startTime ?? null;
}

/** One stat line (comm is at most 64 bytes; the whole line stays far below this). */
const statBuffer = Buffer.alloc(4096);

/**
 * The parsed /proc/<pid>/stat of `pid`, or null if it does not exist or cannot be read.
 * One read into a reused buffer: the escapee scan reads every process's stat after each run.
 */
export function readProcStat(pid: number): ProcStat | null {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  let fd: number | undefined;
  try {
    fd = fs.openSync(`/proc/${pid}/stat`, 'r');
    const length = fs.readSync(fd, statBuffer, 0, statBuffer.length, 0);
    return parseStat(statBuffer.toString('utf8', 0, length));
  } catch {
    return null; // gone, or no /proc
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * How many processes (and threads) this machine has created since boot (/proc/stat
 * `processes`, every namespace counted), or null without /proc. Only ever grows, so an
 * unchanged count means nothing was forked in between.
 */
export function totalForks(): number | null {
  try {
    const match = /^processes (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'latin1'));
    return match?.[1] === undefined ? null : Number(match[1]);
  } catch {
    return null;
  }
}

export function processStartTime(pid: number): number | null {
  return readProcStat(pid)?.startTime ?? null;
}

export function identityOf(pid: number): ProcessIdentity {
  return { pid, startTime: processStartTime(pid), bootId: bootId() };
}

export function currentProcessIdentity(): ProcessIdentity {
  return identityOf(process.pid);
}

/**
 * True only if the recorded process is still running: same boot, the pid exists (and is
 * not a zombie), and its start time matches. When either start time is unknown we can
 * only check that the pid exists, and only within the same boot. An unknown boot id
 * (not Linux) never matches: better to leave a survivor than to signal a stranger.
 */
export function isSameProcessAlive(identity: ProcessIdentity): boolean {
  const currentBoot = bootId();
  if (currentBoot === null || identity.bootId !== currentBoot) return false;
  const stat = readProcStat(identity.pid);
  if (stat !== null && (stat.state === 'Z' || stat.state === 'X')) return false;
  if (identity.startTime !== null && stat !== null) return stat.startTime === identity.startTime;
  return pidExists(identity.pid);
}

function pidExists(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false; // kill(0|-n, 0) would test groups
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function integerField(text: string | undefined): number | null {
  if (text === undefined || !/^-?\d+$/.test(text)) return null;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : null;
}

/** A recorded process group: its leader (pgid = pid) and the leader's identity. */
export interface GroupRecord extends ProcessIdentity {
  pgid: number;
}

/**
 * True only if the recorded group may still have members that are really ours, so it is
 * safe to signal -pgid. Requires the same boot, then either
 *  - the leader is alive with its recorded start time, or
 *  - no process with pid == pgid exists (not even a zombie) while some running process is
 *    still in group pgid: the kernel never hands out a pid that is in use as a process
 *    group id, so after the leader's death the group keeps its id as long as one member
 *    (a grandchild that outlived a kill -9 of the daemon) holds it.
 * A live pid == pgid with another start time is a reused pid: the old group is gone.
 * Unknown start time or boot id never matches: better a survivor than a stranger signalled.
 * Residual risk: the whole pid space wraps, our group dies out, and a stranger creates a
 * group with the same id whose leader has also exited; not distinguishable from /proc.
 */
export function isSameGroupAlive(record: GroupRecord): boolean {
  const currentBoot = bootId();
  if (currentBoot === null || record.bootId !== currentBoot) return false;
  if (record.startTime === null || !Number.isInteger(record.pgid) || record.pgid <= 1) return false;
  const leader = readProcStat(record.pid);
  if (leader !== null) {
    if (leader.startTime !== record.startTime) return false; // pid reused: not our group
    if (leader.state !== 'Z' && leader.state !== 'X') return leader.pgrp === record.pgid;
  }
  return groupHasRunningMember(record.pgid);
}

/** Whether some non-zombie process has process group `pgid` (/proc scan). */
function groupHasRunningMember(pgid: number): boolean {
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return false; // no /proc: cannot tell, so never signal
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readProcStat(Number(entry));
    if (stat !== null && stat.pgrp === pgid && stat.state !== 'Z' && stat.state !== 'X') return true;
  }
  return false;
}
