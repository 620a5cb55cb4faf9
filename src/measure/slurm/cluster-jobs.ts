/**
 * What recovery needs of the cluster (loop/job-recovery.ts): a job's state by our name, and
 * cancelling the jobs of ours that nothing waits for. Jobs are named by us (run-records.ts
 * jobName), never identified by id alone: ids repeat after a controller crash.
 */
import { systemClock, type Clock } from '../../core/clock.js';
import { cancelJobs, findJob } from './cancel-jobs.js';
import { createSlurmCli, type SlurmCli } from './slurm-cli.js';

export interface ClusterJobs {
  /** The scheduler's state of the job with exactly this name (PENDING, RUNNING, COMPLETED…), or null when squeue no longer lists it. */
  state(name: string): Promise<string | null>;
  /**
   * Cancel every active job (pending, running, suspended, completing) whose name starts with
   * `prefix` and with none of the prefixes in `except`, and wait until they have left the
   * active states; returns their names.
   */
  cancelActive(prefix: string, except: readonly string[]): Promise<string[]>;
}

/** A cancelled job leaves the active states within KillWait (often 30 s) plus a margin. */
const CANCEL_WAIT_MS = 40_000;
const CANCEL_POLL_MS = 200;

/** The cluster the SLURM client tools on PATH reach. */
export function clusterJobsFor(deps: { env: NodeJS.ProcessEnv; clock?: Clock }, cli: SlurmCli = createSlurmCli({ env: deps.env })): ClusterJobs {
  const clock = deps.clock ?? systemClock;
  return {
    async state(name) {
      return (await findJob(cli, name))?.state ?? null;
    },
    cancelActive(prefix, except) {
      return cancelJobs(cli, { namePrefix: prefix, exceptPrefixes: except, waitUntilGone: { clock, timeoutMs: CANCEL_WAIT_MS, pollMs: CANCEL_POLL_MS } });
    },
  };
}
