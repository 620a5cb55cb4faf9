/**
 * Process groups: the registry of every group the runner has spawned and not yet seen
 * die, plus the two primitives used to kill them (signal a group, ask whether it still
 * runs). The CLI calls `killAll` synchronously on a second Ctrl-C and on exit, so
 * nothing we started outlives us.
 */
import fs from 'node:fs';
import type { SpawnedChild } from './types.js';
import { readProcStat } from './process-identity.js';

export class LiveGroups {
  readonly #groups = new Map<number, SpawnedChild>();

  add(child: SpawnedChild): void {
    this.#groups.set(child.pgid, child);
  }

  delete(pgid: number): void {
    this.#groups.delete(pgid);
  }

  list(): SpawnedChild[] {
    return [...this.#groups.values()];
  }

  /** Signals every registered group now. Groups that are already gone are skipped. */
  killAll(signal: NodeJS.Signals): void {
    for (const pgid of this.#groups.keys()) signalGroup(pgid, signal);
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
