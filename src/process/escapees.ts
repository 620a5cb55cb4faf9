/**
 * Escapees: processes a run started that left its process group (`setsid`, a double fork
 * with `setsid`, `nohup … &` + setsid), so killing the group does not reach them. They are
 * found by an environment tag every child of one experiment inherits (its
 * AUTORESEARCH_WORKTREE, loop/child-env.ts) in /proc/<pid>/environ, and killed by group.
 *
 * Limits (Linux, no native code): a process that clears or rewrites its environment AND
 * leaves the group is out of reach. A subreaper (prctl PR_SET_CHILD_SUBREAPER) would keep
 * such orphans as our children but is not reachable from Node without a native addon; a
 * cgroup per run would contain them but needs cgroup v2 delegation, usually absent for an
 * unprivileged user (and in containers). Without /proc nothing is found.
 */
import { groupsWithEnv, signalGroup, terminateGroup } from './live-groups.js';
import { readProcStat } from './process-identity.js';

/** `name=value` in a process's initial environment marks it as one of ours. */
export interface EnvTag {
  name: string;
  value: string;
}

export interface KilledGroup {
  pgid: number;
  pids: number[];
  /** False when a member outlived SIGKILL (uninterruptible sleep). */
  gone: boolean;
}

/** Escapees may fork again while being killed: scan again, a bounded number of times. */
const MAX_ROUNDS = 5;

/**
 * Kills (TERM, grace, KILL) every process group that holds a running process tagged with
 * `tag`, except our own group and our ancestors' (a CLI started from an agent's shell
 * carries the tag too). Scans again until a scan finds nothing or the rounds run out.
 * Each group is re-checked before every signal, so a group that died and whose id was
 * reused is never signalled. `startedSince`: the start time of the run's child, whose
 * escapees can only have started after it (the scan then reads no older process's environ). Zombies are dead (PID 1 may never reap them): not counted.
 */
export async function killTaggedGroups(tag: EnvTag, opts: { graceMs: number; sleep?: (ms: number) => Promise<void>; startedSince?: number | null }): Promise<KilledGroup[]> {
  const scan = { startedSince: opts.startedSince ?? null };
  const killed: KilledGroup[] = [];
  const exclude = selfAndAncestors();
  const survivors = new Set<number>(); // outlived SIGKILL (uninterruptible sleep): reported once
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const found = [...groupsWithEnv(tag.name, tag.value, exclude, scan)].filter(([pgid]) => !survivors.has(pgid));
    if (found.length === 0) break;
    for (const [pgid, pids] of found) {
      const stillOurs = () => groupsWithEnv(tag.name, tag.value, exclude, scan).has(pgid);
      const gone = await terminateGroup(pgid, { graceMs: opts.graceMs, stillOurs, sleep: opts.sleep });
      killed.push({ pgid, pids, gone });
      if (!gone) survivors.add(pgid);
    }
  }
  return killed;
}

/** The synchronous variant for an exit path: one signal to every tagged group, no wait. */
export function signalTaggedGroups(tag: EnvTag, signal: NodeJS.Signals): void {
  for (const pgid of groupsWithEnv(tag.name, tag.value, selfAndAncestors()).keys()) {
    try {
      signalGroup(pgid, signal);
    } catch {
      // exiting anyway: a group we cannot signal is reported by the next start's recovery
    }
  }
}

/** Our pid and every ancestor's: never ours to kill, nor their groups. */
export function selfAndAncestors(): Set<number> {
  const pids = new Set<number>();
  for (let pid = process.pid; pid > 1 && !pids.has(pid); ) {
    pids.add(pid);
    const stat = readProcStat(pid);
    if (stat === null) break;
    pid = stat.ppid;
  }
  return pids;
}

/** What to say about killed groups, one line per group; `what` names the group as `{group}`. */
export function describeKilled(groups: KilledGroup[], what: string, tag: EnvTag): string[] {
  return groups.map((g) => `${g.gone ? 'killed' : 'could not kill'} ${what.replace('{group}', `process group ${g.pgid}`)} (pids ${g.pids.join(', ')}: ${tag.name}=${tag.value})`);
}
