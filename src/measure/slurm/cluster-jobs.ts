/**
 * What recovery needs of the cluster (loop/job-recovery.ts): a job's state by our name, and
 * cancelling the jobs of ours that nothing waits for. Jobs are named by us (run-records.ts
 * jobName), never identified by id alone: ids repeat after a controller crash.
 */
export interface ClusterJobs {
  /** The scheduler's state of the job with exactly this name (PENDING, RUNNING, COMPLETED…), or null when squeue no longer lists it. */
  state(name: string): Promise<string | null>;
  /**
   * Cancel every active job (pending, running, suspended, completing) whose name starts with
   * `prefix` and with none of `except`, and wait until they have left; returns their names.
   */
  cancelActive(prefix: string, except: readonly string[]): Promise<string[]>;
}

/** The cluster the SLURM client tools on PATH reach (wired to slurm-cli.ts). */
export function clusterJobsFor(_deps: { env: NodeJS.ProcessEnv }): ClusterJobs {
  throw new Error('clusterJobsFor: not wired yet (issue 12)');
}
