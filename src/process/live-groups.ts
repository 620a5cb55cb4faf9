/**
 * Process groups: the registry of every group the runner has spawned and not yet seen
 * die, plus the two primitives used to kill them (signal a group, ask whether it still
 * runs). The CLI calls `killAll` synchronously on a second Ctrl-C and on exit, so
 * nothing we started outlives us.
 */
import fs from 'node:fs';
import type { SpawnedChild } from './types.js';
import { readProcStat } from './process-identity.js';
import { signalTaggedGroups, type EnvTag } from './escapees.js';

export class LiveGroups {
  readonly #groups = new Map<number, SpawnedChild>();
  /** The environment tag of each group's run: processes that left the group carry it too. */
  readonly #tags = new Map<number, EnvTag>();

  add(child: SpawnedChild, tag?: EnvTag): void {
    this.#groups.set(child.pgid, child);
    if (tag !== undefined) this.#tags.set(child.pgid, tag);
  }

  delete(pgid: number): void {
    this.#groups.delete(pgid);
    this.#tags.delete(pgid);
  }

  list(): SpawnedChild[] {
    return [...this.#groups.values()];
  }

  /** Signals every registered group now, and the escapees of their runs. Groups that are already gone are skipped. */
  killAll(signal: NodeJS.Signals): void {
    for (const pgid of this.#groups.keys()) signalGroup(pgid, signal);
    const seen = new Set<string>();
    for (const tag of this.#tags.values()) {
      const key = `${tag.name}=${tag.value}`;
      if (seen.has(key)) continue;
      seen.add(key);
      signalTaggedGroups(tag, signal);
    }
  }
}

/**
 * Sends `signal` (0 = existence test) to every process of group `pgid`. Returns false if
 * the group does not exist (ESRCH). EPERM counts as existing: some member is not ours to
 * signal, which we can do nothing about.
 */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  // A pgid of 0 or 1 would address our own group or every process: a bug, never a group of ours.
  if (!Number.isInteger(pgid) || pgid <= 1) throw new RangeError(`signalGroup: expected a process group id > 1, found ${pgid}`);
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') return false;
    if (code === 'EPERM') return true;
    throw error;
  }
}

/**
 * True while some process of group `pgid` is still running. Zombies don't count: they
 * run no code and only wait for a reaper, and some PID 1s (containers, sandboxes) reap
 * orphans only every few seconds, which would otherwise stretch every kill to the full
 * grace. Without /proc, a group is alive as long as kill(-pgid, 0) succeeds.
 */
export function isGroupAlive(pgid: number): boolean {
  if (!signalGroup(pgid, 0)) return false;
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return true; // no /proc: trust kill(2)
  }
  let zombies = 0;
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readProcStat(Number(entry));
    if (stat === null || stat.pgrp !== pgid) continue;
    if (stat.state !== 'Z' && stat.state !== 'X') return true;
    zombies += 1;
  }
  // Members that kill(2) sees but /proc does not show (hidepid, or they just exited):
  // only a group seen to consist of zombies is declared dead.
  return zombies === 0;
}

/** How often a dying group is polled during terminateGroup. */
const TERMINATE_POLL_MS = 25;

/**
 * TERM the group, poll until it is gone or `graceMs` passes, then KILL and poll up to
 * `afterKillMs`. For groups we did not spawn in this process (leftovers of a killed
 * incarnation): `stillOurs` is asked again before each signal, so a group that died and
 * whose id was taken in between is never signalled. Returns true once no member runs.
 */
export async function terminateGroup(
  pgid: number,
  opts: { graceMs: number; afterKillMs?: number; stillOurs?: () => boolean; sleep?: (ms: number) => Promise<void> },
): Promise<boolean> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const stillOurs = opts.stillOurs ?? (() => true);
  const waitGone = async (limitMs: number): Promise<boolean> => {
    const deadline = performance.now() + limitMs;
    for (;;) {
      if (!isGroupAlive(pgid)) return true;
      if (performance.now() >= deadline) return false;
      await sleep(TERMINATE_POLL_MS);
    }
  };
  for (const [signal, limitMs] of [['SIGTERM', opts.graceMs], ['SIGKILL', opts.afterKillMs ?? 1000]] as const) {
    if (!isGroupAlive(pgid) || !stillOurs()) return !isGroupAlive(pgid);
    if (!signalGroup(pgid, signal)) return true;
    if (await waitGone(limitMs)) return true;
  }
  return false;
}

/** Set in a cluster job's environment (measure/slurm/job-script.ts): the job's processes are the scheduler's. */
export const CLUSTER_JOB_VARIABLE = 'AUTORESEARCH_JOB';

/**
 * Process groups that contain a running process whose initial environment has
 * `name=value` (from /proc/<pid>/environ), e.g. the AUTORESEARCH_EXPERIMENT_DIR every agent
 * and evaluation of one experiment inherits. Finds children a killed incarnation started
 * but never got to record. Processes in `exclude` (ourselves, our ancestors) and their
 * groups are skipped; so are processes of other users (their environ is unreadable), and
 * processes of a cluster job of ours (AUTORESEARCH_JOB set): on a node that is also this
 * host they carry the tag too, but a restart re-attaches to them and scancel ends them.
 * `startedSince` (a start time, /proc clock ticks): only processes started then or later,
 * i.e. those that can descend from a child started then. Returns pgid → the matching pids.
 * Empty without /proc.
 */
export function groupsWithEnv(name: string, value: string, exclude: ReadonlySet<number>, opts: { startedSince?: number | null } = {}): Map<number, number[]> {
  const since = opts.startedSince ?? null;
  const found = new Map<number, number[]>();
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return found;
  }
  const entryText = `${name}=${value}`;
  const excludedGroups = new Set<number>();
  for (const pid of exclude) {
    const stat = readProcStat(pid);
    if (stat !== null) excludedGroups.add(stat.pgrp);
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (exclude.has(pid)) continue;
    const stat = readProcStat(pid);
    if (stat === null || stat.state === 'Z' || stat.state === 'X' || stat.pgrp <= 1 || excludedGroups.has(stat.pgrp)) continue;
    // Older than the run's child: not one of its descendants (no environ read for it).
    if (since !== null && stat.startTime < since) continue;
    let environ: Buffer;
    try {
      environ = fs.readFileSync(`/proc/${pid}/environ`);
    } catch {
      continue; // gone, or not ours to read
    }
    if (!hasEntry(environ, entryText) || hasName(environ, CLUSTER_JOB_VARIABLE)) continue;
    const pids = found.get(stat.pgrp) ?? [];
    pids.push(pid);
    found.set(stat.pgrp, pids);
  }
  return found;
}

/** Whether the NUL-separated `environ` sets the variable `name` (to anything). */
function hasName(environ: Buffer, name: string): boolean {
  const needle = Buffer.from(`${name}=`);
  for (let at = environ.indexOf(needle); at !== -1; at = environ.indexOf(needle, at + 1)) {
    if (at === 0 || environ[at - 1] === 0) return true;
  }
  return false;
}

/** Whether the NUL-separated `environ` holds exactly the entry `text` (not a longer value, nor inside another entry). */
function hasEntry(environ: Buffer, text: string): boolean {
  const needle = Buffer.from(text);
  for (let at = environ.indexOf(needle); at !== -1; at = environ.indexOf(needle, at + 1)) {
    const end = at + needle.length;
    if ((at === 0 || environ[at - 1] === 0) && (end === environ.length || environ[end] === 0)) return true;
  }
  return false;
}
