/**
 * What recovery needs of the cluster (loop/job-recovery.ts): a job's state by our name, and
 * cancelling the jobs of ours that nothing waits for. Jobs are named by us (run-records.ts
 * jobName), never identified by id alone: ids repeat after a controller crash.
 */
import { systemClock, type Clock } from '../../core/clock.js';
import { findJob } from './cancel-jobs.js';
import { isActiveState } from './job-states.js';
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
    async cancelActive(prefix, except) {
      if (prefix === '') throw new TypeError('cancelActive: expected a non-empty name prefix (it would cancel every job of the user)');
      const ours = (jobs: Awaited<ReturnType<SlurmCli['allJobs']>>) =>
        jobs.filter((job) => job.name.startsWith(prefix) && !except.some((kept) => job.name.startsWith(kept)) && isActiveState(job.state));
      const doomed = ours(await cli.allJobs());
      if (doomed.length === 0) return [];
      await cli.cancelIds(doomed.map((job) => job.id));
      const ids = new Set(doomed.map((job) => job.id));
      const deadline = clock.monotonic() + CANCEL_WAIT_MS;
      while (ours(await cli.allJobs()).some((job) => ids.has(job.id))) {
        if (clock.monotonic() > deadline) throw new Error(`scancel: jobs ${[...ids].join(', ')} were still active ${CANCEL_WAIT_MS / 1000}s after being cancelled`);
        await clock.sleep(CANCEL_POLL_MS);
      }
      return [...new Set(doomed.map((job) => job.name))].sort();
    },
  };
}
